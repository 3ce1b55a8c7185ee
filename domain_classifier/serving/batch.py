"""The batch-scoring command body shared by `stages/predict.py` and `domain-classifier predict`."""

from __future__ import annotations

import dataclasses

from domain_classifier.data.tables import check_output
from domain_classifier.models.fetch import load_scoring_model
from domain_classifier.serving.predict import PredictParams, predict_file

LOCAL_MODEL = "models/champion"


def with_paths(params: PredictParams, input_path=None, output_path=None) -> PredictParams:
    """`params` with input and output replaced by those given."""
    given = {"input": input_path, "output": output_path}
    return dataclasses.replace(params, **{k: str(v) for k, v in given.items() if v})


def predict_batch(
    params: PredictParams, model_ref: str | None, params_file, trust: bool = False
) -> str:
    """Score params.input into params.output on params.engine; one summary line. Without a
    model, the local engine scores models/champion, Spark the registry's `@champion`."""
    params.check("predict")
    check_output(params.input, params.output)
    if params.engine == "spark":
        from domain_classifier.params import load_section
        from domain_classifier.serving.spark import predict_on_spark
        from domain_classifier.store.client import MlflowParams, champion_uri

        default = champion_uri(load_section(MlflowParams, "mlflow", params_file))
        stats = predict_on_spark(model_ref or default, params, params_file)
    else:
        model = load_scoring_model(model_ref or LOCAL_MODEL, params_file, trust)
        stats = predict_file(model, params)
    return (
        f"scored {stats['rows']} rows from {params.input} into {params.output} "
        f"at {stats['rows_per_second']:,.0f} rows/s ({params.engine} engine); "
        + _coverage(stats, params.review_precision)
    )


def _coverage(stats: dict, precision: float) -> str:
    if stats.get("auto_filed") is None:
        return "no review coverage: the model is not calibrated, so needs_review is null"
    scored = stats["rows"] - stats["blank_titles"]
    coverage = stats["auto_filed"] / scored if scored else 0.0
    return (
        f"coverage {coverage:.1%} of scored titles need no review "
        f"(validation precision >= {precision})"
    )
