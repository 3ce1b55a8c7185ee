"""xgb: XGBoost (hist trees) on the best chi2 columns of the TF-IDF features, early-stopped."""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_selection import SelectKBest, chi2
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder
from xgboost import XGBClassifier

from domain_classifier.families.classical import (
    TFIDF_FEATURES,
    SklearnTitleModel,
    classical_trainer,
    sparse_bytes,
)
from domain_classifier.families.family import Family
from domain_classifier.families.tuning import (
    CrossValidatedParams,
    check_space,
    refuse_fixed,
    space_values,
)
from domain_classifier.params import require

XGB_FIXED = ("tree_method", "n_jobs", "random_state", "early_stopping_rounds")
# XGBoost validates its params only once training starts, deep inside a CV fold, so the
# usual mistakes are caught here instead.
XGB_RANGES = {
    "learning_rate": (lambda v: v > 0, "> 0"),
    "n_estimators": (lambda v: isinstance(v, int) and v >= 1, "an int >= 1"),
    "max_depth": (lambda v: isinstance(v, int) and v >= 0, "an int >= 0"),
    "max_leaves": (lambda v: isinstance(v, int) and v >= 0, "an int >= 0"),
    "max_bin": (lambda v: isinstance(v, int) and v >= 2, "an int >= 2"),
    "subsample": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "colsample_bytree": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "colsample_bylevel": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "colsample_bynode": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "min_child_weight": (lambda v: v >= 0, ">= 0"),
    "reg_lambda": (lambda v: v >= 0, ">= 0"),
    "reg_alpha": (lambda v: v >= 0, ">= 0"),
    "gamma": (lambda v: v >= 0, ">= 0"),
}


class EarlyStoppingXGB(ClassifierMixin, BaseEstimator):
    """XGBoost that stops adding trees once a held-out slice of its own training data stops
    improving, so each CV fold and the final refit pick a tree count without seeing the rows
    they are scored on."""

    def __init__(
        self,
        xgb_params: dict | None = None,
        validation_fraction: float = 0.1,
        early_stopping_rounds: int = 20,
        random_state: int = 7,
        n_jobs: int = 2,
    ):
        self.xgb_params = xgb_params
        self.validation_fraction = validation_fraction
        self.early_stopping_rounds = early_stopping_rounds
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y):
        encoder = LabelEncoder().fit(y)  # XGBoost insists on labels 0..k-1
        self.classes_ = encoder.classes_
        X_fit, X_val, y_fit, y_val = train_test_split(
            X,
            encoder.transform(y),
            test_size=self.validation_fraction,
            stratify=y,
            random_state=self.random_state,
        )
        self.model_ = XGBClassifier(
            tree_method="hist",
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            early_stopping_rounds=self.early_stopping_rounds,
            **(self.xgb_params or {}),
        )
        self.model_.fit(X_fit, y_fit, eval_set=[(X_val, y_val)], verbose=False)
        self.best_iteration_ = int(self.model_.best_iteration)
        return self

    def predict_proba(self, X) -> np.ndarray:
        # XGBoost predicts with the trees up to best_iteration after early stopping.
        return self.model_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


@dataclasses.dataclass(frozen=True)
class XgbParams(CrossValidatedParams):
    max_features: int = 2000
    validation_fraction: float = 0.1
    early_stopping_rounds: int = 10
    # Threads per fit. On a busy machine 1 can be several times faster than 2 (OpenMP waits).
    n_jobs: int = 2
    space: dict = dataclasses.field(
        default_factory=lambda: {
            "learning_rate": {"min": 0.15, "max": 0.5, "sampling": "log"},
            "max_depth": {"min": 3, "max": 6},
            "n_estimators": [150],
            "subsample": {"min": 0.7, "max": 1.0},
            "colsample_bytree": {"min": 0.3, "max": 0.8},
            "max_bin": [32],
        }
    )

    def check(self, where: str) -> None:
        super().check(where)
        require(
            self.max_features >= 1,
            f"{where}.max_features",
            f"must be >= 1, got {self.max_features}",
        )
        require(
            0 < self.validation_fraction < 1,
            f"{where}.validation_fraction",
            f"must be in (0, 1), got {self.validation_fraction}",
        )
        require(self.early_stopping_rounds >= 1, f"{where}.early_stopping_rounds", "must be >= 1")
        require(self.n_jobs >= 1, f"{where}.n_jobs", f"must be >= 1, got {self.n_jobs}")
        check_xgb_space(self.space, f"{where}.space")

    def held_out_fraction(self) -> float:
        return self.validation_fraction


def check_xgb_space(space: dict, where: str) -> None:
    """XGBClassifier has no _validate_params: check names, then the ranges of common params."""
    check_space(space, set(XGBClassifier().get_params()), where)
    refuse_fixed(space, XGB_FIXED, where)
    for name in space.keys() & XGB_RANGES.keys():
        valid, expected = XGB_RANGES[name]
        for value in space_values(space[name]):
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            require(
                numeric and valid(value), f"{where}.{name}", f"must be {expected}, got {value!r}"
            )


def build_xgb(values: dict, params: XgbParams) -> Pipeline:
    # Tree building cost grows with the column count: keep the most class-related columns.
    model = EarlyStoppingXGB(
        dict(values),
        params.validation_fraction,
        params.early_stopping_rounds,
        params.seed,
        params.n_jobs,
    )
    return Pipeline([("select", SelectKBest(chi2, k=params.max_features)), ("model", model)])


def xgb_memory(params: XgbParams, X, n_labels: int) -> tuple[float, float]:
    """Fixed: the train matrix already read. Per row: its copy and XGBoost's own, chi2's dense
    label indicator (a float64 per domain), and per domain XGBoost's float32 gradient pair
    and float32 prediction."""
    return sparse_bytes(X), 2 * sparse_bytes(X) / X.shape[0] + n_labels * (8 + 8 + 4)


FAMILY = Family(
    "xgb",
    XgbParams,
    classical_trainer(build_xgb, memory=xgb_memory),
    SklearnTitleModel,
    TFIDF_FEATURES,
)
