"""Bayesian hyperparameter search (keras-tuner) for any estimator, scored by stratified K-fold CV.

keras_tuner.SklearnTuner refuses scipy sparse matrices, so this module provides the small
Tuner subclass every model family shares; the search space comes from params.yaml.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from domain_classifier.params import MAX_SEED, require

log = logging.getLogger(__name__)
OBJECTIVE = "accuracy"


@dataclasses.dataclass(frozen=True)
class SearchParams:
    seed: int = 7
    max_trials: int = 8
    num_initial_points: int = 3
    # Scale knobs (issue 10); 0 keeps all of train.
    tune_rows: int = 0  # the search sees a stratified sample of this many train rows
    max_train_rows: int = 0  # the best configuration is refitted on at most this many
    max_memory_gib: float = 8.0  # a fit estimated to need more is refused before it starts

    def check(self, where: str) -> None:
        # keras-tuner replaces seed 0 by a random seed, which would break reproducibility.
        require(
            0 < self.seed <= MAX_SEED,
            f"{where}.seed",
            f"must be in 1..{MAX_SEED} (keras-tuner treats 0 as unset), got {self.seed}",
        )
        require(self.max_trials >= 1, f"{where}.max_trials", f"must be >= 1, got {self.max_trials}")
        require(self.num_initial_points >= 1, f"{where}.num_initial_points", "must be >= 1")
        for name in ("tune_rows", "max_train_rows"):
            value = getattr(self, name)
            require(value >= 0, f"{where}.{name}", f"must be >= 0 (0: all of train), got {value}")
        require(self.max_memory_gib > 0, f"{where}.max_memory_gib", "must be > 0")


@dataclasses.dataclass(frozen=True)
class CrossValidatedParams(SearchParams):
    """A search whose trials are scored by stratified K-fold CV on train."""

    cv_folds: int = 3

    def check(self, where: str) -> None:
        super().check(where)
        require(self.cv_folds >= 2, f"{where}.cv_folds", f"must be >= 2, got {self.cv_folds}")

    def held_out_fraction(self) -> float:
        """The share of each fit its estimator holds out, stratified by domain, for early
        stopping; 0: none."""
        return 0.0


def check_space(space: dict, allowed: set[str], where: str) -> None:
    """Refuse unknown names and impossible ranges before any training starts."""
    require(bool(space), where, "must define at least one hyperparameter")
    for name, spec in space.items():
        key = f"{where}.{name}"
        require(
            name in allowed, key, f"is not a known option (known: {', '.join(sorted(allowed))})"
        )
        if isinstance(spec, list):
            require(len(spec) >= 1, key, "must list at least one choice")
            require(len({type(v) for v in spec}) == 1, key, "choices must all have one type")
            continue
        require(
            isinstance(spec, dict) and {"min", "max"} <= set(spec),
            key,
            "must be a list of choices or a mapping with min and max",
        )
        extra = set(spec) - {"min", "max", "sampling"}
        require(not extra, key, f"has unknown key {sorted(extra)} (use min, max, sampling)")
        low, high = spec["min"], spec["max"]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
        require(numeric, key, f"min and max must be numbers, got {low!r} and {high!r}")
        require(low <= high, key, f"min must be <= max, got {low} > {high}")
        sampling = spec.get("sampling", "linear")
        require(sampling in ("linear", "log"), key, "sampling must be linear or log")
        require(sampling != "log" or low > 0, key, "log sampling needs min > 0")


def space_values(spec) -> list:
    """The values a search could try that are most likely to be invalid: choices or bounds."""
    return spec if isinstance(spec, list) else [spec["min"], spec["max"]]


def refuse_fixed(space: dict, fixed: tuple[str, ...], where: str) -> None:
    for name in space:
        require(name not in fixed, f"{where}.{name}", "is set by the stage and cannot be tuned")


def check_estimator_space(estimator, space: dict, where: str) -> None:
    """Names must be estimator params, and every choice and bound must pass its validation."""
    from sklearn.base import clone

    check_space(space, set(estimator.get_params()), where)
    for name, spec in space.items():
        for value in space_values(spec):
            try:
                clone(estimator).set_params(**{name: value})._validate_params()
            except (ValueError, TypeError) as exc:
                require(False, f"{where}.{name}", f"value {value!r} is invalid: {exc}")


def declare(hp, space: dict) -> dict:
    """Register every hyperparameter of the space on `hp` and return the sampled values."""
    values = {}
    for name, spec in space.items():
        both_booleans = (
            isinstance(spec, list)
            and len(set(spec)) == 2
            and all(isinstance(v, bool) for v in spec)
        )
        if both_booleans:
            # hp.Choice would store booleans as 0/1 (bool is an int subclass).
            values[name] = hp.Boolean(name)
        elif isinstance(spec, list):
            values[name] = hp.Choice(name, spec)
        elif all(isinstance(spec[k], int) for k in ("min", "max")):
            values[name] = hp.Int(
                name, spec["min"], spec["max"], sampling=spec.get("sampling", "linear")
            )
        else:
            values[name] = hp.Float(
                name,
                float(spec["min"]),
                float(spec["max"]),
                sampling=spec.get("sampling", "linear"),
            )
    return values


def with_progress(tuner_class, family: str):
    """`tuner_class` logging each trial as it ends: its score and how long it took."""

    class ProgressTuner(tuner_class):
        def on_trial_begin(self, trial):
            super().on_trial_begin(trial)
            self._trial_started = time.perf_counter()

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            score = self.oracle.get_trial(trial.trial_id).score
            log.info(
                "%s: trial %d of %d done: %s %s (%.1f s)",
                family,
                len(self.oracle.trials),
                self.oracle.max_trials,
                self.oracle.objective.name,
                "failed" if score is None else f"{score:.4f}",
                time.perf_counter() - self._trial_started,
            )

    return ProgressTuner


def cross_validate(estimator, X, y, cv, where: str) -> float:
    """Mean accuracy over the folds of `cv`, logging each fold as it ends."""
    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning

    scores, folds = [], cv.get_n_splits()
    for fold, (fit, held) in enumerate(cv.split(X, y), start=1):
        started = time.perf_counter()
        with warnings.catch_warnings():
            # A trial stopped at max_iter is just scored lower; the warning tells a user nothing.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = clone(estimator).fit(X[fit], y[fit])
        scores.append(float(np.mean(model.predict(X[held]) == y[held])))
        elapsed = time.perf_counter() - started
        log.info(
            "%s, fold %d of %d: accuracy %.4f (%.1f s)", where, fold, folds, scores[-1], elapsed
        )
    return float(np.mean(scores))


def make_tuner_class(family: str):
    """Build the Tuner subclass lazily: importing keras_tuner pulls in TensorFlow."""
    import keras_tuner
    from sklearn.model_selection import StratifiedKFold

    class CrossValidationTuner(keras_tuner.Tuner):
        """Scores each trial's estimator by mean accuracy over stratified folds."""

        def __init__(
            self, build: Callable[[dict], Any], space: dict, folds: int, seed: int, **kwargs
        ):
            super().__init__(hypermodel=lambda hp: build(declare(hp, space)), **kwargs)
            self.cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)

        def run_trial(self, trial, X, y):
            estimator = self.hypermodel.build(trial.hyperparameters)
            where = f"{family}: trial {len(self.oracle.trials)} of {self.oracle.max_trials}"
            return {OBJECTIVE: cross_validate(estimator, X, np.asarray(y), self.cv, where)}

        def save_model(self, trial_id, model, step=0):
            """The best configuration is refitted on all of train; nothing to keep per trial."""

    return with_progress(CrossValidationTuner, family)


def bayesian_search(
    build: Callable[[dict], Any], space: dict, X, y, params: CrossValidatedParams, name: str
) -> tuple[dict, pd.DataFrame]:
    """Run the search; return the best hyperparameter values and the trial history."""
    import keras_tuner

    oracle = keras_tuner.oracles.BayesianOptimizationOracle(
        objective=keras_tuner.Objective(OBJECTIVE, "max"),
        max_trials=params.max_trials,
        num_initial_points=min(params.num_initial_points, params.max_trials),
        seed=params.seed,
    )
    with tempfile.TemporaryDirectory(prefix=f"tuner-{name}-") as workdir:
        tuner = make_tuner_class(name)(
            build,
            space,
            params.cv_folds,
            params.seed,
            oracle=oracle,
            directory=workdir,
            project_name=name,
            overwrite=True,
        )
        tuner.search(X, y)
        history = trial_history(tuner.oracle, OBJECTIVE)
    return best_hyperparameters(history, name), history


def best_hyperparameters(history: pd.DataFrame, name: str) -> dict:
    """Values of the best trial (the first one on ties); fails loudly if no trial succeeded."""
    if history.empty or history[OBJECTIVE].isna().all():
        raise RuntimeError(f"{name}: every tuning trial failed; see the log above")
    return dict(history.loc[history[OBJECTIVE].idxmax(), "hyperparameters"])


def trial_history(oracle, objective: str) -> pd.DataFrame:
    """One row per trial in the order they ran; the score column is always named 'accuracy'
    so that every family's history plots alike (for Keras it is validation accuracy)."""
    rows = []
    for trial_id in sorted(oracle.trials):
        trial = oracle.trials[trial_id]
        score = trial.metrics.get_best_value(objective) if trial.metrics.exists(objective) else None
        rows.append(
            {
                "trial": len(rows) + 1,
                "status": str(trial.status),
                OBJECTIVE: np.nan if score is None else float(score),
                "hyperparameters": dict(trial.hyperparameters.values),
            }
        )
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["best_so_far"] = frame[OBJECTIVE].cummax()
    return frame
