"""The cost model: a stage's seconds on this machine class as a linear function of the work it
is given, with coefficients measured once and committed (coefficients.json, refitted by
`python -m benchmarks.cost_model`). Never a clock read during training: the same
data shape and settings predict the same seconds, and so derive the same settings, anywhere.

Work is counted in row passes and fits. A cross-validated family fits `folds - 1` folds of its
tuning sample per trial (`folds` fits), then its refit sample once; a Keras family passes over
its fit share of each trial's sample and of the refit sample once per epoch (early stopping
can only shorten that). A pass costs a share that grows with the domains (one tree, one binary
model or one output column each), and so does a fit, whatever its rows (hgb grows up to
max_iter trees per domain on a small sample as on a large one):
seconds = fixed + per_row * passes + per_row_domain * passes * domains
          + per_fit_domain * fits * domains.
Every other stage (tokenize, evaluate, ...) is the same line in the catalogue's rows.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from domain_classifier.data.tables import read_json

COEFFICIENTS_FILE = Path(__file__).with_name("coefficients.json")
TERMS = ("fixed", "per_row", "per_row_domain", "per_fit_domain")
CV_FAMILIES = ("sgd", "svm", "hgb", "xgb")
KERAS_FAMILIES = ("rnn", "lstm", "mlp")


@dataclasses.dataclass(frozen=True)
class Shape:
    """What the cost of a run depends on: the catalogue's rows (all splits), the train split's
    rows and the domains."""

    rows: int
    train_rows: int
    domains: int


def effective_rows(value: int, available: int) -> int:
    """A `tune_rows` / `max_train_rows` setting in rows (0 or more than there are: all)."""
    return available if value <= 0 or value >= available else value


def family_work(family: str, settings: dict, shape: Shape) -> tuple[float, int]:
    """Train rows a family (sgd, ...) passes over in its search and refit under `settings`,
    and the models it fits."""
    tune = effective_rows(settings["tune_rows"], shape.train_rows)
    refit = effective_rows(settings["max_train_rows"], shape.train_rows)
    trials = settings["max_trials"]
    if family in CV_FAMILIES:
        folds = settings["cv_folds"]
        return trials * (folds - 1) * tune + refit, trials * folds + 1
    share = 1 - settings["validation_fraction"]
    return settings["epochs"] * share * (trials * tune + refit), trials + 1


def work(stage: str, settings: dict | None, shape: Shape) -> tuple[float, ...]:
    """The terms a stage's coefficients multiply: a family's training stage (train_<family>)
    with its `settings`, or any other stage (None: its rows, no fits)."""
    if settings is None:
        passes, fits = shape.rows, 0
    else:
        passes, fits = family_work(stage.removeprefix("train_"), settings, shape)
    return 1.0, float(passes), float(passes) * shape.domains, float(fits) * shape.domains


def predict_seconds(coefficients: dict, stage: str, settings: dict | None, shape: Shape) -> float:
    """Predicted seconds of `stage` (train_<family> with `settings`, any other stage: None)."""
    terms = work(stage, settings, shape)
    return float(sum(coefficients[stage][name] * t for name, t in zip(TERMS, terms)))


def load_coefficients(path: Path | str = COEFFICIENTS_FILE) -> dict:
    return read_json(path)["stages"]
