"""Benchmark the predict stage's two engines on demo batches: local vs Spark `local[2]`.

Each champion (a linear and a Keras family) is trained in a temporary copy of the project
under profiles/small.yaml budgets, logged to a temporary MLflow store and registered as
`bench-<family>@champion`. Every run is the real stage script in a child process; its whole
process tree (Python driver, the JVM, Spark's Python workers) is sampled for resident memory.
Spark's start-up (a session started and stopped, nothing scored) is timed on its own, so the
per-row cost a cluster would multiply can be told apart from the fixed cost.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import yaml

from benchmarks.measure import machine, measure, stage_env
from domain_classifier.demo.generator import generate_batch
from domain_classifier.params import read_params

ROOT = Path(__file__).resolve().parents[2]
MASTER = "local[2]"
STARTUP = (
    "import os, sys; os.environ.setdefault('PYSPARK_PYTHON', sys.executable)\n"
    "from pyspark.sql import SparkSession\n"
    "s = SparkSession.builder.master(sys.argv[1]).config('spark.ui.enabled', 'false')"
    ".getOrCreate(); s.range(1).count(); s.stop()"
)


def child_env(project: Path) -> dict:
    return {**stage_env(), "PYTHONPATH": str(project)}


def build_project(target: Path, families: list[str]) -> Path:
    """The project's files in `target` with small budgets, trained up to each family's model."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in listed:
        if name == "dvc.lock" or name.startswith(("data/", "models/", "metrics/", "plots/")):
            continue
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    env = child_env(target)
    steps = [
        [sys.executable, "-m", "domain_classifier.tools.profiles", "profiles/small.yaml"],
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        [
            "git",
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.invalid",
            "commit",
            "-qm",
            "x",
        ],
        ["dvc", "repro", *[f"train_{family}" for family in families]],
    ]
    for step in steps:
        done = subprocess.run(step, cwd=target, env=env, capture_output=True, text=True)
        if done.returncode:
            raise click.ClickException(f"{' '.join(step)} failed:\n{done.stderr[-3000:]}")
    return target


def register_champions(project: Path, families: list[str]) -> dict[str, str]:
    """Log each family's model to the project's MLflow store as `bench-<family>@champion`."""
    import mlflow
    from mlflow import MlflowClient

    from domain_classifier.models.pyfunc import log_title_model

    mlflow.set_tracking_uri(f"sqlite:///{project}/mlflow.db")
    if mlflow.get_experiment_by_name("spark-benchmark") is None:
        mlflow.create_experiment("spark-benchmark", (project / "mlruns").as_uri())
    mlflow.set_experiment("spark-benchmark")
    uris = {}
    for family in families:
        with mlflow.start_run(run_name=family):
            uri = log_title_model(project / "models" / family)
        version = mlflow.register_model(uri, f"bench-{family}").version
        MlflowClient().set_registered_model_alias(f"bench-{family}", "champion", version)
        uris[family] = f"models:/bench-{family}@champion"
    return uris


def write_params(project: Path, name: str, **predict) -> Path:
    params = read_params(project / "params.yaml")
    params["predict"].update(predict)
    path = project / f"params_{name}.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def run_engine(project: Path, engine: str, family: str, model: str, batch: Path, rows: int):
    output = project / "out" / f"{family}_{engine}_{rows}.parquet"
    params = write_params(
        project,
        f"{engine}_{family}",
        input=str(batch),
        output=str(output),
        engine=engine,
        spark={"master": MASTER, "driver_memory": "2g", "partitions": 0},
    )
    command = [sys.executable, "-m", "stages.predict", "--params", str(params), "--model", model]
    load_before = os.getloadavg()
    result = measure(command, project, child_env(project))
    shutil.rmtree(output, ignore_errors=True) if output.is_dir() else output.unlink()
    return {
        "family": family,
        "engine": engine if engine == "local" else f"spark {MASTER}",
        "rows": rows,
        **result,
        "rows_per_second": round(rows / result["seconds"]),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }


def spark_startup(project: Path) -> dict:
    result = measure([sys.executable, "-c", STARTUP, MASTER], project, child_env(project))
    return {"master": MASTER, **result, "loadavg": [round(x, 2) for x in os.getloadavg()]}


def with_spark_overhead(results: list[dict], startup_seconds: float) -> list[dict]:
    """Per-core throughput once Spark runs, what each executor core of a cluster adds."""
    cores = int(MASTER[len("local[") : -1])
    for result in results:
        if result["engine"].startswith("spark"):
            busy = max(result["seconds"] - startup_seconds, 1e-9)
            result["rows_per_second_per_core_after_startup"] = round(result["rows"] / busy / cores)
    return results


def merged(out: Path, results: list[dict]) -> list[dict]:
    """Earlier results in `out` kept, unless this run measured the same case again."""
    key = lambda r: (r["family"], r["engine"], r["rows"])  # noqa: E731
    old = json.loads(out.read_text())["results"] if out.is_file() else []
    fresh = {key(r) for r in results}
    return sorted([r for r in old if key(r) not in fresh] + results, key=key)


@click.command()
@click.option(
    "--rows",
    "sizes",
    multiple=True,
    type=int,
    default=[1_000_000, 10_000_000],
    show_default=True,
    help="Batch sizes to score (repeatable).",
)
@click.option(
    "--family",
    "families",
    multiple=True,
    default=["sgd", "rnn"],
    show_default=True,
    help="Champions to benchmark: a linear and a Keras family by default (repeatable).",
)
@click.option("--seed", default=11, show_default=True)
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    help="A project trained by an earlier run (kept with --keep); default: train a new one.",
)
@click.option("--keep", is_flag=True, help="Keep the temporary project and print its path.")
@click.option("--out", default="benchmarks/spark.json", show_default=True, type=Path)
def main(sizes, families, seed, project, keep, out):
    """Score demo batches with each champion on both engines; write the figures to --out."""
    families, built = list(families), project is None
    project = project or build_project(Path(tempfile.mkdtemp(prefix="bench-spark-")), families)
    click.echo(f"project: {project}")
    uris = register_champions(project, families)
    startup = spark_startup(project)
    click.echo(json.dumps({"spark_startup": startup}))
    results = []
    for rows in sorted(sizes):
        batch = project / "out" / f"batch_{rows}.parquet"
        batch.parent.mkdir(exist_ok=True)
        generate_batch(batch, rows, seed)
        for family in families:
            models = {"local": str(project / "models" / family), "spark": uris[family]}
            for engine, model in models.items():
                results.append(run_engine(project, engine, family, model, batch, rows))
                click.echo(json.dumps(results[-1]))
        batch.unlink()
    report = {
        "benchmark": "predict engines: local vs spark",
        "machine": machine(),
        "spark_startup": startup,
        "results": merged(out, with_spark_overhead(results, startup["seconds"])),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    click.echo(f"wrote {out}")
    if built and not keep:
        shutil.rmtree(project, ignore_errors=True)


if __name__ == "__main__":
    main()
