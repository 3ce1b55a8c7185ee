"""Stage monitor: compare a scored batch with the training reference and say whether to retrain.

Three kinds of drift are checked. *Data*: title lengths, tokens the training vocabulary
never saw, word and character n-gram distributions, and a classifier trained to tell batch
titles from training titles. *Output*: the predicted-domain mix and the share of
low-confidence predictions, against the champion's predictions on the validation split.
*Concept* (only when the batch carries labels): domains the model never saw, and macro and
per-domain F1 against the champion's test split, with bootstrap intervals.

A check flags drift only when its effect size passes a threshold (a param) *and* the
difference is beyond noise (a p-value or a bootstrap interval): effect sizes alone
false-alarm on small batches, p-values alone flag everything on a million rows.

The batch is streamed in chunks; only counts and a fixed-size sample of titles are kept,
so memory does not grow with the batch.
"""
from __future__ import annotations

import base64
import dataclasses
import logging
import math
from collections import Counter
from html import escape
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from domain_classifier.monitoring import statistics as drift
from domain_classifier.errors import InputError
from domain_classifier.data.ingest import DOMAIN, TITLE, blank_mask
from domain_classifier.model_store import TitleModel
from domain_classifier.params import require
from domain_classifier.data.tables import (atomic_path, check_columns, iter_table, read_json,
                                      read_table, write_json)
from domain_classifier.features.text import tokens

log = logging.getLogger(__name__)

KINDS = ("data", "output", "concept")
PREDICTION_COLUMNS = ("predicted_domain", "probability")
LENGTH_BIN, LENGTH_BINS = 5, 31  # 5-character bins; the last one holds 150+ characters
CONFIDENCE_BINS = 10
NGRAM_BUCKETS = 2 ** 12
NGRAMS = {"token": ("word", (1, 1)), "char_ngram": ("char_wb", (3, 3))}


@dataclasses.dataclass(frozen=True)
class MonitorParams:
    label_column: str = "domain"
    chunk_rows: int = 100000
    seed: int = 0
    sample_size: int = 5000
    classifier_folds: int = 3
    p_value: float = 0.01
    confidence_level: float = 0.95
    bootstrap_samples: int = 1000
    max_length_psi: float = 0.2
    max_unseen_token_increase: float = 0.05
    max_ngram_js: float = 0.12
    permutations: int = 199
    max_classifier_auc: float = 0.6
    max_domain_psi: float = 0.2
    max_domain_js: float = 0.1
    low_confidence: float = 0.5
    max_low_confidence_increase: float = 0.05
    max_unseen_label_share: float = 0.01
    min_macro_f1_drop: float = 0.03
    min_domain_f1_drop: float = 0.1
    min_domain_support: int = 30

    def check(self, where: str) -> None:
        require(bool(self.label_column.strip()), f"{where}.label_column", "must name a column")
        for name in ("chunk_rows", "min_domain_support"):
            require(getattr(self, name) >= 1, f"{where}.{name}", "must be >= 1")
        require(self.sample_size >= 100, f"{where}.sample_size", "must be >= 100")
        require(self.classifier_folds >= 2, f"{where}.classifier_folds", "must be >= 2")
        require(self.bootstrap_samples >= 100, f"{where}.bootstrap_samples", "must be >= 100")
        # Fewer permutations could never give a p-value below the one asked for.
        needed = math.ceil(1 / self.p_value) if 0 < self.p_value < 1 else 1
        require(self.permutations >= needed, f"{where}.permutations",
                f"must be >= 1 / p_value = {needed}, got {self.permutations}")
        for name in ("p_value", "confidence_level", "low_confidence"):
            value = getattr(self, name)
            require(0 < value < 1, f"{where}.{name}", f"must be in (0, 1), got {value}")
        require(0.5 <= self.max_classifier_auc < 1, f"{where}.max_classifier_auc",
                f"must be in [0.5, 1), got {self.max_classifier_auc}")
        for field in dataclasses.fields(self):
            if field.name.startswith(("max_", "min_")):
                value = getattr(self, field.name)
                require(value >= 0, f"{where}.{field.name}", f"must be >= 0, got {value}")


@dataclasses.dataclass(frozen=True)
class ReferencePaths:
    split_dir: str = "data/split"
    vocabulary: str = "data/features/vocabulary.json"
    champion_metrics: str = "metrics/champion.json"


@dataclasses.dataclass
class Check:
    name: str
    kind: str
    value: float
    threshold: float
    drift: bool
    message: str
    details: dict = dataclasses.field(default_factory=dict)


# ---------------------------------------------------------------------------
# Reference: what the champion was trained on and how it scored held-out data.
# ---------------------------------------------------------------------------


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


def build_reference(model: TitleModel, paths: ReferencePaths, normalizer: Callable[[str], str],
                    params: MonitorParams) -> Reference:
    """Summarise train titles and the champion's scores on val and test."""
    split = {s: read_table(Path(paths.split_dir) / f"{s}.parquet", [TITLE, DOMAIN])
             for s in ("train", "val", "test")}
    labels, vocabulary = list(model.labels), _read_vocabulary(paths.vocabulary)
    train = split["train"][TITLE].astype(str)
    order = np.random.default_rng(params.seed).permutation(len(train))[:params.sample_size]
    val_titles = split["val"][TITLE].astype(str).tolist()
    val_pred, val_proba = _predict(model, val_titles, params.chunk_rows)
    test_pred, _ = _predict(model, split["test"][TITLE].astype(str).tolist(), params.chunk_rows)
    test_true = _codes(split["test"][DOMAIN], labels)
    known = test_true >= 0
    test_confusion = _confusion(test_true[known], test_pred[known], len(labels))
    family, baseline = _champion_baseline(paths.champion_metrics, drift.macro_f1(test_confusion))
    return Reference(
        labels=labels, vocabulary=vocabulary, train_rows=len(train),
        titles=[normalizer(train.iloc[i]) for i in order],
        lengths=_length_counts(train), val_tokens=_unseen_tokens(map(normalizer, val_titles),
                                                                 vocabulary),
        val_predicted=np.bincount(val_pred, minlength=len(labels)),
        val_confidence=_confidence_counts(val_proba),
        val_low=(int((val_proba < params.low_confidence).sum()), len(val_proba)),
        test_confusion=test_confusion, family=family, baseline_macro_f1=baseline)


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
        log.warning("%s says test macro-F1 %.4f but the champion scores %.4f on the test split "
                    "now; using %.4f", path, value, recomputed, recomputed)
    return str(champion.get("family", "?")), recomputed


def _predict(model: TitleModel, titles: list[str], chunk_rows: int):
    """Predicted label ids and their probabilities, scored chunk by chunk."""
    preds, probas = [], []
    for start in range(0, len(titles), chunk_rows):
        proba = model.predict_proba(titles[start:start + chunk_rows])
        preds.append(proba.argmax(axis=1))
        probas.append(proba.max(axis=1))
    if not preds:
        return np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(preds), np.concatenate(probas)


def _codes(values: pd.Series, labels: list[str]) -> np.ndarray:
    """Index of each value in `labels`; -1 for null or unknown values."""
    return pd.Index(labels).get_indexer(values.astype("string")).astype(np.int64)


def _confusion(true: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(true * k + pred, minlength=k * k).reshape(k, k)


def _length_counts(titles: pd.Series) -> np.ndarray:
    lengths = titles.astype(str).str.len().to_numpy(dtype=np.int64)
    return np.bincount(np.minimum(lengths // LENGTH_BIN, LENGTH_BINS - 1), minlength=LENGTH_BINS)


def _confidence_counts(proba: np.ndarray) -> np.ndarray:
    return np.histogram(proba, bins=CONFIDENCE_BINS, range=(0.0, 1.0))[0]


def _unseen_tokens(normalised, vocabulary: frozenset) -> tuple[int, int]:
    unseen = total = 0
    for title in normalised:
        toks = tokens(title)
        total += len(toks)
        unseen += sum(tok not in vocabulary for tok in toks)
    return unseen, total


# ---------------------------------------------------------------------------
# Batch: streamed once; counts and a fixed-size sample of titles.
# ---------------------------------------------------------------------------


class BatchSummary:
    """Everything the checks need from a scored batch, accumulated chunk by chunk."""

    def __init__(self, labels: list[str], vocabulary: frozenset, normalizer, params: MonitorParams):
        k = len(labels)
        self.labels, self.vocabulary, self.normalizer = labels, vocabulary, normalizer
        self.low_confidence = params.low_confidence
        self.rows = self.blank = self.scored = self.low = 0
        self.unseen_tokens = self.total_tokens = 0
        self.lengths = np.zeros(LENGTH_BINS, np.int64)
        self.predicted = np.zeros(k, np.int64)
        self.confidence = np.zeros(CONFIDENCE_BINS, np.int64)
        self.has_labels, self.labelled = False, 0
        self.confusion = np.zeros((k, k), np.int64)
        self.unseen_labels: Counter = Counter()
        self.sample = drift.BottomKSample(params.sample_size, params.seed)

    def add(self, chunk: pd.DataFrame, text_column: str, label_column: str | None, path) -> None:
        titles = chunk[text_column].astype("string")
        blank = blank_mask(titles)
        scored = (~blank & chunk["predicted_domain"].notna()).to_numpy()
        self.rows += len(chunk)
        self.blank += int(blank.sum())
        self._add_titles(titles[scored])
        pred = self._predicted_codes(chunk["predicted_domain"][scored], path)
        self._add_output(pred, pd.to_numeric(chunk["probability"][scored]).to_numpy(np.float64))
        if label_column is not None:
            self.has_labels = True
            self._add_labels(chunk[label_column][scored], pred)

    def _add_titles(self, titles: pd.Series) -> None:
        normalised = [self.normalizer(t) for t in titles]
        unseen, total = _unseen_tokens(normalised, self.vocabulary)
        self.unseen_tokens += unseen
        self.total_tokens += total
        self.lengths += _length_counts(titles)
        self.sample.add(normalised)

    def _predicted_codes(self, predicted: pd.Series, path) -> np.ndarray:
        codes = _codes(predicted, self.labels)
        if (codes < 0).any():
            other = predicted[codes < 0].iloc[0]
            raise InputError(f"{path}: predicted_domain '{other}' is not a domain of the champion "
                             "model; were these predictions made by another model?")
        return codes

    def _add_output(self, pred: np.ndarray, proba: np.ndarray) -> None:
        self.scored += len(pred)
        self.predicted += np.bincount(pred, minlength=len(self.labels))
        self.confidence += _confidence_counts(proba)
        self.low += int((proba < self.low_confidence).sum())

    def _add_labels(self, labels: pd.Series, pred: np.ndarray) -> None:
        labels = labels.astype("string").str.strip()
        present = labels.notna().to_numpy() & (labels != "").fillna(False).to_numpy()
        codes = _codes(labels, self.labels)
        self.labelled += int(present.sum())
        self.unseen_labels.update(labels[present & (codes < 0)].value_counts().to_dict())
        known = present & (codes >= 0)
        self.confusion += _confusion(codes[known], pred[known], len(self.labels))


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
        raise InputError(f"{path}: no column '{missing[0]}'; monitor reads the output of "
                         "the predict stage")


def summarize_batch(path, text_column: str, reference: Reference, normalizer,
                    params: MonitorParams) -> BatchSummary:
    """Stream the scored batch once; refuse a batch that is not predict's output."""
    summary = BatchSummary(reference.labels, reference.vocabulary, normalizer, params)
    for chunk in iter_table(path, params.chunk_rows):
        _check_batch_columns(chunk.columns, text_column, path)
        label_column = params.label_column if params.label_column in chunk.columns else None
        summary.add(chunk, text_column, label_column, path)
    if summary.rows == 0:
        raise InputError(f"{path}: table has no rows; nothing to monitor")
    if summary.scored == 0:
        raise InputError(f"{path}: all {summary.rows} titles are null or blank; "
                         "nothing to monitor")
    return summary


# ---------------------------------------------------------------------------
# Checks: each returns Check objects; drift needs effect size and significance.
# ---------------------------------------------------------------------------


def data_checks(ref: Reference, batch: BatchSummary, params: MonitorParams) -> list[Check]:
    checks = [_length_check(ref, batch, params), _unseen_token_check(ref, batch, params)]
    sample, ref_sample = batch.sample.values(), ref.titles
    for name, (analyzer, ngram_range) in NGRAMS.items():
        checks.append(_divergence_check(name, analyzer, ngram_range, ref_sample, sample, params))
    auc, p = drift.classifier_test(ref_sample, sample, params.classifier_folds, params.seed)
    checks.append(Check(
        "classifier_auc", "data", auc, params.max_classifier_auc,
        auc > params.max_classifier_auc and p < params.p_value,
        f"a classifier tells batch titles from training titles with ROC AUC {auc:.3f} "
        f"(threshold {params.max_classifier_auc}, p={p:.2g})",
        {"p_value": p, "titles_per_side": min(len(ref_sample), len(sample))}))
    return checks


def _length_check(ref: Reference, batch: BatchSummary, params: MonitorParams) -> Check:
    value = drift.psi(ref.lengths, batch.lengths)
    _, p = drift.chi_square(ref.lengths, batch.lengths)
    return Check("title_length_psi", "data", value, params.max_length_psi,
                 value > params.max_length_psi and p < params.p_value,
                 f"title length distribution PSI {value:.3f} (threshold "
                 f"{params.max_length_psi}, p={p:.2g})",
                 {"p_value": p, "mean_length": _mean_length(batch.lengths),
                  "reference_mean_length": _mean_length(ref.lengths)})


def _mean_length(counts: np.ndarray) -> float:
    """Mean of binned lengths, at bin centres: enough to say longer or shorter."""
    centres = np.arange(len(counts)) * LENGTH_BIN + LENGTH_BIN / 2
    return float((counts * centres).sum() / max(counts.sum(), 1))


def _unseen_token_check(ref: Reference, batch: BatchSummary, params: MonitorParams) -> Check:
    ref_unseen, ref_total = ref.val_tokens
    share = batch.unseen_tokens / max(batch.total_tokens, 1)
    reference = ref_unseen / max(ref_total, 1)
    # Tokens of one title are not independent, so this p-value is optimistic; it only
    # guards tiny batches, the effect-size threshold decides on large ones.
    p = drift.proportion_increase_p(ref_unseen, ref_total, batch.unseen_tokens,
                                    batch.total_tokens)
    increase = share - reference
    return Check("unseen_token_share", "data", increase, params.max_unseen_token_increase,
                 increase > params.max_unseen_token_increase and p < params.p_value,
                 f"{share:.1%} of tokens are not in the training vocabulary, against "
                 f"{reference:.1%} on the validation split (increase threshold "
                 f"{params.max_unseen_token_increase:.0%}, p={p:.2g})",
                 {"share": share, "reference_share": reference, "p_value": p})


def _divergence_check(name, analyzer, ngram_range, ref_sample, sample,
                      params: MonitorParams) -> Check:
    shift = drift.ngram_shift(ref_sample, sample, analyzer, ngram_range, NGRAM_BUCKETS,
                              params.permutations, params.seed)
    value, p = shift["corrected"], shift["p_value"]
    label = "token" if name == "token" else "character 3-gram"
    return Check(f"{name}_js_distance", "data", value, params.max_ngram_js,
                 value > params.max_ngram_js and p < params.p_value,
                 f"{label} distribution Jensen-Shannon distance {value:.3f} after removing "
                 f"the part sampling alone gives (raw {shift['distance']:.3f}; threshold "
                 f"{params.max_ngram_js}, permutation p={p:.2g})",
                 {"raw_distance": shift["distance"], "p_value": p})


def output_checks(ref: Reference, batch: BatchSummary, params: MonitorParams) -> list[Check]:
    _, p = drift.chi_square(ref.val_predicted, batch.predicted)
    psi = drift.psi(ref.val_predicted, batch.predicted)
    js = drift.js_distance(ref.val_predicted, batch.predicted)
    mix = "predicted-domain distribution against the champion's validation predictions"
    checks = [
        Check("predicted_domain_psi", "output", psi, params.max_domain_psi,
              psi > params.max_domain_psi and p < params.p_value,
              f"{mix}: PSI {psi:.3f} (threshold {params.max_domain_psi}, chi-square p={p:.2g})",
              {"p_value": p}),
        Check("predicted_domain_js", "output", js, params.max_domain_js,
              js > params.max_domain_js and p < params.p_value,
              f"{mix}: Jensen-Shannon distance {js:.3f} (threshold {params.max_domain_js}, "
              f"chi-square p={p:.2g})", {"p_value": p}),
    ]
    return checks + [_low_confidence_check(ref, batch, params)]


def _low_confidence_check(ref: Reference, batch: BatchSummary, params: MonitorParams) -> Check:
    ref_low, ref_n = ref.val_low
    share, reference = batch.low / batch.scored, ref_low / max(ref_n, 1)
    p = drift.proportion_increase_p(ref_low, ref_n, batch.low, batch.scored)
    increase = share - reference
    return Check("low_confidence_share", "output", increase, params.max_low_confidence_increase,
                 increase > params.max_low_confidence_increase and p < params.p_value,
                 f"{share:.1%} of predictions have probability below {params.low_confidence}, "
                 f"against {reference:.1%} on the validation split (increase threshold "
                 f"{params.max_low_confidence_increase:.0%}, p={p:.2g})",
                 {"share": share, "reference_share": reference, "p_value": p,
                  "confidence_psi": drift.psi(ref.val_confidence, batch.confidence)})


def concept_checks(ref: Reference, batch: BatchSummary,
                   params: MonitorParams) -> tuple[list[Check], pd.DataFrame | None]:
    """Unseen domains in the labels, then F1 on rows whose domain the model knows."""
    checks = [_unseen_label_check(batch, params)]
    if batch.confusion.sum() == 0:
        return checks, None
    # Per-domain intervals are widened (Bonferroni) so that, over all domains together,
    # an unshifted batch shows a spurious drop no more often than the macro interval does.
    levels = (params.confidence_level, 1 - (1 - params.confidence_level) / len(ref.labels))
    boot = drift.bootstrap_f1_change(batch.confusion, ref.test_confusion,
                                     params.bootstrap_samples, levels, params.seed)
    macro = drift.macro_f1(batch.confusion)
    change, (low, high) = macro - ref.baseline_macro_f1, boot["macro"]
    checks.append(Check(
        "macro_f1_change", "concept", change, -params.min_macro_f1_drop,
        change < -params.min_macro_f1_drop and high < 0,
        f"macro-F1 {macro:.3f} against {ref.baseline_macro_f1:.3f} on the test split: change "
        f"{change:+.3f}, {params.confidence_level:.0%} interval [{low:+.3f}, {high:+.3f}] "
        f"(drop threshold {params.min_macro_f1_drop})",
        {"macro_f1": macro, "baseline_macro_f1": ref.baseline_macro_f1, "ci_low": low,
         "ci_high": high, "rows": int(batch.confusion.sum())}))
    table = _per_domain_table(ref, batch, boot["per_class"], params)
    dropped = table[table["dropped"]]
    names = ", ".join(f"{r.domain} ({r.change:+.2f})" for r in dropped.itertuples())
    checks.append(Check(
        "domain_f1_drops", "concept", len(dropped), 0, bool(len(dropped)),
        f"F1 fell beyond noise for {len(dropped)} domain(s): {names or 'none'} "
        f"(drop threshold {params.min_domain_f1_drop}, support >= {params.min_domain_support} "
        "in the batch and in the test split)",
        {"domains": dict(zip(dropped["domain"], dropped["change"]))}))
    return checks, table


def _unseen_label_check(batch: BatchSummary, params: MonitorParams) -> Check:
    unseen = sum(batch.unseen_labels.values())
    share = unseen / batch.labelled
    listed = ", ".join(f"{d} ({n})" for d, n in sorted(batch.unseen_labels.items(),
                                                        key=lambda x: (-x[1], x[0]))[:5])
    more = len(batch.unseen_labels) - 5
    listed += f" and {more} more" if more > 0 else ""
    return Check("unseen_label_share", "concept", share, params.max_unseen_label_share,
                 share > params.max_unseen_label_share,
                 f"{share:.1%} of labelled rows ({unseen} of {batch.labelled}) carry domains the "
                 f"model never saw: {listed or 'none'} (threshold "
                 f"{params.max_unseen_label_share:.0%})",
                 {"rows": unseen, "domains": dict(sorted(batch.unseen_labels.items()))})


def _per_domain_table(ref: Reference, batch: BatchSummary, intervals: np.ndarray,
                      params: MonitorParams) -> pd.DataFrame:
    support, base_support = batch.confusion.sum(axis=1), ref.test_confusion.sum(axis=1)
    f1, base_f1 = drift.f1_scores(batch.confusion), drift.f1_scores(ref.test_confusion)
    table = pd.DataFrame({"domain": ref.labels, "support": support,
                          "baseline_support": base_support, "baseline_f1": base_f1, "f1": f1,
                          "change": f1 - base_f1, "ci_low": intervals[:, 0],
                          "ci_high": intervals[:, 1]})
    table["dropped"] = ((table["support"] >= params.min_domain_support)
                        & (table["baseline_support"] >= params.min_domain_support)
                        & (table["change"] < -params.min_domain_f1_drop)
                        & (table["ci_high"] < 0))
    return table[table["support"] > 0].reset_index(drop=True)


# ---------------------------------------------------------------------------
# Verdict and outputs.
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class MonitorResult:
    checks: list[Check]
    reference: Reference
    batch: BatchSummary
    per_domain: pd.DataFrame | None
    notes: list[str]

    @property
    def retrain_recommended(self) -> bool:
        return any(c.drift for c in self.checks)

    @property
    def reasons(self) -> list[str]:
        return [f"{c.kind} drift ({c.name}): {c.message}" for c in self.checks if c.drift]

    def drift_by_kind(self) -> dict[str, bool]:
        return {kind: any(c.drift for c in self.checks if c.kind == kind) for kind in KINDS}


def run_monitor(predictions, model: TitleModel, paths: ReferencePaths, normalizer,
                params: MonitorParams, text_column: str = TITLE) -> MonitorResult:
    """Build the reference, stream the scored batch, run every check."""
    check_batch(predictions, text_column)
    reference = build_reference(model, paths, normalizer, params)
    batch = summarize_batch(predictions, text_column, reference, normalizer, params)
    return compare(reference, batch, params)


def compare(reference: Reference, batch: BatchSummary, params: MonitorParams) -> MonitorResult:
    checks = data_checks(reference, batch, params) + output_checks(reference, batch, params)
    per_domain, notes = None, _notes(batch, params)
    if batch.labelled:
        concept, per_domain = concept_checks(reference, batch, params)
        checks += concept
    for note in notes:
        log.warning(note)
    return MonitorResult(checks, reference, batch, per_domain, notes)


def _notes(batch: BatchSummary, params: MonitorParams) -> list[str]:
    notes = []
    if batch.blank:
        notes.append(f"{batch.blank} of {batch.rows} titles are null or blank and were left out")
    if not batch.has_labels:
        notes.append(f"the batch has no label column '{params.label_column}': "
                     "concept drift not checked")
    elif not batch.labelled:
        notes.append(f"label column '{params.label_column}' is empty: concept drift not checked")
    elif not batch.confusion.sum():
        notes.append("no labelled row carries a domain the model knows: F1 not computed")
    return notes


def metrics(result: MonitorResult) -> dict:
    """The DVC metrics: deterministic numbers and the verdict, no timings."""
    batch = result.batch
    return _rounded({
        "retrain_recommended": result.retrain_recommended,
        "reasons": result.reasons,
        "drift": result.drift_by_kind(),
        "batch": {"rows": batch.rows, "blank_titles": batch.blank, "scored_rows": batch.scored,
                  "labelled_rows": batch.labelled, "sampled_titles": len(batch.sample.items)},
        "reference": {"champion_family": result.reference.family,
                      "train_titles": result.reference.train_rows,
                      "baseline_test_macro_f1": result.reference.baseline_macro_f1},
        "checks": {kind: {c.name: {"value": c.value, "threshold": c.threshold, "drift": c.drift,
                                   **c.details} for c in result.checks if c.kind == kind}
                   for kind in KINDS if any(c.kind == kind for c in result.checks)},
    })


def _rounded(obj):
    """Round floats so the metrics file does not change with the last bits of a platform."""
    if isinstance(obj, dict):
        return {str(k): _rounded(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_rounded(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not np.isfinite(obj) else round(float(obj), 6)
    return obj


def write_outputs(result: MonitorResult, metrics_path, report_path) -> None:
    write_json(metrics(result), metrics_path)
    with atomic_path(report_path) as tmp:
        tmp.write_text(render_report(result), encoding="utf-8")


# ---------------------------------------------------------------------------
# Markdown report: tables readable as plain text, plots as inline SVG images.
# ---------------------------------------------------------------------------


def render_report(result: MonitorResult) -> str:
    verdict = ("**Retraining recommended.**" if result.retrain_recommended
               else "**No drift beyond the thresholds: retraining not needed.**")
    lines = ["# Drift monitoring report", "", verdict, ""]
    lines += [f"- {reason}" for reason in result.reasons] + [""]
    if result.notes:
        lines += ["Notes:", ""] + [f"- {note}" for note in result.notes] + [""]
    lines += _checks_section(result) + _data_section(result) + _output_section(result)
    lines += _concept_section(result)
    return "\n".join(lines) + "\n"


def _checks_section(result: MonitorResult) -> list[str]:
    batch, ref = result.batch, result.reference
    lines = ["## Checks", "",
             f"Batch: {batch.rows} rows, {batch.scored} scored, {batch.blank} blank titles, "
             f"{batch.labelled} labelled. Reference: {ref.train_rows} training titles, "
             f"champion `{ref.family}` (test macro-F1 {ref.baseline_macro_f1:.3f}).", "",
             "| kind | check | value | threshold | drift | detail |", "|---|---|---|---|---|---|"]
    for c in result.checks:
        lines.append(f"| {c.kind} | {c.name} | {c.value:.4g} | {c.threshold:.4g} | "
                     f"{'**yes**' if c.drift else 'no'} | {c.message} |")
    return lines + [""]


def _data_section(result: MonitorResult) -> list[str]:
    ref, batch = result.reference, result.batch
    used = np.flatnonzero(ref.lengths + batch.lengths)
    bins = [f"{i * LENGTH_BIN}-{i * LENGTH_BIN + LENGTH_BIN - 1}" for i in used]
    lines = ["## Data drift", "",
             _svg_bars("Title length (characters)", bins, drift.shares(ref.lengths)[used],
                       drift.shares(batch.lengths)[used]), ""]
    unseen = Counter(tok for title in batch.sample.values() for tok in tokens(title)
                     if tok not in ref.vocabulary).most_common(15)
    if unseen:
        lines += ["Most frequent tokens the training vocabulary lacks (in the sampled titles):",
                  "", "| token | count |", "|---|---|"]
        lines += [f"| {tok} | {n} |" for tok, n in unseen] + [""]
    return lines


def _output_section(result: MonitorResult) -> list[str]:
    ref, batch = result.reference, result.batch
    ref_share, cur_share = drift.shares(ref.val_predicted), drift.shares(batch.predicted)
    order = np.argsort(-np.abs(cur_share - ref_share), kind="stable")
    lines = ["## Output drift", "",
             _svg_bars("Predicted domain share", [ref.labels[i] for i in order],
                       ref_share[order], cur_share[order]), "",
             "| predicted domain | validation | batch | change |", "|---|---|---|---|"]
    lines += [f"| {ref.labels[i]} | {ref_share[i]:.1%} | {cur_share[i]:.1%} | "
              f"{(cur_share[i] - ref_share[i]) * 100:+.1f} pp |" for i in order]
    edges = [f"{i / CONFIDENCE_BINS:.1f}-{(i + 1) / CONFIDENCE_BINS:.1f}"
             for i in range(CONFIDENCE_BINS)]
    return lines + ["", _svg_bars("Confidence (top probability)", edges,
                                  drift.shares(ref.val_confidence),
                                  drift.shares(batch.confidence)), ""]


def _concept_section(result: MonitorResult) -> list[str]:
    if result.per_domain is None:
        return ["## Concept drift", "", "Not checked: " + (
            "the batch carries no labels of domains the model knows." if result.batch.labelled
            else "the batch carries no labels."), ""]
    lines = ["## Concept drift", "", "F1 on labelled rows of domains the model knows; the "
             "interval is a bootstrap of the change over batch and test rows.", "",
             "| domain | support | test F1 | batch F1 | change | interval | dropped |",
             "|---|---|---|---|---|---|---|"]
    for r in result.per_domain.sort_values("change", kind="stable").itertuples():
        lines.append(f"| {r.domain} | {r.support} | {r.baseline_f1:.3f} | {r.f1:.3f} | "
                     f"{r.change:+.3f} | [{r.ci_low:+.3f}, {r.ci_high:+.3f}] | "
                     f"{'**yes**' if r.dropped else 'no'} |")
    return lines + [""]


def _svg_bars(title: str, categories: list[str], reference, batch) -> str:
    """Grouped horizontal bars (reference grey, batch orange) as a self-contained image."""
    row, left, width = 16, 200, 320
    top = max(float(np.max(reference, initial=0)), float(np.max(batch, initial=0)), 1e-12)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 10}" '
             f'height="{40 + row * len(categories)}" font-family="sans-serif" font-size="11">',
             f'<text x="0" y="12" font-weight="bold">{escape(title)}</text>',
             '<rect x="200" y="20" width="10" height="8" fill="#999"/>'
             '<text x="214" y="28">reference</text>'
             '<rect x="290" y="20" width="10" height="8" fill="#e67e22"/>'
             '<text x="304" y="28">batch</text>']
    for i, (name, r, b) in enumerate(zip(categories, reference, batch)):
        y = 36 + i * row
        parts.append(f'<text x="{left - 4}" y="{y + 11}" text-anchor="end">{escape(name)}</text>'
                     f'<rect x="{left}" y="{y + 1}" width="{r / top * width:.1f}" height="6" '
                     f'fill="#999"/><rect x="{left}" y="{y + 7}" width="{b / top * width:.1f}" '
                     'height="6" fill="#e67e22"/>')
    svg = "".join(parts) + "</svg>"
    return f"![{title}](data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()})"
