"""sgd: a linear model (scikit-learn's SGDClassifier) on the TF-IDF features."""

from __future__ import annotations

import dataclasses

from sklearn.linear_model import SGDClassifier

from domain_classifier.families.classical import (
    TFIDF_FEATURES,
    SklearnTitleModel,
    classical_trainer,
)
from domain_classifier.families.family import Family
from domain_classifier.families.tuning import CrossValidatedParams, check_estimator_space
from domain_classifier.params import require

PROBABILISTIC_SGD_LOSSES = ("log_loss", "modified_huber")


@dataclasses.dataclass(frozen=True)
class SgdParams(CrossValidatedParams):
    max_iter: int = 30
    tol: float = 1e-4
    space: dict = dataclasses.field(
        default_factory=lambda: {
            "alpha": {"min": 1e-6, "max": 1e-3, "sampling": "log"},
            "loss": ["log_loss", "modified_huber"],
        }
    )

    def check(self, where: str) -> None:
        super().check(where)
        require(self.max_iter >= 1, f"{where}.max_iter", "must be >= 1")
        check_estimator_space(build_sgd({}, self), self.space, f"{where}.space")
        losses = self.space.get("loss", ["hinge"])
        # select and predict need probabilities, which only these losses give.
        require(
            set(losses) <= set(PROBABILISTIC_SGD_LOSSES),
            f"{where}.space.loss",
            f"must choose among {', '.join(PROBABILISTIC_SGD_LOSSES)}, got {losses}",
        )


def build_sgd(values: dict, params: SgdParams) -> SGDClassifier:
    # n_jobs parallelises the one-vs-rest fits; each has its own seed, so results do not change.
    return SGDClassifier(
        random_state=params.seed, max_iter=params.max_iter, tol=params.tol, n_jobs=-1, **values
    )


FAMILY = Family("sgd", SgdParams, classical_trainer(build_sgd), SklearnTitleModel, TFIDF_FEATURES)
