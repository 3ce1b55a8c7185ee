"""Benchmark the predict stage on demo batches: rows per second and peak memory.

Each size runs the real stage script in a fresh child process with the params' workers
(both cores by default); the peak resident memory is that of its whole process tree, workers
included. One size also runs in a single process, and the two outputs must be the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import click
import yaml

from benchmarks.measure import measure_stage, write_report
from domain_classifier.demo.generator import generate_batch
from domain_classifier.params import read_params


def file_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def run_predict(batch: Path, rows: int, workers: int, params_file: str, model: str) -> dict:
    """Score `batch` with `workers` processes; the figures and the output's digest."""
    output = batch.with_name(f"scored_{rows}_{workers}.parquet")
    params = read_params(params_file)
    params["predict"].update(input=str(batch), output=str(output), text_column="title")
    params["predict"].update(workers=workers, engine="local")
    bench_params = batch.with_name("params.yaml")
    bench_params.write_text(yaml.safe_dump(params))
    result = measure_stage(
        ["stages.predict", "--params", str(bench_params), "--model", model], rows
    )
    digest = file_digest(output)
    output.unlink()
    return {"workers": workers, **result, "output_sha256": digest}


@click.command()
@click.option(
    "--rows",
    "sizes",
    multiple=True,
    type=int,
    default=[100_000, 1_000_000, 10_000_000],
    show_default=True,
    help="Batch sizes to score (repeatable).",
)
@click.option(
    "--compare-rows",
    default=1_000_000,
    show_default=True,
    help="Size also scored in one process, whose output must be identical.",
)
@click.option("--seed", default=11, show_default=True)
@click.option("--params", "params_file", default="params.yaml", show_default=True)
@click.option("--model", default="models/champion", show_default=True)
@click.option("--out", default="benchmarks/predict.json", show_default=True)
def main(sizes, compare_rows, seed, params_file, model, out):
    """Score demo batches of each size with the champion; write the figures to --out."""
    results, identical = [], None
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as tmp:
        for rows in sorted(sizes):
            batch = Path(tmp) / f"batch_{rows}.parquet"
            generate_batch(batch, rows, seed)
            runs = [0, 1] if rows == compare_rows else [0]
            for workers in runs:
                results.append(run_predict(batch, rows, workers, params_file, model))
                click.echo(json.dumps(results[-1]))
            if len(runs) == 2:
                identical = results[-1]["output_sha256"] == results[-2]["output_sha256"]
            batch.unlink()
    report = {"benchmark": "predict", "model": model, "results": results}
    write_report({**report, "one_process_output_identical": identical}, out)
    if identical is False:
        raise click.ClickException(f"{compare_rows} rows: output differs from one process's")


if __name__ == "__main__":
    main()
