"""Stage predict: batch-score new titles with the champion model."""
import click

from domain_classifier.cli import PARAMS_OPTION, stage
from domain_classifier.model_store import load_model
from domain_classifier.params import load_section
from domain_classifier.prediction import PredictParams, predict_file


@click.command()
@PARAMS_OPTION
@click.option("--model", "model_dir", default="models/champion", show_default=True)
@stage
def main(params_file, model_dir):
    """Score params predict.input into predict.output, one output row per input row."""
    params = load_section(PredictParams, "predict", params_file)
    stats = predict_file(load_model(model_dir), params)
    click.echo(f"scored {stats['rows']} rows from {params.input} into {params.output} "
               f"at {stats['rows_per_second']:,.0f} rows/s")


if __name__ == "__main__":
    main()
