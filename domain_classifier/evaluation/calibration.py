"""Calibrated probabilities: temperature scaling fitted on validation, expected calibration
error, and the coverage-precision curve that decides which titles need a human review.

All pure functions over arrays: `proba` is rows x domains, `actual` the true label ids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from domain_classifier.data.schema import DOMAIN, TITLE
from domain_classifier.models.calibrated import CHUNK_ROWS, CalibratedModel, log_odds, scale
from domain_classifier.rows import by_rows

ECE_BINS = 15
# Temperatures outside this range mean the scores carry no usable scale; the bound keeps
# the 1-D search finite (log T in [-5, 5]).
LOG_TEMPERATURE_BOUNDS = (-5.0, 5.0)


def top_label(proba: np.ndarray, actual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(confidence of the predicted domain, whether it is right) per row."""
    return proba.max(axis=1), proba.argmax(axis=1) == actual


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS
) -> float:
    """Top-label ECE over `bins` equal-width confidence bins: the row-weighted mean gap
    between each bin's accuracy and its mean confidence."""
    table = reliability_table(confidence, correct, bins)
    return float((table["rows"] * (table["accuracy"] - table["confidence"]).abs()).sum()) / max(
        len(confidence), 1
    )


def reliability_table(
    confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS
) -> pd.DataFrame:
    """One row per non-empty bin: its mean confidence, accuracy and row count."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Right-closed bins, (0, 1/15], ..., so a confidence of exactly 1 lands in the last one.
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    frame = pd.DataFrame({"bin": index, "confidence": confidence, "correct": correct.astype(float)})
    grouped = frame.groupby("bin").agg(
        confidence=("confidence", "mean"), accuracy=("correct", "mean"), rows=("correct", "size")
    )
    return grouped.reset_index()


def fit_temperature(proba: np.ndarray, actual: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of `actual` (Guo et al. 2017)."""
    logits = by_rows(log_odds, proba, CHUNK_ROWS)

    def nll(log_t: float) -> float:
        # Each row's log-likelihood, computed a chunk of rows at a time, then one mean.
        temperature, per_row = np.exp(log_t), np.empty(len(actual))
        for start in range(0, len(actual), CHUNK_ROWS):
            end = start + CHUNK_ROWS
            chunk = log_softmax(logits[start:end] / temperature, axis=1)
            per_row[start:end] = chunk[np.arange(len(chunk)), actual[start:end]]
        return float(-per_row.mean())

    result = minimize_scalar(nll, bounds=LOG_TEMPERATURE_BOUNDS, method="bounded")
    return float(np.exp(result.x))


def coverage_curve(confidence: np.ndarray, correct: np.ndarray) -> pd.DataFrame:
    """For each distinct confidence t (descending): the share of titles with confidence >= t
    (auto-filed) and the precision among them."""
    order = np.argsort(-confidence, kind="stable")
    conf, hits = confidence[order], correct[order].astype(float)
    filed, right = np.arange(1, len(conf) + 1), np.cumsum(hits)
    # Last row of each run of equal confidences: a threshold files all of them or none.
    last = np.r_[conf[1:] != conf[:-1], True]
    return pd.DataFrame(
        {
            "threshold": conf[last],
            "coverage": filed[last] / len(conf),
            "precision": right[last] / filed[last],
        }
    )


def calibrate(model, splits: dict[str, pd.DataFrame]) -> tuple[CalibratedModel, dict, dict]:
    """Fit the temperature on splits["val"]; report ECE before/after on val and test, and the
    plot tables (reliability per split before/after, val coverage-precision curve)."""
    index = {label: i for i, label in enumerate(model.labels)}
    raw, actual = {}, {}
    for split, frame in splits.items():
        raw[split] = model.predict_proba(frame[TITLE].tolist())
        # A domain the model never saw can never be right: id -1 matches no column.
        actual[split] = frame[DOMAIN].map(index).fillna(-1).to_numpy(dtype=int)
    known = actual["val"] >= 0
    val = raw["val"] if known.all() else raw["val"][known]  # a copy only when it must
    temperature = fit_temperature(val, actual["val"][known])
    report = {"calibrated_family": model.family, "temperature": temperature, "ece_bins": ECE_BINS}
    plots, curve = {}, None
    for split in splits:
        for when, proba in (("before", raw[split]), ("after", scale(raw[split], temperature))):
            confidence, correct = top_label(proba, actual[split])
            report.setdefault(split, {})[f"ece_{when}"] = expected_calibration_error(
                confidence, correct
            )
            plots[f"reliability_{split}_{when}"] = reliability_table(confidence, correct)
            if split == "val" and when == "after":
                curve = coverage_curve(confidence, correct)
    plots["coverage_precision"] = curve
    return CalibratedModel(model, temperature, curve), report, plots
