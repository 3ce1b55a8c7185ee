"""Monitor outputs: the DVC metrics and a markdown report with inline SVG plots."""

from __future__ import annotations

import base64
from collections import Counter
from html import escape

import numpy as np

from domain_classifier.data.tables import atomic_path, write_json
from domain_classifier.features.text import tokens
from domain_classifier.monitoring import statistics as drift
from domain_classifier.monitoring.checks import KINDS, MonitorResult
from domain_classifier.monitoring.reference import CONFIDENCE_BINS, LENGTH_BIN


def metrics(result: MonitorResult) -> dict:
    """The DVC metrics: deterministic numbers and the verdict, no timings."""
    batch = result.batch
    return rounded(
        {
            "retrain_recommended": result.retrain_recommended,
            "reasons": result.reasons,
            "drift": result.drift_by_kind(),
            "batch": {
                "rows": batch.rows,
                "blank_titles": batch.blank,
                "scored_rows": batch.scored,
                "labelled_rows": batch.labelled,
                "sampled_titles": len(batch.sample.items),
            },
            "reference": {
                "champion_family": result.reference.family,
                "train_titles": result.reference.train_rows,
                "baseline_test_macro_f1": result.reference.baseline_macro_f1,
                "baseline_test_accuracy": result.reference.baseline_accuracy,
            },
            "performance": performance_figures(result),
            "checks": {
                kind: {
                    c.name: {
                        "value": c.value,
                        "threshold": c.threshold,
                        "drift": c.drift,
                        **c.details,
                    }
                    for c in result.checks
                    if c.kind == kind
                }
                for kind in KINDS
                if any(c.kind == kind for c in result.checks)
            },
        }
    )


def performance_figures(result: MonitorResult) -> dict:
    """Estimated and, where labelled, real accuracy and macro-F1: the headline figures."""
    perf, est = result.performance, result.performance.estimate
    macro = perf.macro_f1_interval or (None, None)
    return {
        "estimated_accuracy": est.accuracy,
        "estimated_accuracy_low": perf.accuracy_interval[0],
        "estimated_accuracy_high": perf.accuracy_interval[1],
        "estimated_macro_f1": est.macro_f1,
        "estimated_macro_f1_low": macro[0],
        "estimated_macro_f1_high": macro[1],
        "estimated_from_rows": est.sampled_rows,
        "real_accuracy": perf.real_accuracy,
        "real_macro_f1": perf.real_macro_f1,
        "labelled_rows": perf.labelled_rows,
        "baseline_accuracy": perf.baseline_accuracy,
        "baseline_macro_f1": perf.baseline_macro_f1,
    }


def rounded(obj):
    """Round floats so the metrics file does not change with the last bits of a platform."""
    if isinstance(obj, dict):
        return {str(k): rounded(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [rounded(v) for v in obj]
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


# The report is read offline and in plain text too: tables stay readable as markdown source,
# and plots are inline SVG images, not files beside the report.


def render_report(result: MonitorResult) -> str:
    verdict = (
        "**Retraining recommended.**"
        if result.retrain_recommended
        else "**No drift beyond the thresholds: retraining not needed.**"
    )
    lines = ["# Drift monitoring report", "", verdict, ""]
    lines += [f"- {reason}" for reason in result.reasons] + [""]
    if result.notes:
        lines += ["Notes:", ""] + [f"- {note}" for note in result.notes] + [""]
    lines += _checks_section(result) + _data_section(result) + _output_section(result)
    lines += _performance_section(result) + _concept_section(result)
    return "\n".join(lines) + "\n"


def _checks_section(result: MonitorResult) -> list[str]:
    batch, ref = result.batch, result.reference
    lines = [
        "## Checks",
        "",
        f"Batch: {batch.rows} rows, {batch.scored} scored, {batch.blank} blank titles, "
        f"{batch.labelled} labelled. Reference: {ref.train_rows} training titles, "
        f"champion `{ref.family}` (test macro-F1 {ref.baseline_macro_f1:.3f}).",
        "",
        "| kind | check | value | threshold | drift | detail |",
        "|---|---|---|---|---|---|",
    ]
    for c in result.checks:
        lines.append(
            f"| {c.kind} | {c.name} | {c.value:.4g} | {c.threshold:.4g} | "
            f"{'**yes**' if c.drift else 'no'} | {c.message} |"
        )
    return lines + [""]


def _data_section(result: MonitorResult) -> list[str]:
    ref, batch = result.reference, result.batch
    used = np.flatnonzero(ref.lengths + batch.lengths)
    bins = [f"{i * LENGTH_BIN}-{i * LENGTH_BIN + LENGTH_BIN - 1}" for i in used]
    lines = [
        "## Data drift",
        "",
        _svg_bars(
            "Title length (characters)",
            bins,
            drift.shares(ref.lengths)[used],
            drift.shares(batch.lengths)[used],
        ),
        "",
    ]
    unseen = Counter(
        tok for title in batch.sample.values() for tok in tokens(title) if tok not in ref.vocabulary
    ).most_common(15)
    if unseen:
        lines += [
            "Most frequent tokens the training vocabulary lacks (in the sampled titles):",
            "",
            "| token | count |",
            "|---|---|",
        ]
        lines += [f"| {tok} | {n} |" for tok, n in unseen] + [""]
    return lines


def _output_section(result: MonitorResult) -> list[str]:
    ref, batch = result.reference, result.batch
    ref_share, cur_share = drift.shares(ref.val_predicted), drift.shares(batch.predicted)
    order = np.argsort(-np.abs(cur_share - ref_share), kind="stable")
    lines = [
        "## Output drift",
        "",
        _svg_bars(
            "Predicted domain share",
            [ref.labels[i] for i in order],
            ref_share[order],
            cur_share[order],
        ),
        "",
        "| predicted domain | validation | batch | change |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {ref.labels[i]} | {ref_share[i]:.1%} | {cur_share[i]:.1%} | "
        f"{(cur_share[i] - ref_share[i]) * 100:+.1f} pp |"
        for i in order
    ]
    edges = [
        f"{i / CONFIDENCE_BINS:.1f}-{(i + 1) / CONFIDENCE_BINS:.1f}" for i in range(CONFIDENCE_BINS)
    ]
    return lines + [
        "",
        _svg_bars(
            "Confidence (top probability)",
            edges,
            drift.shares(ref.val_confidence),
            drift.shares(batch.confidence),
        ),
        "",
    ]


def _performance_section(result: MonitorResult) -> list[str]:
    figures = performance_figures(result)

    def cell(name: str) -> str:
        value = figures[name]
        return "n/a" if value is None else f"{value:.3f}"

    def interval(name: str) -> str:
        low, high = figures[f"{name}_low"], figures[f"{name}_high"]
        return "" if low is None else f" [{low:.3f}, {high:.3f}]"

    return [
        "## Performance",
        "",
        "Estimated from the champion's confidence calibrated on the validation split "
        "(no labels needed; blind to concept drift and optimistic on unseen kinds of titles); "
        "real where the batch has labels. Macro-F1 averages the domains with "
        "enough rows only.",
        "",
        "| figure | estimated | real | test split |",
        "|---|---|---|---|",
        f"| accuracy | {cell('estimated_accuracy')}{interval('estimated_accuracy')} | "
        f"{cell('real_accuracy')} | {cell('baseline_accuracy')} |",
        f"| macro-F1 | {cell('estimated_macro_f1')}{interval('estimated_macro_f1')} | "
        f"{cell('real_macro_f1')} | {cell('baseline_macro_f1')} |",
        "",
    ]


def _concept_section(result: MonitorResult) -> list[str]:
    if result.per_domain is None:
        return [
            "## Concept drift",
            "",
            "Not checked: "
            + (
                "the batch carries no labels of domains the model knows."
                if result.batch.labelled
                else "the batch carries no labels."
            ),
            "",
        ]
    lines = [
        "## Concept drift",
        "",
        "Labelled domains with enough rows in the batch and in the test split are compared, "
        "each against its own test figure; F1 is computed as if both sides had the "
        "reference's mix of those domains, so a change of mix alone moves nothing. The "
        "interval is a bootstrap of the change over batch and test rows.",
        "",
        "| domain | support | test recall | batch recall | test F1 | batch F1 | change | "
        "interval | dropped |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result.per_domain.sort_values(["change", "support"], kind="stable").itertuples():
        cells = [r.domain, str(r.support), f"{r.baseline_recall:.3f}", f"{r.recall:.3f}"]
        if r.compared:
            cells += [f"{r.baseline_f1:.3f}", f"{r.f1:.3f}", f"{r.change:+.3f}"]
            cells += [f"[{r.ci_low:+.3f}, {r.ci_high:+.3f}]", "**yes**" if r.dropped else "no"]
        else:
            cells += ["", "", "", "", f"not compared: {r.not_compared}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def _svg_bars(title: str, categories: list[str], reference, batch) -> str:
    """Grouped horizontal bars (reference grey, batch orange) as a self-contained image."""
    row, left, width = 16, 200, 320
    top = max(float(np.max(reference, initial=0)), float(np.max(batch, initial=0)), 1e-12)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 10}" '
        f'height="{40 + row * len(categories)}" font-family="sans-serif" font-size="11">',
        f'<text x="0" y="12" font-weight="bold">{escape(title)}</text>',
        '<rect x="200" y="20" width="10" height="8" fill="#999"/>'
        '<text x="214" y="28">reference</text>'
        '<rect x="290" y="20" width="10" height="8" fill="#e67e22"/>'
        '<text x="304" y="28">batch</text>',
    ]
    for i, (name, r, b) in enumerate(zip(categories, reference, batch)):
        y = 36 + i * row
        parts.append(
            f'<text x="{left - 4}" y="{y + 11}" text-anchor="end">{escape(name)}</text>'
            f'<rect x="{left}" y="{y + 1}" width="{r / top * width:.1f}" height="6" '
            f'fill="#999"/><rect x="{left}" y="{y + 7}" width="{b / top * width:.1f}" '
            'height="6" fill="#e67e22"/>'
        )
    svg = "".join(parts) + "</svg>"
    return f"![{title}](data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()})"
