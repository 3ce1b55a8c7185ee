"""hgb: HistGradientBoosting on a dense reduction (TruncatedSVD or chi2) of the TF-IDF features."""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_selection import SelectKBest, chi2
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from domain_classifier.families.classical import (
    TFIDF_FEATURES,
    SklearnTitleModel,
    classical_trainer,
    sparse_bytes,
)
from domain_classifier.families.family import Family
from domain_classifier.families.tuning import (
    CrossValidatedParams,
    check_estimator_space,
    refuse_fixed,
)
from domain_classifier.params import require

HGB_REDUCTIONS = ("svd", "chi2")
# Scikit-learn's default share held out for early stopping, set explicitly so that the
# up-front check and the estimator agree.
HGB_VALIDATION_FRACTION = 0.1
# Set by the builders from other params; tuning them too would pass each twice.
HGB_FIXED = ("random_state", "early_stopping", "validation_fraction")


@dataclasses.dataclass(frozen=True)
class HgbParams(CrossValidatedParams):
    reduction: str = "svd"
    n_components: int = 100
    early_stopping: bool = True
    space: dict = dataclasses.field(
        default_factory=lambda: {
            "learning_rate": {"min": 0.05, "max": 0.3, "sampling": "log"},
            "max_leaf_nodes": {"min": 15, "max": 63},
            "l2_regularization": {"min": 1e-3, "max": 10.0, "sampling": "log"},
            "max_iter": [300],
            "n_iter_no_change": [30],
        }
    )

    def check(self, where: str) -> None:
        super().check(where)
        require(
            self.reduction in HGB_REDUCTIONS,
            f"{where}.reduction",
            f"must be one of {', '.join(HGB_REDUCTIONS)}, got {self.reduction!r}",
        )
        require(
            self.n_components >= 1,
            f"{where}.n_components",
            f"must be >= 1, got {self.n_components}",
        )
        refuse_fixed(self.space, HGB_FIXED, f"{where}.space")
        check_estimator_space(HistGradientBoostingClassifier(), self.space, f"{where}.space")

    def held_out_fraction(self) -> float:
        return HGB_VALIDATION_FRACTION if self.early_stopping else 0.0


def to_dense(X):
    # Trees need dense input; a module-level function (not a lambda) so the model pickles.
    return X.toarray() if scipy.sparse.issparse(X) else np.asarray(X)


def reduction_step(params: HgbParams):
    """Shrink the TF-IDF columns so gradient boosting on dense input stays fast."""
    if params.reduction == "svd":
        return TruncatedSVD(n_components=params.n_components, random_state=params.seed)
    return SelectKBest(chi2, k=params.n_components)


def build_hgb(values: dict, params: HgbParams) -> Pipeline:
    # Inside the pipeline the reduction is refitted on each CV fold's train part only.
    model = HistGradientBoostingClassifier(
        random_state=params.seed,
        early_stopping=params.early_stopping,
        validation_fraction=HGB_VALIDATION_FRACTION,
    )
    steps = [
        ("reduce", reduction_step(params)),
        ("dense", FunctionTransformer(to_dense)),
        ("model", model),
    ]
    return Pipeline(steps).set_params(**{f"model__{k}": v for k, v in values.items()})


def check_components(params: HgbParams, X, section: str) -> None:
    """The reduction keeps n_components columns, fitted on each fold's train part."""
    fold_rows = X.shape[0] - -(-X.shape[0] // params.cv_folds)
    limit = min(X.shape[1], fold_rows) - (params.reduction == "svd")
    require(
        params.n_components <= limit,
        f"{section}.n_components",
        f"is {params.n_components}, but the features allow at most {limit} "
        f"({X.shape[1]} TF-IDF columns, {fold_rows} rows per CV fold)",
    )


def hgb_memory(params: HgbParams, X, n_labels: int) -> tuple[float, float]:
    """Fixed: the train matrix already read. Per row: its sparse copy, the dense reduction
    (float64, with about three working copies in randomized SVD) and its binned uint8 copy,
    and per domain a float32 gradient and hessian and a float64 raw score (one tree per
    domain per round is why the cost grows with the domains)."""
    per_row = sparse_bytes(X) / X.shape[0] + params.n_components * (4 * 8 + 1) + n_labels * 16
    return sparse_bytes(X), per_row


def train_hgb(params: HgbParams, features_dir, family: str, **inputs):
    """The classical trainer, on one BLAS thread: the randomized SVD's QR steps sum in an
    order that depends on BLAS's thread count (measured: other components, other trees on 1
    core than on 2), and they are a small part of hgb's time. The trees' OpenMP threads give
    the same trees whatever their count; the fitted binner records that count, which would
    make the model file differ by core count, so it is reset to "as many as there are"."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        model, best, history = classical_trainer(build_hgb, check_components, hgb_memory)(
            params, features_dir, family, **inputs
        )
    model.classifier.named_steps["model"]._bin_mapper.n_threads = None
    return model, best, history


FAMILY = Family(
    "hgb",
    HgbParams,
    train_hgb,
    SklearnTitleModel,
    TFIDF_FEATURES,
)
