"""What DVC records for a stage: dependency and output hashes, params, the git commit.

Computed with DVC's own code, so an MLflow run's tags match the `dvc.lock` entry that the
stage's successful run writes.
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


def stage_tags(record: dict | None, stage_name: str) -> dict[str, str]:
    """MLflow tags tracing a run to its dvc.lock entry."""
    if record is None:
        return {"dvc.stage": stage_name}
    return {
        "dvc.stage": stage_name,
        "git.commit": record["commit"],
        "git.dirty": str(record["dirty"]).lower(),
        "dvc.params_md5": record["params_md5"],
        **{f"dvc.dep.{path}": md5 for path, md5 in record["deps"].items()},
    }
