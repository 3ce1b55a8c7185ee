"""The MLflow model every family is logged as: raw titles in, the predict stage's columns out.

A `PythonModel` wrapper rather than `mlflow.keras`/`mlflow.sklearn` flavours, because the
saved model directory already bundles the text processing with the classifier, and Keras
models need their string input as a `tf.constant`, which the wrapper hides.
"""

from __future__ import annotations

import functools
import importlib.metadata
import reprlib
import warnings
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

from domain_classifier.data.schema import TITLE
from domain_classifier.models.loading import load_model
from domain_classifier.models.scoring import (
    REVIEW_COLUMN,
    REVIEW_PRECISION,
    TOP_K,
    flag_review,
    output_columns,
    review_threshold_of,
    score_chunk,
)

ARTIFACT = "title_model"


def output_schema(k: int) -> list[tuple[str, str]]:
    """(name, MLflow type) of what `predict` returns for the top `k` domains: the predict
    stage's columns, null for a null or blank title."""
    return [(n, "double" if n.endswith("probability") else "string") for n in output_columns(k)]


# The input schema says what to send (a `title` string), for the UI and for readers of the
# MLmodel; MLflow does not enforce it (it would turn numbers and nulls into text, refuse a list
# of titles and a single unnamed column): `titles_of` validates requests as predict does.
SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string", TITLE)]),
    outputs=Schema(
        [
            *(ColSpec(kind, name) for name, kind in output_schema(TOP_K)),
            ColSpec("boolean", REVIEW_COLUMN),
        ]
    ),
    params=ParamSchema(
        [
            ParamSpec("top_k", "long", TOP_K),
            ParamSpec("review_precision", "double", REVIEW_PRECISION),
        ]
    ),
)
# MLflow leaves the input of a model whose signature came from type hints to the model itself
# (`PyFuncModel._predict` enforces only the params schema then); the scoring server's parsing of
# such a model is taken over by `keep_request_types`. Saved in the MLmodel as
# `is_signature_from_type_hint: true`.
SIGNATURE._is_signature_from_type_hint = True
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
    column or its only column, a Series or a flat list; strings only (null stays null)."""
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
    if isinstance(model_input, np.ndarray):
        # Rows of a 2-D array stay lists, refused below: flattening [["a", "b"]] would score
        # one request row as two titles.
        model_input = model_input.tolist()
    if isinstance(model_input, pd.Series):
        titles = pd.Series(model_input.to_numpy(dtype=object), dtype=object)
    elif isinstance(model_input, (list, tuple)):
        titles = pd.Series(list(model_input), dtype=object)
    else:  # one title on its own
        titles = pd.Series([model_input], dtype=object)
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
            f"{type(wrong.iloc[0]).__name__} {reprlib.repr(wrong.iloc[0])}"
        )
    return titles


def _is_title_model(metadata) -> bool:
    flavor = getattr(metadata, "flavors", {}).get("python_function", {})
    return ARTIFACT in flavor.get("artifacts", {})


def _are_records(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def keep_request_types() -> None:
    """Hand this model the JSON values of an `{"inputs": ...}` or `{"instances": ...}`
    request as they were sent (`instances` records as a DataFrame's columns), and read
    `dataframe_split`/`dataframe_records` requests with pandas, as MLflow does for a model
    without an input schema.

    MLflow's own parsing does not fit this model. It turns `inputs` lists into numpy arrays
    (`proto_json_utils.convert_data_type`: `np.array(data)`), which makes `["Shampoo", 5]` the
    strings "Shampoo" and "5" before `predict` can see the 5 (and `true` becomes "True"); with
    the `title` input schema it would cast values to text too, and for a signature marked as
    from type hints (SIGNATURE is, so that MLflow leaves validation to `titles_of`) it takes
    only `inputs`. So the server's JSON parsing is wrapped, for this model only, in the process
    that loads it; other models are parsed as before. Idempotent."""
    from mlflow.pyfunc import scoring_server as server

    parse = getattr(server, "_parse_json_data", None)
    if parse is None or getattr(parse, "keeps_title_types", False):
        return

    @functools.wraps(parse)
    def parse_keeping_types(data, metadata, input_schema):
        if not _is_title_model(metadata):
            return parse(data, metadata, input_schema)
        request = server._decode_json_input(data)  # a dict, or refused
        if server.is_unified_llm_input(request):
            return parse(data, metadata, input_schema)
        params = request.get(server.SERVING_PARAMS_KEY)
        forms = {key: request[key] for key in server.SUPPORTED_FORMATS if key in request}
        if len(forms) == 1 and set(forms) & {server.INPUTS, server.INSTANCES}:
            ((form, value),) = forms.items()
            if form == server.INSTANCES and _are_records(value):
                try:
                    value = pd.DataFrame(value)
                except ValueError as exc:
                    raise _refuse(f"cannot read the request's records: {exc}") from None
            return server.ParsedJsonInput(value, params, False)
        # dataframe_split / dataframe_records (or a request with no or several formats, which
        # MLflow refuses with its usual message), read with no schema: no value is cast.
        return server.ParsedJsonInput(server.infer_and_parse_data(forms, None), params, False)

    parse_keeping_types.keeps_title_types = True
    server._parse_json_data = parse_keeping_types


def review_precision(asked) -> float:
    if isinstance(asked, bool) or not isinstance(asked, (int, float)) or not 0 < asked <= 1:
        raise _refuse(f"params.review_precision must be a number in (0, 1], got {asked!r}")
    return float(asked)


class TitleClassifier(mlflow.pyfunc.PythonModel):
    """Loads the DVC model directory logged as an artifact; `model` is the TitleModel itself."""

    # `predict` takes a DataFrame, a Series, a list or a dict on purpose and validates it in
    # `titles_of`, so MLflow's type-hint validation (which would convert requests first) is
    # declined where MLflow reads it, at class creation; a warnings filter cannot silence its
    # "Add type hints" nag, which it shows under a filter of its own.
    _skip_type_hint_validation = True

    def load_context(self, context) -> None:
        self.model = load_model(context.artifacts[ARTIFACT])
        keep_request_types()

    def predict(self, context, model_input, params=None) -> pd.DataFrame:
        """The predict stage's columns per title; `params={"top_k": k}` (default TOP_K, at
        most the number of domains) sets how many ranked domains come back. A null or blank
        title gets nulls, as in predict."""
        top_k = self.top_k((params or {}).get("top_k", TOP_K))
        precision = review_precision((params or {}).get("review_precision", REVIEW_PRECISION))
        frame = pd.DataFrame({TITLE: titles_of(model_input)})
        scored, _ = score_chunk(self.model, frame, TITLE, top_k)
        # As predict flags a batch: true below the confidence that reaches `precision` on
        # validation; null for a blank title and for a model without calibration.
        scored = flag_review(scored, review_threshold_of(self.model, precision))
        # None, not pandas' NA or NaN, so the scoring server's JSON has null for a blank title
        # (NaN is not JSON).
        scored = scored.drop(columns=TITLE).astype(object)
        return scored.where(scored.notna(), None)

    def top_k(self, asked) -> int:
        domains = len(self.model.labels)
        if isinstance(asked, (int, np.integer)) and not isinstance(asked, bool):
            # MLflow fills in the params schema's default before `predict` runs, so a default
            # above a small model's number of domains cannot be told from an explicit ask: it
            # is trimmed, as predict trims it, rather than refusing every request.
            if asked == TOP_K:
                return min(TOP_K, domains)
            if 1 <= asked <= domains:
                return int(asked)
        raise _refuse(
            f"params.top_k must be an integer from 1 to {domains} (the model's number of "
            f"domains), got {asked!r}"
        )


def log_title_model(
    model_dir: Path | str, *, tags: dict | None = None, model_id: str | None = None
) -> str:
    """Log `model_dir` as the active run's model (or into the logged model `model_id`, made
    beforehand for a run that has ended); return its model URI. `tags` go on the logged model
    (they say which folder, by its DVC hash, it holds)."""
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=str(Path(__file__).with_name("pyfunc_entry.py")),
        artifacts={ARTIFACT: str(model_dir)},
        code_paths=[str(PACKAGE_DIR)],
        signature=SIGNATURE,
        pip_requirements=pip_requirements(),
        tags={k: str(v) for k, v in (tags or {}).items()} or None,
        model_id=model_id,
    )
    return info.model_uri


def load_title_model(uri: str):
    """The TitleModel inside a logged or registered model (e.g. `models:/name@champion`)."""
    return mlflow.pyfunc.load_model(uri).unwrap_python_model().model
