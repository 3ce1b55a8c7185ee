"""Mirror DVC stages to MLflow: DVC stays the source of truth, MLflow is the window and registry.

Only the stage that really runs logs: a stage DVC skips never reaches this code, so cached
stages add no duplicate runs. Run-to-run values (timings) go to MLflow only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import re
import socket
import tempfile
from pathlib import Path

from domain_classifier.errors import InputError
from domain_classifier.params import load_section, require

log = logging.getLogger(__name__)

# The registry URI `models:/<name>@<alias>` leaves no room for separators in the name.
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
EXPERIMENT_NAME = re.compile(r"^[\w][\w .:/-]*$")
SQLITE = "sqlite:///"
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
MODEL_MD5_TAG = "dvc.model_md5"
HOST_TAG, PID_TAG = "process.host", "process.pid"
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
        """MLFLOW_TRACKING_URI, as everywhere in MLflow, overrides the param."""
        return _resolved(os.environ.get("MLFLOW_TRACKING_URI") or self.tracking_uri)

    @property
    def own_store(self) -> bool:
        """Whether the store in use is the param's, not another one MLFLOW_TRACKING_URI names."""
        return self.uri == _resolved(self.tracking_uri)


def _resolved(uri: str) -> str:
    """A relative SQLite path is taken from the project root, so queued experiments log there
    too."""
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

    With `mlflow.required: true` an unreachable store stops the stage before any work; a
    missing store other than the param's own stops it whatever `required` says.
    """
    params = load_section(MlflowParams, "mlflow", params_file)
    refuse_new_store(params)
    import mlflow

    mlflow.set_tracking_uri(params.uri)
    try:
        with _environ(PROBE_ENV):  # one quick try, not MLflow's minutes of retries
            if params.uri.startswith(SQLITE) and not mlflow.get_experiment_by_name(
                params.experiment
            ):
                # Else artifacts land in ./mlruns of whichever workspace logs first.
                mlflow.create_experiment(params.experiment, (project_root() / "mlruns").as_uri())
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
def owned_run(**kwargs):
    """`mlflow.start_run`, tagged with this host and process id: if the process is killed
    mid-run, the run stays RUNNING, and the next `connect` can tell it is nobody's."""
    import mlflow

    tags = {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}
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
    """Runs that logged exactly this DVC model directory, newest first.

    A run killed before its model was logged (a `kill -9` mid-`sync` or mid-training) has
    the family and hash tags but no `model_uri`: nothing to register, and skipping it lets
    the next `sync` log the model again. `model_uri` is tagged only once the model is fully
    logged, so a run killed after that (KILLED, not FINISHED) still has a whole model.
    """
    experiment = client.get_experiment_by_name(params.experiment)
    runs = client.search_runs(
        [experiment.experiment_id],
        f"tags.family = '{family}' and tags.`{MODEL_MD5_TAG}` = '{model_md5}'",
        order_by=["attributes.start_time DESC"],
        max_results=100,
    )
    return [run for run in runs if run.data.tags.get("model_uri")]


def register_model(
    params: MlflowParams, *, family: str, model_md5: str | None, summary: dict
) -> str | None:
    """Register the version of the run that logged this exact model (once per model) and
    promote it to `champion`; None when no run logged it.

    A queued experiment, in its temporary workspace, registers but does not promote:
    `@champion` follows the project's own workspace, which `predict` and `serve` read.
    """
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    runs = _runs_that_logged(client, params, family, model_md5) if model_md5 else []
    if not runs:
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


def load_registered(uri: str, params_file, trust: bool = False):
    """The TitleModel behind an MLflow model URI such as `models:/<name>@champion`.

    Only the logged model folder is downloaded and opened with the project's own loader: no
    Python from the store runs. Its hash must equal the `dvc.model_md5` tag of the run that
    logged it (what dvc.lock recorded when it was trained) unless `trust`.
    """
    params = load_section(MlflowParams, "mlflow", params_file)
    _require_store(uri, params)
    import mlflow

    from domain_classifier.families.registry import load_model
    from domain_classifier.serving.integrity import directory_md5, refuse_untrusted

    mlflow.set_tracking_uri(params.uri)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with _environ(PROBE_ENV):
                recorded = _logged_model_md5(mlflow.MlflowClient(), uri)
                local = _download_title_model(uri, tmp)
        except Exception as exc:
            raise InputError(
                f"{uri}: cannot load from MLflow store {params.uri}: {_first_line(exc)}"
            ) from None
        if not trust:
            md5 = directory_md5(local)
            if md5 != recorded:
                refuse_untrusted(
                    uri, f"its hash {md5} is not the {recorded or 'empty'} its run recorded"
                )
        return load_model(local)


def _download_title_model(uri: str, directory: str) -> str:
    """Download only the model folder a logged title model holds (where its MLmodel, plain
    YAML, says); the pyfunc code logged beside it is never fetched."""
    import mlflow
    import yaml

    from domain_classifier.serving.pyfunc import ARTIFACT

    mlmodel = mlflow.artifacts.download_artifacts(f"{uri}/MLmodel", dst_path=directory)
    flavor = yaml.safe_load(Path(mlmodel).read_text())["flavors"]["python_function"]
    relative = Path(flavor["artifacts"][ARTIFACT]["path"])
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"artifact path {relative} leaves the model")
    return mlflow.artifacts.download_artifacts(f"{uri}/{relative.as_posix()}", dst_path=directory)


def _logged_model_md5(client, uri: str) -> str:
    """The `dvc.model_md5` tag of the run that logged the model `uri` names."""
    from mlflow.store.artifact.utils.models import get_model_name_and_version

    found = get_model_name_and_version(client, uri)
    if len(found) == 1:  # models:/<model id>, a logged model that was never registered
        run_id = client.get_logged_model(found[0]).source_run_id
    else:
        run_id = client.get_model_version(*found).run_id
    return client.get_run(run_id).data.tags.get(MODEL_MD5_TAG, "")


def champion_uri(params: MlflowParams) -> str:
    return f"models:/{params.registered_model}@champion"


def require_champion(params: MlflowParams) -> None:
    """Refuse in one line unless the store holds a champion; an absent SQLite store is not
    opened, since opening one creates an empty database file."""
    shown = os.environ.get("MLFLOW_TRACKING_URI") or params.tracking_uri
    missing = InputError(
        f"no model registered as {champion_uri(params)} in {shown}; run `make run` first"
    )
    uri = params.uri
    if not _store_exists(uri):
        raise missing
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        with _environ(PROBE_ENV):
            MlflowClient(uri).get_model_version_by_alias(params.registered_model, "champion")
    except MlflowException:
        raise missing from None
    except Exception as exc:  # e.g. a tracking server that is down
        raise InputError(f"MLflow tracking store {shown} unreachable: {_first_line(exc)}") from None


def refuse_new_store(params: MlflowParams) -> None:
    """Refuse a store that MLFLOW_TRACKING_URI names but that does not exist yet: MLflow
    would create it, empty, and register `version 1` there while the real `@champion` stays
    stale. Only the param's own store (the project's `sqlite:///mlflow.db` by default) may
    be created, on first use."""
    if not params.own_store and not _store_exists(params.uri):
        raise InputError(
            f"MLflow tracking store {params.uri} (MLFLOW_TRACKING_URI) does not exist; not "
            f"creating a new, empty one: point MLFLOW_TRACKING_URI at the existing store, or "
            f"unset it to use param 'mlflow.tracking_uri' ({params.tracking_uri})"
        )


def _require_store(model_uri: str, params: MlflowParams) -> None:
    """Reading a model never creates the store it is looked up in."""
    if not _store_exists(params.uri):
        raise InputError(
            f"{model_uri}: cannot load from MLflow store {params.uri}: it does not exist"
        )


def _local_store(uri: str) -> Path | None:
    """The SQLite file or file-store folder a local URI names; None for a server or database
    server, which connecting does not create: it answers or is unreachable."""
    if uri.startswith(SQLITE):
        return Path(uri[len(SQLITE) :])
    from mlflow.exceptions import MlflowException
    from mlflow.utils.file_utils import local_file_uri_to_path
    from mlflow.utils.uri import is_local_uri

    try:
        local = is_local_uri(uri)  # as MLflow decides: `databricks` is no folder, say
    except MlflowException:  # file://<remote host>/...: MLflow refuses it on connecting
        return None
    return Path(local_file_uri_to_path(uri)) if local else None


def _store_exists(uri: str) -> bool:
    """Whether opening `uri` finds a store rather than creating one (a remote one counts)."""
    path = _local_store(uri)
    if path is None:
        return True
    return path.is_file() if uri.startswith(SQLITE) else path.is_dir()


def runs_page(params: MlflowParams) -> str:
    """The UI route of the experiment's runs table (relative to the UI's address)."""
    shown = os.environ.get("MLFLOW_TRACKING_URI") or params.tracking_uri
    experiment = None
    if _store_exists(params.uri):
        from mlflow import MlflowClient

        experiment = MlflowClient(params.uri).get_experiment_by_name(params.experiment)
    if experiment is None:
        raise InputError(f"no experiment {params.experiment!r} in {shown}; run `make run` first")
    return f"#/experiments/{experiment.experiment_id}/runs?{RUNS_VIEW}"


def download_model(uri: str, params_file, dst: Path | str) -> Path:
    """A local copy of the MLflow model at `uri` (e.g. `models:/<name>@champion`), looked up
    in the tracking store that `params_file`'s mlflow section names."""
    params = load_section(MlflowParams, "mlflow", params_file)
    _require_store(uri, params)
    import mlflow

    mlflow.set_tracking_uri(params.uri)
    try:
        with _environ({**PROBE_ENV, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}):
            return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(dst)))
    except Exception as exc:
        raise InputError(
            f"{uri}: cannot load from MLflow store {params.uri}: {_first_line(exc)}"
        ) from None
