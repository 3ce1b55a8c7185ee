"""Mirror DVC stages to MLflow runs: DVC stays the source of truth, MLflow is the window.

Only the stage that really runs logs: a stage DVC skips never reaches this code, so cached
stages add no duplicate runs. Run-to-run values (timings) go to MLflow only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket

from domain_classifier.errors import InputError
from domain_classifier.params import load_section
from domain_classifier.store.client import (
    PROBE_ENV,
    SQLITE,
    MlflowParams,
    first_line,
    project_artifacts,
    refuse_new_store,
    shown_store,
    store_exists,
    temporary_environ,
)
from domain_classifier.store.rebase import rebase_artifacts, rebased

log = logging.getLogger(__name__)


# MLflow 3's UI opens on GenAI pages unless the experiment is tagged and linked as classic ML;
# its runs table shows metric columns only from a saved view, shared through a tag too.
VIEW_KEY = "training-runs"


QUALITY = ("metrics.`val_macro_f1`", "metrics.`test_macro_f1`")


RUNS_VIEW_STATE = {"selectedColumns": [*QUALITY, "tags.`family`"], "orderByKey": QUALITY[0]}


EXPERIMENT_TAGS = {
    "mlflow.experimentKind": "custom_model_development",
    f"mlflow.sharedViewState.{VIEW_KEY}": json.dumps({**RUNS_VIEW_STATE, "orderByAsc": False}),
}


RUNS_VIEW = f"workflowType=machine_learning&viewStateShareKey={VIEW_KEY}"


HOST_TAG, PID_TAG = "process.host", "process.pid"


HOST_TAG, PID_TAG = "process.host", "process.pid"


def connect(params_file) -> MlflowParams | None:
    """Point MLflow at the tracking store; None (with one warning) if it cannot be reached.

    With `mlflow.required: true` an unreachable store stops the stage before any work; a
    missing store other than the param's own stops it whatever `required` says.
    """
    params = load_section(MlflowParams, "mlflow", params_file)
    refuse_new_store(params)
    import mlflow

    mlflow.set_tracking_uri(params.uri)
    try:
        rebase_artifacts(params)  # a moved project logs into its own mlruns/, not the old
        with temporary_environ(PROBE_ENV):  # one quick try, not MLflow's minutes of retries
            if params.uri.startswith(SQLITE) and not mlflow.get_experiment_by_name(
                params.experiment
            ):
                # Else artifacts land in ./mlruns of whichever workspace logs first.
                mlflow.create_experiment(params.experiment, project_artifacts().as_uri())
            experiment = mlflow.set_experiment(params.experiment)
            if not EXPERIMENT_TAGS.items() <= experiment.tags.items():  # stores made before
                mlflow.set_experiment_tags(EXPERIMENT_TAGS)
    except Exception as exc:  # any failure here means: no tracking for this stage
        return _unreachable(params, exc)
    try:
        end_orphaned_runs(mlflow.MlflowClient(), experiment.experiment_id)
    except Exception:  # tidying up must never cost the stage its tracking
        log.debug("could not look for orphaned MLflow runs", exc_info=True)
    return params


@contextlib.contextmanager
def owned_run(start_time: float | None = None, **kwargs):
    """`mlflow.start_run`, tagged with this host and process id: if the process is killed
    mid-run, the run stays RUNNING, and the next `connect` can tell it is nobody's.

    `start_time` (seconds since the epoch) dates the run from when its work began, e.g. a
    training's first trial, rather than from when it is logged."""
    import mlflow

    tags = {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid()), **kwargs.pop("tags", {})}
    if start_time is not None:  # only create_run takes a start time; start_run then resumes it
        from mlflow.tracking.context import registry as context

        experiment = mlflow.get_experiment_by_name(kwargs.pop("experiment"))
        created = mlflow.MlflowClient().create_run(
            experiment.experiment_id,
            start_time=round(start_time * 1000),
            tags=context.resolve_tags(tags),  # source, user, git: what start_run adds
            run_name=kwargs.pop("run_name", None),
        )
        kwargs["run_id"] = created.info.run_id
    with mlflow.start_run(tags=tags, **kwargs) as run:
        yield run


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, run by another user
        return True
    return True


def end_orphaned_runs(client, experiment_id: str) -> list[str]:
    """Mark KILLED the RUNNING runs started on this host by a process that is gone; return
    their ids. Runs of live processes (a queued experiment's worker), of other hosts and
    untagged ones are left alone: nothing here can tell that they ended."""
    host, orphaned = socket.gethostname(), []
    for run in client.search_runs(
        [experiment_id], "attributes.status = 'RUNNING'", max_results=1000
    ):
        tags = run.data.tags
        pid = tags.get(PID_TAG, "")
        if tags.get(HOST_TAG) == host and pid.isdigit() and not _process_alive(int(pid)):
            client.set_terminated(run.info.run_id, status="KILLED")
            orphaned.append(run.info.run_id)
    if orphaned:
        log.info("marked %d MLflow run(s) of killed processes KILLED", len(orphaned))
    return orphaned


def _unreachable(params: MlflowParams, exc: Exception, what: str = "unreachable") -> None:
    reason = first_line(exc)
    if params.required:
        raise InputError(
            f"MLflow tracking store {params.uri} {what} and param "
            f"'mlflow.required' is true: {reason}"
        )
    log.warning(
        "MLflow tracking store %s %s; this stage is not mirrored (%s)", params.uri, what, reason
    )
    return None


def mirror(params: MlflowParams | None, log_fn, **kwargs):
    """Call `log_fn(params, **kwargs)` unless tracking is off; a store failing midway warns
    (or fails the stage, if required) instead of losing the DVC outputs already written."""
    if params is None:
        return None
    try:
        return log_fn(params, **kwargs)
    except InputError:
        raise
    except Exception as exc:
        log.debug("MLflow mirror failed", exc_info=True)
        return _unreachable(params, exc, "failed while logging")


def flat_params(values: dict) -> dict[str, str]:
    """Nested params as MLflow's flat `section.key.sub` strings."""
    import pandas as pd

    (row,) = pd.json_normalize(values, sep=".").to_dict(orient="records")
    return {key: str(value) for key, value in row.items()}


def runs_page(params: MlflowParams) -> str:
    """The UI route of the experiment's runs table (relative to the UI's address)."""
    shown = shown_store(params)
    experiment = None
    if store_exists(params.uri):
        from mlflow import MlflowClient

        rebased(params)
        experiment = MlflowClient(params.uri).get_experiment_by_name(params.experiment)
    if experiment is None:
        raise InputError(
            f"no experiment {params.experiment!r} in {shown}; run `make run` there first"
        )
    return f"#/experiments/{experiment.experiment_id}/runs?{RUNS_VIEW}"
