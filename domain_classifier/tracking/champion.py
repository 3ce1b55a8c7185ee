"""`@champion` in the MLflow registry names the model DVC chose, or is brought in line.

The champion (models/champion: its family's model plus the calibration `select` fits) is
logged into the training run of that family, as the run's second logged model `champion`, so
the registered version's source run is the run that trained it: one run per family per
training, with its registered model beside its metrics. Only a champion no training run
logged (the ensemble, which `select` assembles from its members, or a family trained while the
store was down) gets a run of its own, named after the family, with the champion's metrics,
calibration and lineage.

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
from domain_classifier.models.fetch import recorded_model
from domain_classifier.models.integrity import directory_md5
from domain_classifier.params import load_section
from domain_classifier.store.client import MODEL_MD5_TAG, MlflowParams, project_root
from domain_classifier.tracking.registry import _runs_that_logged, register_model
from domain_classifier.tracking.runs import connect, owned_run

log = logging.getLogger(__name__)
CHAMPION_DIR, CHAMPION_METRICS = "models/champion", "metrics/champion.json"
ALIAS = "champion"
# The DVC stage whose output the champion is; runs and models logging it are tagged with it.
SELECT = "select"


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
    """The version `@champion` names, with the family and model hash recorded for it."""
    from mlflow.exceptions import MlflowException

    try:
        version = client.get_model_version_by_alias(params.registered_model, ALIAS)
    except MlflowException:  # no such model or alias yet
        return None
    family, model_md5 = recorded_model(client, version.run_id, version.source)
    return Champion(family, model_md5, str(version.version))


def uncalibrated_md5(directory: Path | str) -> str:
    """DVC's hash of the champion folder without its calibration.json: that of the folder
    `select` calibrated, i.e. `models/<family>` as its training run and dvc.lock record it."""
    from dvc_data.hashfile.build import build
    from dvc_data.hashfile.db import HashFileDB
    from dvc_data.hashfile.tree import Tree
    from dvc_objects.fs import LocalFileSystem, MemoryFileSystem

    from domain_classifier.models.calibrated import CALIBRATION_FILE

    fs = LocalFileSystem()
    staging = HashFileDB(MemoryFileSystem(), "/staging")  # in memory, dropped on return
    _, _, tree = build(staging, fs.abspath(str(directory)), fs, "md5", dry_run=True)
    kept = Tree()
    for key, meta, oid in tree:
        if key != (CALIBRATION_FILE,):
            kept.add(key, meta, oid)
    kept.digest()
    return kept.hash_info.value


def _calibration_params(directory: Path) -> dict[str, str]:
    from domain_classifier.models.calibrated import CALIBRATION_FILE

    path = directory / CALIBRATION_FILE
    return {"temperature": str(read_json(path)["temperature"])} if path.is_file() else {}


def log_champion(params: MlflowParams, champion: Champion, directory: Path, summary: dict) -> str:
    """Log the DVC champion so the registry has a version to point at; return the run id.

    Into its family's training run (the newest run that logged the very folder it was
    calibrated from) as a logged model `champion` of that run, which stays as it ended; or,
    when no run logged that folder, in a run of its own."""
    from mlflow import MlflowClient
    from mlflow.entities import LoggedModelOutput

    from domain_classifier.models.pyfunc import log_title_model

    client, directory = MlflowClient(), Path(directory)
    tags = {"family": champion.family, MODEL_MD5_TAG: champion.model_md5, "dvc.stage": SELECT}
    trained = _runs_that_logged(client, params, champion.family, uncalibrated_md5(directory))
    if not trained:
        return _log_champion_run(champion, directory, summary, tags)
    run = trained[0].info
    # A model logged by its id, with no active run: the training run is not reopened, so its
    # status, end time and process tags stay the training's.
    model = client.create_logged_model(
        run.experiment_id,
        name=ALIAS,
        source_run_id=run.run_id,
        tags=tags,
        params=_calibration_params(directory),
    )
    log_title_model(directory, model_id=model.model_id)
    client.log_outputs(run.run_id, [LoggedModelOutput(model.model_id, step=0)])
    return run.run_id


def _log_champion_run(champion: Champion, directory: Path, summary: dict, tags: dict) -> str:
    """A run of the champion's own, named after its family (`ensemble`, say), for a champion
    no training run logged: its metrics, calibration, lineage (the select stage's dvc.lock
    entry) and the model."""
    import mlflow

    from domain_classifier.models.pyfunc import log_title_model
    from domain_classifier.tracking.lineage import log_lineage, stage_record

    with owned_run(run_name=champion.family, tags=tags) as run:
        log_lineage(stage_record(SELECT), SELECT)
        mlflow.log_params(_calibration_params(directory))
        numbers = {k: v for k, v in summary.items() if isinstance(v, (int, float))}
        mlflow.log_metrics({k: float(v) for k, v in numbers.items() if not isinstance(v, bool)})
        mlflow.set_tag("model_uri", log_title_model(directory, tags=tags))
    return run.info.run_id


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
    log.info(
        "@champion is %s, DVC's champion is %s %s: bringing the registry in line",
        f"version {current.version} ({current.family} {current.model_md5})" if current else "unset",
        wanted.family,
        wanted.model_md5,
    )
    return _register(params, wanted, root / CHAMPION_DIR, read_json(root / CHAMPION_METRICS))


def register_champion_dir(params: MlflowParams, *, family: str, summary: dict, directory) -> str:
    """select's registration: the version of the champion folder itself (calibration
    included, so serve, the pyfunc and Spark return calibrated probabilities), logged into
    its family's training run when no run logged these exact bytes yet (the training run
    logged the uncalibrated family folder)."""
    return _register(params, Champion(family, directory_md5(directory)), Path(directory), summary)


def _register(params: MlflowParams, champion: Champion, directory: Path, summary: dict) -> str:
    register = dict(family=champion.family, model_md5=champion.model_md5, summary=summary)
    version = register_model(params, **register)
    if version is None:  # no run logged this exact model: log it now
        log_champion(params, champion, directory, summary)
        version = register_model(params, **register)
    return version
