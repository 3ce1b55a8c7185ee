"""Batch statistics: the scored batch, streamed once in chunks into counts.

Only counts and a fixed-size sample of titles are kept, so memory does not grow with the batch.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from domain_classifier.data.schema import blank_mask
from domain_classifier.data.tables import check_columns, iter_table
from domain_classifier.errors import InputError
from domain_classifier.monitoring import statistics as drift
from domain_classifier.monitoring.estimate import pack_outputs, sample_rows
from domain_classifier.monitoring.params import MonitorParams
from domain_classifier.monitoring.reference import (
    CONFIDENCE_BINS,
    LENGTH_BINS,
    Reference,
    confidence_counts,
    confusion,
    label_codes,
    length_counts,
    unseen_tokens,
)

PREDICTION_COLUMNS = ("predicted_domain", "probability")


class BatchSummary:
    """Everything the checks need from a scored batch, accumulated chunk by chunk."""

    def __init__(self, reference: Reference, normalizer, params: MonitorParams):
        k = len(reference.labels)
        self.labels, self.vocabulary = reference.labels, reference.vocabulary
        self.normalizer = normalizer
        self.low_confidence = params.low_confidence
        self.rows = self.blank = self.scored = self.low = 0
        self.unseen_tokens = self.total_tokens = 0
        self.lengths = np.zeros(LENGTH_BINS, np.int64)
        self.predicted = np.zeros(k, np.int64)
        self.confidence = np.zeros(CONFIDENCE_BINS, np.int64)
        self.has_labels, self.labelled = False, 0
        self.confusion = np.zeros((k, k), np.int64)
        self.unseen_labels: Counter = Counter()
        self.unseen_predicted = np.zeros(k, np.int64)  # what rows of unseen domains got
        # The estimate needs each row's outputs; a sample keeps memory flat. A different
        # seed from the title sample's keeps the two samples independent.
        self.outputs = drift.BottomKSample(sample_rows(params.estimate_rows, k), params.seed + 1)
        self.sample = drift.BottomKSample(params.sample_size, params.seed)

    def add(self, chunk: pd.DataFrame, text_column: str, label_column: str | None, path) -> None:
        titles = chunk[text_column].astype("string")
        blank = blank_mask(titles)
        scored = (~blank & chunk["predicted_domain"].notna()).to_numpy()
        self.rows += len(chunk)
        self.blank += int(blank.sum())
        self._add_titles(titles[scored])
        pred = self._predicted_codes(chunk["predicted_domain"][scored], path)
        proba = pd.to_numeric(chunk["probability"][scored]).to_numpy(np.float64)
        self._add_output(pred, proba)
        self.outputs.add(pack_outputs(pred, proba, self._runners_up(chunk[scored])))
        if label_column is not None:
            self.has_labels = True
            self._add_labels(chunk[label_column][scored], pred)

    def _add_titles(self, titles: pd.Series) -> None:
        normalised = [self.normalizer(t) for t in titles]
        unseen, total = unseen_tokens(normalised, self.vocabulary)
        self.unseen_tokens += unseen
        self.total_tokens += total
        self.lengths += length_counts(titles)
        self.sample.add(normalised)

    def _predicted_codes(self, predicted: pd.Series, path) -> np.ndarray:
        codes = label_codes(predicted, self.labels)
        if (codes < 0).any():
            other = predicted[codes < 0].iloc[0]
            raise InputError(
                f"{path}: predicted_domain '{other}' is not a domain of the champion "
                "model; were these predictions made by another model?"
            )
        return codes

    def _add_output(self, pred: np.ndarray, proba: np.ndarray) -> None:
        self.scored += len(pred)
        self.predicted += np.bincount(pred, minlength=len(self.labels))
        self.confidence += confidence_counts(proba)
        self.low += int((proba < self.low_confidence).sum())

    def _runners_up(self, chunk: pd.DataFrame) -> list[tuple[np.ndarray, np.ndarray]]:
        """predict's top2_, top3_... columns, as far as the batch has them."""
        ranks, rank = [], 2
        while {f"top{rank}_domain", f"top{rank}_probability"} <= set(chunk.columns):
            codes = label_codes(chunk[f"top{rank}_domain"], self.labels)
            proba = pd.to_numeric(chunk[f"top{rank}_probability"], errors="coerce")
            ranks.append((codes, proba.to_numpy(np.float64, na_value=np.nan)))
            rank += 1
        return ranks

    def _add_labels(self, labels: pd.Series, pred: np.ndarray) -> None:
        labels = labels.astype("string").str.strip()
        present = labels.notna().to_numpy() & (labels != "").fillna(False).to_numpy()
        codes = label_codes(labels, self.labels)
        self.labelled += int(present.sum())
        unseen = present & (codes < 0)
        self.unseen_labels.update(labels[unseen].value_counts().to_dict())
        self.unseen_predicted += np.bincount(pred[unseen], minlength=len(self.labels))
        known = present & (codes >= 0)
        self.confusion += confusion(codes[known], pred[known], len(self.labels))


def check_batch(path, text_column: str) -> None:
    """Refuse a batch that cannot be monitored before the reference is built."""
    for chunk in iter_table(path, 1):
        _check_batch_columns(chunk.columns, text_column, path)
        return
    raise InputError(f"{path}: table has no rows; nothing to monitor")


def _check_batch_columns(columns, text_column: str, path) -> None:
    check_columns(columns, [text_column], path)
    missing = [c for c in PREDICTION_COLUMNS if c not in columns]
    if missing:
        raise InputError(
            f"{path}: no column '{missing[0]}'; monitor reads the output of the predict stage"
        )


def summarize_batch(
    path, text_column: str, reference: Reference, normalizer, params: MonitorParams
) -> BatchSummary:
    """Stream the scored batch once; refuse a batch that is not predict's output."""
    summary = BatchSummary(reference, normalizer, params)
    for chunk in iter_table(path, params.chunk_rows):
        _check_batch_columns(chunk.columns, text_column, path)
        label_column = params.label_column if params.label_column in chunk.columns else None
        summary.add(chunk, text_column, label_column, path)
    if summary.rows == 0:
        raise InputError(f"{path}: table has no rows; nothing to monitor")
    if summary.scored == 0:
        raise InputError(f"{path}: all {summary.rows} titles are null or blank; nothing to monitor")
    return summary
