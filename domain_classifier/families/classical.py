"""What the TF-IDF families (sgd, hgb, xgb) share: the saved model, the tune-then-refit trainer."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from domain_classifier.data.archives import load_skops, save_skops
from domain_classifier.data.sampling import stratified_sample
from domain_classifier.families.budget import require_memory
from domain_classifier.families.tuning import CrossValidatedParams, bayesian_search
from domain_classifier.features.files import (
    LABELS,
    read_labels,
    read_tfidf,
    read_vectorizer,
    tfidf_set,
)
from domain_classifier.features.tokenize import TFIDF_BLOCKS, TitleVectorizer
from domain_classifier.params import require
from domain_classifier.rows import by_rows
from domain_classifier.trusted_types import MODEL_TYPES

log = logging.getLogger(__name__)
PREDICT_ROWS = 2048
TFIDF_FEATURES = (LABELS, *(tfidf_set(block) for block in TFIDF_BLOCKS))
LINEAR_FAMILIES = ("sgd", "svm")


class SklearnTitleModel:
    """A fitted title vectorizer and a fitted scikit-learn-style classifier over label ids."""

    format = "skops"  # not pickle: loading a pickle runs whatever code the file names
    file = "model.skops"

    def __init__(self, family: str, vectorizer: TitleVectorizer, classifier, labels: list[str]):
        self.family, self.vectorizer, self.classifier = family, vectorizer, classifier
        self.labels = list(labels)

    @property
    def fork_safe(self) -> bool:
        # Tree ensembles predict on every core with OpenMP, which must not run in a process
        # forked after its parent used it; a linear model's scoring is plain NumPy and SciPy.
        return self.family in LINEAR_FAMILIES

    def predict_proba(self, titles: Sequence[str]) -> np.ndarray:
        X = self.vectorizer.transform(list(titles))
        # hgb adds each tree's scores to one column of a rows x domains matrix; in small row
        # chunks those scattered writes stay in cache (1,000 domains, 30k rows: 12.2 s whole,
        # 6.1 s in 2,048-row chunks). Rows are scored independently: the same numbers.
        return by_rows(self.classifier.predict_proba, X, PREDICT_ROWS)

    def save(self, directory: Path) -> None:
        save_skops(self, directory / self.file)

    @classmethod
    def load(cls, directory: Path, meta: dict) -> SklearnTitleModel:
        return load_skops(Path(directory) / cls.file, MODEL_TYPES)


def check_folds(y: np.ndarray, folds: int, where: str) -> None:
    """Stratified K-fold needs every domain in every fold: refuse before any trial runs."""
    smallest = int(np.bincount(y).min())
    require(
        folds <= smallest,
        where,
        f"is {folds}, but the smallest domain in train has {smallest} rows; "
        f"set it to at most {smallest}",
    )


def sparse_bytes(X) -> int:
    return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes


def sample_rows(y: np.ndarray, rows: int, params: CrossValidatedParams) -> np.ndarray:
    # Every domain keeps a row in each CV fold; two where the fit holds rows out for early
    # stopping (a stratified split puts one on each side).
    per_fold = 2 if params.held_out_fraction() else 1
    return stratified_sample(y, rows, params.seed, min_per_class=per_fold * params.cv_folds)


def check_held_out(params: CrossValidatedParams, n_labels: int, rows: dict, where: str) -> None:
    """A fit that holds out a stratified share for early stopping needs a row of every domain
    on each side: refuse, before tuning, `rows` (knob: rows per fit) too few for that."""
    fraction = params.held_out_fraction()
    if not fraction:
        return
    need = math.ceil(n_labels / min(fraction, 1 - fraction))
    for knob, count in rows.items():
        require(
            count >= need,
            f"{where}.{knob}",
            f"gives fits of {count:,} rows, but early stopping holds out {fraction:.0%} of each "
            f"fit, one row per domain at least, so {n_labels:,} domains need {need:,}: raise "
            f"it (a tuning fit is (cv_folds - 1) / cv_folds of tune_rows) or lower the need "
            f"(hgb: early_stopping false; xgb: a larger validation_fraction)",
        )


def take(X, rows: np.ndarray):
    """X restricted to `rows`; all of X itself when they are all its rows (no copy)."""
    return X if len(rows) == X.shape[0] else X[rows]


def check_budget(params, X, n_labels: int, rows: dict[str, int], memory: Callable, where: str):
    """Refuse, before tuning, a search or refit whose estimated memory exceeds the budget."""
    fixed, per_row = memory(params, X, n_labels)
    for knob, count in rows.items():
        require_memory(fixed, per_row, count, params.max_memory_gib, where, knob)


def tfidf_inputs(params, features_dir: Path, split_dir: Path | None, refit: np.ndarray):
    """The train split's TF-IDF rows and the vectorizer `tokenize` fitted for them."""
    return read_tfidf(features_dir, TFIDF_BLOCKS, "train"), read_vectorizer(
        features_dir, TFIDF_BLOCKS
    )


def train_classical(
    build: Callable,
    params: CrossValidatedParams,
    features_dir: Path | str,
    family: str,
    check: Callable | None = None,
    memory: Callable | None = None,
    inputs: Callable = tfidf_inputs,
    split_dir: Path | str | None = None,
):
    """Tune on sparse features by stratified K-fold CV (on a `tune_rows` sample), then refit
    the best on all of train (or a `max_train_rows` sample).
    `inputs(params, features_dir, split_dir, refit_rows)` gives the train matrix (rows in the
    order of the train labels) and the fitted vectorizer that makes it from titles;
    `check(params, X, section)` refuses, before tuning, params that these features rule out;
    `memory(params, X, n_labels)` gives the fit's (fixed, per-row) bytes for the budget."""
    y, labels, where = (
        read_labels(features_dir, "train"),
        read_labels(features_dir),
        f"train_{family}",
    )
    tune, refit = (
        sample_rows(y, params.tune_rows, params),
        sample_rows(y, params.max_train_rows, params),
    )
    check_folds(y[tune], params.cv_folds, f"{where}.cv_folds")
    fold_fit = len(tune) - math.ceil(len(tune) / params.cv_folds)
    fits = {"tune_rows": fold_fit, "max_train_rows": len(refit)}
    check_held_out(params, len(labels), fits, where)
    X, vectorizer = inputs(params, Path(features_dir), split_dir, refit)
    if check is not None:
        check(params, take(X, tune), where)
    if memory is not None:
        rows = {"tune_rows": len(tune), "max_train_rows": len(refit)}
        check_budget(params, X, len(labels), rows, memory, where)
    log.info(
        "%s: tuning %d trials, %d-fold CV on %d of %d rows x %d features",
        family,
        params.max_trials,
        params.cv_folds,
        len(tune),
        X.shape[0],
        X.shape[1],
    )
    best, history = bayesian_search(
        lambda values: build(values, params),
        params.space,
        take(X, tune),
        y[tune],
        params,
        name=family,
    )
    log.info(
        "%s: best %s (cv accuracy %.4f); refitting on %d rows",
        family,
        best,
        history["accuracy"].max(),
        len(refit),
    )
    classifier = build(best, params).fit(take(X, refit), y[refit])
    return SklearnTitleModel(family, vectorizer, classifier, labels), best, history


def classical_trainer(
    build: Callable,
    check: Callable | None = None,
    memory: Callable | None = None,
    inputs: Callable = tfidf_inputs,
):
    """The `Family.train` of a sparse-feature family whose estimator `build(values, params)`
    makes, on the features `inputs` gives (default: tokenize's TF-IDF)."""
    return functools.partial(train_classical, build, check=check, memory=memory, inputs=inputs)
