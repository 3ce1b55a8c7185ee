"""The fixed reference every champion must beat (issue 12): word 1-2-gram plus character
2-5-gram TF-IDF (accents stripped, sublinear tf) into a linear SVM with C=1.

Deliberately independent of `tokenize` and the families' search spaces: it is a yardstick,
so changing the pipeline's features must not move it. It is the svm family's model with C
fixed, saved like one, so that `select` can fall back on it.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
from sklearn.pipeline import FeatureUnion

from domain_classifier.data.sampling import stratified_sample
from domain_classifier.data.schema import DOMAIN, TITLE
from domain_classifier.evaluation.metrics import summary_metrics
from domain_classifier.families.classical import SklearnTitleModel
from domain_classifier.families.svm import FAMILY as SVM
from domain_classifier.families.svm import ProbabilisticLinearSVC, ngram_features
from domain_classifier.models.saved import predict_labels
from domain_classifier.params import require, require_ngram_ranges


@dataclasses.dataclass(frozen=True)
class BaselineParams:
    C: float = 1.0
    word_ngram_range: list[int] = dataclasses.field(default_factory=lambda: [1, 2])
    char_ngram_range: list[int] = dataclasses.field(default_factory=lambda: [2, 5])
    # At marketplace scale liblinear's one-vs-rest grows with rows x domains: fit on a
    # stratified sample of this many train rows (0: all of train; the reference as issued).
    max_train_rows: int = 0
    seed: int = 0

    def check(self, where: str) -> None:
        require(self.C > 0, f"{where}.C", f"must be > 0, got {self.C}")
        require_ngram_ranges(self, where)
        require(self.max_train_rows >= 0, f"{where}.max_train_rows", "must be >= 0 (0: all)")


def build_features(params: BaselineParams) -> FeatureUnion:
    return ngram_features(params.word_ngram_range, params.char_ngram_range)


def fit_baseline(params: BaselineParams, train: pd.DataFrame) -> SklearnTitleModel:
    """The reference fitted on `train` (or its `max_train_rows` sample), saved like an svm
    model so that `select` can fall back on it: the champion never scores below it on val."""
    rows = stratified_sample(pd.factorize(train[DOMAIN])[0], params.max_train_rows, params.seed)
    if len(rows) < len(train):
        train = train.iloc[rows]
    features = build_features(params)
    X = features.fit_transform(train[TITLE])
    # random_state: liblinear's coordinate descent shuffles; fixed so reruns give equal metrics.
    svm = ProbabilisticLinearSVC(C=params.C, random_state=0).fit(X, train[DOMAIN])
    return SklearnTitleModel(SVM.name, features, svm, svm.classes_.tolist())


def score_baseline(model: SklearnTitleModel, splits: dict[str, pd.DataFrame]) -> dict:
    """Accuracy, macro-F1 and rows of the fitted reference on val and test."""
    report = {}
    for split in ("val", "test"):
        frame = splits[split]
        metrics = summary_metrics(
            frame[DOMAIN].to_numpy(), predict_labels(model, frame[TITLE].tolist())
        )
        report[split] = {k: metrics[k] for k in ("macro_f1", "accuracy", "rows")}
    return report
