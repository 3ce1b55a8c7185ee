"""Mirror DVC stages to MLflow: DVC stays the source of truth, MLflow is the window and registry.

Only the stage that really runs logs: a stage DVC skips never reaches this code, so cached
stages add no duplicate runs. Run-to-run values (timings) go to MLflow only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
from pathlib import Path

from domain_classifier.errors import InputError
from domain_classifier.params import load_section, require
from domain_classifier.tracking.lineage import stage_record

log = logging.getLogger(__name__)

# The registry URI `models:/<name>@<alias>` leaves no room for separators in the name.
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
EXPERIMENT_NAME = re.compile(r"^[\w][\w .:/-]*$")
SQLITE = "sqlite:///"
PROBE_ENV = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}


@dataclasses.dataclass(frozen=True)
class MlflowParams:
    tracking_uri: str = "sqlite:///mlflow.db"
    experiment: str = "domain-classifier"
    registered_model: str = "domain-classifier"
    required: bool = False

    def check(self, where: str) -> None:
        require(
            bool(EXPERIMENT_NAME.match(self.experiment)) and len(self.experiment) <= 500,
            f"{where}.experiment",
            f"must be a plain name (letters, digits, ' _.:/-'), got {self.experiment!r}",
        )
        require(
            bool(MODEL_NAME.match(self.registered_model)),
            f"{where}.registered_model",
            f"must be letters, digits, '_', '.' or '-' (it goes into "
            f"models:/<name>@champion), got {self.registered_model!r}",
        )
        require(bool(self.tracking_uri.strip()), f"{where}.tracking_uri", "must not be empty")

    @property
    def uri(self) -> str:
        """MLFLOW_TRACKING_URI, as everywhere in MLflow, overrides the param; a relative
        SQLite path is taken from the project root, so queued experiments log there too."""
        uri = os.environ.get("MLFLOW_TRACKING_URI") or self.tracking_uri
        if uri.startswith(SQLITE) and not uri.startswith(SQLITE + "/"):
            return SQLITE + str(project_root() / uri[len(SQLITE) :])
        return uri


def project_root() -> Path:
    """The project a stage runs for: DVC sets DVC_ROOT to it, also for queued experiments,
    which run in a temporary copy under .dvc/tmp/exps/."""
    return Path(os.environ.get("DVC_ROOT") or Path.cwd()).resolve()


def in_temporary_workspace() -> bool:
    return project_root() != Path.cwd().resolve()


@contextlib.contextmanager
def _environ(values: dict):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def connect(params_file) -> MlflowParams | None:
    """Point MLflow at the tracking store; None (with one warning) if it cannot be reached.

    With `mlflow.required: true` an unreachable store stops the stage before any work.
    """
    params = load_section(MlflowParams, "mlflow", params_file)
    import mlflow

    mlflow.set_tracking_uri(params.uri)
    try:
        with _environ(PROBE_ENV):  # one quick try, not MLflow's minutes of retries
            if params.uri.startswith(SQLITE) and not mlflow.get_experiment_by_name(
                params.experiment
            ):
                # Else artifacts land in ./mlruns of whichever workspace logs first.
                mlflow.create_experiment(params.experiment, (project_root() / "mlruns").as_uri())
            mlflow.set_experiment(params.experiment)
    except Exception as exc:  # any failure here means: no tracking for this stage
        return _unreachable(params, exc)
    return params


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _unreachable(params: MlflowParams, exc: Exception, what: str = "unreachable") -> None:
    reason = _first_line(exc)
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


def _runs_that_logged(client, params: MlflowParams, family: str, model_md5: str):
    """Training runs that logged exactly this DVC model directory, newest first."""
    experiment = client.get_experiment_by_name(params.experiment)
    return client.search_runs(
        [experiment.experiment_id],
        f"tags.family = '{family}' and tags.`dvc.model_md5` = '{model_md5}'",
        order_by=["attributes.start_time DESC"],
        max_results=100,
    )


def register_champion(
    params: MlflowParams, *, family: str, summary: dict, stage: str = "select"
) -> str | None:
    """Register the champion's model version (once per model) and promote it to `champion`.

    A queued experiment, in its temporary workspace, registers but does not promote:
    `@champion` follows the project's own workspace, which `predict` and `serve` read.
    Returns the version, or None (with a warning) when no run logged this exact model.
    """
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    model_md5 = ((stage_record(stage) or {}).get("deps") or {}).get(f"models/{family}")
    runs = _runs_that_logged(client, params, family, model_md5) if model_md5 else []
    if not runs:
        log.warning(
            "no MLflow run logged models/%s (%s): champion not registered; rerun "
            "`dvc repro --force train_%s` with tracking on",
            family,
            model_md5,
            family,
        )
        return None
    name, run_ids = params.registered_model, {run.info.run_id for run in runs}
    existing = [v for v in client.search_model_versions(f"name = '{name}'") if v.run_id in run_ids]
    if existing:
        version = max(existing, key=lambda v: int(v.version)).version
    else:
        tags = {"family": family, **summary}
        if in_temporary_workspace():
            tags["dvc.experiment"] = os.environ.get("DVC_EXP_NAME", "")
        version = mlflow.register_model(
            runs[0].data.tags["model_uri"], name, tags={k: str(v) for k, v in tags.items()}
        ).version
    if in_temporary_workspace():
        log.info(
            "queued experiment %s: %s version %s, @champion left as it is",
            os.environ.get("DVC_EXP_NAME", ""),
            name,
            version,
        )
    else:
        _promote(client, name, version)
    return str(version)


def _promote(client, name: str, version: str) -> None:
    """Point `champion` at `version`; the version it leaves keeps `previous`."""
    from mlflow.exceptions import MlflowException

    try:
        current = client.get_model_version_by_alias(name, "champion").version
    except MlflowException:  # no champion yet
        current = None
    if current != version:
        if current is not None:
            client.set_registered_model_alias(name, "previous", current)
        client.set_registered_model_alias(name, "champion", version)


def load_registered(uri: str, params_file):
    """The TitleModel behind an MLflow model URI such as `models:/<name>@champion`."""
    params = load_section(MlflowParams, "mlflow", params_file)
    import mlflow

    from domain_classifier.serving.pyfunc import load_title_model

    mlflow.set_tracking_uri(params.uri)
    try:
        with _environ(PROBE_ENV):
            return load_title_model(uri)
    except Exception as exc:
        raise InputError(
            f"{uri}: cannot load from MLflow store {params.uri}: {_first_line(exc)}"
        ) from None


def champion_uri(params_file) -> str:
    """`models:/<mlflow.registered_model>@champion`, the model `make serve` serves."""
    return f"models:/{load_section(MlflowParams, 'mlflow', params_file).registered_model}@champion"


def download_model(uri: str, params_file, dst: Path | str) -> Path:
    """A local copy of the MLflow model at `uri` (e.g. `models:/<name>@champion`), looked up
    in the tracking store that `params_file`'s mlflow section names."""
    params = load_section(MlflowParams, "mlflow", params_file)
    import mlflow

    mlflow.set_tracking_uri(params.uri)
    try:
        with _environ({**PROBE_ENV, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}):
            return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(dst)))
    except Exception as exc:
        raise InputError(
            f"{uri}: cannot load from MLflow store {params.uri}: {_first_line(exc)}"
        ) from None
