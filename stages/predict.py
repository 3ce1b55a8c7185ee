"""Stage predict: batch-score new titles with the champion model."""

import click

from domain_classifier.stage import PARAMS_OPTION, TRUST_OPTION, stage


@click.command()
@PARAMS_OPTION
@click.option(
    "--model",
    "model_ref",
    help="A model directory, or an MLflow model URI such as models:/domain-classifier@champion.  "
    "[default: models/champion; with predict.engine spark, models:/<mlflow.registered_model>"
    "@champion]",
)
@TRUST_OPTION
@click.option("--input", "input_path", help="Overrides predict.input (ad-hoc batches).")
@click.option("--output", "output_path", help="Overrides predict.output (ad-hoc batches).")
@stage
def main(params_file, model_ref, trust, input_path, output_path):
    """Score params predict.input into predict.output, one output row per input row."""
    from domain_classifier.params import load_section
    from domain_classifier.serving.batch import predict_batch, with_paths
    from domain_classifier.serving.predict import PredictParams

    params = with_paths(
        load_section(PredictParams, "predict", params_file), input_path, output_path
    )
    click.echo(predict_batch(params, model_ref, params_file, trust))


if __name__ == "__main__":
    main()
