"""The plan: settings derived from a budget and the data's shape, deterministic, with the
user's own settings winning; and the cost model's fit."""

from __future__ import annotations

import pytest

from benchmarks.cost_model import fit, stages_to_run
from domain_classifier.data.tables import write_json
from domain_classifier.errors import InputError
from domain_classifier.families import registry
from domain_classifier.planning import plan
from domain_classifier.planning.costs import TERMS, Shape, predict_seconds, work
from domain_classifier.planning.settings import DERIVED, load_planned
from tests.support.data import ROOT

SHAPE = Shape(rows=20000, train_rows=14000, domains=32)
FAMILIES = list(registry.names())
# A second a stage, then costs that grow with the rows passed over and their domains.
COEFFICIENTS = {
    "split": {"fixed": 1.0, "per_row": 1e-4, "per_row_domain": 0.0, "per_fit_domain": 0.0},
    **{
        registry.get(f).section: {
            "fixed": 2.0,
            "per_row": 1e-5,
            "per_row_domain": 1e-5,
            "per_fit_domain": 0.01,
        }
        for f in FAMILIES
    },
}


def derive(minutes: float, sections: dict | None = None) -> dict:
    return plan.derive(
        {"budget": {"minutes": minutes}, **(sections or {})}, FAMILIES, SHAPE, COEFFICIENTS
    )


def test_a_budget_that_covers_everything_gives_every_family_its_full_settings():
    derived = derive(10_000)
    for family in FAMILIES:
        settings = derived["families"][family]["settings"]
        assert settings["tune_rows"] == settings["max_train_rows"] == 0, family
        assert settings["max_trials"] == plan.FULL[family]["max_trials"], family
        assert settings.get("cv_folds") == plan.FULL[family].get("cv_folds"), family


def test_a_smaller_budget_buys_less_and_stays_within_it():
    large, small = derive(60), derive(2)
    # The full settings cost 7.6 minutes under these coefficients.
    assert small["predicted_minutes"] <= 2 < large["predicted_minutes"] < 60
    for family in FAMILIES:
        cheap, rich = (d["families"][family]["settings"] for d in (small, large))
        assert plan.preference(cheap, SHAPE) <= plan.preference(rich, SHAPE), family
    assert derive(2) == small  # the same inputs, the same plan


def test_a_budget_below_the_cheapest_settings_gives_the_cheapest():
    derived = derive(0.01)
    assert derived["predicted_minutes"] == derived["cheapest_minutes"] > 0.01
    assert derive(60)["cheapest_minutes"] == derived["cheapest_minutes"]
    for family in FAMILIES:
        settings = derived["families"][family]["settings"]
        assert settings["max_trials"] == 1 and settings.get("cv_folds", 2) == 2, family
        assert 0 < settings["tune_rows"] < SHAPE.train_rows, family


def test_settings_the_user_writes_win_and_the_rest_is_spent_on_the_others():
    mine = {"max_trials": 2, "tune_rows": 500}
    derived = derive(3, {"train_hgb": mine})
    assert derived["families"]["hgb"]["settings"] | mine == derived["families"]["hgb"]["settings"]
    # All of lstm written: one option, whatever the budget.
    fixed = {"max_trials": 1, "num_initial_points": 1, "tune_rows": 0, "max_train_rows": 100}
    for minutes in (0.5, 500):
        assert derive(minutes, {"train_lstm": fixed})["families"]["lstm"]["settings"] == fixed


def test_sample_sizes_keep_rows_for_every_domain():
    shape = Shape(rows=3000, train_rows=2000, domains=150)
    assert plan.samples(shape, plan.MIN_TUNE_PER_DOMAIN) == [1500, 0]
    assert plan.samples(shape, plan.MIN_FIT_PER_DOMAIN) == [0]


@pytest.mark.parametrize("minutes", [0, -1])
def test_a_budget_must_be_positive(minutes):
    with pytest.raises(InputError, match=r"param 'budget.minutes' must be > 0"):
        derive(minutes)


def test_a_training_stage_fills_only_what_its_section_leaves_out(tmp_path):
    family = registry.get("sgd")
    planned = tmp_path / "sgd.json"
    write_json(
        {
            "max_trials": 5,
            "num_initial_points": 2,
            "cv_folds": 3,
            "tune_rows": 0,
            "max_train_rows": 900,
        },
        planned,
    )
    params = tmp_path / "params.yaml"
    params.write_text("train_sgd: {max_trials: 2}\n")
    loaded = load_planned(family, params, planned)
    assert (loaded.max_trials, loaded.max_train_rows, loaded.cv_folds) == (2, 900, 3)
    # Every derived key written: the plan file is never read (here it does not exist).
    written = ", ".join(f"{k}: 2" for k in DERIVED)
    params.write_text(f"train_sgd: {{{written}}}\n")
    assert load_planned(family, params, tmp_path / "missing.json").max_train_rows == 2
    params.write_text("train_sgd: {}\n")
    with pytest.raises(InputError, match="missing.json: file not found"):
        load_planned(family, params, tmp_path / "missing.json")
    # A Keras family has no folds: its four keys are all there is to write.
    written = ", ".join(f"{k}: 1" for k in DERIVED if k != "cv_folds")
    params.write_text(f"train_rnn: {{{written}}}\n")
    assert load_planned(registry.get("rnn"), params, tmp_path / "missing.json").max_trials == 1


def test_the_fit_recovers_the_coefficients_that_made_the_timings():
    truth = {"fixed": 3.0, "per_row": 2e-5, "per_row_domain": 4e-7, "per_fit_domain": 0.05}
    records = []
    for rows, domains, trials in [(5000, 32, 1), (20000, 32, 1), (20000, 32, 3), (20000, 100, 2)]:
        shape = Shape(rows=rows, train_rows=int(rows * 0.7), domains=domains)
        settings = {"max_trials": trials, "cv_folds": 2, "tune_rows": 0, "max_train_rows": 0}
        seconds = predict_seconds({"train_sgd": truth}, "train_sgd", settings, shape)
        records.append(
            {"stage": "train_sgd", "seconds": seconds, "settings": settings, "shape": vars(shape)}
        )
    fitted = fit(records)["train_sgd"]
    for term in TERMS:
        assert fitted[term] == pytest.approx(truth[term], rel=1e-6), term
    assert work("split", None, SHAPE) == (1.0, 20000.0, 20000.0 * 32, 0.0)


def test_measuring_one_family_runs_what_it_needs_and_no_other_family():
    everything = stages_to_run(ROOT, ())
    only = stages_to_run(ROOT, ("train_mlp",))
    assert only[-1] == "train_mlp" and {"tokenize", "plan"} <= set(only)
    assert not {s for s in only if s.startswith("train_")} - {"train_mlp"}
    assert not {"evaluate", "select"} & set(only)  # nothing after the last stage named
    assert only == [s for s in everything if s in only]  # dvc.yaml's order kept
