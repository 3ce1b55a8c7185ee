"""Benchmark model quality on every real catalogue: the whole pipeline, champion vs baseline.

For each catalogue in ../shared/data, clones the committed project into a temporary folder,
points `data` at the catalogue (its own column names, as `dvc exp run -S data.source=...`
would), runs every stage with pipeline_benchmark's helpers, and writes per catalogue: the
champion, every family's and the baseline's val/test macro-F1, champion minus baseline on
test, the champion's test ECE before and after calibration, and the wall time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import tempfile
from pathlib import Path

import click
import yaml
from dvc.utils.serialize import modify_yaml

from benchmarks.pipeline import point_data_at, run_stages
from domain_classifier.evaluation.selection import REFERENCE
from domain_classifier.tools.profiles import apply_profile

SHARED = Path("../shared/data")


@dataclasses.dataclass(frozen=True)
class Catalogue:
    source: str
    text_column: str
    label_column: str
    # A params profile applied first; pricerunner's full budgets take far beyond ~25 min on
    # 2 cores, so it runs on the small profile (named in the json).
    profile: str | None = None


# Column names from ../shared/data/README.md.
CATALOGUES = {
    "meli-beauty-mlb": Catalogue(
        str(SHARED / "meli-beauty-mlb/items.csv"), "ITE_ITEM_TITLE", "ITE_ITEM_DOM_DOMAIN_ID"
    ),
    "pricerunner": Catalogue(
        str(SHARED / "pricerunner/items.csv"),
        "Product Title",
        "Category Label",
        profile="profiles/small.yaml",
    ),
}


def rounded(value, digits: int = 4):
    return None if value is None else round(value, digits)


def interval(result: dict, key: str = "macro_f1") -> list | None:
    """[low, high] of a bootstrap interval evaluate wrote, or None from an older evaluate."""
    low, high = result.get(f"{key}_low"), result.get(f"{key}_high")
    return None if low is None else [rounded(low), rounded(high)]


def quality_row(evaluation: dict, champion: dict, calibration: dict | None) -> dict:
    """What the benchmark reports of one finished pipeline (metrics/*.json as read)."""
    families = {
        name: {s: rounded(r[s]["macro_f1"]) for s in ("val", "test")}
        for name, r in evaluation.items()
        if name != REFERENCE
    }
    baseline = evaluation.get(REFERENCE)
    chosen = evaluation.get(champion["family"], {}).get("test", {})
    row = {
        "champion": champion["family"],
        "champion_macro_f1": {
            "val": rounded(champion["val_macro_f1"]),
            "test": rounded(champion["test_macro_f1"]),
        },
        "champion_test_interval": interval(chosen),
        "families_macro_f1": families,
        "baseline_macro_f1": (
            {s: rounded(baseline[s]["macro_f1"]) for s in ("val", "test")} if baseline else None
        ),
        "baseline_test_interval": interval(baseline["test"]) if baseline else None,
        "champion_minus_baseline_test": (
            rounded(champion["test_macro_f1"] - baseline["test"]["macro_f1"]) if baseline else None
        ),
        # Paired bootstrap over test titles; [0, 0] when the baseline is the champion.
        "champion_minus_baseline_test_interval": (
            [0.0, 0.0] if champion["family"] == REFERENCE else interval(chosen, "minus_baseline")
        ),
        "champion_test_ece": None,
    }
    if calibration is not None:
        row["champion_test_ece"] = {
            "before": rounded(calibration["test"]["ece_before"]),
            "after": rounded(calibration["test"]["ece_after"]),
        }
    return row


def read_optional(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def benchmark_catalogue(name: str, catalogue: Catalogue, full: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench-quality-{name}-") as tmp:
        project = Path(tmp) / "project"
        subprocess.run(["git", "clone", "-q", ".", str(project)], check=True)
        profile = None if full else catalogue.profile
        if profile:
            with modify_yaml(project / "params.yaml") as params:
                apply_profile(yaml.safe_load(Path(profile).read_text()), params, profile)
        point_data_at(
            project, Path(catalogue.source).resolve(), catalogue.text_column, catalogue.label_column
        )
        seconds = run_stages(project)
        row = quality_row(
            json.loads((project / "metrics/evaluate.json").read_text()),
            json.loads((project / "metrics/champion.json").read_text()),
            read_optional(project / "metrics/calibration.json"),
        )
    return {
        "source": catalogue.source,
        "profile": profile or "params.yaml as committed",
        **row,
        "wall_seconds": round(sum(seconds.values()), 1),
        "stage_seconds": seconds,
    }


@click.command()
@click.option(
    "--catalogue",
    "names",
    multiple=True,
    type=click.Choice(list(CATALOGUES)),
    help="Only these catalogues (repeatable); default: all.",
)
@click.option("--full", is_flag=True, help="Ignore each catalogue's smaller profile.")
@click.option("--out", default="benchmarks/quality.json", show_default=True)
def main(names, full, out):
    """Run the whole pipeline on each real catalogue and write the quality figures."""
    report = {"benchmark": "quality", "cpu_count": os.cpu_count(), "catalogues": {}}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    for name in names or CATALOGUES:
        click.echo(f"== {name}")
        row = benchmark_catalogue(name, CATALOGUES[name], full)
        report["catalogues"][name] = row
        click.echo(
            f"{name}: champion {row['champion']} test {row['champion_macro_f1']['test']}, "
            f"baseline test {(row['baseline_macro_f1'] or {}).get('test')}, "
            f"{row['wall_seconds']} s"
        )
        # Written after each catalogue, so a long run that fails later keeps what it measured.
        Path(out).write_text(json.dumps(report, indent=2) + "\n")
    click.echo(f"wrote {out}")


if __name__ == "__main__":
    main()
