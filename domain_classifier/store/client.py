"""The MLflow store a project uses: which one (params.yaml's `mlflow` section, or
MLFLOW_TRACKING_URI), the project it belongs to, and opening it without creating it. Both
the mirror (tracking/) and scoring (models/fetch.py, serving/) reach the store through here."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
from pathlib import Path

from domain_classifier.errors import InputError
from domain_classifier.params import load_section, require

log = logging.getLogger(__name__)


# The registry URI `models:/<name>@<alias>` leaves no room for separators in the name.
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


EXPERIMENT_NAME = re.compile(r"^[\w][\w .:/-]*$")


SQLITE = "sqlite:///"


ARTIFACTS = "mlruns"  # beside params.yaml, whatever folder the project is moved to


MODEL_MD5_TAG = "dvc.model_md5"


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


_chosen_project: Path | None = None


def use_project(root: Path | None) -> None:
    """Make `root` the project of this process: `domain-classifier` passes the one it found
    (its --project, DOMAIN_CLASSIFIER_PROJECT, or the folder above holding dvc.yaml)."""
    global _chosen_project
    _chosen_project = Path(root).resolve() if root is not None else None


def project_root() -> Path:
    """The project a stage or command runs for: the one `domain-classifier` chose; for a
    stage, DVC_ROOT, which DVC sets also for queued experiments (they run in a temporary copy
    under .dvc/tmp/exps/); else the current folder."""
    if _chosen_project is not None:
        return _chosen_project
    return Path(os.environ.get("DVC_ROOT") or Path.cwd()).resolve()


def in_temporary_workspace() -> bool:
    """Whether this stage runs in a queued experiment's temporary copy of the project."""
    root = os.environ.get("DVC_ROOT")
    return bool(root) and Path(root).resolve() != Path.cwd().resolve()


@contextlib.contextmanager
def temporary_environ(values: dict):
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


def first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def champion_uri(params: MlflowParams) -> str:
    return f"models:/{params.registered_model}@champion"


def shown_store(params: MlflowParams) -> str:
    """The store as the user named it, with the project a relative path is taken from."""
    named = os.environ.get("MLFLOW_TRACKING_URI") or params.tracking_uri
    return named if _resolved(named) == named else f"{named} (project {project_root()})"


def refuse_new_store(params: MlflowParams) -> None:
    """Refuse a store that MLFLOW_TRACKING_URI names but that does not exist yet: MLflow
    would create it, empty, and register `version 1` there while the real `@champion` stays
    stale. Only the param's own store (the project's `sqlite:///mlflow.db` by default) may
    be created, on first use."""
    if not params.own_store and not store_exists(params.uri):
        raise InputError(
            f"MLflow tracking store {params.uri} (MLFLOW_TRACKING_URI) does not exist; not "
            f"creating a new, empty one: point MLFLOW_TRACKING_URI at the existing store, or "
            f"unset it to use param 'mlflow.tracking_uri' ({params.tracking_uri})"
        )


def store_params(params_file) -> MlflowParams:
    """The mlflow section of `params_file`; None: the defaults (a command outside a project,
    its store named by MLFLOW_TRACKING_URI)."""
    if params_file is None:
        return MlflowParams()
    return load_section(MlflowParams, "mlflow", params_file)


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


def store_exists(uri: str) -> bool:
    """Whether opening `uri` finds a store rather than creating one (a remote one counts)."""
    path = _local_store(uri)
    if path is None:
        return True
    return path.is_file() if uri.startswith(SQLITE) else path.is_dir()


def project_artifacts() -> Path:
    """Where the project's store keeps its artifacts: mlruns/ beside params.yaml."""
    return project_root() / ARTIFACTS
