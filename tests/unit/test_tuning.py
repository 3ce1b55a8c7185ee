import dataclasses
import logging

import numpy as np
import pytest
import scipy.sparse

from domain_classifier.errors import InputError
from domain_classifier.families.sgd import SgdParams, build_sgd
from domain_classifier.families.tuning import CrossValidatedParams, bayesian_search
from domain_classifier.params import parse_dataclass


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"max_trials": 0}, "train_sgd.max_trials' must be >= 1"),
        ({"seed": 0}, "train_sgd.seed' must be in 1.."),
        ({"cv_folds": 1}, "train_sgd.cv_folds"),
        ({"space": {"alpah": [0.1]}}, "train_sgd.space.alpah' is not a known option"),
        (
            {"space": {"alpha": {"min": -1.0, "max": 1.0, "sampling": "log"}}},
            "train_sgd.space.alpha' log sampling needs min > 0",
        ),
        (
            {"space": {"alpha": {"min": -1.0, "max": 1.0}, "loss": ["log_loss"]}},
            "train_sgd.space.alpha' value -1.0 is invalid",
        ),
        ({"space": {"alpha": {"min": 1.0, "max": 0.1}}}, "min must be <= max"),
        (
            {"space": {"alpha": [1e-4], "loss": ["hinge"]}},
            "train_sgd.space.loss' must choose among",
        ),
        (
            {"space": {"alpha": [1e-4], "loss": ["log_loss"], "penalty": ["l3"]}},
            "train_sgd.space.penalty' value 'l3' is invalid",
        ),
        ({"space": {"alpha": {"min": "1e-6", "max": 1.0}}}, "min and max must be numbers"),
        ({"seed": -1}, r"'train_sgd.seed' must be in 1..4294967295"),
    ],
)
def test_impossible_search_spaces_are_refused_before_training(raw, message):
    with pytest.raises(InputError, match=message):
        parse_dataclass(SgdParams, raw, "train_sgd")


@pytest.fixture(scope="module")
def separable_data():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 40)
    dense = rng.normal(size=(120, 20)) + np.eye(20)[y * 5] * 3
    return scipy.sparse.csr_matrix(dense), y


def test_bayesian_search_on_sparse_data_is_deterministic(separable_data):
    X, y = separable_data
    params = SgdParams(
        seed=3,
        max_trials=3,
        num_initial_points=2,
        space={"alpha": {"min": 1e-5, "max": 1e-1, "sampling": "log"}, "loss": ["log_loss"]},
    )
    runs = [
        bayesian_search(lambda v: build_sgd(v, params), params.space, X, y, params, "sgd")
        for _ in range(2)
    ]
    (best_a, hist_a), (best_b, hist_b) = runs
    assert best_a == best_b
    assert hist_a["accuracy"].tolist() == hist_b["accuracy"].tolist()
    assert len(hist_a) == 3 and (hist_a["accuracy"] > 0.9).all()
    assert hist_a["best_so_far"].is_monotonic_increasing


def test_search_reports_when_every_trial_fails(separable_data):
    X, y = separable_data

    def broken(values):
        return build_sgd({"alpha": -1.0}, SgdParams())  # fails inside every trial's fit

    params = CrossValidatedParams(seed=3, max_trials=2, num_initial_points=1)
    with pytest.raises(RuntimeError):
        bayesian_search(broken, {"alpha": [1.0]}, X, y, params, "broken")


def test_folds_beyond_the_smallest_domain_are_refused_before_tuning():
    from domain_classifier.families.classical import check_folds

    check_folds(np.array([0, 0, 0, 1, 1, 1]), 3, "train_sgd.cv_folds")
    with pytest.raises(InputError, match=r"'train_sgd.cv_folds' is 4, .* has 3 rows"):
        check_folds(np.array([0, 0, 0, 1, 1, 1, 1]), 4, "train_sgd.cv_folds")


def test_more_components_than_the_features_allow_are_refused(separable_data):
    from domain_classifier.families.hgb import HgbParams, check_components

    X, _ = separable_data  # 120 rows x 20 columns
    check_components(HgbParams(n_components=19), X, "train_hgb")
    with pytest.raises(InputError, match=r"'train_hgb.n_components' is 20, .* at most 19"):
        check_components(HgbParams(n_components=20), X, "train_hgb")


def test_search_logs_each_fold_and_trial_as_it_ends(separable_data, caplog):
    X, y = separable_data
    params = SgdParams(seed=3, max_trials=2, num_initial_points=2, cv_folds=2)
    params = dataclasses.replace(params, space={"alpha": [1e-4, 1e-2], "loss": ["log_loss"]})
    with caplog.at_level(logging.INFO, logger="domain_classifier.families.tuning"):
        _, history = bayesian_search(
            lambda v: build_sgd(v, params), params.space, X, y, params, "sgd"
        )
    lines = [record.getMessage() for record in caplog.records]
    folds = [line for line in lines if ", fold " in line]
    trials = [line for line in lines if " done: " in line]
    assert [line.split(":")[1] for line in folds] == [
        " trial 1 of 2, fold 1 of 2",
        " trial 1 of 2, fold 2 of 2",
        " trial 2 of 2, fold 1 of 2",
        " trial 2 of 2, fold 2 of 2",
    ]
    assert [line.split(" done")[0] for line in trials] == ["sgd: trial 1 of 2", "sgd: trial 2 of 2"]
    assert [f"{score:.4f}" in line for score, line in zip(history["accuracy"], trials)] == [
        True,
        True,
    ]
