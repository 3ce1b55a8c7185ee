"""What a model returns for titles, wherever it scores them (batch predict, Spark, the MLflow
pyfunc): the predicted domain, its probability, the top k, and needs_review below the
confidence that reaches a precision on validation; a blank title gets nulls."""

from __future__ import annotations

import numpy as np
import pandas as pd

from domain_classifier.data.schema import blank_mask
from domain_classifier.models.saved import TitleModel

TOP_K = 3  # ranked domains per title unless asked otherwise
REVIEW_PRECISION = 0.98  # needs_review's default precision
REVIEW_COLUMN = "needs_review"


def output_columns(top_k: int) -> list[str]:
    """The columns predict adds to every input row."""
    ranked = [f"top{r}_{what}" for r in range(1, top_k + 1) for what in ("domain", "probability")]
    return ["predicted_domain", "probability", *ranked]


def rank_titles(model: TitleModel, titles: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each title's k most probable label ids, best first, and their probabilities."""
    if not titles:
        return np.zeros((0, k), dtype=np.int64), np.zeros((0, k), dtype=np.float64)
    proba = model.predict_proba(titles)
    order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(proba, order, axis=1).astype(np.float64, copy=False)


def add_predictions(chunk: pd.DataFrame, blank: np.ndarray, ranked, labels) -> pd.DataFrame:
    """The chunk with predicted domain, probability and top-k columns; blank titles get nulls."""
    order, top = ranked
    names = np.asarray(labels, dtype=object)
    out = chunk.copy()
    for rank in range(order.shape[1]):
        top_label = np.full(len(chunk), None, dtype=object)
        top_label[~blank] = names[order[:, rank]]
        # An explicit string type keeps every chunk's schema equal, even an all-blank chunk.
        top_label = pd.array(top_label, dtype="string")
        top_proba = np.full(len(chunk), np.nan)
        top_proba[~blank] = top[:, rank]
        if rank == 0:
            out["predicted_domain"], out["probability"] = top_label, top_proba
        out[f"top{rank + 1}_domain"], out[f"top{rank + 1}_probability"] = top_label, top_proba
    return out


def score_chunk(model: TitleModel, chunk: pd.DataFrame, text_column: str, top_k: int):
    """Add predicted domain, its probability and the top-k domains to a chunk."""
    blank = blank_mask(chunk[text_column]).to_numpy()
    titles = chunk[text_column][~blank].tolist()
    ranked = rank_titles(model, titles, min(top_k, len(model.labels)))
    return add_predictions(chunk, blank, ranked, model.labels), int(blank.sum())


def review_threshold_of(model: TitleModel, precision: float) -> float | None:
    """The model's needs_review threshold for `precision`; None for an uncalibrated model
    (a family folder rather than models/champion), whose probabilities promise nothing."""
    threshold = getattr(model, "review_threshold", None)
    return None if threshold is None else threshold(precision)


def flag_review(scored: pd.DataFrame, threshold: float | None) -> pd.DataFrame:
    """Add needs_review: probability below `threshold`; null for a blank title, and for
    every row when there is no threshold."""
    probability = scored["probability"]
    flags = pd.array(probability < (np.inf if threshold is None else threshold), dtype="boolean")
    flags[probability.isna().to_numpy() | (threshold is None)] = pd.NA
    out = scored.copy()
    out[REVIEW_COLUMN] = flags
    return out
