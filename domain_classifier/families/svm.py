"""svm: a linear SVM (liblinear, one-vs-rest) on word and character n-gram TF-IDF of the raw
titles, C searched.

The cheap model a user would pick instead of this pipeline on a small catalogue (issue 27):
the `baseline` stage's reference with its C tuned, so that a candidate can match or pass the
reference without falling back on it. It makes its own features (`char_wb` n-grams with no
vocabulary cap, as the reference), not tokenize's. Probabilities are the softmax of its
decision values; `select` then fits their temperature on validation like any champion's.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from scipy.special import softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from domain_classifier.data.schema import TITLE
from domain_classifier.data.tables import read_table
from domain_classifier.families.classical import SklearnTitleModel, classical_trainer, sparse_bytes
from domain_classifier.families.family import Family
from domain_classifier.families.tuning import CrossValidatedParams, check_estimator_space
from domain_classifier.features.files import LABELS
from domain_classifier.params import require, require_ngram_ranges


class ProbabilisticLinearSVC(LinearSVC):
    """LinearSVC with `predict_proba`: the softmax of its decision values (one per domain).

    Fitting and `predict` are LinearSVC's own, so its labels are exactly the SVM's. The scale
    of a margin is not a probability's: `select`'s temperature makes them calibrated."""

    def predict_proba(self, X) -> np.ndarray:
        scores = self.decision_function(X)
        if scores.ndim == 1:  # two domains: one margin, positive for classes_[1]
            scores = np.column_stack([-scores, scores]) / 2
        return softmax(scores, axis=1)


def ngram_features(word_ngram_range: list[int], char_ngram_range: list[int]) -> FeatureUnion:
    """Word and `char_wb` n-gram TF-IDF of raw titles (accents stripped, sublinear tf)."""
    common = dict(sublinear_tf=True, strip_accents="unicode")
    return FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=tuple(word_ngram_range), **common)),
            (
                "char",
                TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(char_ngram_range), **common),
            ),
        ]
    )


@dataclasses.dataclass(frozen=True)
class SvmParams(CrossValidatedParams):
    word_ngram_range: list[int] = dataclasses.field(default_factory=lambda: [1, 2])
    char_ngram_range: list[int] = dataclasses.field(default_factory=lambda: [2, 5])
    max_iter: int = 2000
    space: dict = dataclasses.field(
        default_factory=lambda: {"C": {"min": 0.05, "max": 2.0, "sampling": "log"}}
    )

    def check(self, where: str) -> None:
        super().check(where)
        require_ngram_ranges(self, where)
        require(self.max_iter >= 1, f"{where}.max_iter", "must be >= 1")
        check_estimator_space(build_svm({}, self), self.space, f"{where}.space")


def build_svm(values: dict, params: SvmParams) -> ProbabilisticLinearSVC:
    # random_state: liblinear's coordinate descent shuffles; fixed so reruns are identical.
    return ProbabilisticLinearSVC(random_state=params.seed, max_iter=params.max_iter, **values)


def title_inputs(params: SvmParams, features_dir: Path, split_dir: Path, refit: np.ndarray):
    """TF-IDF of every train title, its vocabulary fitted on the refit rows (rows in the order
    of tokenize's train labels, which come from the same file)."""
    titles = read_table(Path(split_dir) / "train.parquet", [TITLE])[TITLE].to_numpy()
    vectorizer = ngram_features(params.word_ngram_range, params.char_ngram_range)
    vectorizer.fit(titles[refit])
    return vectorizer.transform(titles), vectorizer


def svm_memory(params: SvmParams, X, n_labels: int) -> tuple[float, float]:
    """Fixed: the train matrix and the float64 weights (liblinear's per-domain copy while
    fitting and the stacked coefficients). Per row: its copy in a fold or sample, and one
    float64 score per domain when scored."""
    fixed = sparse_bytes(X) + 2 * 8 * n_labels * X.shape[1]
    return fixed, sparse_bytes(X) / X.shape[0] + 8 * n_labels


FAMILY = Family(
    "svm",
    SvmParams,
    classical_trainer(build_svm, memory=svm_memory, inputs=title_inputs),
    SklearnTitleModel,
    (LABELS,),
    reads_titles=True,
)
