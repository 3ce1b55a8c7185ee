"""The one way to open a model for scoring: a DVC model directory or an MLflow model URI.

Either way the model's hash must be one the pipeline recorded (dvc.lock, or the logging run's
`dvc.model_md5` tag) unless the caller trusts it; see README "Security".
"""

from __future__ import annotations

from domain_classifier.model_store import TitleModel
from domain_classifier.serving.integrity import LOCK_FILE, check_model_dir

MLFLOW_SCHEME = "models:/"


def load_scoring_model(model_ref: str, params_file, trust: bool = False) -> TitleModel:
    """`model_ref` is a model directory (e.g. models/champion) or a `models:/...` URI, looked up
    in the tracking store that `params_file`'s mlflow section names. `trust` skips the hash
    check (never the trusted-type check of the model file itself)."""
    if model_ref.startswith(MLFLOW_SCHEME):
        from domain_classifier.tracking.mlflow_store import load_registered

        return load_registered(model_ref, params_file, trust=trust)
    from domain_classifier.families.registry import load_model

    if not trust:
        # The dvc.lock of the workspace predict runs in: for a queued experiment that is its
        # temporary copy, where select has just recorded the experiment's champion.
        check_model_dir(model_ref, LOCK_FILE)
    return load_model(model_ref)
