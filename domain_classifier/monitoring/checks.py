"""Drift checks of a scored batch against the training reference, and the retraining verdict."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd
from scipy import stats

from domain_classifier.data.schema import TITLE
from domain_classifier.models.saved import TitleModel
from domain_classifier.monitoring import statistics as drift
from domain_classifier.monitoring.batch import BatchSummary, check_batch, summarize_batch
from domain_classifier.monitoring.estimate import Estimate, estimate
from domain_classifier.monitoring.params import MonitorParams, ReferencePaths
from domain_classifier.monitoring.reference import LENGTH_BIN, Reference, build_reference

log = logging.getLogger(__name__)

KINDS = ("data", "output", "performance", "concept")
NGRAM_BUCKETS = 2**12
NGRAMS = {"token": ("word", (1, 1)), "char_ngram": ("char_wb", (3, 3))}

# A check flags drift only when its effect size passes a threshold (a param) *and* the
# difference is beyond noise (a p-value or a bootstrap interval): effect sizes alone
# false-alarm on small batches, p-values alone flag everything on a million rows.


@dataclasses.dataclass
class Check:
    name: str
    kind: str
    value: float
    threshold: float
    drift: bool
    message: str
    details: dict = dataclasses.field(default_factory=dict)


def data_checks(ref: Reference, batch: BatchSummary, params: MonitorParams) -> list[Check]:
    """Title lengths, tokens the training vocabulary never saw, word and character n-gram
    distributions, and a classifier trained to tell batch titles from training titles."""
    checks = [_length_check(ref, batch, params), _unseen_token_check(ref, batch, params)]
    sample, ref_sample = batch.sample.values(), ref.titles
    for name, (analyzer, ngram_range) in NGRAMS.items():
        checks.append(_divergence_check(name, analyzer, ngram_range, ref_sample, sample, params))
    auc, p = drift.classifier_test(ref_sample, sample, params.classifier_folds, params.seed)
    checks.append(
        Check(
            "classifier_auc",
            "data",
            auc,
            params.max_classifier_auc,
            auc > params.max_classifier_auc and p < params.p_value,
            f"a classifier tells batch titles from training titles with ROC AUC {auc:.3f} "
            f"(threshold {params.max_classifier_auc}, p={p:.2g})",
            {"p_value": p, "titles_per_side": min(len(ref_sample), len(sample))},
        )
    )
    return checks


def _length_check(ref: Reference, batch: BatchSummary, params: MonitorParams) -> Check:
    value = drift.psi(ref.lengths, batch.lengths)
    _, p = drift.chi_square(ref.lengths, batch.lengths)
    return Check(
        "title_length_psi",
        "data",
        value,
        params.max_length_psi,
        value > params.max_length_psi and p < params.p_value,
        f"title length distribution PSI {value:.3f} (threshold {params.max_length_psi}, p={p:.2g})",
        {
            "p_value": p,
            "mean_length": _mean_length(batch.lengths),
            "reference_mean_length": _mean_length(ref.lengths),
        },
    )


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
    p = drift.proportion_increase_p(ref_unseen, ref_total, batch.unseen_tokens, batch.total_tokens)
    increase = share - reference
    return Check(
        "unseen_token_share",
        "data",
        increase,
        params.max_unseen_token_increase,
        increase > params.max_unseen_token_increase and p < params.p_value,
        f"{share:.1%} of tokens are not in the training vocabulary, against "
        f"{reference:.1%} on the validation split (increase threshold "
        f"{params.max_unseen_token_increase:.0%}, p={p:.2g})",
        {"share": share, "reference_share": reference, "p_value": p},
    )


def _divergence_check(
    name, analyzer, ngram_range, ref_sample, sample, params: MonitorParams
) -> Check:
    shift = drift.ngram_shift(
        ref_sample, sample, analyzer, ngram_range, NGRAM_BUCKETS, params.permutations, params.seed
    )
    value, p = shift["corrected"], shift["p_value"]
    label = "token" if name == "token" else "character 3-gram"
    return Check(
        f"{name}_js_distance",
        "data",
        value,
        params.max_ngram_js,
        value > params.max_ngram_js and p < params.p_value,
        f"{label} distribution Jensen-Shannon distance {value:.3f} after removing "
        f"the part sampling alone gives (raw {shift['distance']:.3f}; threshold "
        f"{params.max_ngram_js}, permutation p={p:.2g})",
        {"raw_distance": shift["distance"], "p_value": p},
    )


def output_checks(ref: Reference, batch: BatchSummary, params: MonitorParams) -> list[Check]:
    """The predicted-domain mix and the share of low-confidence predictions, against the
    champion's predictions on the validation split."""
    _, p = drift.chi_square(ref.val_predicted, batch.predicted)
    psi = drift.psi(ref.val_predicted, batch.predicted)
    js = drift.js_distance(ref.val_predicted, batch.predicted)
    mix = "predicted-domain distribution against the champion's validation predictions"
    checks = [
        Check(
            "predicted_domain_psi",
            "output",
            psi,
            params.max_domain_psi,
            psi > params.max_domain_psi and p < params.p_value,
            f"{mix}: PSI {psi:.3f} (threshold {params.max_domain_psi}, chi-square p={p:.2g})",
            {"p_value": p},
        ),
        Check(
            "predicted_domain_js",
            "output",
            js,
            params.max_domain_js,
            js > params.max_domain_js and p < params.p_value,
            f"{mix}: Jensen-Shannon distance {js:.3f} (threshold {params.max_domain_js}, "
            f"chi-square p={p:.2g})",
            {"p_value": p},
        ),
    ]
    return checks + [_low_confidence_check(ref, batch, params)]


def _low_confidence_check(ref: Reference, batch: BatchSummary, params: MonitorParams) -> Check:
    ref_low, ref_n = ref.val_low
    share, reference = batch.low / batch.scored, ref_low / max(ref_n, 1)
    p = drift.proportion_increase_p(ref_low, ref_n, batch.low, batch.scored)
    increase = share - reference
    return Check(
        "low_confidence_share",
        "output",
        increase,
        params.max_low_confidence_increase,
        increase > params.max_low_confidence_increase and p < params.p_value,
        f"{share:.1%} of predictions have probability below {params.low_confidence}, "
        f"against {reference:.1%} on the validation split (increase threshold "
        f"{params.max_low_confidence_increase:.0%}, p={p:.2g})",
        {
            "share": share,
            "reference_share": reference,
            "p_value": p,
            "confidence_psi": drift.psi(ref.val_confidence, batch.confidence),
        },
    )


def concept_checks(
    ref: Reference, batch: BatchSummary, params: MonitorParams
) -> tuple[list[Check], pd.DataFrame | None]:
    """Unseen domains in the labels, then performance on the domains the batch has.

    Only domains with enough labelled rows in the batch (and in the test split) are
    compared, each against its own test figure, and the overall figure weighs per-domain
    recall by the reference's domain shares on both sides: a batch that only changes its
    mix of domains (a campaign, a new seller) scores as the reference does. That is output
    drift, not a change in how titles relate to domains.
    """
    checks = [_unseen_label_check(batch, params)]
    if batch.confusion.sum() == 0:
        return checks, None
    present = (batch.confusion.sum(axis=1) >= params.min_domain_support) & (
        ref.test_confusion.sum(axis=1) >= params.min_domain_support
    )
    if not present.any():
        return checks + [_too_few_rows_check(params)], _per_domain_table(
            ref, batch, present, None, params
        )
    # Per-domain intervals are widened (Bonferroni) so that, over the domains compared, an
    # unshifted batch shows a spurious drop no more often than the overall interval does.
    levels = (params.confidence_level, 1 - (1 - params.confidence_level) / present.sum())
    change = drift.prior_corrected_change(
        batch.confusion,
        ref.test_confusion,
        present,
        ref.prior,
        params.bootstrap_samples,
        levels,
        params.seed,
    )
    checks.append(_accuracy_change_check(change, int(present.sum()), params))
    table = _per_domain_table(ref, batch, present, change, params)
    dropped = table[table["dropped"]]
    names = ", ".join(f"{r.domain} ({r.change:+.2f})" for r in dropped.itertuples())
    checks.append(
        Check(
            "domain_f1_drops",
            "concept",
            len(dropped),
            0,
            bool(len(dropped)),
            f"F1 fell beyond noise for {len(dropped)} of the {present.sum()} domain(s) "
            f"compared: {names or 'none'} (drop threshold {params.min_domain_f1_drop}, "
            f"support >= {params.min_domain_support} in the batch and in the test split, "
            "both sides weighted to the reference's domain mix)",
            {"domains": dict(zip(dropped["domain"], dropped["change"]))},
        )
    )
    return checks, table


def _accuracy_change_check(change: dict, domains: int, params: MonitorParams) -> Check:
    value = change["accuracy"] - change["baseline_accuracy"]
    low, high = change["accuracy_interval"]
    return Check(
        "prior_corrected_accuracy_change",
        "concept",
        value,
        -params.min_accuracy_drop,
        value < -params.min_accuracy_drop and high < 0,
        f"accuracy at the reference's domain mix, over the {domains} domain(s) with >= "
        f"{params.min_domain_support} labelled rows: {change['accuracy']:.3f} against "
        f"{change['baseline_accuracy']:.3f} on the test split: change {value:+.3f}, "
        f"{params.confidence_level:.0%} interval [{low:+.3f}, {high:+.3f}] "
        f"(drop threshold {params.min_accuracy_drop})",
        {
            "accuracy": change["accuracy"],
            "baseline_accuracy": change["baseline_accuracy"],
            "ci_low": low,
            "ci_high": high,
            "domains": domains,
        },
    )


def _too_few_rows_check(params: MonitorParams) -> Check:
    return Check(
        "prior_corrected_accuracy_change",
        "concept",
        0.0,
        -params.min_accuracy_drop,
        False,
        f"not compared: no domain has >= {params.min_domain_support} labelled rows in the "
        "batch and in the test split",
        {"domains": 0},
    )


def _unseen_label_check(batch: BatchSummary, params: MonitorParams) -> Check:
    unseen = sum(batch.unseen_labels.values())
    share = unseen / batch.labelled
    listed = ", ".join(
        f"{d} ({n})"
        for d, n in sorted(batch.unseen_labels.items(), key=lambda x: (-x[1], x[0]))[:5]
    )
    more = len(batch.unseen_labels) - 5
    listed += f" and {more} more" if more > 0 else ""
    return Check(
        "unseen_label_share",
        "concept",
        share,
        params.max_unseen_label_share,
        share > params.max_unseen_label_share,
        f"{share:.1%} of labelled rows ({unseen} of {batch.labelled}) carry domains the "
        f"model never saw: {listed or 'none'} (threshold "
        f"{params.max_unseen_label_share:.0%})",
        {"rows": unseen, "domains": dict(sorted(batch.unseen_labels.items()))},
    )


def _per_domain_table(
    ref: Reference,
    batch: BatchSummary,
    present: np.ndarray,
    change: dict | None,
    params: MonitorParams,
) -> pd.DataFrame:
    support, base_support = batch.confusion.sum(axis=1), ref.test_confusion.sum(axis=1)
    table = pd.DataFrame(
        {
            "domain": ref.labels,
            "support": support,
            "baseline_support": base_support,
            "compared": present,
            "recall": np.diag(batch.confusion) / np.maximum(support, 1),
            "baseline_recall": np.diag(ref.test_confusion) / np.maximum(base_support, 1),
        }
    )
    for column in ("baseline_f1", "f1", "change", "ci_low", "ci_high"):
        table[column] = np.nan
    if change is not None:
        table.loc[present, "baseline_f1"] = change["baseline_f1"]
        table.loc[present, "f1"] = change["f1"]
        table.loc[present, "change"] = change["f1"] - change["baseline_f1"]
        table.loc[present, ["ci_low", "ci_high"]] = change["f1_intervals"]
    table["dropped"] = (
        table["compared"] & (table["change"] < -params.min_domain_f1_drop) & (table["ci_high"] < 0)
    )
    few = f"fewer than {params.min_domain_support} labelled rows in the"
    table["not_compared"] = np.where(
        present,
        "",
        np.where(support < params.min_domain_support, f"{few} batch", f"{few} test split"),
    )
    return table[table["support"] > 0].reset_index(drop=True)


@dataclasses.dataclass
class Performance:
    """The batch's accuracy and macro-F1: estimated from confidence, real where labelled.

    Macro-F1 averages the domains with min_domain_support rows (by the estimated mix for
    the estimate), never domains the batch lacks; its baseline is the test split's F1
    over the same domains.
    """

    estimate: Estimate
    accuracy_interval: tuple[float, float]
    macro_f1_interval: tuple[float, float] | None
    baseline_accuracy: float
    baseline_macro_f1: float | None
    real_accuracy: float | None = None
    real_macro_f1: float | None = None
    labelled_rows: int = 0


def performance(ref: Reference, batch: BatchSummary, params: MonitorParams) -> Performance:
    est = estimate(
        batch.outputs.array(),
        batch.scored,
        ref.calibration,
        params.min_domain_support,
        params.bootstrap_samples,
        params.seed,
    )
    test_f1 = drift.f1_scores(ref.test_confusion)
    z = stats.norm.ppf((1 + params.confidence_level) / 2)
    result = Performance(
        est,
        (est.accuracy - z * est.accuracy_se, est.accuracy + z * est.accuracy_se),
        None
        if est.macro_f1 is None
        else (est.macro_f1 - z * est.macro_f1_se, est.macro_f1 + z * est.macro_f1_se),
        ref.baseline_accuracy,
        float(test_f1[est.present].mean()) if est.present.any() else None,
    )
    if batch.labelled:
        result.real_accuracy = float(np.trace(batch.confusion) / batch.labelled)
        result.real_macro_f1 = _real_macro_f1(batch, params.min_domain_support)
        result.labelled_rows = batch.labelled
    return result


def _real_macro_f1(batch: BatchSummary, min_support: int) -> float | None:
    """Macro-F1 over the labelled domains with enough rows; unseen ones score 0."""
    c = batch.confusion
    predicted_as = c.sum(axis=0) + batch.unseen_predicted
    f1 = 2 * np.diag(c) / np.maximum(predicted_as + c.sum(axis=1), 1)
    scores = list(f1[c.sum(axis=1) >= min_support])
    scores += [0.0 for n in batch.unseen_labels.values() if n >= min_support]
    return float(np.mean(scores)) if scores else None


def estimated_accuracy_check(ref: Reference, perf: Performance, params: MonitorParams) -> Check:
    """The estimate against the test split, labels or not: they arrive weeks late, and a
    batch should get the same verdict before and after. Only accuracy raises an alarm:
    the macro-F1 estimate was off by up to 0.045 on batches the model handles as well as
    the test split (the demo's language switch), accuracy by 0.015."""
    est, z = perf.estimate, stats.norm.ppf((1 + params.confidence_level) / 2)
    base = perf.baseline_accuracy
    base_se = np.sqrt(base * (1 - base) / max(ref.test_confusion.sum(), 1))
    change, margin = est.accuracy - base, z * np.hypot(est.accuracy_se, base_se)
    low, high = perf.accuracy_interval
    real = (
        f"; real {perf.real_accuracy:.3f} on {perf.labelled_rows} labelled rows"
        if perf.real_accuracy is not None
        else ""
    )
    return Check(
        "estimated_accuracy",
        "performance",
        change,
        -params.min_estimated_drop,
        change < -params.min_estimated_drop and change + margin < 0,
        f"estimated accuracy {est.accuracy:.3f} ({params.confidence_level:.0%} interval "
        f"[{low:.3f}, {high:.3f}]) from the champion's calibrated confidence, against "
        f"{base:.3f} on the test split: change {change:+.3f}, interval "
        f"[{change - margin:+.3f}, {change + margin:+.3f}] (drop threshold "
        f"{params.min_estimated_drop}){real}",
        {"estimate": est.accuracy, "ci_low": low, "ci_high": high, "baseline": base},
    )


@dataclasses.dataclass
class MonitorResult:
    checks: list[Check]
    reference: Reference
    batch: BatchSummary
    per_domain: pd.DataFrame | None
    notes: list[str]
    performance: Performance

    @property
    def retrain_recommended(self) -> bool:
        return any(c.drift for c in self.checks)

    @property
    def reasons(self) -> list[str]:
        return [f"{c.kind} drift ({c.name}): {c.message}" for c in self.checks if c.drift]

    def drift_by_kind(self) -> dict[str, bool]:
        return {kind: any(c.drift for c in self.checks if c.kind == kind) for kind in KINDS}


def run_monitor(
    predictions,
    model: TitleModel,
    paths: ReferencePaths,
    normalizer,
    params: MonitorParams,
    text_column: str = TITLE,
) -> MonitorResult:
    """Build the reference, stream the scored batch, run every check."""
    check_batch(predictions, text_column)
    reference = build_reference(model, paths, normalizer, params)
    batch = summarize_batch(predictions, text_column, reference, normalizer, params)
    return compare(reference, batch, params)


def compare(reference: Reference, batch: BatchSummary, params: MonitorParams) -> MonitorResult:
    checks = data_checks(reference, batch, params) + output_checks(reference, batch, params)
    perf = performance(reference, batch, params)
    checks.append(estimated_accuracy_check(reference, perf, params))
    per_domain, notes = None, _notes(batch, params)
    if batch.labelled:
        concept, per_domain = concept_checks(reference, batch, params)
        checks += concept
    for note in notes:
        log.warning(note)
    return MonitorResult(checks, reference, batch, per_domain, notes, perf)


def _notes(batch: BatchSummary, params: MonitorParams) -> list[str]:
    notes = []
    if batch.blank:
        notes.append(f"{batch.blank} of {batch.rows} titles are null or blank and were left out")
    if not batch.has_labels:
        notes.append(
            f"the batch has no label column '{params.label_column}': concept drift not checked"
        )
    elif not batch.labelled:
        notes.append(f"label column '{params.label_column}' is empty: concept drift not checked")
    elif not batch.confusion.sum():
        notes.append("no labelled row carries a domain the model knows: F1 not computed")
    return notes
