"""`@champion` in the MLflow registry names the model DVC chose, or is brought in line.

`select` registers its champion only when the store answers; a champion selected while the
store was down would otherwise stay stale for good, since `dvc repro` then has nothing to
rerun. `ensure_champion` compares the two by model hash and repairs the registry.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from domain_classifier.data.tables import read_json
from domain_classifier.errors import InputError
from domain_classifier.params import load_section
from domain_classifier.serving.integrity import directory_md5
from domain_classifier.tracking.mlflow_store import (
    MODEL_MD5_TAG,
    MlflowParams,
    connect,
    owned_run,
    project_root,
    register_model,
)

log = logging.getLogger(__name__)
CHAMPION_DIR, CHAMPION_METRICS = "models/champion", "metrics/champion.json"
ALIAS = "champion"


@dataclasses.dataclass(frozen=True)
class Champion:
    family: str
    model_md5: str
    version: str | None = None  # the registry's model version, for the registry's champion

    def same_model(self, other: Champion | None) -> bool:
        return other is not None and (self.family, self.model_md5) == (
            other.family,
            other.model_md5,
        )


def dvc_champion(root: Path) -> Champion:
    """The champion `select` wrote: its family and the DVC hash of models/champion."""
    directory, metrics = root / CHAMPION_DIR, root / CHAMPION_METRICS
    if not directory.is_dir() or not metrics.is_file():
        raise InputError(f"{directory}: no DVC champion yet; run `dvc repro` first")
    return Champion(read_json(metrics)["family"], directory_md5(directory))


def registry_champion(client, params: MlflowParams) -> Champion | None:
    """The version `@champion` names, with the family and model hash its run recorded."""
    from mlflow.exceptions import MlflowException

    try:
        version = client.get_model_version_by_alias(params.registered_model, ALIAS)
    except MlflowException:  # no such model or alias yet
        return None
    tags = client.get_run(version.run_id).data.tags
    return Champion(tags.get("family", ""), tags.get(MODEL_MD5_TAG, ""), str(version.version))


def log_champion_run(champion: Champion, directory: Path, summary: dict) -> None:
    """A run that logs the DVC champion itself, for when no training run logged it (its
    training stage ran with the store down): the registry then has a version to point at."""
    import mlflow

    from domain_classifier.serving.pyfunc import log_title_model

    with owned_run(run_name=f"{champion.family}-champion"):
        mlflow.set_tags(
            {"family": champion.family, MODEL_MD5_TAG: champion.model_md5, "dvc.stage": "sync"}
        )
        mlflow.log_metrics({k: float(v) for k, v in summary.items() if k != "family"})
        mlflow.set_tag("model_uri", log_title_model(directory))


def connected(params_file) -> MlflowParams:
    """The store's params, or InputError: the registry cannot be checked without it."""
    params = connect(params_file)
    if params is None:
        uri = load_section(MlflowParams, "mlflow", params_file).uri
        raise InputError(f"MLflow tracking store {uri} unreachable: @{ALIAS} not checked")
    return params


def ensure_champion(params_file) -> str:
    """Make `@champion` name the DVC champion (models/champion) if it does not; return its
    version. The store must be reachable (InputError otherwise)."""
    from mlflow import MlflowClient

    params = connected(params_file)
    root = project_root()
    wanted = dvc_champion(root)
    current = registry_champion(MlflowClient(), params)
    if wanted.same_model(current):
        return current.version
    summary = read_json(root / CHAMPION_METRICS)
    log.info(
        "@champion is %s, DVC's champion is %s %s: bringing the registry in line",
        f"version {current.version} ({current.family} {current.model_md5})" if current else "unset",
        wanted.family,
        wanted.model_md5,
    )
    register = dict(family=wanted.family, model_md5=wanted.model_md5, summary=summary)
    version = register_model(params, **register)
    if version is None:  # no run logged this exact model: log it now
        log_champion_run(wanted, root / CHAMPION_DIR, summary)
        version = register_model(params, **register)
    return version


def register_champion_dir(params: MlflowParams, *, family: str, summary: dict, directory) -> str:
    """select's registration: the version of the champion folder itself (calibration
    included, so serve, the pyfunc and Spark return calibrated probabilities), logged by a
    champion run when no run logged these exact bytes yet (the training run logged the
    uncalibrated family folder)."""
    champion = Champion(family, directory_md5(directory))
    register = dict(family=family, model_md5=champion.model_md5, summary=summary)
    version = register_model(params, **register)
    if version is None:
        log_champion_run(champion, Path(directory), summary)
        version = register_model(params, **register)
    return version
