"""Bootstrap intervals for macro-F1 over a split's titles, and paired intervals of differences.

Every model is scored on the same resamples (paired): the difference of two models' macro-F1
then varies only with where they disagree, so its interval is much narrower than the two
separate intervals suggest. Percentile intervals (Efron & Tibshirani 1993, ch. 13).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def macro_f1_from_counts(
    actual: np.ndarray, predicted: np.ndarray, weights: np.ndarray, n_labels: int
) -> float:
    """Macro-F1 of rows counted `weights` times each, over the labels that occur (true or
    predicted) among them, as scikit-learn's f1_score(average="macro") on the rows."""
    right = actual == predicted
    hits = np.bincount(actual[right], weights=weights[right], minlength=n_labels)
    support = np.bincount(actual, weights=weights, minlength=n_labels)
    claimed = np.bincount(predicted, weights=weights, minlength=n_labels)
    seen = (support + claimed) > 0
    return float(np.mean(2 * hits[seen] / (support[seen] + claimed[seen])))


def label_codes(actual, predictions: dict) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
    """The true labels and each model's predictions as ids of one shared label list."""
    codes, uniques = pd.factorize(
        np.concatenate([np.asarray(actual), *map(np.asarray, predictions.values())])
    )
    n = len(actual)
    coded = {name: codes[n * (i + 1) : n * (i + 2)] for i, name in enumerate(predictions)}
    return codes[:n], coded, len(uniques)


def bootstrap_macro_f1(
    actual: np.ndarray, predictions: dict[str, np.ndarray], samples: int, seed: int
) -> pd.DataFrame:
    """One row per resample of the rows (drawn with replacement, the same for every model),
    one column per model: its macro-F1 on that resample."""
    return resampled_scores(*label_codes(actual, predictions), samples, seed)


def resampled_scores(
    truth: np.ndarray, coded: dict[str, np.ndarray], n_labels: int, samples: int, seed: int
) -> pd.DataFrame:
    """bootstrap_macro_f1 on labels already coded by `label_codes`."""
    rng, rows = np.random.default_rng(seed), []
    for _ in range(samples):
        weights = np.bincount(rng.integers(0, len(truth), len(truth)), minlength=len(truth))
        weights = weights.astype(float)
        rows.append(
            {name: macro_f1_from_counts(truth, p, weights, n_labels) for name, p in coded.items()}
        )
    return pd.DataFrame(rows, columns=list(coded))


def percentile_interval(values, level: float) -> tuple[float, float]:
    """The central `level` share of `values`: (lower, upper)."""
    tail = (1 - level) / 2
    low, high = np.quantile(np.asarray(values, dtype=float), [tail, 1 - tail])
    return float(low), float(high)


def interval_report(
    actual: np.ndarray,
    predictions: dict[str, np.ndarray],
    reference: str,
    samples: int,
    level: float,
    seed: int,
) -> dict[str, dict]:
    """Per model: the interval of its macro-F1 and, paired on the same resamples, its
    macro-F1 minus the `reference` model's (point value and interval)."""
    truth, coded, n_labels = label_codes(actual, predictions)
    ones = np.ones(len(truth))
    point = {name: macro_f1_from_counts(truth, p, ones, n_labels) for name, p in coded.items()}
    scores = resampled_scores(truth, coded, n_labels, samples, seed)
    report = {}
    for name in predictions:
        low, high = percentile_interval(scores[name], level)
        report[name] = {"macro_f1_low": low, "macro_f1_high": high}
        if name != reference:
            low, high = percentile_interval(scores[name] - scores[reference], level)
            report[name].update(
                minus_baseline=point[name] - point[reference],
                minus_baseline_low=low,
                minus_baseline_high=high,
            )
    return report
