"""Stratified row samples: what tuning, capped fits and tokenize's vocabulary see at scale."""

from __future__ import annotations

import numpy as np


def stratified_sample(y: np.ndarray, rows: int, seed: int, min_per_class: int = 1) -> np.ndarray:
    """Sorted indices of about `rows` rows, each class in proportion to its share of `y` and
    with at least `min_per_class` rows (or all it has). `rows` 0, or at least len(y): all rows.

    Seeded and independent of row order within a class's draw, so the same labels and seed
    give the same sample."""
    y = np.asarray(y)
    if rows <= 0 or rows >= len(y):
        return np.arange(len(y))
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    quota = np.maximum(np.minimum(counts, min_per_class), proportional(counts, rows))
    order = np.random.default_rng(seed).permutation(len(y))
    # Group the shuffled rows by class (stable, so each class keeps its random order).
    grouped = order[np.argsort(inverse[order], kind="stable")]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(len(y)) - np.repeat(starts, counts)
    keep = grouped[rank < np.repeat(quota, counts)]
    return np.sort(keep)


def proportional(counts: np.ndarray, rows: int) -> np.ndarray:
    """Per-class shares of `rows` summing to `rows` exactly: floors, then one more row for the
    largest remainders (ties to the earlier class)."""
    exact = counts * rows / counts.sum()
    share = np.floor(exact).astype(np.int64)
    extra = np.argsort(-(exact - share), kind="stable")[: rows - share.sum()]
    share[extra] += 1
    return share
