"""The MLflow model every family is logged as: raw titles in, the predict stage's columns out.

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
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

from domain_classifier.data.schema import TITLE
from domain_classifier.families.registry import load_model
from domain_classifier.serving.predict import PredictParams, score_chunk

ARTIFACT = "title_model"
TOP_K = PredictParams.__dataclass_fields__["top_k"].default
_PAIR = (("domain", "string"), ("probability", "double"))


def output_columns(k: int) -> list[tuple[str, str]]:
    """(name, MLflow type) of what `predict` returns for the top `k` domains, as the predict
    stage writes them; null for a null or blank title."""
    ranks = [(f"top{r}_{what}", kind) for r in range(1, k + 1) for what, kind in _PAIR]
    return [("predicted_domain", "string"), ("probability", "double"), *ranks]


SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string")]),
    outputs=Schema([ColSpec(kind, name) for name, kind in output_columns(TOP_K)]),
    params=ParamSchema([ParamSpec("top_k", "long", TOP_K)]),
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
MLFLOW_NAGS = (".*Add type hints to the `predict` method", ".*An input example was not provided")
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

    def load_context(self, context) -> None:
        self.model = load_model(context.artifacts[ARTIFACT])

    def predict(self, context, model_input, params=None) -> pd.DataFrame:
        """`params={"top_k": k}` (default TOP_K) sets how many ranked domains come back."""
        top_k = int((params or {}).get("top_k", TOP_K))
        frame = pd.DataFrame({TITLE: _title_column(model_input)})
        scored, _ = score_chunk(self.model, frame, TITLE, top_k)
        return scored.drop(columns=TITLE)


def _title_column(model_input) -> pd.Series:
    """The titles as given, nulls kept (the scorer leaves null and blank titles unscored)."""
    if isinstance(model_input, pd.DataFrame):
        column = TITLE if TITLE in model_input.columns else model_input.columns[0]
        return model_input[column].reset_index(drop=True)
    return pd.Series(np.asarray(model_input, dtype=object).ravel(), dtype=object)


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
