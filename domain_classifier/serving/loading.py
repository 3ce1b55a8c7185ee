"""The one way to open a model for scoring: a DVC model directory or an MLflow model URI."""

from __future__ import annotations

from domain_classifier.model_store import TitleModel

MLFLOW_SCHEME = "models:/"


def load_scoring_model(model_ref: str, params_file) -> TitleModel:
    """`model_ref` is a model directory (e.g. models/champion) or a `models:/...` URI, looked up
    in the tracking store that `params_file`'s mlflow section names."""
    if model_ref.startswith(MLFLOW_SCHEME):
        from domain_classifier.tracking.mlflow_store import load_registered

        return load_registered(model_ref, params_file)
    from domain_classifier.families.registry import load_model

    return load_model(model_ref)
