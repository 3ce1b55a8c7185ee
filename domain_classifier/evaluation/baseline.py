"""The fixed reference every champion must beat (issue 12): word 1-2-gram plus character
2-5-gram TF-IDF (accents stripped, sublinear tf) into a linear SVM with C=1.

Deliberately independent of `tokenize` and the families' search spaces: it is a yardstick,
so changing the pipeline's features must not move it.
"""

from __future__ import annotations

import dataclasses
import time

import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from domain_classifier.data.sampling import stratified_sample
from domain_classifier.data.schema import DOMAIN, TITLE
from domain_classifier.evaluation.metrics import summary_metrics
from domain_classifier.params import require


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
        for name in ("word_ngram_range", "char_ngram_range"):
            low_high = getattr(self, name)
            require(
                len(low_high) == 2 and 1 <= low_high[0] <= low_high[1],
                f"{where}.{name}",
                f"must be [low, high] with 1 <= low <= high, got {low_high}",
            )
        require(self.max_train_rows >= 0, f"{where}.max_train_rows", "must be >= 0 (0: all)")


def build_baseline(params: BaselineParams) -> Pipeline:
    common = dict(sublinear_tf=True, strip_accents="unicode")
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=tuple(params.word_ngram_range), **common)),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=tuple(params.char_ngram_range), **common
                ),
            ),
        ]
    )
    # random_state: liblinear's coordinate descent shuffles; fixed so reruns give equal metrics.
    return Pipeline([("tfidf", features), ("svm", LinearSVC(C=params.C, random_state=0))])


def score_baseline(params: BaselineParams, splits: dict[str, pd.DataFrame]) -> tuple[dict, float]:
    """Fit on splits["train"]; accuracy and macro-F1 on val and test, and the fit seconds
    (printed, not a metric: the same params and data must give the same metrics file)."""
    train = splits["train"]
    rows = stratified_sample(pd.factorize(train[DOMAIN])[0], params.max_train_rows, params.seed)
    if len(rows) < len(train):
        train = train.iloc[rows]
    start = time.perf_counter()
    model = build_baseline(params).fit(train[TITLE], train[DOMAIN])
    seconds, report = time.perf_counter() - start, {}
    for split in ("val", "test"):
        frame = splits[split]
        metrics = summary_metrics(frame[DOMAIN].to_numpy(), model.predict(frame[TITLE]))
        report[split] = {k: metrics[k] for k in ("macro_f1", "accuracy", "rows")}
    return report, seconds
