"""Stage evaluate: score every candidate (families, ensemble, baseline) on val and test."""

from pathlib import Path

import click

from domain_classifier.stage import PARAMS_OPTION, stage


@click.command()
@PARAMS_OPTION
@click.option("--split-dir", default="data/split", show_default=True)
@click.option("--models-dir", default="models", show_default=True)
@click.option("--metrics", default="metrics/evaluate.json", show_default=True)
@click.option("--scores-dir", default="metrics/scores", show_default=True)
@click.option("--plots-dir", default="plots", show_default=True)
@stage
def main(params_file, split_dir, models_dir, metrics, scores_dir, plots_dir):
    """Write per-candidate metrics with bootstrap intervals, each candidate's macro-F1 as a
    metrics file of its own, per-domain reports and confusion data."""
    from domain_classifier.data.tables import atomic_dir, read_table, write_json
    from domain_classifier.evaluation.candidates import evaluate_candidates
    from domain_classifier.evaluation.selection import EvaluateParams, candidate_scores
    from domain_classifier.params import load_section

    params = load_section(EvaluateParams, "evaluate", params_file)
    splits = {
        s: read_table(Path(split_dir) / f"{s}.parquet", ["title", "domain"])
        for s in ("val", "test")
    }
    results = evaluate_candidates(params, splits, Path(models_dir), Path(plots_dir))
    for name, result in results.items():
        val, test = result["val"], result["test"]
        click.echo(
            f"{name}: val macro-F1 {val['macro_f1']:.4f}, test macro-F1 {test['macro_f1']:.4f} "
            f"[{test['macro_f1_low']:.4f}, {test['macro_f1_high']:.4f}]"
        )
    write_json(results, metrics)
    with atomic_dir(scores_dir) as staging:
        for name, scores in candidate_scores(results).items():
            write_json(scores, staging / f"{name}.json")


if __name__ == "__main__":
    main()
