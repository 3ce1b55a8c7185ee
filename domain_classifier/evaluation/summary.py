"""The tables a person reads in a terminal: `make metrics` (one line per candidate, the
champion marked, the champion minus the baseline with its paired bootstrap interval) and
`make experiments` (one line per experiment, within 120 columns)."""

from __future__ import annotations

import json
import subprocess
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
        if (
            mark
            and family != REFERENCE
            and val["macro_f1"] <= evaluation[REFERENCE]["val"]["macro_f1"]
        ):
            mark += ", not above the baseline on validation"
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


SCORES, CHAMPION = "metrics/scores/", "metrics/champion.json"


def experiment_rows(exp_show: list[dict]) -> list[tuple[str, dict]]:
    """(name, metrics by file) for each commit and each experiment of `dvc exp show --json`."""
    rows = []
    for commit in exp_show:
        rev = commit["rev"]
        rows.append(
            (commit["name"] or (rev if rev == "workspace" else rev[:7]), commit["data"]["metrics"])
        )
        for experiment in commit.get("experiments") or []:
            for rev in experiment["revs"]:
                name = rev["name"] or rev["rev"][:7]
                rows.append((f"  {name}", (rev.get("data") or {}).get("metrics", {})))
    return rows


def short(score: float) -> str:
    """A macro-F1 in three decimals without the leading zero: ".896"."""
    text = f"{score:.3f}"
    return text[1:] if text.startswith("0") else text


def experiments_table(rows: list[tuple[str, dict]]) -> str:
    """The champion, its test macro-F1 minus the baseline's, and each candidate's val/test
    macro-F1 (".896/.912"): 114 columns for eight candidates."""
    candidates = sorted(
        {
            path[len(SCORES) : -len(".json")]
            for _, m in rows
            for path in m
            if path.startswith(SCORES)
        }
    )
    candidates = [c for c in candidates if c != REFERENCE] + [REFERENCE] * (REFERENCE in candidates)
    head = f"{'experiment':<16} {'champion':<8} {'test-base':>9}"
    lines = [head + "".join(f" {name[:9]:>9}" for name in candidates)]
    lines.append(" " * len(head) + "".join(f" {'val/test':>9}" for _ in candidates))
    for name, metrics in rows:
        champion = metrics.get(CHAMPION, {}).get("data", {})
        family = champion.get("family", "-")
        diff = champion.get("test_minus_baseline")
        cells = [f"{name[:16]:<16} {family[:8]:<8} {'-' if diff is None else f'{diff:+.4f}':>9}"]
        for candidate in candidates:
            scores = metrics.get(f"{SCORES}{candidate}.json", {}).get("data", {})
            cell = "-"
            if "val_macro_f1" in scores:
                cell = f"{short(scores['val_macro_f1'])}/{short(scores['test_macro_f1'])}"
            cells.append(f"{cell:>9}")
        lines.append(" ".join(cells))
    return "\n".join(lines)


def experiments(dvc_args: list[str]) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "dvc", "exp", "show", "--json", *dvc_args],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        print(done.stderr.strip() or "dvc exp show failed", file=sys.stderr)
        return done.returncode
    print(experiments_table(experiment_rows(json.loads(done.stdout))))
    return 0


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
    if sys.argv[1:2] == ["experiments"]:
        sys.exit(experiments(sys.argv[2:]))
    sys.exit(main())
