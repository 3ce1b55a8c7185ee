"""`make report`: an experiment against a revision, as markdown with PNG charts, built offline.

The CI comment posts exactly this file (`cml comment create report.md`), so what a reviewer
reads on a pull request can be rebuilt and checked locally with one command.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click

from domain_classifier.data.tables import atomic_dir, atomic_path, read_json
from domain_classifier.errors import InputError
from domain_classifier.evaluation.selection import REFERENCE  # the row a candidate must beat
from domain_classifier.tools.offline_plots import plot_specs, png_bytes, write_offline_html

CHAMPION = Path("metrics/champion.json")
EVALUATION = Path("metrics/evaluate.json")  # {family: {val: {macro_f1, ...}, test: {...}}}
HTML_NAME = "plots.html"
FOLD_ROWS = 30  # a longer table goes in a <details> fold, so the charts stay in view
# Metrics a reviewer decides on, kept out of the fold: the columns `make experiments` shows.
HEADLINE = re.compile(r"family|val_macro_f1|test_macro_f1|test_minus_baseline|test_ece")


@dataclass(frozen=True)
class Report:
    markdown: Path
    images: list[Path]
    html: Path


def dvc_diff(kind: str, rev: str, root: Path | str = ".") -> str:
    """`dvc metrics|params diff <rev> --md`: the changed rows as a table, or '' if none changed."""
    done = subprocess.run(
        [sys.executable, "-m", "dvc", kind, "diff", rev, "--md"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        errors = [
            line.removeprefix("ERROR: ")
            for line in done.stderr.splitlines()
            if line.startswith("ERROR: ")
        ]
        raise InputError(errors[-1] if errors else f"dvc {kind} diff {rev} failed")
    rows = [line for line in done.stdout.splitlines() if line.startswith("|")]
    return "\n".join(rows) if len(rows) > 2 else ""  # header and rule only: nothing changed


def champion_line(champion: dict) -> str:
    return (
        f"**Champion: `{champion['family']}`**: validation macro-F1 "
        f"{champion['val_macro_f1']:.4f}, test macro-F1 {champion['test_macro_f1']:.4f}, "
        f"test ECE {champion['test_ece']:.4f}"
    )


def read_at(rev: str, path: Path, root: Path | str = ".") -> dict | None:
    """A JSON file as `rev` has it (any revision DVC accepts), or None where it has none."""
    import dvc.api
    from dvc.exceptions import DvcException

    try:
        return json.loads(dvc.api.read(path.as_posix(), repo=str(root), rev=rev))
    except (DvcException, FileNotFoundError, ValueError):
        return None


def _scores(evaluation: dict | None) -> dict[str, tuple[float, float]]:
    """{family: (val macro-F1, test macro-F1)} of an evaluate.json, {} for None."""
    return {
        family: (result["val"]["macro_f1"], result["test"]["macro_f1"])
        for family, result in (evaluation or {}).items()
    }


def score_table(
    rev: str,
    evaluation: dict,
    champion: dict,
    before: dict | None = None,
    before_champion: dict | None = None,
) -> str:
    """Every candidate's val and test macro-F1, best on validation first, the champion in bold
    and the baseline marked, with the change from `rev`'s `before` scores (None: `rev` has none)
    where any moved: the numbers that decide, shown whether or not a metric changed."""
    name = champion.get("family")
    now, then = _scores(evaluation), _scores(before)
    moved = before is not None and (
        set(now) != set(then)
        or any(round(a, 4) != round(b, 4) for f in now for a, b in zip(now[f], then[f]))
    )
    header = "| model | val macro-F1 | test macro-F1 |"
    rule = "|:--|--:|--:|"
    if moved:
        header += f" val vs `{rev}` | test vs `{rev}` |"
        rule += "--:|--:|"
    rows = [header, rule]
    for family in sorted(now, key=lambda f: -now[f][0]):
        label = f"`{family}`"
        if family == name:
            label = f"**`{family}` (champion)**"
        elif family == REFERENCE:
            label += " (reference: TF-IDF + LinearSVC)"
        cells = [label, *(f"{score:.4f}" for score in now[family])]
        if moved:
            cells += [
                f"{a - b:+.4f}" if family in then else "new"
                for a, b in zip(now[family], then.get(family, now[family]))
            ]
        rows.append("| " + " | ".join(cells) + " |")
    notes = []
    if name == REFERENCE:
        notes.append("The champion is the baseline: no candidate beat it on validation.")
    elif name in now and REFERENCE in now:
        val = now[name][0] - now[REFERENCE][0]
        line = f"Champion minus baseline: val {val:+.4f}"
        test = evaluation[name]["test"]
        if "minus_baseline" in test:
            line += (
                f", test {test['minus_baseline']:+.4f} (paired bootstrap interval "
                f"{test['minus_baseline_low']:+.4f} to {test['minus_baseline_high']:+.4f})"
            )
        notes.append(line + ".")
        if val <= 0:
            notes.append(f"**`{name}` is not above the baseline on validation.**")
    was = (before_champion or {}).get("family")
    if was and was != name:
        notes.append(f"Champion at `{rev}`: `{was}`.")
    if before is None:
        notes.append(f"`{rev}` has no `{EVALUATION.as_posix()}` to compare with.")
    elif not moved:
        notes.append(f"Same scores at `{rev}`.")
    return "\n".join(rows) + "\n\n" + " ".join(notes)


def folded(chart: str, champion_family: str) -> bool:
    """Fold the other families' confusion matrices: twenty matrices would bury the other charts."""
    if "confusion" not in chart.lower():
        return False
    return re.search(rf"(?<![a-z]){re.escape(champion_family)}(?![a-z])", chart) is None


def anchor(heading: str) -> str:
    """The id GitHub gives a markdown heading: lower case, punctuation dropped, spaces '-'."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def image_name(index: int, chart: str) -> str:
    return f"{index:02d}-{re.sub(r'[^a-z0-9]+', '-', chart.lower()).strip('-')[:60]}.png"


def headline(table: str) -> str:
    """The rows of a `dvc metrics diff --md` table whose metric matches HEADLINE, or ''."""
    lines = table.splitlines()
    rows = [line for line in lines[2:] if HEADLINE.fullmatch(line.split("|")[2].strip())]
    return "\n".join(lines[:2] + rows) if rows else ""


def _section(table: str, what: str, summary: str = "") -> str:
    """A diff table, or a note that nothing changed; a long one folded below `summary`."""
    if not table:
        return f"_No {what} changed._"
    rows = table.count("\n") - 1
    if rows <= FOLD_ROWS:
        return table
    return (
        f"{summary}\n\n" if summary else ""
    ) + f"<details><summary>All {rows} changed {what}</summary>\n\n{table}\n\n</details>"


def report_markdown(
    rev: str,
    champion: dict,
    metrics: str,
    params: str,
    images: list[tuple[str, str]],
    html: str,
    scores: str = "",
) -> str:
    """The report's text; `images` are (chart title, path relative to the report) in order;
    `scores` the score table (score_table), shown first."""
    # A heading per chart gives the contents list its anchors (and keeps images apart).
    shown = [
        f"#### {title}\n\n![{title}]({path})\n"
        for title, path in images
        if not folded(title, champion["family"])
    ]
    contents = [
        f"- [{title}](#{anchor(title)})"
        for title, _ in images
        if not folded(title, champion["family"])
    ]
    hidden = [
        f"![{title}]({path})\n" for title, path in images if folded(title, champion["family"])
    ]
    lines = [
        f"## Experiment review: workspace vs `{rev}`",
        "",
        champion_line(champion),
        "",
        *([scores, ""] if scores else []),
        "Contents: [Metrics](#metrics) · [Params](#params) · [Plots](#plots)",
        "",
        *contents,
        "",
        "### Metrics",
        "",
        _section(metrics, "metrics", headline(metrics)),
        "",
        "### Params",
        "",
        _section(params, "params"),
        "",
        "### Plots",
        "",
        f"`{rev}` and workspace.",
        "",
        *shown,
    ]
    if hidden:
        lines += [
            f"<details><summary>Confusion matrices of the other families ({len(hidden)})</summary>",
            "",
            *hidden,
            "</details>",
            "",
        ]
    lines.append(f"Every chart, interactive and viewable offline: `{html}`")
    return "\n".join(lines) + "\n"


def build_report(
    rev: str = "main",
    out: Path | str = "report.md",
    images_dir: Path | str | None = None,
    root: Path | str = ".",
) -> Report:
    """Write `out` and, in `images_dir` (default: `out` without .md), its PNGs and the HTML page.

    `root` is the DVC project; `rev` any revision DVC accepts (branch, commit, experiment).
    """
    out = Path(out)
    if out.suffix != ".md":
        raise InputError(f"{out}: the report must be a .md file")
    images_dir = Path(images_dir) if images_dir else out.with_suffix("")
    # The folder is replaced whole: never one that an earlier report did not write.
    if (
        images_dir.exists()
        and not (images_dir / HTML_NAME).is_file()
        and (not images_dir.is_dir() or any(images_dir.iterdir()))
    ):
        raise InputError(f"{images_dir}: exists and is not a report folder; choose --images")
    metrics = dvc_diff("metrics", rev, root)  # first: it also rejects an unknown revision
    params = dvc_diff("params", rev, root)
    champion = read_json(Path(root) / CHAMPION)
    scores = score_table(
        rev,
        read_json(Path(root) / EVALUATION),
        champion,
        read_at(rev, EVALUATION, root),
        read_at(rev, CHAMPION, root),
    )
    specs = plot_specs(rev, root)
    names = [image_name(i, title) for i, title in enumerate(specs, 1)]
    with atomic_dir(images_dir) as tmp:
        for name, spec in zip(names, specs.values()):
            (tmp / name).write_bytes(png_bytes(spec))
        write_offline_html(specs, tmp / HTML_NAME, f"Plots: workspace vs {rev}")
    relative = Path(os.path.relpath(images_dir.resolve(), out.resolve().parent))
    text = report_markdown(
        rev,
        champion,
        metrics,
        params,
        [(t, (relative / n).as_posix()) for t, n in zip(specs, names)],
        (relative / HTML_NAME).as_posix(),
        scores,
    )
    with atomic_path(out) as tmp_md:
        tmp_md.write_text(text, encoding="utf-8")
    return Report(out, [images_dir / name for name in names], images_dir / HTML_NAME)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--rev",
    default="main",
    show_default=True,
    help="Revision (branch, commit, experiment) to compare the workspace with.",
)
@click.option(
    "--out",
    default="report.md",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Markdown report to write.",
)
@click.option(
    "--images",
    "images_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the PNGs and plots.html  [default: --out without .md]",
)
def main(rev: str, out: Path, images_dir: Path | None) -> None:
    """Metrics and params diff against REV, the champion and every DVC plot, offline."""
    started = time.perf_counter()
    try:
        report = build_report(rev, out, images_dir)
    except InputError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{report.markdown}: {len(report.images)} charts in {report.html.parent}/, "
        f"offline page {report.html} ({time.perf_counter() - started:.0f} s)"
    )


if __name__ == "__main__":
    main()
