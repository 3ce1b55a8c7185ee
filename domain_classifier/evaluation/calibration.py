"""Calibrated probabilities: temperature scaling fitted on validation, expected calibration
error, and the coverage-precision curve that decides which titles need a human review.

All pure functions over arrays: `proba` is rows x domains, `actual` the true label ids.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

from domain_classifier.data.schema import DOMAIN, TITLE
from domain_classifier.data.tables import atomic_dir, read_json, write_json
from domain_classifier.rows import by_rows

ECE_BINS = 15
# Temperatures outside this range mean the scores carry no usable scale; the bound keeps
# the 1-D search finite (log T in [-5, 5]).
LOG_TEMPERATURE_BOUNDS = (-5.0, 5.0)
EPSILON = 1e-12  # a probability of exactly 0 has no logarithm
# Rows worked on at a time: each step makes a few copies of what it is given, and at 1,000
# domains a whole 141k-row split is 1.1 GB a copy (select peaked at 9.2 GiB).
CHUNK_ROWS = 8192


def log_odds(proba: np.ndarray) -> np.ndarray:
    return np.log(np.clip(proba, EPSILON, 1.0))


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


def scale(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities with their log-odds divided by `temperature` (1: unchanged ranking and
    values; the argmax never changes)."""
    return by_rows(lambda rows: softmax(log_odds(rows) / temperature, axis=1), proba, CHUNK_ROWS)


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


def review_threshold(curve: pd.DataFrame, precision: float) -> float:
    """The threshold of the largest coverage whose precision reaches `precision`; titles below
    it need review. None reaches it: infinity (every title is reviewed)."""
    reaching = curve[curve["precision"] >= precision]
    if reaching.empty:
        return float("inf")
    return float(reaching.loc[reaching["coverage"].idxmax(), "threshold"])


CALIBRATION_FILE = "calibration.json"


class CalibratedModel:
    """A saved model with its temperature and validation coverage curve: the TitleModel that
    `models/champion` loads as, so predict, classify, serve, the pyfunc and Spark all return
    calibrated probabilities. Saved as the wrapped model's files plus calibration.json."""

    def __init__(self, model, temperature: float, curve: pd.DataFrame):
        self.model, self.temperature, self.curve = model, float(temperature), curve
        self.family, self.labels, self.format = model.family, model.labels, model.format
        self.fork_safe = getattr(model, "fork_safe", False)

    def predict_proba(self, titles) -> np.ndarray:
        return scale(self.model.predict_proba(titles), self.temperature)

    def review_threshold(self, precision: float) -> float:
        return review_threshold(self.curve, precision)

    def save(self, directory: Path) -> None:
        self.model.save(directory)
        self.save_calibration(directory)

    def save_calibration(self, directory: Path) -> None:
        write_json(
            {"temperature": self.temperature, "review_curve": self.curve.to_dict("list")},
            Path(directory) / CALIBRATION_FILE,
        )

    @classmethod
    def wrap(cls, model, directory: Path | str):
        """`model` as loaded from `directory`, calibrated if the directory says how."""
        path = Path(directory) / CALIBRATION_FILE
        if not path.is_file():
            return model
        saved = read_json(path)
        return cls(model, saved["temperature"], pd.DataFrame(saved["review_curve"]))


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


def save_calibrated(source: Path | str, target: Path | str, model: CalibratedModel) -> None:
    """`target`: a copy of the saved model folder `source` plus its calibration.json."""
    with atomic_dir(target) as staging:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        model.save_calibration(staging)


def saved_review_threshold(directory: Path | str, precision: float) -> float | None:
    """The needs_review threshold of a saved model folder; None if it was never calibrated."""
    path = Path(directory) / CALIBRATION_FILE
    if not path.is_file():
        return None
    return review_threshold(pd.DataFrame(read_json(path)["review_curve"]), precision)
