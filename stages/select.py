"""Stage select: pick the champion by validation macro-F1 and copy it to models/champion."""

import time
from pathlib import Path

import click

from domain_classifier.stage import PARAMS_OPTION, stage


@click.command()
@PARAMS_OPTION
@click.option("--evaluation", default="metrics/evaluate.json", show_default=True)
@click.option("--models-dir", default="models", show_default=True)
@click.option("--metrics", default="metrics/champion.json", show_default=True)
@stage
def main(params_file, evaluation, models_dir, metrics):
    """Write the champion model and its metrics (test reported, never used to choose)."""
    from domain_classifier.data.tables import read_json, write_json
    from domain_classifier.evaluation.selection import (
        EvaluateParams,
        champion_summary,
        choose_champion,
    )
    from domain_classifier.model_store import copy_model
    from domain_classifier.params import load_section
    from domain_classifier.tracking.mlflow_store import connect, mirror, register_champion

    params = load_section(EvaluateParams, "evaluate", params_file)
    tracking = connect(params_file)
    results = {f: r for f, r in read_json(evaluation).items() if f in params.families}
    family = choose_champion(results)
    copy_model(Path(models_dir) / family, Path(models_dir) / "champion")
    summary = champion_summary(family, results)
    write_json(summary, metrics)
    click.echo(
        f"champion: {family} (val macro-F1 {summary['val_macro_f1']:.4f}, "
        f"test macro-F1 {summary['test_macro_f1']:.4f})"
    )
    started = time.perf_counter()
    version = mirror(tracking, register_champion, family=family, summary=summary)
    if version is not None:
        click.echo(
            f"registered {tracking.registered_model} version {version} "
            f"in {time.perf_counter() - started:.1f} s"
        )


if __name__ == "__main__":
    main()
