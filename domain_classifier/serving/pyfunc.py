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
from domain_classifier.serving.predict import PredictParams, output_columns, score_chunk

ARTIFACT = "title_model"
TOP_K = PredictParams.__dataclass_fields__["top_k"].default


def output_schema(k: int) -> list[tuple[str, str]]:
    """(name, MLflow type) of what `predict` returns for the top `k` domains: the predict
    stage's columns, null for a null or blank title."""
    return [(n, "double" if n.endswith("probability") else "string") for n in output_columns(k)]


# No input schema on purpose: MLflow's enforcement would turn numbers and nulls into text and
# score the first of several columns; `titles_of` validates requests as predict does instead.
SIGNATURE = ModelSignature(
    inputs=None,
    outputs=Schema([ColSpec(kind, name) for name, kind in output_schema(TOP_K)]),
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
MLFLOW_NAGS = (".*An input example was not provided",)
for _nag in MLFLOW_NAGS:
    warnings.filterwarnings("ignore", message=_nag, category=UserWarning)


def pip_requirements() -> list[str]:
    return [f"{name}=={importlib.metadata.version(name)}" for name in REQUIREMENTS]


# One request is scored in memory at once; batches beyond this go through `predict`.
MAX_REQUEST_TITLES = 10_000


def _refuse(message: str):
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

    # INVALID_PARAMETER_VALUE is what the scoring server answers with HTTP 400.
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def titles_of(model_input) -> pd.Series:
    """The titles of a request, validated as predict validates a batch: a DataFrame's `title`
    column or its only column, a Series or a list; strings only (null stays null)."""
    if isinstance(model_input, dict):  # the server's {"inputs": {"title": [...]}}
        try:
            model_input = pd.DataFrame(model_input)
        except ValueError as exc:
            raise _refuse(f"cannot read the request's columns: {exc}") from None
    if isinstance(model_input, pd.DataFrame):
        if TITLE not in model_input.columns and len(model_input.columns) != 1:
            raise _refuse(
                f"input has columns {list(map(str, model_input.columns))}: send a '{TITLE}' "
                f"column or a single column of titles"
            )
        model_input = model_input[TITLE if TITLE in model_input.columns else model_input.columns[0]]
    titles = pd.Series(np.asarray(model_input, dtype=object).ravel(), dtype=object)
    if len(titles) > MAX_REQUEST_TITLES:
        raise _refuse(
            f"{len(titles)} titles in one request; the limit is {MAX_REQUEST_TITLES} "
            f"(score larger batches with `predict`)"
        )
    present = titles[titles.notna()]
    wrong = present[~present.map(lambda value: isinstance(value, str))]
    if len(wrong):
        raise _refuse(
            f"titles must be strings; row {wrong.index[0] + 1} is "
            f"{type(wrong.iloc[0]).__name__} {wrong.iloc[0]!r}"
        )
    return titles


class TitleClassifier(mlflow.pyfunc.PythonModel):
    """Loads the DVC model directory logged as an artifact; `model` is the TitleModel itself."""

    # `predict` takes a DataFrame, a Series, a list or a dict on purpose and validates it in
    # `titles_of`, so MLflow's type-hint validation (which would convert requests first) is
    # declined where MLflow reads it, at class creation; a warnings filter cannot silence its
    # "Add type hints" nag, which it shows under a filter of its own.
    _skip_type_hint_validation = True

    def load_context(self, context) -> None:
        self.model = load_model(context.artifacts[ARTIFACT])

    def predict(self, context, model_input, params=None) -> pd.DataFrame:
        """The predict stage's columns per title; `params={"top_k": k}` (default TOP_K) sets
        how many ranked domains come back. A null or blank title gets nulls, as in predict."""
        top_k = int((params or {}).get("top_k", TOP_K))
        frame = pd.DataFrame({TITLE: titles_of(model_input)})
        scored, _ = score_chunk(self.model, frame, TITLE, top_k)
        # None, not pandas' NA or NaN, so the scoring server's JSON has null for a blank title
        # (NaN is not JSON).
        scored = scored.drop(columns=TITLE).astype(object)
        return scored.where(scored.notna(), None)


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
