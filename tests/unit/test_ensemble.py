"""The ensemble candidate and the baseline's reference row in selection."""

import numpy as np
import pytest

from domain_classifier.errors import InputError
from domain_classifier.evaluation.selection import (
    REFERENCE,
    EvaluateParams,
    candidate_scores,
    champion_source,
    champion_summary,
    choose_champion,
)
from domain_classifier.models.ensemble import ENSEMBLE, EnsembleModel
from domain_classifier.models.loading import load_model

TITLES = ["Shampoo Anticaspa 300ml", "Capinha iPhone", "Liquidificador 220v"]


def test_an_ensemble_folder_loads_and_averages_its_members(saved_sgd_dir, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    for name in ("a", "b"):
        (models / name).symlink_to(saved_sgd_dir)
    folder = champion_source(ENSEMBLE, models, ["a", "b"], tmp_path)
    loaded = load_model(folder)
    single = load_model(saved_sgd_dir)
    assert loaded.family == ENSEMBLE and loaded.labels == single.labels
    np.testing.assert_allclose(loaded.predict_proba(TITLES), single.predict_proba(TITLES))
    assert champion_source("a", models, ["a", "b"], tmp_path) == models / "a"


def test_members_with_different_label_orders_are_refused(saved_sgd_dir):
    one, other = load_model(saved_sgd_dir), load_model(saved_sgd_dir)
    other.labels = list(reversed(other.labels))
    with pytest.raises(ValueError, match="one label order"):
        EnsembleModel([one, other])


def validation(scores: dict) -> dict:
    return {name: {"val": {"macro_f1": f1}} for name, f1 in scores.items()}


def test_the_ensemble_and_the_baseline_are_candidates_the_baseline_last():
    assert EvaluateParams(families=["sgd", "lstm"]).candidates() == [
        "sgd",
        "lstm",
        ENSEMBLE,
        REFERENCE,
    ]
    assert EvaluateParams(families=["sgd"]).candidates() == ["sgd", REFERENCE]
    assert ENSEMBLE not in EvaluateParams(families=["sgd", "lstm"], ensemble=False).candidates()
    assert choose_champion(validation({"sgd": 0.8, REFERENCE: 0.7, ENSEMBLE: 0.85})) == ENSEMBLE


def test_the_baseline_is_champion_only_when_strictly_best_on_validation():
    # Listed first or last, a tie goes to the family: the reference is the fallback.
    assert choose_champion(validation({REFERENCE: 0.9, "sgd": 0.9})) == "sgd"
    assert choose_champion(validation({"sgd": 0.89, REFERENCE: 0.9})) == REFERENCE


def test_the_ensemble_averages_the_members_named_or_else_every_family():
    three = ["sgd", "hgb", "lstm"]
    assert EvaluateParams(families=three).members() == three
    chosen = EvaluateParams(families=three, ensemble_members=["sgd", "lstm"])
    assert chosen.members() == ["sgd", "lstm"]
    assert chosen.candidates() == [*three, ENSEMBLE, REFERENCE]
    assert (
        EvaluateParams(families=three, ensemble=False, ensemble_members=["sgd", "lstm"]).members()
        == []
    )


@pytest.mark.parametrize(
    "members, message",
    [
        (["sgd", "xgb"], "has \\['xgb'\\], not in evaluate.families"),
        (["sgd"], "must name two or more different families"),
        (["sgd", "sgd"], "must name two or more different families"),
    ],
)
def test_ensemble_members_outside_the_families_or_fewer_than_two_are_refused(members, message):
    params = EvaluateParams(families=["sgd", "hgb", "lstm"], ensemble_members=members)
    with pytest.raises(InputError, match=f"evaluate.ensemble_members' {message}"):
        params.check("evaluate")


class Fixed:
    """A member whose probabilities are given (a family scoring in float32 or float64)."""

    def __init__(self, proba, labels):
        self.proba, self.labels = proba, labels

    def predict_proba(self, titles):
        return self.proba[: len(titles)]


def test_the_running_mean_equals_numpys_mean_of_the_members():
    rng = np.random.default_rng(0)
    probas = [rng.dirichlet(np.ones(4), 3).astype(dtype) for dtype in ("f8", "f4", "f8")]
    first = probas[0].copy()
    mean = EnsembleModel([Fixed(p, list("abcd")) for p in probas]).predict_proba(TITLES)
    assert mean.dtype == np.float64
    assert mean.tobytes() == np.mean(probas, axis=0).tobytes()
    np.testing.assert_array_equal(probas[0], first)  # the sum starts from a copy


def test_the_champion_metrics_are_the_few_decisive_numbers():
    results = {
        "sgd": {"val": {"macro_f1": 0.91}, "test": {"macro_f1": 0.9, "minus_baseline": 0.01}},
        REFERENCE: {"val": {"macro_f1": 0.9}, "test": {"macro_f1": 0.89}},
    }
    calibration = {"test": {"ece_after": 0.02, "ece_before": 0.3}}
    assert champion_summary("sgd", results, calibration) == {
        "family": "sgd",
        "val_macro_f1": 0.91,
        "test_macro_f1": 0.9,
        "test_minus_baseline": 0.01,
        "test_ece": 0.02,
    }
    assert champion_summary(REFERENCE, results, calibration)["test_minus_baseline"] == 0.0
    assert candidate_scores(results)[REFERENCE] == {"val_macro_f1": 0.9, "test_macro_f1": 0.89}
