"""Benchmark the whole pipeline at marketplace sizes (issue 10): time and memory of each stage.

For each size ROWSxDOMAINS, clones the committed project, applies a params profile
(profiles/scale.yaml) and sets demo.rows and demo.domains, then runs every stage of dvc.yaml
in order with `dvc repro --single-item`, each under `measure()`. Writes per size each stage's
wall time and peak memory, each family's and the baseline's val/test macro-F1, the champion
and issue 10's targets as checks, rewriting --out and --plot after each size (a stopped run
keeps the sizes it finished; sizes already in --out that this run does not redo are kept),
and prints the figures as Markdown tables at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import click
import yaml
from dvc.utils.serialize import modify_yaml

from benchmarks.measure import CommandFailed, measure, stage_env, write_report
from benchmarks.pipeline import stage_names
from benchmarks.quality import quality_row, read_optional
from domain_classifier.errors import InputError
from domain_classifier.tools.profiles import apply_profile

DEFAULT_SIZES = "100000x100,300000x300,1000000x1000"

# Issue 10's targets, for 1M x 1,000 on 2 cores (checked at every size: a smaller size that
# misses one already tells where the largest will).
REPRO_LIMIT_SECONDS = 3600
SGD_LIMIT_SECONDS = 600
STAGE_LIMIT_MIB = 8 * 1024
CHAMPION_SLACK = 0.05
# "At chance": a classifier that ignores the title (one domain for every title, or a guess
# drawn with the domains' shares) scores macro-F1 at most 1 / domains; twice that leaves room
# for noise, and a family that learned anything from titles is far above it.
CHANCE_FACTOR = 2

NOTE = (
    "peak_tree_rss_mib: the stage's process tree including the `dvc repro` process that runs "
    "it. Targets (issue 10, meant for 1M x 1,000 on 2 cores, checked at every size): whole "
    f"repro <= {REPRO_LIMIT_SECONDS} s, train_sgd <= {SGD_LIMIT_SECONDS} s, every stage's peak "
    f"<= {STAGE_LIMIT_MIB} MiB, no family at chance (test macro-F1 <= {CHANCE_FACTOR} / "
    "domains), and the champion's test macro-F1 at the largest size >= the smallest size's "
    f"minus {CHAMPION_SLACK}."
)

# A line that says why a stage failed: the project's own `Error: ...` or an exception's last
# traceback line (`MemoryError`, `ValueError: ...`); dvc's own lines start with `ERROR:`.
ERROR_LINE = re.compile(r"^(\w+\.)*\w*(Error|Exception)\b")


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """`100000x100,300000x300` -> [(100000, 100), (300000, 300)]."""
    sizes = []
    for item in text.split(","):
        rows, sep, domains = item.strip().lower().partition("x")
        try:
            size = (int(rows), int(domains)) if sep else None
        except ValueError:
            size = None
        if size is None or size[0] < 1 or size[1] < 2:
            raise InputError(
                f"--sizes: {item.strip()!r} is not ROWSxDOMAINS with rows >= 1 and "
                "domains >= 2 (e.g. 100000x100)"
            )
        sizes.append(size)
    return sizes


def size_key(rows: int, domains: int) -> str:
    return f"{rows}x{domains}"


def read_profile(path: str, params_file: Path = Path("params.yaml")) -> dict:
    """The profile's sections, checked against params.yaml before any clone is made."""
    try:
        profile = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(profile, dict):
        raise InputError(f"{path}: must be a mapping of params.yaml sections")
    apply_profile(profile, yaml.safe_load(params_file.read_text()), path)
    return profile


def prepare_project(project: Path, profile: dict, where: str, rows: int, domains: int) -> None:
    subprocess.run(["git", "clone", "-q", ".", str(project)], check=True)
    # DVC's round-trip editor, as the profiles tool uses: params.yaml keeps its comments.
    with modify_yaml(project / "params.yaml") as params:
        apply_profile(profile, params, where)
        params["demo"].update(rows=rows, domains=domains)


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    reasons = [line for line in lines if ERROR_LINE.match(line)]
    # Without one (a process killed for memory), dvc's last line names the exit status.
    return (reasons or lines or ["(no output)"])[-1]


def run_stage(project: Path, name: str, env: dict) -> dict:
    """One stage's wall time, peak tree memory and load around it; `error` if it failed."""
    before = loadavg()
    try:
        result, error = measure(["dvc", "repro", "--single-item", name], project, env), None
    except CommandFailed as exc:
        result, error = exc.result, error_line(exc.output)
    figures = {
        "seconds": result["seconds"],
        "peak_tree_rss_mib": result["peak_tree_rss_mib"],
        "loadavg_before": before,
        "loadavg_after": loadavg(),
    }
    return {**figures, "error": error} if error else figures


def run_size(project: Path) -> dict:
    """Every stage in dvc.yaml order, stopping at the first that fails: the stages after it
    read its outputs."""
    env = stage_env()
    stages = {}
    for name in stage_names(project):
        stages[name] = run_stage(project, name, env)
        click.echo(
            f"{name}: {stages[name]['seconds']} s, "
            f"{stages[name]['peak_tree_rss_mib']} MiB{' FAILED' if 'error' in stages[name] else ''}"
        )
        if "error" in stages[name]:
            click.echo(stages[name]["error"])
            break
    return stages


def at_most(value: float, limit: float) -> dict:
    return {"value": value, "limit": limit, "passed": value <= limit}


def size_targets(result: dict) -> dict:
    """Issue 10's per-size targets as checks, with the numbers they compare."""
    stages = result["stages"]
    peak_stage = max(stages, key=lambda name: stages[name]["peak_tree_rss_mib"])
    chance = round(CHANCE_FACTOR / result["domains"], 4)
    tests = {name: f1["test"] for name, f1 in result["families_macro_f1"].items()}
    weakest = min(tests, key=tests.get) if tests else None
    return {
        "whole_repro_seconds": at_most(result["total_seconds"], REPRO_LIMIT_SECONDS),
        "train_sgd_seconds": at_most(stages["train_sgd"]["seconds"], SGD_LIMIT_SECONDS),
        "stage_peak_rss_mib": {
            **at_most(stages[peak_stage]["peak_tree_rss_mib"], STAGE_LIMIT_MIB),
            "stage": peak_stage,
        },
        "no_family_at_chance": {
            "family": weakest,
            "value": tests.get(weakest),
            "chance_at_most": chance,
            "passed": weakest is not None and tests[weakest] > chance,
        },
    }


def champion_target(sizes: dict) -> dict | None:
    """The champion's test macro-F1 at the largest finished size against the smallest's."""
    done = [r for r in sizes.values() if "champion_macro_f1" in r]
    if len(done) < 2:
        return None
    small, large = (f(done, key=lambda r: (r["rows"], r["domains"])) for f in (min, max))
    value = large["champion_macro_f1"]["test"]
    limit = round(small["champion_macro_f1"]["test"] - CHAMPION_SLACK, 4)
    return {
        "smallest": size_key(small["rows"], small["domains"]),
        "largest": size_key(large["rows"], large["domains"]),
        "value": value,
        "limit": limit,
        "passed": value >= limit,
    }


def size_result(project: Path, rows: int, domains: int, stages: dict) -> dict:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=project, capture_output=True, text=True
    ).stdout.strip()
    result = {
        "rows": rows,
        "domains": domains,
        "commit": commit,  # the profile and code it ran: sizes may come from different runs
        "total_seconds": round(sum(s["seconds"] for s in stages.values()), 1),
        "stages": stages,
    }
    failed = [name for name, s in stages.items() if "error" in s]
    if failed:
        return {**result, "failed_stage": failed[0]}
    result.update(
        quality_row(
            json.loads((project / "metrics/evaluate.json").read_text()),
            json.loads((project / "metrics/champion.json").read_text()),
            read_optional(project / "metrics/calibration.json"),
        )
    )
    return {**result, "targets": size_targets(result)}


@contextlib.contextmanager
def project_folder(keep: str | None, key: str):
    """Where one size's clone lives: DIR/<size> with --keep, else a temporary folder."""
    if keep:
        yield Path(keep) / key
        return
    with tempfile.TemporaryDirectory(prefix=f"bench-scale-{key}-") as tmp:
        yield Path(tmp) / "project"


def gib(mib: float) -> str:
    return f"{mib / 1024:.2f} GiB"


def f1(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def summary_table(sizes: dict) -> str:
    """One row per size: time, memory, targets and each family's test macro-F1."""
    families = sorted({f for r in sizes.values() for f in r.get("families_macro_f1", {})})
    head = [
        "rows × domains",
        "whole repro",
        "train_sgd",
        "largest stage peak",
        "champion (test macro-F1)",
        "baseline",
        *families,
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in sizes.values():
        size = f"{r['rows']:,} × {r['domains']:,}"
        if "failed_stage" in r:
            error = r["stages"][r["failed_stage"]]["error"].replace("|", "\\|")
            cells = [size, f"failed in {r['failed_stage']}: {error}"] + [""] * (len(head) - 2)
        else:
            t = r["targets"]
            cells = [
                size,
                f"{r['total_seconds']:.0f} s",
                f"{t['train_sgd_seconds']['value']:.0f} s",
                f"{gib(t['stage_peak_rss_mib']['value'])} ({t['stage_peak_rss_mib']['stage']})",
                f"{r['champion']} {f1(r['champion_macro_f1']['test'])}",
                f1((r["baseline_macro_f1"] or {}).get("test")),
                *(f1(r["families_macro_f1"].get(f, {}).get("test")) for f in families),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def stage_table(sizes: dict) -> str:
    """One row per stage, one column per size: wall time and peak tree memory."""
    names = list(dict.fromkeys(n for r in sizes.values() for n in r["stages"]))
    keys = list(sizes)
    lines = ["| stage | " + " | ".join(keys) + " |", "|" + "---|" * (len(keys) + 1)]
    for name in names:
        cells = []
        for key in keys:
            stage = sizes[key]["stages"].get(name)
            cells.append(
                ""
                if stage is None
                else f"{stage['seconds']:.0f} s, {gib(stage['peak_tree_rss_mib'])}"
                + (" (failed)" if "error" in stage else "")
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_sizes(sizes: dict, path: str) -> None:
    """Total and per-stage wall time against rows (left) and against domains (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = sorted(
        (r for r in sizes.values() if "failed_stage" not in r),
        key=lambda r: (r["rows"], r["domains"]),
    )
    if not done:
        return
    series = {"whole repro": [r["total_seconds"] for r in done]}
    for name in done[0]["stages"]:
        series[name] = [r["stages"][name]["seconds"] for r in done]
    figure, axes = plt.subplots(1, 2, figsize=(13, 5.5), sharey=True)
    for axis, x in zip(axes, ("rows", "domains"), strict=True):
        # tab20: fourteen stages would repeat the default cycle's ten colours.
        for index, (label, seconds) in enumerate(series.items()):
            style = (
                {"color": "black", "linewidth": 2.5}
                if label == "whole repro"
                else {"color": plt.get_cmap("tab20")(index % 20), "linewidth": 1}
            )
            axis.plot([r[x] for r in done], seconds, marker="o", label=label, **style)
        axis.set(xscale="log", yscale="log", xlabel=x, title=f"wall time against {x}")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("seconds (2 cores)")
    axes[1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    click.echo(f"wrote {path}")


@click.command()
@click.option("--sizes", "sizes_text", default=DEFAULT_SIZES, show_default=True,
              help="Comma-separated ROWSxDOMAINS, each a whole pipeline run.")  # fmt: skip
@click.option("--profile", default="profiles/scale.yaml", show_default=True,
              type=click.Path(exists=True, dir_okay=False),
              help="Params profile applied before each size's demo.rows/demo.domains.")  # fmt: skip
@click.option("--out", default="benchmarks/scale.json", show_default=True)
@click.option("--plot", default="benchmarks/scale.png", show_default=True)
@click.option("--keep", type=click.Path(file_okay=False),
              help="Keep each size's project in DIR/ROWSxDOMAINS (default: removed).")  # fmt: skip
def main(sizes_text, profile, out, plot, keep):
    """Run the whole pipeline at each size; write each stage's time and memory and the
    macro-F1 reached to --out after each size, a plot to --plot, and Markdown tables."""
    try:
        sizes = parse_sizes(sizes_text)
        values = read_profile(profile)
    except InputError as exc:
        raise click.ClickException(str(exc)) from None
    if keep:
        taken = [k for k in (size_key(*s) for s in sizes) if (Path(keep) / k).exists()]
        if taken:
            raise click.ClickException(f"--keep: {Path(keep) / taken[0]} already exists")
    # Sizes an earlier run wrote stay unless this run redoes them (each names its commit):
    # the sizes take hours, so they can be run one at a time.
    earlier = (read_optional(Path(out)) or {}).get("sizes", {})
    report = {"benchmark": "scale", "profile": profile, "note": NOTE, "sizes": earlier}
    for rows, domains in sizes:
        key = size_key(rows, domains)
        click.echo(f"== {key}")
        with project_folder(keep, key) as project:
            prepare_project(project, values, profile, rows, domains)
            report["sizes"][key] = size_result(project, rows, domains, run_size(project))
        report["sizes"] = dict(
            sorted(report["sizes"].items(), key=lambda kv: (kv[1]["rows"], kv[1]["domains"]))
        )
        report["champion_holds_at_largest"] = champion_target(report["sizes"])
        write_report(report, out)
        plot_sizes(report["sizes"], plot)
    click.echo("\n" + summary_table(report["sizes"]) + "\n\n" + stage_table(report["sizes"]))


if __name__ == "__main__":
    main()
