"""The model a user scores with: a DVC model folder or an MLflow model URI (e.g.
`models:/<name>@champion`), whose hash must be one the pipeline recorded (dvc.lock, or the
logging run's `dvc.model_md5` tag) unless the caller trusts it; see README "Security". From
the store only the model folder is downloaded, opened with the project's own loader."""

from __future__ import annotations

import tempfile
from pathlib import Path

from domain_classifier.errors import InputError
from domain_classifier.models.integrity import (
    LOCK_FILE,
    check_model_dir,
    directory_md5,
    refuse_untrusted,
)
from domain_classifier.models.loading import load_model
from domain_classifier.models.saved import TitleModel
from domain_classifier.store.client import (
    MODEL_MD5_TAG,
    PROBE_ENV,
    first_line,
    store_params,
    temporary_environ,
)
from domain_classifier.store.rebase import require_store

MLFLOW_SCHEME = "models:/"


def load_scoring_model(model_ref: str, params_file, trust: bool = False) -> TitleModel:
    """`model_ref` is a model directory (e.g. models/champion) or a `models:/...` URI, looked up
    in the tracking store that `params_file`'s mlflow section names. `trust` skips the hash
    check (never the trusted-type check of the model file itself)."""
    if model_ref.startswith(MLFLOW_SCHEME):
        return load_registered(model_ref, params_file, trust=trust)
    if not trust:
        # The dvc.lock of the workspace predict runs in: for a queued experiment that is its
        # temporary copy, where select has just recorded the experiment's champion.
        check_model_dir(model_ref, LOCK_FILE)
    return load_model(model_ref)


def load_registered(uri: str, params_file, trust: bool = False) -> TitleModel:
    """The TitleModel behind an MLflow model URI such as `models:/<name>@champion`, looked up
    in the store `params_file`'s mlflow section names (see `fetch_registered`)."""
    with tempfile.TemporaryDirectory() as tmp:
        return load_model(fetch_registered(uri, params_file, tmp, trust=trust))


def fetch_registered(uri: str, params_file, directory: str, trust: bool = False) -> str:
    """Download the model folder behind an MLflow model URI such as `models:/<name>@champion`
    into `directory`; return its path.

    Only the logged model folder is downloaded, to be opened with the project's own loader: no
    Python from the store runs. Its hash must equal the `dvc.model_md5` tag of the run that
    logged it (what dvc.lock recorded when it was trained) unless `trust`.
    """
    params = store_params(params_file)
    require_store(uri, params)
    import mlflow

    mlflow.set_tracking_uri(params.uri)
    try:
        with temporary_environ(PROBE_ENV):
            recorded = _logged_model_md5(mlflow.MlflowClient(), uri)
            local = _download_title_model(uri, directory)
    except Exception as exc:
        raise InputError(
            f"{uri}: cannot load from MLflow store {params.uri}: {first_line(exc)}"
        ) from None
    if not trust:
        md5 = directory_md5(local)
        if md5 != recorded:
            refuse_untrusted(
                uri, f"its hash {md5} is not the {recorded or 'empty'} its run recorded"
            )
    return local


def _download_title_model(uri: str, directory: str) -> str:
    """Download only the model folder a logged title model holds (where its MLmodel, plain
    YAML, says); the pyfunc code logged beside it is never fetched."""
    import mlflow
    import yaml

    from domain_classifier.models.pyfunc import ARTIFACT

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


def download_model(uri: str, params_file, dst: Path | str) -> Path:
    """A local copy of the MLflow model at `uri` (e.g. `models:/<name>@champion`), looked up
    in the tracking store that `params_file`'s mlflow section names."""
    params = store_params(params_file)
    require_store(uri, params)
    import mlflow

    mlflow.set_tracking_uri(params.uri)
    try:
        with temporary_environ({**PROBE_ENV, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}):
            return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(dst)))
    except Exception as exc:
        raise InputError(
            f"{uri}: cannot load from MLflow store {params.uri}: {first_line(exc)}"
        ) from None
