"""Model families that learn from the sparse TF-IDF features (scikit-learn style estimators)."""
from __future__ import annotations

import dataclasses

from sklearn.base import clone
from sklearn.linear_model import SGDClassifier

from domain_classifier.params import require
from domain_classifier.tuning import SearchParams, check_space

PROBABILISTIC_SGD_LOSSES = ("log_loss", "modified_huber")


def check_estimator_space(estimator, space: dict, where: str) -> None:
    """Names must be estimator params, and every choice and bound must pass its validation."""
    check_space(space, set(estimator.get_params()), where)
    for name, spec in space.items():
        candidates = spec if isinstance(spec, list) else [spec["min"], spec["max"]]
        for value in candidates:
            try:
                clone(estimator).set_params(**{name: value})._validate_params()
            except (ValueError, TypeError) as exc:
                require(False, f"{where}.{name}", f"value {value!r} is invalid: {exc}")


@dataclasses.dataclass(frozen=True)
class SgdParams(SearchParams):
    max_iter: int = 30
    tol: float = 1e-4
    space: dict = dataclasses.field(default_factory=lambda: {
        "alpha": {"min": 1e-6, "max": 1e-3, "sampling": "log"},
        "loss": ["log_loss", "modified_huber"],
    })

    def check(self, where: str) -> None:
        super().check(where)
        require(self.max_iter >= 1, f"{where}.max_iter", "must be >= 1")
        check_estimator_space(build_sgd({}, self), self.space, f"{where}.space")
        losses = self.space.get("loss", ["hinge"])
        # select and predict need probabilities, which only these losses give.
        require(set(losses) <= set(PROBABILISTIC_SGD_LOSSES), f"{where}.space.loss",
                f"must choose among {', '.join(PROBABILISTIC_SGD_LOSSES)}, got {losses}")


def build_sgd(values: dict, params: SgdParams) -> SGDClassifier:
    # n_jobs parallelises the one-vs-rest fits; each has its own seed, so results do not change.
    return SGDClassifier(random_state=params.seed, max_iter=params.max_iter, tol=params.tol, n_jobs=-1,
                         **values)


FAMILIES = {"sgd": (SgdParams, build_sgd)}
