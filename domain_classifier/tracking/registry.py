"""The MLflow model registry: the logged model that holds a DVC model folder, registered once
and promoted to `@champion` (the version it leaves keeps `@previous`)."""

from __future__ import annotations

import logging
import os

from domain_classifier.errors import InputError
from domain_classifier.store.client import (
    MODEL_MD5_TAG,
    PROBE_ENV,
    MlflowParams,
    champion_uri,
    first_line,
    in_temporary_workspace,
    shown_store,
    store_exists,
    temporary_environ,
)
from domain_classifier.store.rebase import rebased

log = logging.getLogger(__name__)


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


def require_champion(params: MlflowParams) -> None:
    """Refuse in one line unless the store holds a champion; an absent SQLite store is not
    opened, since opening one creates an empty database file."""
    shown = shown_store(params)
    missing = InputError(
        f"no model registered as {champion_uri(params)} in {shown}; run `make run` there first"
    )
    uri = params.uri
    if not store_exists(uri):
        raise missing
    rebased(params)
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        with temporary_environ(PROBE_ENV):
            MlflowClient(uri).get_model_version_by_alias(params.registered_model, "champion")
    except MlflowException:
        raise missing from None
    except Exception as exc:  # e.g. a tracking server that is down
        raise InputError(f"MLflow tracking store {shown} unreachable: {first_line(exc)}") from None
