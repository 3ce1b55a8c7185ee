"""Bootstrap intervals of macro-F1 and paired differences (evaluation/bootstrap.py)."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from domain_classifier.evaluation.bootstrap import (
    bootstrap_macro_f1,
    interval_report,
    label_codes,
    macro_f1_from_counts,
    percentile_interval,
)


@pytest.fixture(scope="module")
def labelled():
    rng = np.random.default_rng(3)
    actual = rng.choice([f"D{i}" for i in range(12)], 1500)
    noisy = lambda share: np.where(  # noqa: E731
        rng.random(1500) < share, actual, rng.choice([f"D{i}" for i in range(13)], 1500)
    )
    return actual, {"good": noisy(0.9), "fair": noisy(0.75)}


def test_unit_weights_give_scikit_learns_macro_f1(labelled):
    actual, predictions = labelled
    truth, coded, n_labels = label_codes(actual, predictions)
    for name, predicted in predictions.items():
        ours = macro_f1_from_counts(truth, coded[name], np.ones(len(truth)), n_labels)
        assert ours == pytest.approx(f1_score(actual, predicted, average="macro"), abs=1e-12)


def test_weights_count_rows_as_repeated_rows(labelled):
    actual, predictions = labelled
    truth, coded, n_labels = label_codes(actual, {"fair": predictions["fair"]})
    weights = np.random.default_rng(0).integers(0, 3, len(truth))
    repeated = np.repeat(np.arange(len(truth)), weights)
    expected = f1_score(actual[repeated], predictions["fair"][repeated], average="macro")
    got = macro_f1_from_counts(truth, coded["fair"], weights.astype(float), n_labels)
    assert got == pytest.approx(expected, abs=1e-12)


def test_resamples_are_seeded_and_shared_by_every_model(labelled):
    actual, predictions = labelled
    one = bootstrap_macro_f1(actual, predictions, 50, seed=1)
    assert one.equals(bootstrap_macro_f1(actual, predictions, 50, seed=1))
    assert not one.equals(bootstrap_macro_f1(actual, predictions, 50, seed=2))
    # The same model under two names: identical scores on every resample.
    twice = bootstrap_macro_f1(actual, {"a": predictions["good"], "b": predictions["good"]}, 50, 1)
    assert (twice["a"] == twice["b"]).all()


def test_intervals_hold_the_point_value_and_the_paired_difference_is_narrower(labelled):
    actual, predictions = labelled
    report = interval_report(actual, predictions, "fair", 400, 0.95, seed=0)
    point = {n: f1_score(actual, p, average="macro") for n, p in predictions.items()}
    for name in predictions:
        assert report[name]["macro_f1_low"] < point[name] < report[name]["macro_f1_high"]
    good = report["good"]
    assert good["minus_baseline"] == pytest.approx(point["good"] - point["fair"])
    assert 0 < good["minus_baseline_low"] < good["minus_baseline"] < good["minus_baseline_high"]
    assert "minus_baseline" not in report["fair"]
    # Paired: the difference varies less than the two models' intervals added up.
    width = good["minus_baseline_high"] - good["minus_baseline_low"]
    separate = sum(report[n]["macro_f1_high"] - report[n]["macro_f1_low"] for n in predictions)
    assert width < separate


def test_percentile_interval_is_the_central_share():
    assert percentile_interval(np.arange(101), 0.9) == pytest.approx((5.0, 95.0))
