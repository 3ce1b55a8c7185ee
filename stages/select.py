"""Stage select: pick the champion by validation macro-F1 and copy it to models/champion."""

import tempfile
import time
from pathlib import Path

import click

from domain_classifier.stage import PARAMS_OPTION, stage


@click.command()
@PARAMS_OPTION
@click.option("--evaluation", default="metrics/evaluate.json", show_default=True)
@click.option("--models-dir", default="models", show_default=True)
@click.option("--metrics", default="metrics/champion.json", show_default=True)
@click.option("--split-dir", default="data/split", show_default=True)
@click.option("--calibration", default="metrics/calibration.json", show_default=True)
@click.option("--plots-dir", default="plots/calibration", show_default=True)
@stage
def main(params_file, evaluation, models_dir, metrics, split_dir, calibration, plots_dir):
    """Write the champion model, calibrated on validation, and its metrics (test reported,
    never used to choose)."""
    from domain_classifier.data.tables import read_json, read_table, write_json, write_table
    from domain_classifier.evaluation.calibration import calibrate
    from domain_classifier.evaluation.selection import (
        EvaluateParams,
        champion_source,
        champion_summary,
        choose_champion,
    )
    from domain_classifier.models.calibrated import save_calibrated
    from domain_classifier.models.loading import load_model
    from domain_classifier.params import load_section
    from domain_classifier.tracking.champion import register_champion_dir
    from domain_classifier.tracking.runs import connect, mirror

    params = load_section(EvaluateParams, "evaluate", params_file)
    tracking = connect(params_file)
    results = {f: r for f, r in read_json(evaluation).items() if f in params.candidates()}
    family = choose_champion(results)
    splits = {
        s: read_table(Path(split_dir) / f"{s}.parquet", ["title", "domain"])
        for s in ("val", "test")
    }
    with tempfile.TemporaryDirectory(prefix="select-") as scratch:
        source = champion_source(family, Path(models_dir), params.members(), Path(scratch))
        # Temperature fitted on val: it never changes the argmax, so val macro-F1 (the choice
        # above) and test metrics are those of the uncalibrated model.
        calibrated, report, plots = calibrate(load_model(source), splits)
        save_calibrated(source, Path(models_dir) / "champion", calibrated)
    summary = champion_summary(family, results, report)
    write_json(summary, metrics)
    write_json(report, calibration)
    for name, table in plots.items():
        write_table(table, Path(plots_dir) / f"{name}.csv")
    click.echo(
        f"calibration: temperature {report['temperature']:.3f}, test ECE "
        f"{report['test']['ece_before']:.4f} -> {report['test']['ece_after']:.4f}"
    )
    click.echo(
        f"champion: {family} (val macro-F1 {summary['val_macro_f1']:.4f}, "
        f"test macro-F1 {summary['test_macro_f1']:.4f})"
    )
    started = time.perf_counter()
    version = mirror(
        tracking,
        register_champion_dir,
        family=family,
        summary=summary,
        directory=Path(models_dir) / "champion",
    )
    if version is not None:
        click.echo(
            f"registered {tracking.registered_model} version {version} "
            f"in {time.perf_counter() - started:.1f} s"
        )


if __name__ == "__main__":
    main()
