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
import urllib.parse
from pathlib import Path

from domain_classifier.errors import InputError
from domain_classifier.params import load_section, require

log = logging.getLogger(__name__)

# The registry URI `models:/<name>@<alias>` leaves no room for separators in the name.
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
EXPERIMENT_NAME = re.compile(r"^[\w][\w .:/-]*$")
SQLITE = "sqlite:///"
ARTIFACTS = "mlruns"  # beside params.yaml, whatever folder the project is moved to
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
        rebase_artifacts(params)  # a moved project logs into its own mlruns/, not the old
        with _environ(PROBE_ENV):  # one quick try, not MLflow's minutes of retries
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
    """Runs that logged exactly this DVC model directory as their own model, newest first.

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


def _models_holding(client, params: MlflowParams, family: str, model_md5: str) -> list[str]:
    """URIs of the logged models that hold exactly this DVC model directory, newest first:
    those tagged with its hash (the champion `select` logs into its family's training run),
    then those of runs tagged with it (a training run's own model, in stores logged before
    models were tagged). Only READY models count: one whose upload was killed is PENDING."""
    from mlflow.entities import LoggedModelStatus

    experiment = client.get_experiment_by_name(params.experiment)
    tagged = client.search_logged_models(
        [experiment.experiment_id],
        f"tags.family = '{family}' AND tags.`{MODEL_MD5_TAG}` = '{model_md5}'",
        order_by=[{"field_name": "creation_timestamp", "ascending": False}],
        max_results=100,
    )
    uris = [m.model_uri for m in tagged if m.status == LoggedModelStatus.READY]
    runs = _runs_that_logged(client, params, family, model_md5)
    return list(dict.fromkeys([*uris, *(run.data.tags["model_uri"] for run in runs)]))


def register_model(
    params: MlflowParams, *, family: str, model_md5: str | None, summary: dict
) -> str | None:
    """Register the logged model that holds this exact model (once per model) and promote it
    to `champion`; None when no run logged it. The version's source run is the run that
    logged the model: for a champion, its family's training run.

    A queued experiment, in its temporary workspace, registers but does not promote:
    `@champion` follows the project's own workspace, which `predict` and `serve` read.
    """
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    uris = _models_holding(client, params, family, model_md5) if model_md5 else []
    if not uris:
        return None
    name = params.registered_model
    existing = [v for v in client.search_model_versions(f"name = '{name}'") if v.source in uris]
    if existing:
        version = max(existing, key=lambda v: int(v.version)).version
    else:
        tags = {"family": family, **summary}
        if in_temporary_workspace():
            tags["dvc.experiment"] = os.environ.get("DVC_EXP_NAME", "")
        version = mlflow.register_model(
            uris[0], name, tags={k: str(v) for k, v in tags.items()}
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
    params = store_params(params_file)
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
    """The `dvc.model_md5` recorded for the model `uri` names: its logged model's tag, or
    that of the run that logged it."""
    from mlflow.store.artifact.utils.models import get_model_name_and_version

    found = get_model_name_and_version(client, uri)
    if len(found) == 1:  # models:/<model id>, a logged model that was never registered
        model = client.get_logged_model(found[0])
        return recorded_model(client, model.source_run_id, model.model_uri)[1]
    version = client.get_model_version(*found)
    return recorded_model(client, version.run_id, version.source)[1]


def recorded_model(client, run_id: str | None, source: str) -> tuple[str, str]:
    """(family, dvc.model_md5) recorded for a logged model: on the model itself when it is
    tagged (a champion logged into its training run, which holds two models), else on the
    run that logged it."""
    prefix = "models:/"
    if source.startswith(prefix) and "/" not in source[len(prefix) :]:
        tags = client.get_logged_model(source[len(prefix) :]).tags
        if tags.get(MODEL_MD5_TAG):
            return tags.get("family", ""), tags[MODEL_MD5_TAG]
    tags = client.get_run(run_id).data.tags if run_id else {}
    return tags.get("family", ""), tags.get(MODEL_MD5_TAG, "")


def champion_uri(params: MlflowParams) -> str:
    return f"models:/{params.registered_model}@champion"


def require_champion(params: MlflowParams) -> None:
    """Refuse in one line unless the store holds a champion; an absent SQLite store is not
    opened, since opening one creates an empty database file."""
    shown = _shown(params)
    missing = InputError(
        f"no model registered as {champion_uri(params)} in {shown}; run `make run` there first"
    )
    uri = params.uri
    if not _store_exists(uri):
        raise missing
    _rebased(params)
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        with _environ(PROBE_ENV):
            MlflowClient(uri).get_model_version_by_alias(params.registered_model, "champion")
    except MlflowException:
        raise missing from None
    except Exception as exc:  # e.g. a tracking server that is down
        raise InputError(f"MLflow tracking store {shown} unreachable: {_first_line(exc)}") from None


def _shown(params: MlflowParams) -> str:
    """The store as the user named it, with the project a relative path is taken from."""
    named = os.environ.get("MLFLOW_TRACKING_URI") or params.tracking_uri
    return named if _resolved(named) == named else f"{named} (project {project_root()})"


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
    _rebased(params)


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


def _store_exists(uri: str) -> bool:
    """Whether opening `uri` finds a store rather than creating one (a remote one counts)."""
    path = _local_store(uri)
    if path is None:
        return True
    return path.is_file() if uri.startswith(SQLITE) else path.is_dir()


def project_artifacts() -> Path:
    """Where the project's store keeps its artifacts: mlruns/ beside params.yaml."""
    return project_root() / ARTIFACTS


def _project_sqlite(params: MlflowParams) -> Path | None:
    """The params' own SQLite store if it exists inside the project (so moves with it)."""
    root = project_root()
    if not (params.own_store and params.uri.startswith(SQLITE)):
        return None
    if not (root / "params.yaml").is_file():  # no project here, only a folder
        return None
    path = Path(params.uri[len(SQLITE) :]).resolve()
    return path if path.is_file() and path.is_relative_to(root) else None


def _artifacts_of(location: str) -> Path | None:
    """The `.../mlruns` folder a local artifact location lies in; None for any other."""
    parsed = urllib.parse.urlsplit(location)
    if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
        path = Path(urllib.parse.unquote(parsed.path))
    elif not parsed.scheme:
        path = Path(location)
    else:
        return None
    if not path.is_absolute() or ARTIFACTS not in path.parts:
        return None
    last = len(path.parts) - 1 - path.parts[::-1].index(ARTIFACTS)
    return Path(*path.parts[: last + 1])


def _other_artifact_roots(db) -> list[Path]:
    here = project_artifacts()
    found = {_artifacts_of(row[0] or "") for row in db.execute(_LOCATIONS)}
    return sorted(root for root in found if root is not None and root != here)


_LOCATIONS = "SELECT artifact_location FROM experiments"


def rebase_artifacts(params: MlflowParams) -> list[Path]:
    """Re-root the project store's artifact locations at this project's mlruns/; return the
    old roots it rewrote (none, as a rule).

    MLflow records local artifact locations as absolute paths only (a relative one is taken
    from the current folder when the experiment is created), so a project folder copied,
    moved or renamed would go on reading and writing the old folder's mlruns/. They are
    taken as relative to the project: where the project's own SQLite store names another
    folder's mlruns/, every stored location under it (experiments, runs, logged models,
    model versions) is rewritten to this project's, in one transaction, before any use.
    """
    path = _project_sqlite(params)
    if path is None:
        return []
    import sqlite3

    # mode=rw: never creates the file; isolation_level None: the transaction is ours.
    database = f"{path.as_uri()}?mode=rw"
    with contextlib.closing(
        sqlite3.connect(database, uri=True, timeout=60, isolation_level=None)
    ) as db:
        try:
            if not _other_artifact_roots(db):
                return []
        except sqlite3.OperationalError:  # no experiments table: not an MLflow store yet
            return []
        db.execute("BEGIN IMMEDIATE")  # another process may be re-rooting it right now
        try:
            old_roots = _other_artifact_roots(db)
            new = project_artifacts()
            for old in old_roots:
                for before, after in ((old.as_uri(), new.as_uri()), (str(old), str(new))):
                    _replace_prefix(db, before, after)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    for old in old_roots:
        log.info("MLflow store %s: artifact locations moved from %s to %s", path, old, new)
    return old_roots


def _replace_prefix(db, before: str, after: str) -> None:
    """In every text column, `before` (a whole value, or the folder a value lies in) becomes
    `after`."""
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        if table.startswith("sqlite_"):
            continue
        for column in db.execute(f"PRAGMA table_info('{table}')").fetchall():
            name, kind = column[1], column[2].upper()
            if not any(text in kind for text in ("CHAR", "TEXT", "CLOB")):
                continue
            db.execute(
                f'UPDATE "{table}" SET "{name}" = ? || substr("{name}", ?) '
                f'WHERE substr("{name}", 1, ?) = ? '
                f'AND (length("{name}") = ? OR substr("{name}", ?, 1) = ?)',
                (after, len(before) + 1, len(before), before, len(before), len(before) + 1, "/"),
            )


def _rebased(params: MlflowParams) -> None:
    """rebase_artifacts for a command that reads the store: a failure is one line."""
    import sqlite3

    try:
        rebase_artifacts(params)
    except (sqlite3.Error, OSError) as exc:
        raise InputError(
            f"MLflow tracking store {params.uri}: its artifact locations name another folder than "
            f"{project_artifacts()} and cannot be rewritten: {_first_line(exc)}"
        ) from None


def runs_page(params: MlflowParams) -> str:
    """The UI route of the experiment's runs table (relative to the UI's address)."""
    shown = _shown(params)
    experiment = None
    if _store_exists(params.uri):
        from mlflow import MlflowClient

        _rebased(params)
        experiment = MlflowClient(params.uri).get_experiment_by_name(params.experiment)
    if experiment is None:
        raise InputError(
            f"no experiment {params.experiment!r} in {shown}; run `make run` there first"
        )
    return f"#/experiments/{experiment.experiment_id}/runs?{RUNS_VIEW}"


def download_model(uri: str, params_file, dst: Path | str) -> Path:
    """A local copy of the MLflow model at `uri` (e.g. `models:/<name>@champion`), looked up
    in the tracking store that `params_file`'s mlflow section names."""
    params = store_params(params_file)
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
