"""Benchmark the whole pipeline: wall time of every stage and the metrics it reaches.

Clones the committed project into a temporary folder, points `data` at a catalogue
(default: the Mercado Libre sample beside the project), runs each stage of dvc.yaml in
order with `dvc repro --single-item`, and writes the figures to --out.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import click
import yaml

from benchmarks.measure import stage_env

MELI = "../shared/data/meli-beauty-mlb/items.csv"


def stage_names(project: Path) -> list[str]:
    """The stages of dvc.yaml in its order (which is a topological order)."""
    return list(yaml.safe_load((project / "dvc.yaml").read_text())["stages"])


def run_stage(project: Path, name: str, env: dict) -> tuple[float, bool]:
    """Wall seconds of `dvc repro --single-item name`, and whether the stage ran (DVC skips
    one whose dependencies and params are unchanged)."""
    start = time.perf_counter()
    done = subprocess.run(
        ["dvc", "repro", "--single-item", name],
        cwd=project,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return round(time.perf_counter() - start, 1), "didn't change, skipping" not in done.stdout


def run_stages(project: Path) -> dict:
    """Seconds per stage, in dvc.yaml order."""
    env = stage_env()
    seconds = {}
    for name in stage_names(project):
        seconds[name], _ = run_stage(project, name, env)
        click.echo(f"{name}: {seconds[name]} s")
    return seconds


def noop_repro_seconds(project: Path, runs: int = 3) -> float:
    """Median wall time of `dvc repro` once everything is up to date (what a user waits for
    when nothing changed: imports, reading dvc.yaml/params/dvc.lock, checking every hash)."""
    env = stage_env()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            ["dvc", "repro"], cwd=project, env=env, check=True, stdout=subprocess.DEVNULL
        )
        times.append(time.perf_counter() - start)
    return round(sorted(times)[len(times) // 2], 2)


def point_data_at(project: Path, source: Path, text_column: str, label_column: str) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"].update(source=str(source), text_column=text_column, label_column=label_column)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@click.command()
@click.option("--source", default=MELI, show_default=True, type=click.Path(exists=True))
@click.option("--text-column", default="ITE_ITEM_TITLE", show_default=True)
@click.option("--label-column", default="ITE_ITEM_DOM_DOMAIN_ID", show_default=True)
@click.option("--out", default="benchmarks/pipeline.json", show_default=True)
def main(source, text_column, label_column, out):
    """Time every stage on one catalogue with the committed params; write the figures."""
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        project = Path(tmp) / "project"
        subprocess.run(["git", "clone", "-q", ".", str(project)], check=True)
        point_data_at(project, Path(source).resolve(), text_column, label_column)
        seconds = run_stages(project)
        noop = noop_repro_seconds(project)
        click.echo(f"no-op dvc repro: {noop} s")
        evaluation = json.loads((project / "metrics/evaluate.json").read_text())
        champion = json.loads((project / "metrics/champion.json").read_text())
    report = {
        "benchmark": "pipeline",
        "source": source,
        "cpu_count": os.cpu_count(),
        "stage_seconds": seconds,
        "total_seconds": round(sum(seconds.values()), 1),
        "noop_repro_seconds": noop,
        "macro_f1": {
            f: {s: round(r[s]["macro_f1"], 4) for s in ("val", "test")}
            for f, r in evaluation.items()
        },
        "champion": champion,
    }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(report, indent=2) + "\n")
    click.echo(f"total {report['total_seconds']} s; wrote {out}")


if __name__ == "__main__":
    main()
