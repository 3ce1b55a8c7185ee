"""Derive each family's sample sizes, trials and folds from the data's shape and one budget.

Deterministic: the cost model's committed coefficients (costs.py) and the shape decide, so the
same data, params and budget give the same settings on any machine. A setting the user writes
in a family's section wins; the budget spends what is left on the rest.
"""

from __future__ import annotations

import dataclasses
import itertools

from domain_classifier.families import registry
from domain_classifier.params import parse_dataclass
from domain_classifier.planning.costs import CV_FAMILIES, Shape, effective_rows, predict_seconds
from domain_classifier.planning.settings import DERIVED, BudgetParams

# The most each family gets however large the budget: what params.yaml gave before budgets.
FULL = {
    "sgd": {"max_trials": 8, "cv_folds": 3},
    "svm": {"max_trials": 6, "cv_folds": 3},
    "hgb": {"max_trials": 4, "cv_folds": 2},
    "xgb": {"max_trials": 4, "cv_folds": 3},
    "rnn": {"max_trials": 4},
    "lstm": {"max_trials": 4},
    "mlp": {"max_trials": 4},
}
TRIALS = (1, 2, 3, 4, 6, 8)
SAMPLE_SHARES = (8, 4, 2, 1)  # a sample of train_rows / share
# Below these, stratified samples lose domains or folds: rows per domain at the least.
MIN_TUNE_PER_DOMAIN, MIN_FIT_PER_DOMAIN = 10, 20


def initial_points(trials: int) -> int:
    """Random trials before the Bayesian model steers: about half, at most 3."""
    return max(1, min(3, (trials + 1) // 2))


def samples(shape: Shape, per_domain: int) -> list[int]:
    """Candidate sample sizes, smallest first; 0 means all of train."""
    floor = min(shape.train_rows, per_domain * shape.domains)
    sizes = {max(floor, shape.train_rows // share) for share in SAMPLE_SHARES}
    return [0 if size >= shape.train_rows else size for size in sorted(sizes)]


def candidates(family: str, shape: Shape, fixed: dict) -> list[dict]:
    """Every combination of the derived settings the user left open, with the fixed ones."""
    full = FULL[family]
    options = {
        "max_trials": [t for t in TRIALS if t <= full["max_trials"]],
        "tune_rows": samples(shape, MIN_TUNE_PER_DOMAIN),
        "max_train_rows": samples(shape, MIN_FIT_PER_DOMAIN),
    }
    if family in CV_FAMILIES:
        options["cv_folds"] = list(range(2, full["cv_folds"] + 1))
    for name in options:
        if name in fixed:
            options[name] = [fixed[name]]
    out = []
    for values in itertools.product(*options.values()):
        settings = {**fixed, **dict(zip(options, values))}
        settings.setdefault("num_initial_points", initial_points(settings["max_trials"]))
        out.append(settings)
    return out


def preference(settings: dict, shape: Shape) -> tuple:
    """Which of two affordable settings is better: more refit rows first (the model shipped),
    then more search (trials x rows x folds), then more trials."""
    refit = effective_rows(settings["max_train_rows"], shape.train_rows)
    tune = effective_rows(settings["tune_rows"], shape.train_rows)
    folds = settings.get("cv_folds", 2)
    return refit, settings["max_trials"] * tune * (folds - 1), settings["max_trials"], folds


def best_within(options: list[tuple[float, dict]], seconds: float, shape: Shape):
    """The preferred (cost, settings) costing at most `seconds`; none does: the cheapest."""
    affordable = [option for option in options if option[0] <= seconds]
    if not affordable:
        return min(options, key=lambda option: option[0])
    return max(affordable, key=lambda option: preference(option[1], shape))


def family_options(family: str, raw: dict, shape: Shape, coefficients: dict):
    """(predicted seconds, settings) for each candidate of a family whose params section is
    `raw`."""
    fixed = {name: raw[name] for name in DERIVED if name in raw}
    options = candidates(family, shape, fixed)
    # The derived keys are all the candidates differ in: one check of the section serves all.
    base = costed_settings(family, raw, options[0])
    stage = section(family)
    return [(predict_seconds(coefficients, stage, {**base, **s}, shape), s) for s in options]


def section(family: str) -> str:
    """The family's params section, which is also its training stage's name."""
    return registry.get(family).section


def costed_settings(family: str, raw: dict, settings: dict) -> dict:
    """The family's section with `settings` in it, checked as its training stage will check
    it, as the plain values the cost model reads (epochs, validation_fraction, ...)."""
    found = registry.get(family)
    return dataclasses.asdict(parse_dataclass(found.params, {**raw, **settings}, found.section))


def allocate(options: dict[str, list], seconds: float, shape: Shape) -> dict[str, tuple]:
    """Share `seconds` among the families: each in turn (cheapest at full settings first) gets
    an equal part of what is left, and what it does not need goes on to the others."""
    fullest = {f: best_within(o, float("inf"), shape)[0] for f, o in options.items()}
    order = sorted(options, key=lambda family: (fullest[family], family))
    chosen, left = {}, seconds
    for i, family in enumerate(order):
        chosen[family] = best_within(options[family], left / (len(order) - i), shape)
        left -= chosen[family][0]
    return chosen


def derive(params: dict, families: list[str], shape: Shape, coefficients: dict) -> dict:
    """The plan metrics/budget.json records: each family's settings and predicted seconds."""
    budget = parse_dataclass(BudgetParams, params.get("budget", {}), "budget")
    trainers = {section(family) for family in registry.names()}
    others = {
        stage: predict_seconds(coefficients, stage, None, shape)
        for stage in coefficients
        if stage not in trainers
    }
    options = {
        family: family_options(family, params.get(section(family), {}), shape, coefficients)
        for family in families
    }
    chosen = allocate(options, budget.minutes * 60 - sum(others.values()), shape)
    total = sum(others.values()) + sum(cost for cost, _ in chosen.values())
    cheapest = sum(others.values()) + sum(min(c for c, _ in o) for o in options.values())
    return {
        "budget_minutes": budget.minutes,
        "predicted_minutes": round(total / 60, 2),
        "cheapest_minutes": round(cheapest / 60, 2),
        "shape": dataclasses.asdict(shape),
        "other_stages_seconds": {stage: round(s, 1) for stage, s in others.items()},
        "families": {
            family: {"settings": settings, "predicted_seconds": round(cost, 1)}
            for family, (cost, settings) in sorted(chosen.items())
        },
    }


def features_shape(features_dir) -> Shape:
    """The shape tokenize's label files describe."""
    from domain_classifier.features.files import read_labels

    sizes = {split: len(read_labels(features_dir, split)) for split in ("train", "val", "test")}
    return Shape(sum(sizes.values()), sizes["train"], len(read_labels(features_dir)))
