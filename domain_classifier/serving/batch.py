"""The batch-scoring command body shared by `stages/predict.py` and `domain-classifier predict`."""

from __future__ import annotations

import dataclasses

from domain_classifier.serving.loading import load_scoring_model
from domain_classifier.serving.predict import PredictParams, predict_file


def with_paths(params: PredictParams, input_path=None, output_path=None) -> PredictParams:
    """`params` with input and output replaced by those given."""
    given = {"input": input_path, "output": output_path}
    return dataclasses.replace(params, **{k: str(v) for k, v in given.items() if v})


def predict_batch(params: PredictParams, model_ref: str, params_file, trust: bool = False) -> str:
    """Score params.input into params.output with the model `model_ref`; one summary line."""
    params.check("predict")
    model = load_scoring_model(model_ref, params_file, trust)
    stats = predict_file(model, params)
    return (
        f"scored {stats['rows']} rows from {params.input} into {params.output} "
        f"at {stats['rows_per_second']:,.0f} rows/s"
    )
