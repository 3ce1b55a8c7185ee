"""`make metrics`: the table and the champion-minus-baseline line (evaluation/summary.py)."""

from domain_classifier.evaluation.summary import metrics_table


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
