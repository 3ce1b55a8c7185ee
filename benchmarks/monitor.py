"""Benchmark the monitor stage on large scored batches: seconds and peak memory.

The batches are generated and scored with the champion first, untimed (monitor reads
predict's output, it never scores), in a separate process so that this one stays small.
Then the real stage script runs once per size in a fresh child process, whose peak resident
memory is sampled. Equal peaks at 10x the rows mean memory is flat.
"""

from __future__ import annotations

import json
import multiprocessing
import tempfile
import time
from pathlib import Path

import click
import pyarrow.parquet as pq
import yaml

from benchmarks.measure import measure_stage, write_report
from domain_classifier.demo.generator import generate_batch
from domain_classifier.models.loading import load_model
from domain_classifier.params import read_params
from domain_classifier.serving.predict import PredictParams, predict_file


def prepare(sizes: list[int], seed: int, model_dir: str, workdir: Path) -> dict[int, Path]:
    """Score the largest batch once; smaller ones are its first rows."""
    largest = max(sizes)
    raw, scored = workdir / "batch.parquet", workdir / f"scored_{largest}.parquet"
    generate_batch(raw, largest, seed)
    predict_file(load_model(model_dir), PredictParams(input=str(raw), output=str(scored)))
    raw.unlink()
    paths = {largest: scored}
    table = pq.read_table(scored)
    for rows in sizes:
        if rows != largest:
            paths[rows] = workdir / f"scored_{rows}.parquet"
            pq.write_table(table.slice(0, rows), paths[rows])
    return paths


def run_monitor(rows: int, scored: Path, params_file: str, model_dir: str, workdir: Path) -> dict:
    params = read_params(params_file)
    params.setdefault("monitor", {})  # defaults when params.yaml has no monitor section yet
    bench_params = workdir / "params.yaml"
    bench_params.write_text(yaml.safe_dump(params))
    return measure_stage(
        [
            "stages.monitor",
            "--params",
            str(bench_params),
            "--predictions",
            str(scored),
            "--model",
            model_dir,
            "--metrics",
            str(workdir / "monitor.json"),
            "--report",
            str(workdir / "monitor.md"),
            "--history",
            str(workdir / "monitor_history.csv"),
        ],
        rows,
    )


@click.command()
@click.option(
    "--rows",
    "sizes",
    multiple=True,
    type=int,
    default=[100_000, 1_000_000],
    show_default=True,
    help="Batch sizes to monitor (repeatable).",
)
@click.option("--seed", default=11, show_default=True)
@click.option("--params", "params_file", default="params.yaml", show_default=True)
@click.option("--model", "model_dir", default="models/champion", show_default=True)
@click.option("--out", default="benchmarks/monitor.json", show_default=True)
def main(sizes, seed, params_file, model_dir, out):
    """Monitor demo batches of each size against the pipeline's reference; write the figures."""
    sizes = sorted(set(sizes))
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-monitor-") as tmp:
        start = time.perf_counter()
        # A fresh interpreter scores the batches, so this process never holds them.
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            paths = pool.apply(prepare, (sizes, seed, model_dir, Path(tmp)))
        click.echo(f"prepared scored batches in {time.perf_counter() - start:.0f}s (untimed)")
        for rows in sizes:
            results.append(run_monitor(rows, paths[rows], params_file, model_dir, Path(tmp)))
            click.echo(json.dumps(results[-1]))
    write_report({"benchmark": "monitor", "model": model_dir, "results": results}, out)


if __name__ == "__main__":
    main()
