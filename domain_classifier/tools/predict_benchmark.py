"""Benchmark the predict stage on demo batches: rows per second and peak memory.

Each size runs the real stage script in a fresh child process, so the peak resident
memory reported (ru_maxrss of that child) is the stage's own, not this script's.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import yaml

from domain_classifier.demo.generator import generate_batch
from domain_classifier.params import read_params


def measure_stage(args: list[str], rows: int) -> dict:
    """Run a stage in a child process; its own wall time and peak resident memory."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)  # the rusage of this one child, not all of them
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise click.ClickException(f"{args[0]} failed on {rows} rows:\n{stderr.decode()[-2000:]}")
    return {
        "rows": rows,
        "seconds": round(seconds, 1),
        "rows_per_second": round(rows / seconds),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
    }  # ru_maxrss is KiB on Linux


def write_report(report: dict, out: Path | str) -> None:
    """Write benchmark figures with the machine they were measured on."""
    report = {**report, "cpu_count": os.cpu_count(), "machine": platform.machine()}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(report, indent=2) + "\n")
    click.echo(f"wrote {out}")


def run_predict(rows: int, seed: int, params_file: str, model: str, workdir: Path) -> dict:
    batch, output = workdir / f"batch_{rows}.parquet", workdir / f"scored_{rows}.parquet"
    generate_batch(batch, rows, seed)
    params = read_params(params_file)
    params["predict"].update(input=str(batch), output=str(output), text_column="title")
    bench_params = workdir / "params.yaml"
    bench_params.write_text(yaml.safe_dump(params))
    result = measure_stage(
        ["stages.predict", "--params", str(bench_params), "--model", model], rows
    )
    output.unlink()
    return result


@click.command()
@click.option(
    "--rows",
    "sizes",
    multiple=True,
    type=int,
    default=[100_000, 1_000_000],
    show_default=True,
    help="Batch sizes to score (repeatable).",
)
@click.option("--seed", default=11, show_default=True)
@click.option("--params", "params_file", default="params.yaml", show_default=True)
@click.option("--model", default="models/champion", show_default=True)
@click.option("--out", default="benchmarks/predict.json", show_default=True)
def main(sizes, seed, params_file, model, out):
    """Score demo batches of each size with the champion; write the figures to --out."""
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as tmp:
        for rows in sorted(sizes):
            results.append(run_predict(rows, seed, params_file, model, Path(tmp)))
            click.echo(json.dumps(results[-1]))
    write_report({"benchmark": "predict", "model": model, "results": results}, out)


if __name__ == "__main__":
    main()
