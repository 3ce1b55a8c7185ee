"""Print the metrics table that `make run` ends with: one line per candidate, the champion
marked, and the champion minus the baseline with its paired bootstrap interval."""

from __future__ import annotations

import sys
from pathlib import Path

from domain_classifier.data.tables import read_json
from domain_classifier.errors import InputError
from domain_classifier.evaluation.selection import REFERENCE


def metrics_table(evaluation: dict, champion: dict) -> str:
    header = (
        f"{'model':<8} {'val macro-F1':>12} {'val acc':>8} {'test macro-F1':>13} {'test acc':>8}"
    )
    lines = [header, "-" * len(header)]
    for family, result in evaluation.items():
        val, test = result["val"], result["test"]
        mark = "  <- champion" if family == champion.get("family") else ""
        if family == REFERENCE:
            mark += "  (reference: TF-IDF + LinearSVC C=1)"
        lines.append(
            f"{family:<8} {val['macro_f1']:>12.4f} {val['accuracy']:>8.4f} "
            f"{test['macro_f1']:>13.4f} {test['accuracy']:>8.4f}{mark}"
        )
    return "\n".join([*lines, "", difference_line(evaluation, champion)])


def difference_line(evaluation: dict, champion: dict) -> str:
    """Champion minus baseline on val, and on test with its paired bootstrap interval."""
    family = champion.get("family")
    if family == REFERENCE:
        return "champion is the baseline: no candidate beat it on validation"
    val, test = evaluation[family]["val"], evaluation[family]["test"]
    if "minus_baseline" not in test:
        return "champion minus baseline: not measured (rerun evaluate)"
    return (
        f"champion minus baseline: val {val['minus_baseline']:+.4f}, test "
        f"{test['minus_baseline']:+.4f}, its paired bootstrap interval (evaluate."
        f"confidence_level) {test['minus_baseline_low']:+.4f} to {test['minus_baseline_high']:+.4f}"
    )


def main(metrics_dir: str = "metrics") -> int:
    try:
        evaluation = read_json(Path(metrics_dir) / "evaluate.json")
        champion = read_json(Path(metrics_dir) / "champion.json")
    except InputError as exc:
        print(f"error: {exc} (run `make run` first)", file=sys.stderr)
        return 1
    print(metrics_table(evaluation, champion))
    return 0


if __name__ == "__main__":
    sys.exit(main())
