"""sgd: a linear model on the TF-IDF features: scikit-learn's one-vs-rest SGDClassifier, or one
softmax model over all domains (families/softmax.py) where one-vs-rest costs too much."""

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
from domain_classifier.families.softmax import SoftmaxRegression
from domain_classifier.families.tuning import (
    CrossValidatedParams,
    check_estimator_space,
    space_values,
)
from domain_classifier.params import require

PROBABILISTIC_SGD_LOSSES = ("log_loss", "modified_huber")
# ovr: one binary model per domain, a pass over train each, so the cost is rows x domains x
# epochs; softmax: one pass for all domains, its space takes alpha, learning_rate, epochs and
# batch_size (max_iter and tol are one-vs-rest's).
SOLVERS = ("ovr", "softmax")


@dataclasses.dataclass(frozen=True)
class SgdParams(CrossValidatedParams):
    solver: str = "ovr"
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
        require(
            self.solver in SOLVERS,
            f"{where}.solver",
            f"must be one of {', '.join(SOLVERS)}, got {self.solver!r}",
        )
        require(self.max_iter >= 1, f"{where}.max_iter", "must be >= 1")
        check_estimator_space(build_sgd({}, self), self.space, f"{where}.space")
        if self.solver == "ovr":
            losses = self.space.get("loss", ["hinge"])
            # select and predict need probabilities, which only these losses give.
            require(
                set(losses) <= set(PROBABILISTIC_SGD_LOSSES),
                f"{where}.space.loss",
                f"must choose among {', '.join(PROBABILISTIC_SGD_LOSSES)}, got {losses}",
            )
        else:
            self.check_softmax_shrink(where)

    def check_softmax_shrink(self, where: str) -> None:
        """The L2 shrink per batch, 1 - learning_rate * alpha * batch_size, must stay above 0
        for the largest values the search may draw (else the weights flip sign)."""
        defaults = SoftmaxRegression().get_params()
        largest = {
            name: max(space_values(self.space.get(name, [defaults[name]])))
            for name in ("learning_rate", "alpha", "batch_size")
        }
        require(
            largest["learning_rate"] * largest["alpha"] * largest["batch_size"] < 1,
            f"{where}.space",
            f"learning_rate * alpha * batch_size must be below 1 at their largest, got {largest}",
        )


def build_sgd(values: dict, params: SgdParams):
    if params.solver == "softmax":
        return SoftmaxRegression(random_state=params.seed, **values)
    # The one-vs-rest fits run on joblib's pool, sized by budget.threads (threads.py)
    # rather than here, so the saved model holds no thread count; each fit has its own seed,
    # so results do not depend on it.
    return SGDClassifier(
        random_state=params.seed, max_iter=params.max_iter, tol=params.tol, **values
    )


def sgd_memory(params: SgdParams, X, n_labels: int) -> tuple[float, float]:
    """Fixed: the train matrix already read, and the weights (one-vs-rest: float64, about three
    copies while scikit-learn stacks its fits; softmax: float32, the weights, AdaGrad's sums
    of squares, and the gradient and gathered sums of the columns a batch uses, together at
    most the weights' size twice). Per row:
    its copy in a CV fold or sample, and one float64 score per domain when scored."""
    weights = n_labels * X.shape[1]
    fixed = sparse_bytes(X) + (3 * 8 * weights if params.solver == "ovr" else 4 * 4 * weights)
    return fixed, sparse_bytes(X) / X.shape[0] + 8 * n_labels


FAMILY = Family(
    "sgd",
    SgdParams,
    classical_trainer(build_sgd, memory=sgd_memory),
    SklearnTitleModel,
    TFIDF_FEATURES,
)
