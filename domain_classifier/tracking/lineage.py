"""What DVC records for a stage: dependency and output hashes, params, the git commit.

Computed with DVC's own code, so an MLflow run's few tags and its `lineage.json` artifact
match the `dvc.lock` entry that the stage's successful run writes.
"""

from __future__ import annotations

import hashlib
import json
import logging

log = logging.getLogger(__name__)


def stage_record(stage_name: str) -> dict | None:
    """{deps: {path: md5}, outs: {path: md5}, params_md5, commit, dirty}; None outside DVC."""
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    try:
        repo = Repo(".")
        (stage,) = repo.stage.collect(stage_name)
    except Exception as exc:  # not inside a DVC project, or no such stage: nothing to trace
        log.warning("no DVC stage %r to trace (%s)", stage_name, exc)
        return None
    with repo:
        params = [d for d in stage.deps if isinstance(d, ParamsDependency)]
        values = json.dumps([d.read_params() for d in params], sort_keys=True, default=str)
        return {
            "deps": {d.def_path: d.get_hash().value for d in stage.deps if d not in params},
            "outs": {o.def_path: o.get_hash().value for o in stage.outs},
            "params_md5": hashlib.md5(values.encode()).hexdigest(),
            "commit": repo.scm.get_rev(),
            "dirty": repo.scm.is_dirty(untracked_files=False),
        }


LINEAGE_ARTIFACT = "lineage.json"


def stage_tags(record: dict | None, stage_name: str) -> dict[str, str]:
    """The few MLflow tags tracing a run to its dvc.lock entry (the stage, the commit, the
    params hash); every dependency's and output's hash goes to `lineage.json` instead."""
    if record is None:
        return {"dvc.stage": stage_name}
    return {
        "dvc.stage": stage_name,
        "git.commit": record["commit"],
        "git.dirty": str(record["dirty"]).lower(),
        "dvc.params_md5": record["params_md5"],
    }


def lineage_document(record: dict | None, stage_name: str) -> dict:
    """What `lineage.json` holds: the stage, its commit, and each dependency's and output's
    hash exactly as dvc.lock records them (paths untruncated, unlike tag keys)."""
    if record is None:
        return {"stage": stage_name, "traced": False}
    return {
        "stage": stage_name,
        "git": {"commit": record["commit"], "dirty": record["dirty"]},
        "params_md5": record["params_md5"],
        "deps": dict(sorted(record["deps"].items())),
        "outs": dict(sorted(record["outs"].items())),
    }


def log_lineage(record: dict | None, stage_name: str, run_id: str | None = None) -> None:
    """Tag the run (the active one unless `run_id`) and log its `lineage.json`."""
    from mlflow import MlflowClient
    from mlflow.entities import RunTag
    from mlflow.tracking.fluent import active_run

    run_id = run_id or active_run().info.run_id
    client = MlflowClient()
    tags = [RunTag(key, value) for key, value in stage_tags(record, stage_name).items()]
    client.log_batch(run_id, tags=tags)
    client.log_dict(run_id, lineage_document(record, stage_name), LINEAGE_ARTIFACT)
