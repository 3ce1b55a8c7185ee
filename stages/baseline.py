"""Stage baseline: the fixed TF-IDF + linear SVM reference, fitted on train, scored on val/test
and saved (select falls back on it when no candidate beats it on validation)."""

import time
from pathlib import Path

import click

from domain_classifier.stage import PARAMS_OPTION, stage


@click.command()
@PARAMS_OPTION
@click.option("--split-dir", default="data/split", show_default=True)
@click.option("--metrics", default="metrics/baseline.json", show_default=True)
@click.option("--out", default="models/baseline", show_default=True)
@stage
def main(params_file, split_dir, metrics, out):
    """Write the baseline model, its val/test macro-F1 and accuracy; print its fit time."""
    from domain_classifier.data.tables import read_table, write_json
    from domain_classifier.evaluation.baseline import BaselineParams, fit_baseline, score_baseline
    from domain_classifier.models.saved import save_model
    from domain_classifier.params import load_section

    params = load_section(BaselineParams, "baseline", params_file)
    splits = {
        s: read_table(Path(split_dir) / f"{s}.parquet", ["title", "domain"])
        for s in ("train", "val", "test")
    }
    started = time.perf_counter()
    model = fit_baseline(params, splits["train"])
    seconds = time.perf_counter() - started
    report = score_baseline(model, splits)
    save_model(model, out, extra={"reference": True, "best_hyperparameters": {"C": params.C}})
    write_json(report, metrics)
    click.echo(
        f"baseline: val macro-F1 {report['val']['macro_f1']:.4f}, "
        f"test macro-F1 {report['test']['macro_f1']:.4f} (fit {seconds:.1f} s)"
    )


if __name__ == "__main__":
    main()
