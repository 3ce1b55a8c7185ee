"""How the benchmarks measure a command: wall time and the peak memory of its process tree."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import psutil

SAMPLE_SECONDS = 0.25


class CommandFailed(click.ClickException):
    """A measured command exited non-zero; keeps its output and what was measured until then."""

    def __init__(self, command: list[str], output: str, result: dict):
        super().__init__(f"{' '.join(command)} failed:\n{output[-3000:]}")
        self.output = output
        self.result = result


def stage_env() -> dict:
    """The environment a cloned project's stages run in: this venv's bin first on PATH (the
    `dvc` and `python` the stage commands name) and no MLFLOW_TRACKING_URI, so the clone logs
    to its own mlflow.db, never to the user's store."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return env


def measure(command: list[str], cwd: Path, env: dict) -> dict:
    """Wall time and peak resident memory of a child and of its whole process tree."""
    start = time.perf_counter()
    # A file, not a pipe: a chatty child (Spark's logs) would block on a full pipe.
    log = tempfile.TemporaryFile()
    child = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    process = psutil.Process(child.pid)
    peak = {"driver": 0, "tree": 0}
    while child.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            rss = {p.pid: p.memory_info().rss for p in tree}
            jvm = [p.pid for p in process.children() if "java" in p.name()]
        except psutil.Error:  # a process ended between listing and reading it
            time.sleep(SAMPLE_SECONDS)
            continue
        # The driver is the stage's Python process plus, on Spark, the JVM it starts.
        peak["driver"] = max(peak["driver"], rss[child.pid] + sum(rss.get(j, 0) for j in jvm))
        peak["tree"] = max(peak["tree"], sum(rss.values()))
        time.sleep(SAMPLE_SECONDS)
    seconds = time.perf_counter() - start
    log.seek(0)
    output = log.read().decode(errors="replace")
    result = {
        "seconds": round(seconds, 1),
        "peak_driver_rss_mib": round(peak["driver"] / 2**20, 1),
        "peak_tree_rss_mib": round(peak["tree"] / 2**20, 1),
    }
    if child.returncode:
        raise CommandFailed(command, output, result)
    return result


def machine() -> dict:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": model,
        "cpu_count": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "java": java_version(),
        "load_note": "each result gives the load average before and after it ran",
    }


def java_version() -> str | None:
    if shutil.which("java") is None:
        return None
    return subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.split("\n")[
        0
    ]


def measure_stage(args: list[str], rows: int) -> dict:
    """Run `python -m <args>` here; its wall time, rows per second and peak tree memory."""
    result = measure([sys.executable, "-m", *args], Path.cwd(), dict(os.environ))
    return {
        "rows": rows,
        "seconds": result["seconds"],
        "rows_per_second": round(rows / result["seconds"]),
        "peak_rss_mib": result["peak_tree_rss_mib"],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }


def write_report(report: dict, out: Path | str) -> None:
    """Write benchmark figures with the machine they were measured on."""
    report = {**report, "machine": machine()}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(report, indent=2) + "\n")
    click.echo(f"wrote {out}")
