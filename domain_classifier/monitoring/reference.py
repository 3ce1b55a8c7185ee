"""The training reference: what the champion was trained on and how it scored held-out data."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from domain_classifier.data.schema import DOMAIN, TITLE
from domain_classifier.data.tables import read_json, read_table
from domain_classifier.errors import InputError
from domain_classifier.features.text import tokens
from domain_classifier.models.saved import TitleModel
from domain_classifier.monitoring import statistics as drift
from domain_classifier.monitoring.estimate import Calibration, fit_calibration
from domain_classifier.monitoring.params import MonitorParams, ReferencePaths

log = logging.getLogger(__name__)

LENGTH_BIN, LENGTH_BINS = 5, 31  # 5-character bins; the last one holds 150+ characters
CONFIDENCE_BINS = 10


@dataclasses.dataclass
class Reference:
    labels: list[str]
    vocabulary: frozenset
    train_rows: int
    titles: list[str]  # a uniform sample of sample_size normalised train titles
    lengths: np.ndarray
    val_tokens: tuple[int, int]  # (unseen, total): val was not used to build the vocabulary
    val_predicted: np.ndarray
    val_confidence: np.ndarray
    val_low: tuple[int, int]
    test_confusion: np.ndarray
    family: str
    baseline_macro_f1: float
    prior: np.ndarray  # domain shares in train: the mix concept checks correct to
    calibration: Calibration  # fitted on val, for the estimate without labels

    @property
    def baseline_accuracy(self) -> float:
        return float(np.trace(self.test_confusion) / max(self.test_confusion.sum(), 1))


def build_reference(
    model: TitleModel,
    paths: ReferencePaths,
    normalizer: Callable[[str], str],
    params: MonitorParams,
) -> Reference:
    """Summarise train titles and the champion's scores on val and test."""
    split = {
        s: read_table(Path(paths.split_dir) / f"{s}.parquet", [TITLE, DOMAIN])
        for s in ("train", "val", "test")
    }
    labels, vocabulary = list(model.labels), _read_vocabulary(paths.vocabulary)
    train = split["train"][TITLE].astype(str)
    order = np.random.default_rng(params.seed).permutation(len(train))[: params.sample_size]
    val_titles = split["val"][TITLE].astype(str).tolist()
    val_pred, val_proba = _predict(model, val_titles, params.chunk_rows)
    test_pred, _ = _predict(model, split["test"][TITLE].astype(str).tolist(), params.chunk_rows)
    test_true = label_codes(split["test"][DOMAIN], labels)
    known = test_true >= 0
    test_confusion = confusion(test_true[known], test_pred[known], len(labels))
    family, baseline = _champion_baseline(paths.champion_metrics, drift.macro_f1(test_confusion))
    train_codes = label_codes(split["train"][DOMAIN], labels)
    val_true = label_codes(split["val"][DOMAIN], labels)
    val_known = val_true >= 0
    return Reference(
        labels=labels,
        vocabulary=vocabulary,
        train_rows=len(train),
        titles=[normalizer(train.iloc[i]) for i in order],
        lengths=length_counts(train),
        val_tokens=unseen_tokens(map(normalizer, val_titles), vocabulary),
        val_predicted=np.bincount(val_pred, minlength=len(labels)),
        val_confidence=confidence_counts(val_proba),
        val_low=(int((val_proba < params.low_confidence).sum()), len(val_proba)),
        test_confusion=test_confusion,
        family=family,
        baseline_macro_f1=baseline,
        prior=drift.shares(np.bincount(train_codes[train_codes >= 0], minlength=len(labels))),
        calibration=fit_calibration(
            val_true[val_known], val_pred[val_known], val_proba[val_known], len(labels)
        ),
    )


def _read_vocabulary(path: str) -> frozenset:
    words = read_json(path)
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise InputError(f"{path}: expected a JSON list of tokens")
    return frozenset(words)


def _champion_baseline(path: str, recomputed: float) -> tuple[str, float]:
    """The champion's family and test macro-F1, checked against a fresh scoring of test."""
    champion = read_json(path)
    value = champion.get("test_macro_f1") if isinstance(champion, dict) else None
    if not isinstance(value, (int, float)):
        raise InputError(f"{path}: no number 'test_macro_f1' (run the select stage)")
    # A mismatch means the split or the model changed after select ran.
    if abs(value - recomputed) > 1e-6:
        log.warning(
            "%s says test macro-F1 %.4f but the champion scores %.4f on the test split "
            "now; using %.4f",
            path,
            value,
            recomputed,
            recomputed,
        )
    return str(champion.get("family", "?")), recomputed


def _predict(model: TitleModel, titles: list[str], chunk_rows: int):
    """Predicted label ids and their probabilities, scored chunk by chunk."""
    preds, probas = [], []
    for start in range(0, len(titles), chunk_rows):
        proba = model.predict_proba(titles[start : start + chunk_rows])
        preds.append(proba.argmax(axis=1))
        probas.append(proba.max(axis=1))
    if not preds:
        return np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(preds), np.concatenate(probas)


# The batch is counted with these same helpers, so that it compares with the reference bin
# for bin.


def label_codes(values: pd.Series, labels: list[str]) -> np.ndarray:
    """Index of each value in `labels`; -1 for null or unknown values."""
    return pd.Index(labels).get_indexer(values.astype("string")).astype(np.int64)


def confusion(true: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(true * k + pred, minlength=k * k).reshape(k, k)


def length_counts(titles: pd.Series) -> np.ndarray:
    lengths = titles.astype(str).str.len().to_numpy(dtype=np.int64)
    return np.bincount(np.minimum(lengths // LENGTH_BIN, LENGTH_BINS - 1), minlength=LENGTH_BINS)


def confidence_counts(proba: np.ndarray) -> np.ndarray:
    return np.histogram(proba, bins=CONFIDENCE_BINS, range=(0.0, 1.0))[0]


def unseen_tokens(normalised, vocabulary: frozenset) -> tuple[int, int]:
    unseen = total = 0
    for title in normalised:
        toks = tokens(title)
        total += len(toks)
        unseen += sum(tok not in vocabulary for tok in toks)
    return unseen, total
