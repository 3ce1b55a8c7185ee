"""Stage evaluate: score every trained family on the validation and test splits."""

from pathlib import Path

import click

from domain_classifier.stage import PARAMS_OPTION, stage


@click.command()
@PARAMS_OPTION
@click.option("--split-dir", default="data/split", show_default=True)
@click.option("--models-dir", default="models", show_default=True)
@click.option("--metrics", default="metrics/evaluate.json", show_default=True)
@click.option("--plots-dir", default="plots", show_default=True)
@click.option(
    "--baseline",
    default="metrics/baseline.json",
    show_default=True,
    help="The baseline stage's metrics, copied in as a reference row (never a candidate).",
)
@stage
def main(params_file, split_dir, models_dir, metrics, plots_dir, baseline):
    """Write per-family metrics, per-domain reports and confusion data."""
    from domain_classifier.data.tables import read_json, read_table, write_json, write_table
    from domain_classifier.evaluation.ensemble import ENSEMBLE, EnsembleModel
    from domain_classifier.evaluation.metrics import evaluate_split
    from domain_classifier.evaluation.selection import REFERENCE, EvaluateParams
    from domain_classifier.families.registry import load_model
    from domain_classifier.params import load_section

    params = load_section(EvaluateParams, "evaluate", params_file)
    splits = {
        s: read_table(Path(split_dir) / f"{s}.parquet", ["title", "domain"])
        for s in ("val", "test")
    }
    results, models = {}, {}
    for family in params.candidates():
        if family == ENSEMBLE:
            model = EnsembleModel([models[name] for name in params.members()])
        else:
            model = models[family] = load_model(Path(models_dir) / family)
        results[family] = {}
        for split, frame in splits.items():
            summary, per_domain, confusion = evaluate_split(model, frame, split)
            results[family][split] = summary
            # One file per split: bars of two splits in one file would stack to F1 near 2.
            write_table(per_domain, Path(plots_dir) / "per_domain" / f"{family}_{split}.csv")
            write_table(confusion, Path(plots_dir) / "confusion" / f"{family}_{split}.csv")
        click.echo(
            f"{family}: val macro-F1 {results[family]['val']['macro_f1']:.4f}, "
            f"test macro-F1 {results[family]['test']['macro_f1']:.4f}"
        )
    results[REFERENCE] = read_json(baseline)
    write_json(results, metrics)


if __name__ == "__main__":
    main()
