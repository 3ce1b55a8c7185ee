"""sgd: a linear model (scikit-learn's SGDClassifier) on the TF-IDF features."""

from __future__ import annotations

import dataclasses

from sklearn.linear_model import SGDClassifier

from domain_classifier.families.classical import (
    TFIDF_FEATURES,
    SklearnTitleModel,
    classical_trainer,
    sparse_bytes,
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


def sgd_memory(params: SgdParams, X, n_labels: int) -> tuple[float, float]:
    """Fixed: the train matrix already read, and the weights (one float64 per domain and
    feature; scikit-learn holds about three copies while it stacks the one-vs-rest fits).
    Per row: its copy in a CV fold or sample, and one float64 score per domain when scored."""
    fixed = sparse_bytes(X) + 3 * 8 * n_labels * X.shape[1]
    return fixed, sparse_bytes(X) / X.shape[0] + 8 * n_labels


FAMILY = Family(
    "sgd",
    SgdParams,
    classical_trainer(build_sgd, memory=sgd_memory),
    SklearnTitleModel,
    TFIDF_FEATURES,
)
