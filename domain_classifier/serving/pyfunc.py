"""The MLflow model every family is logged as: raw titles in, domain and probability out.

A `PythonModel` wrapper rather than `mlflow.keras`/`mlflow.sklearn` flavours, because the
saved model directory already bundles the text processing with the classifier, and Keras
models need their string input as a `tf.constant`, which the wrapper hides.
"""

from __future__ import annotations

import importlib.metadata
import warnings
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema

from domain_classifier.data.schema import TITLE
from domain_classifier.families.registry import load_model

ARTIFACT = "title_model"
SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string")]),
    outputs=Schema([ColSpec("string", "domain"), ColSpec("double", "probability")]),
)
# Pinned to what this environment runs; inferring them costs ~8 s per logged model.
REQUIREMENTS = (
    "mlflow",
    "scikit-learn",
    "xgboost-cpu",
    "tensorflow-cpu",
    "keras",
    "pandas",
    "numpy",
    "pyarrow",
    "scipy",
    "joblib",
    "click",
    "pyyaml",
)
PACKAGE_DIR = Path(__file__).resolve().parents[1]
# `predict` takes a DataFrame, a Series or a list on purpose, and SIGNATURE documents the
# input; an input example would make every log load the model (and TensorFlow) once more.
MLFLOW_NAGS = (".*An input example was not provided",)
for _nag in MLFLOW_NAGS:
    warnings.filterwarnings("ignore", message=_nag, category=UserWarning)


def pip_requirements() -> list[str]:
    return [f"{name}=={importlib.metadata.version(name)}" for name in REQUIREMENTS]


def titles_of(model_input) -> list[str]:
    """Accept a DataFrame (its `title` column, or its only column), a Series or a list."""
    if isinstance(model_input, pd.DataFrame):
        column = TITLE if TITLE in model_input.columns else model_input.columns[0]
        model_input = model_input[column]
    return [str(title) for title in np.asarray(model_input, dtype=object).ravel()]


class TitleClassifier(mlflow.pyfunc.PythonModel):
    """Loads the DVC model directory logged as an artifact; `model` is the TitleModel itself."""

    # `predict` takes a DataFrame, a Series or a list on purpose (SIGNATURE documents it), so
    # MLflow's type-hint validation is declined where MLflow reads it, at class creation: a
    # warnings filter cannot silence its "Add type hints" nag, which it shows under its own.
    _skip_type_hint_validation = True

    def load_context(self, context) -> None:
        self.model = load_model(context.artifacts[ARTIFACT])

    def predict(self, context, model_input, params=None) -> pd.DataFrame:
        proba = self.model.predict_proba(titles_of(model_input))
        best = proba.argmax(axis=1)
        return pd.DataFrame(
            {
                "domain": np.asarray(self.model.labels, dtype=object)[best],
                "probability": proba[np.arange(len(best)), best],
            }
        )


def log_title_model(model_dir: Path | str) -> str:
    """Log `model_dir` as the active run's model; return its model URI."""
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=str(Path(__file__).with_name("pyfunc_entry.py")),
        artifacts={ARTIFACT: str(model_dir)},
        code_paths=[str(PACKAGE_DIR)],
        signature=SIGNATURE,
        pip_requirements=pip_requirements(),
    )
    return info.model_uri


def load_title_model(uri: str):
    """The TitleModel inside a logged or registered model (e.g. `models:/name@champion`)."""
    return mlflow.pyfunc.load_model(uri).unwrap_python_model().model
