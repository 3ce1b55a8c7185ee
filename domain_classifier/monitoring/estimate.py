"""Performance without labels: confidence-based performance estimation, as NannyML's CBPE.

The champion's top probability is calibrated on the validation split (isotonic regression
of "the prediction was right" on that probability). Each scored row then gets a
distribution over domains: the calibrated probability for its predicted domain, the rest
spread over the model's runner-up domains (predict's top2_, top3_... columns) and any
remainder as the predicted domain's validation errors were spread. Expected confusion
counts, hence accuracy and per-domain F1, follow.

Macro-F1 averages the domains the batch has. Which ones it has is not read off these
expected counts (a batch of one domain would be "expected" to hold some of every other)
but from the batch's domain mix fitted by maximum likelihood (EM, Saerens et al. 2002).
The counts themselves are not re-weighted to that mix: that over-corrected a reversed
Zipf mix by 0.08 accuracy on the demo, against 0.01 without.

The estimate holds while P(domain | title) holds and titles stay where the model was
trained: it cannot see concept drift, and new brands or unseen domains mislead it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import sparse
from sklearn.isotonic import IsotonicRegression

from domain_classifier.monitoring import statistics as drift

EM_ITERATIONS, EM_TOLERANCE = 500, 1e-7
REPLICATE_BLOCK = 50  # Monte Carlo replicates drawn at once: memory stays a block x rows
# Only a standard error is taken from the replicates, which 200 give to within 5%; more
# cost seconds on a 20,000-row sample (measured: 3 s for 1000).
MAX_REPLICATES = 200
# The estimate holds a (rows, domains) matrix, a few copies at once: cap its cells so that
# memory does not grow with the number of domains either (64 MiB each).
MAX_CELLS = 2**23


def sample_rows(requested: int, domains: int) -> int:
    return max(1, min(requested, MAX_CELLS // max(domains, 1)))


@dataclasses.dataclass
class Calibration:
    thresholds: np.ndarray  # isotonic step function: top probability -> P(correct)
    values: np.ndarray
    error_shares: np.ndarray  # (predicted, true): where validation errors went, rows sum to 1
    prior: np.ndarray  # validation domain shares: the mix the calibrated figures assume
    rows: int
    accuracy: float

    def correct(self, proba: np.ndarray) -> np.ndarray:
        # Linear between thresholds and clipped at the ends, as IsotonicRegression.predict.
        return np.interp(proba, self.thresholds, self.values)

    def distributions(self, pred, proba, runners_up) -> np.ndarray:
        """(rows, domains) probabilities of each row's true domain."""
        n, k = len(pred), len(self.prior)
        named = np.zeros((n, k))
        rows = np.arange(n)
        for codes, probs in runners_up:
            ok = (codes >= 0) & (codes != pred) & np.isfinite(probs)
            named[rows[ok], codes[ok]] = probs[ok]
        rest = self.error_shares[pred] * (named == 0)
        rest = _normalised(rest) * np.clip(1 - proba - named.sum(axis=1), 0, None)[:, None]
        # A row whose model left no mass elsewhere falls back on the validation errors.
        wrong = _normalised(named + rest, fallback=self.error_shares[pred])
        correct = self.correct(proba)
        wrong *= (1 - correct)[:, None]
        wrong[rows, pred] = correct
        return wrong


def _normalised(matrix: np.ndarray, fallback: np.ndarray | None = None) -> np.ndarray:
    total = matrix.sum(axis=1, keepdims=True)
    out = np.divide(matrix, total, np.zeros_like(matrix), where=total > 0)
    return out if fallback is None else np.where(total > 0, out, fallback)


def fit_calibration(true: np.ndarray, pred: np.ndarray, proba: np.ndarray, k: int) -> Calibration:
    """Calibrate on held-out rows with known labels; never on the batch being judged.

    One calibration for all domains, not one per domain as CBPE does: a per-domain fit
    learns the validation split's domain mix (a domain's precision depends on the mix)
    and was further off under a change of mix (measured on the demo's shifts).
    """
    correct = (true == pred).astype(np.float64)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(proba, correct)
    prior = drift.shares(np.bincount(true, minlength=k))
    errors = np.zeros((k, k))
    np.add.at(errors, (pred, true), 1 - correct)
    # A domain never wrongly predicted on validation spreads its errors like the prior.
    errors = _normalised(errors, fallback=_normalised(np.tile(prior, (k, 1)) * (1 - np.eye(k))))
    return Calibration(
        iso.X_thresholds_,
        iso.y_thresholds_,
        errors,
        prior,
        len(true),
        float(correct.mean()) if len(correct) else 0.0,
    )


def batch_mix(distributions: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """The batch's domain shares, by maximum likelihood (EM, Saerens et al. 2002)."""
    base, shares = np.maximum(prior, 1e-12), prior.copy()
    for _ in range(EM_ITERATIONS):
        new = _normalised(distributions * (shares / base)).mean(axis=0)
        if np.abs(new - shares).max() < EM_TOLERANCE:
            return new
        shares = new
    return shares


@dataclasses.dataclass
class Estimate:
    accuracy: float
    accuracy_se: float
    shares: np.ndarray  # estimated domain mix of the batch
    f1: np.ndarray  # per domain
    present: np.ndarray  # domains the estimated mix gives min_domain_support rows
    macro_f1: float | None  # over present domains; None when no domain has enough rows
    macro_f1_se: float | None
    sampled_rows: int


def estimate(
    outputs: np.ndarray,
    rows: int,
    calibration: Calibration,
    min_support: int,
    samples: int,
    seed: int,
) -> Estimate:
    """Estimate from a uniform sample of the batch's outputs (see `pack_outputs`)."""
    pred, proba, runners_up = unpack_outputs(outputs)
    dist = calibration.distributions(pred, proba, runners_up)
    shares = batch_mix(dist, calibration.prior)
    correct = dist[np.arange(len(pred)), pred]
    k = len(shares)
    predicted = np.bincount(pred, minlength=k)
    f1 = _f1(np.bincount(pred, weights=correct, minlength=k), predicted, dist.sum(axis=0))
    present = shares * rows >= min_support
    accuracy, macro = _replicates(pred, correct, dist, present, calibration, samples, seed)
    return Estimate(
        float(correct.mean()),
        float(np.std(accuracy)),
        shares,
        f1,
        present,
        float(f1[present].mean()) if present.any() else None,
        float(np.std(macro)) if present.any() else None,
        len(pred),
    )


def _f1(tp, predicted, support) -> np.ndarray:
    denominator = predicted + support  # = 2 tp + fp + fn
    return np.divide(2 * tp, denominator, np.zeros_like(tp, dtype=float), where=denominator > 0)


def _replicates(pred, correct, dist, present, calibration: Calibration, samples: int, seed: int):
    """Monte Carlo of the accuracy and macro-F1 the batch really has.

    Each replicate resamples the sampled rows (Poisson bootstrap), draws whether each
    row's prediction is right, and shifts every row's chance of being right by one draw
    of the calibration's own error (that of the validation accuracy it was fitted on).
    """
    rng, samples = np.random.default_rng(seed), min(samples, MAX_REPLICATES)
    n, k = dist.shape
    onehot = sparse.csr_matrix((np.ones(n), (np.arange(n), pred)), shape=(n, k))
    cal_se = np.sqrt(calibration.accuracy * (1 - calibration.accuracy) / max(calibration.rows, 1))
    accuracy, macro = [], []
    for start in range(0, samples, REPLICATE_BLOCK):
        size = min(REPLICATE_BLOCK, samples - start)
        weights = rng.poisson(1.0, (size, n))
        delta = rng.normal(0.0, cal_se, (size, 1))
        hits = rng.binomial(weights, np.clip(correct + delta, 0, 1))
        tp = np.asarray((onehot.T @ hits.T).T, dtype=float)
        predicted = np.asarray((onehot.T @ weights.T).T, dtype=float)
        accuracy.append(tp.sum(axis=1) / np.maximum(weights.sum(axis=1), 1))
        if present.any():
            f1 = _f1(tp, predicted, weights @ dist)
            macro.append(f1[:, present].mean(axis=1))
    return np.concatenate(accuracy), np.concatenate(macro) if macro else np.zeros(0)


def pack_outputs(pred: np.ndarray, proba: np.ndarray, runners_up) -> np.ndarray:
    """One float row per scored row: predicted code, probability, (code, probability)..."""
    columns = [pred, proba]
    for codes, probs in runners_up:
        columns += [codes, probs]
    return np.column_stack(columns).astype(np.float64)


def unpack_outputs(outputs: np.ndarray):
    pred = outputs[:, 0].astype(np.int64)
    runners_up = [
        (outputs[:, i].astype(np.int64), outputs[:, i + 1]) for i in range(2, outputs.shape[1], 2)
    ]
    return pred, outputs[:, 1], runners_up
