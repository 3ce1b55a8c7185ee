"""Stage monitor: data, output and concept drift of the scored batch; verdict and report."""

from pathlib import Path

import click

from domain_classifier.stage import PARAMS_OPTION, stage


@click.command()
@PARAMS_OPTION
@click.option(
    "--predictions", default=None, help="Scored batch to monitor.  [default: params predict.output]"
)
@click.option("--model", "model_dir", default="models/champion", show_default=True)
@click.option("--split-dir", default="data/split", show_default=True)
@click.option(
    "--features",
    default="data/features",
    show_default=True,
    help="Training features: the vocabulary and normalisation of the sequences.",
)
@click.option("--champion-metrics", default="metrics/champion.json", show_default=True)
@click.option("--metrics", "metrics_path", default="metrics/monitor.json", show_default=True)
@click.option("--report", default="reports/monitor.md", show_default=True)
@click.option(
    "--history",
    default="metrics/monitor_history.csv",
    show_default=True,
    help="Table of every monitored batch's headline figures; this batch's row is added or "
    "replaced.",
)
@stage
def main(
    params_file,
    predictions,
    model_dir,
    split_dir,
    features,
    champion_metrics,
    metrics_path,
    report,
    history,
):
    """Compare the predict stage's output with the training reference."""
    from domain_classifier.features.files import SEQUENCES, read_encoding
    from domain_classifier.models.loading import load_model
    from domain_classifier.monitoring.checks import run_monitor
    from domain_classifier.monitoring.history import append_history, history_row
    from domain_classifier.monitoring.params import MonitorParams, ReferencePaths
    from domain_classifier.monitoring.report import write_outputs
    from domain_classifier.params import load_section
    from domain_classifier.serving.predict import PredictParams

    params = load_section(MonitorParams, "monitor", params_file)
    predict = load_section(PredictParams, "predict", params_file)
    _, text, _ = read_encoding(features)
    vocabulary = str(Path(features) / SEQUENCES / "vocabulary.json")
    paths = ReferencePaths(split_dir, vocabulary, champion_metrics)
    predictions = predictions or predict.output
    result = run_monitor(
        predictions,
        load_model(model_dir),
        paths,
        text.normalize,
        params,
        predict.text_column,
    )
    write_outputs(result, metrics_path, report)
    row = history_row(result, predictions)
    batches = len(append_history(history, row))
    if result.retrain_recommended:
        click.echo("retrain recommended:")
        for reason in result.reasons:
            click.echo(f"  {reason}")
    else:
        click.echo("no drift beyond the thresholds")
    real = f", real {row['real_accuracy']:.3f}" if row["real_accuracy"] is not None else ""
    click.echo(
        f"estimated accuracy {row['estimated_accuracy']:.3f} "
        f"[{row['estimated_accuracy_low']:.3f}, {row['estimated_accuracy_high']:.3f}]{real} "
        f"(test split {row['baseline_accuracy']:.3f})"
    )
    click.echo(
        f"wrote {metrics_path}, {report} and {history} "
        f"(batch {row['batch_id']}; batches in the history: {batches})"
    )


if __name__ == "__main__":
    main()
