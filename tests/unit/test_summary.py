"""`make metrics`: the table and the champion-minus-baseline line (evaluation/summary.py)."""

from domain_classifier.evaluation.summary import experiment_rows, experiments_table, metrics_table
from domain_classifier.families import registry


def row(val: float, test: float, **test_extra) -> dict:
    return {
        "val": {"macro_f1": val, "accuracy": val, "minus_baseline": val - 0.9},
        "test": {"macro_f1": test, "accuracy": test, **test_extra},
    }


def test_the_table_ends_with_the_paired_difference():
    evaluation = {
        "sgd": row(
            0.93, 0.92, minus_baseline=0.02, minus_baseline_low=-0.004, minus_baseline_high=0.041
        ),
        "baseline": row(0.9, 0.9),
    }
    text = metrics_table(evaluation, {"family": "sgd"})
    assert "sgd" in text.splitlines()[2] and "<- champion" in text.splitlines()[2]
    assert text.splitlines()[-1] == (
        "champion minus baseline: val +0.0300, test +0.0200, its paired bootstrap interval "
        "(evaluate.confidence_level) -0.0040 to +0.0410"
    )


def test_a_baseline_champion_is_said_plainly():
    evaluation = {"sgd": row(0.85, 0.86), "baseline": row(0.9, 0.9)}
    text = metrics_table(evaluation, {"family": "baseline"})
    assert "<- champion  (reference" in text
    assert text.splitlines()[-1] == "champion is the baseline: no candidate beat it on validation"


def test_a_champion_that_only_ties_the_baseline_on_validation_is_marked():
    evaluation = {"svm": row(0.9, 0.91), "baseline": row(0.9, 0.9)}
    line = metrics_table(evaluation, {"family": "svm"}).splitlines()[2]
    assert line.endswith("<- champion, not above the baseline on validation")
    above = metrics_table({**evaluation, "svm": row(0.91, 0.91)}, {"family": "svm"})
    assert "not above" not in above


def exp_show_entry(rev: str, name: str | None, scores: dict, champion: dict, exps=()) -> dict:
    metrics = {f"metrics/scores/{c}.json": {"data": s} for c, s in scores.items()}
    metrics["metrics/champion.json"] = {"data": champion}
    return {"rev": rev, "name": name, "data": {"metrics": metrics}, "experiments": list(exps)}


def test_experiments_fit_120_columns_with_every_candidate():
    families = [*registry.names(), "baseline"]  # every family the pipeline trains
    scores = {
        f: {"val_macro_f1": 0.8 + i / 100, "test_macro_f1": 0.7} for i, f in enumerate(families)
    }
    champion = {"family": "lstm", "test_minus_baseline": -0.0123}
    child = exp_show_entry("1234567abc", "sgd-3-iter", scores, champion)
    commits = [
        exp_show_entry("workspace", None, scores, champion),
        exp_show_entry("abcdef0123", "main", scores, champion, [{"revs": [child]}]),
    ]
    rows = experiment_rows(commits)
    assert [name for name, _ in rows] == ["workspace", "main", "  sgd-3-iter"]
    lines = experiments_table(rows).splitlines()
    assert max(len(line) for line in lines) <= 120
    assert lines[0].split()[3:] == [*sorted(registry.names()), "baseline"]
    assert lines[2].split()[:3] == ["workspace", "lstm", "-0.0123"]
    assert lines[2].split()[4] == ".850/.700"  # lstm, the sixth family listed


def test_an_experiment_without_scores_shows_dashes():
    rows = experiment_rows([exp_show_entry("workspace", None, {}, {})])
    assert experiments_table(rows).splitlines()[-1].split() == ["workspace", "-", "-"]
