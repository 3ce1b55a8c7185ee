"""Stage predict: batch-score new titles with the champion model."""

import dataclasses

import click

from domain_classifier.params import load_section
from domain_classifier.serving.loading import load_scoring_model
from domain_classifier.serving.predict import PredictParams, predict_file
from domain_classifier.stage import PARAMS_OPTION, stage


@click.command()
@PARAMS_OPTION
@click.option(
    "--model",
    "model_ref",
    help="A model directory, or an MLflow model URI such as models:/domain-classifier@champion.  "
    "[default: models/champion; with predict.engine spark, models:/<mlflow.registered_model>"
    "@champion]",
)
@click.option("--input", "input_path", help="Overrides predict.input (ad-hoc batches).")
@click.option("--output", "output_path", help="Overrides predict.output (ad-hoc batches).")
@stage
def main(params_file, model_ref, input_path, output_path):
    """Score params predict.input into predict.output, one output row per input row."""
    params = load_section(PredictParams, "predict", params_file)
    overrides = {"input": input_path, "output": output_path}
    params = dataclasses.replace(params, **{k: v for k, v in overrides.items() if v})
    params.check("predict")
    if params.engine == "spark":
        from domain_classifier.serving.spark import predict_on_spark
        from domain_classifier.tracking.mlflow_store import champion_uri

        stats = predict_on_spark(model_ref or champion_uri(params_file), params, params_file)
    else:
        model = load_scoring_model(model_ref or "models/champion", params_file)
        stats = predict_file(model, params)
    click.echo(
        f"scored {stats['rows']} rows from {params.input} into {params.output} "
        f"at {stats['rows_per_second']:,.0f} rows/s ({params.engine} engine)"
    )


if __name__ == "__main__":
    main()
