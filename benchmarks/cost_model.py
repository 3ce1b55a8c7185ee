"""Refit the cost model's coefficients (domain_classifier/planning/coefficients.json).

Clones the committed project into a temporary folder and runs the pipeline stage by stage on
demo catalogues of a few shapes, each family at fixed settings (every derived key written,
so the plan decides nothing), timing each stage that runs. Then fits each stage's three
coefficients by non-negative least squares on those timings and writes them with every
measurement and its fitted prediction. Run it on an idle machine of the class the budgets
are for: `python -m benchmarks.cost_model` (about 20 minutes on 2 cores).
"""

from __future__ import annotations

import datetime
import subprocess
import tempfile
from pathlib import Path

import click
import numpy as np
from dvc.utils.serialize import modify_yaml
from scipy.optimize import nnls

from benchmarks.measure import machine, stage_env
from benchmarks.pipeline import run_stage, stage_names
from domain_classifier.data.tables import read_json, write_json
from domain_classifier.families import registry
from domain_classifier.planning.costs import (
    COEFFICIENTS_FILE,
    CV_FAMILIES,
    TERMS,
    Shape,
    predict_seconds,
    work,
)
from domain_classifier.planning.plan import costed_settings, features_shape

ROOT = COEFFICIENTS_FILE.parents[2]  # the project folder the coefficients file is in
# Settings levels: (max_trials, num_initial_points, cv_folds, tune_rows, max_train_rows).
LEVELS = {
    "least": (1, 1, 2, 0, 0),
    "more": (3, 2, 3, 0, 0),
    "sampled": (2, 1, 2, 4000, 8000),
}
# (demo rows, demo domains, level): shapes and settings far enough apart to separate the
# three terms; each run reruns only the stages its change reaches.
RUNS = (
    (5000, 32, "least"),
    (20000, 32, "least"),
    (20000, 32, "more"),
    (20000, 100, "sampled"),
)


def level_settings(family: str, level: str) -> dict:
    trials, initial, folds, tune, refit = LEVELS[level]
    settings = {"max_trials": trials, "num_initial_points": initial}
    settings |= {"tune_rows": tune, "max_train_rows": refit}
    if family in CV_FAMILIES:
        settings["cv_folds"] = folds
    return settings


def set_run(project: Path, rows: int, domains: int, level: str) -> dict:
    """Write the run's demo shape and every family's settings into the clone's params."""
    with modify_yaml(project / "params.yaml") as params:
        params["demo"].update(rows=rows, domains=domains)
        for family in registry.names():
            params[registry.get(family).section].update(level_settings(family, level))
        return {name: dict(section) for name, section in params.items()}


def stages_to_run(project: Path, only: tuple[str, ...]) -> list[str]:
    """Every stage in dvc.yaml order, or with `only` the stages up to the last one named,
    leaving out the other training stages (nothing named needs them)."""
    names = stage_names(project)
    if not only:
        return names
    last = max(names.index(name) for name in only)
    return [n for n in names[: last + 1] if n in only or not n.startswith("train_")]


def measure_runs(project: Path, only: tuple[str, ...] = ()) -> list[dict]:
    """One record per stage that ran (with `only`: per stage named), its seconds, the shape
    and the family's settings."""
    env, records = stage_env(), []
    for rows, domains, level in RUNS:
        params = set_run(project, rows, domains, level)
        for name in stages_to_run(project, only):
            seconds, ran = run_stage(project, name, env)
            skipped = "" if ran else " (skipped)"
            click.echo(f"{rows} x {domains} {level}: {name} {seconds} s{skipped}")
            if not ran or (only and name not in only):
                continue
            record = {"stage": name, "seconds": seconds, "level": level, "demo": [rows, domains]}
            family = name.removeprefix("train_")
            if family in registry.names():
                record["settings"] = costed_settings(family, params[name], {})
            records.append(record)
        shape = features_shape(project / "data/features")
        for record in records:
            record.setdefault("shape", vars(shape))
    return records


def fit(records: list[dict]) -> dict:
    """Per stage, the non-negative coefficients of its three work terms (least squares)."""
    coefficients = {}
    for stage in dict.fromkeys(r["stage"] for r in records):
        mine = [r for r in records if r["stage"] == stage]
        X = np.array([work(stage, r.get("settings"), Shape(**r["shape"])) for r in mine])
        y = np.array([r["seconds"] for r in mine])
        scale = X.max(axis=0)
        scale[scale == 0] = 1
        solution, _ = nnls(X / scale, y)
        coefficients[stage] = dict(zip(TERMS, (solution / scale).tolist()))
    return coefficients


def date() -> str:
    return datetime.date.today().isoformat()


def measure(only: tuple[str, ...] = ()) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="cost-model-") as tmp:
        project = Path(tmp) / "project"
        subprocess.run(["git", "clone", "-q", ".", str(project)], check=True)
        # The plan stage runs in every pass; with every derived key written it only needs a
        # coefficient, any coefficient, for each stage.
        zeros = {stage: dict.fromkeys(TERMS, 0.0) for stage in stage_names(project)}
        write_json({"stages": zeros}, project / COEFFICIENTS_FILE.relative_to(ROOT))
        return measure_runs(project, only)


@click.command()
@click.option("--out", default=str(COEFFICIENTS_FILE), show_default=True)
@click.option(
    "--measurements",
    type=click.Path(exists=True, dir_okay=False),
    help="Refit from the measurements of an earlier coefficients file instead of measuring.",
)
@click.option(
    "--stage",
    "only",
    multiple=True,
    help="Measure only this stage (repeatable), keeping the other stages' measurements from "
    "--out: a new family's coefficients without remeasuring the rest.",
)
def main(out, measurements, only):
    """Measure every stage on the demo shapes and write the fitted coefficients."""
    if measurements:
        earlier = read_json(measurements)
        records, measured_on = earlier["measurements"], earlier["machine"]
    elif only:
        earlier = read_json(out)
        kept = [r for r in earlier["measurements"] if r["stage"] not in only]
        # Machines of one class differ by up to 1.8x between sessions: say which was which.
        partial = {"stages": list(only), "date": date(), "machine": machine()}
        records, measured_on = kept + measure(only), {**earlier["machine"], "partial": partial}
    else:
        records, measured_on = measure(), machine()
    coefficients = fit(records)
    for r in records:
        shape = Shape(**r["shape"])
        r["predicted_seconds"] = round(
            predict_seconds(coefficients, r["stage"], r.get("settings"), shape), 1
        )
    write_json(
        {
            "command": "python -m benchmarks.cost_model",
            "machine": measured_on,
            "stages": coefficients,
            "measurements": records,
        },
        out,
    )
    click.echo(f"wrote {out}")


if __name__ == "__main__":
    main()
