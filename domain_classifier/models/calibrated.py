"""A champion's calibration as part of the saved model: its temperature and the validation
coverage curve that sets the needs_review threshold, saved as calibration.json beside the
model's own files. Fitting them is evaluation's (evaluation/calibration.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import softmax

from domain_classifier.data.tables import atomic_dir, read_json, write_json
from domain_classifier.rows import by_rows

EPSILON = 1e-12  # a probability of exactly 0 has no logarithm
# Rows worked on at a time: each step makes a few copies of what it is given, and at 1,000
# domains a whole 141k-row split is 1.1 GB a copy (select peaked at 9.2 GiB).
CHUNK_ROWS = 8192


def log_odds(proba: np.ndarray) -> np.ndarray:
    return np.log(np.clip(proba, EPSILON, 1.0))


def scale(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities with their log-odds divided by `temperature` (1: unchanged ranking and
    values; the argmax never changes)."""
    return by_rows(lambda rows: softmax(log_odds(rows) / temperature, axis=1), proba, CHUNK_ROWS)


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
