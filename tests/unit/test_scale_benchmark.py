"""The scale benchmark's pure parts (sizes, target checks, tables, plot) and its one-line
errors; the real pipeline runs only when someone runs the benchmark."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from benchmarks.scale import (
    champion_target,
    error_line,
    parse_sizes,
    plot_sizes,
    size_targets,
    stage_table,
    summary_table,
)
from domain_classifier.errors import InputError
from domain_classifier.params import load_section
from domain_classifier.tools.profiles import apply_profile
from tests.support.data import ROOT


def stage(seconds: float, peak_mib: float) -> dict:
    return {"seconds": seconds, "peak_tree_rss_mib": peak_mib, "loadavg_before": [1.0] * 3}


def finished(rows, domains, *, sgd=100.0, peak=1000.0, champion=0.9, families=None) -> dict:
    """A size as size_result writes it once every stage ran."""
    families = families or {"sgd": 0.9, "rnn": 0.8}
    stages = {"demo": stage(10.0, 200.0), "train_sgd": stage(sgd, peak), "predict": stage(5, 300)}
    result = {
        "rows": rows,
        "domains": domains,
        "total_seconds": round(sum(s["seconds"] for s in stages.values()), 1),
        "stages": stages,
        "champion": "sgd",
        "champion_macro_f1": {"val": champion - 0.01, "test": champion},
        "families_macro_f1": {f: {"val": v, "test": v} for f, v in families.items()},
        "baseline_macro_f1": {"val": 0.85, "test": 0.86},
    }
    return {**result, "targets": size_targets(result)}


def test_sizes_parse_in_order():
    assert parse_sizes("100000x100, 300000X300,1000000x1000") == [
        (100000, 100),
        (300000, 300),
        (1000000, 1000),
    ]


@pytest.mark.parametrize("text", ["3000x20x1", "3000", "x20", "3000x1", "0x20", "3000x2O", ""])
def test_bad_sizes_are_refused_naming_the_item(text):
    with pytest.raises(InputError, match="--sizes: .* is not ROWSxDOMAINS"):
        parse_sizes(text)


def run_cli(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def test_cli_refuses_a_bad_size_in_one_line_before_any_run(tmp_path):
    out = tmp_path / "scale.json"
    done = run_cli("--sizes", "100000x100,300k", "--out", str(out))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: --sizes: '300k' is not ROWSxDOMAINS with rows >= 1 and domains >= 2 "
        "(e.g. 100000x100)"
    ]
    assert not out.exists()


def test_cli_refuses_a_profile_section_params_yaml_lacks(tmp_path):
    profile = tmp_path / "bad.yaml"
    profile.write_text("train_sgdd: {max_trials: 1}\n")
    done = run_cli("--sizes", "3000x20", "--profile", str(profile), "--out", str(tmp_path / "o"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Error: {profile}: section 'train_sgdd' is not a params.yaml section mapping"
    ]


@pytest.mark.parametrize("name", ["small.yaml", "scale.yaml"])
def test_profiles_give_params_every_stage_accepts(name, tmp_path):
    from domain_classifier.evaluation.baseline import BaselineParams
    from domain_classifier.evaluation.selection import EvaluateParams
    from domain_classifier.families import registry
    from domain_classifier.features.tokenize import TokenizeParams
    from domain_classifier.monitoring.params import MonitorParams
    from stages.demo import DemoParams

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    profile = yaml.safe_load((ROOT / "profiles" / name).read_text())
    apply_profile(profile, params, name)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    classes = {"demo": DemoParams, "tokenize": TokenizeParams, "monitor": MonitorParams}
    classes["baseline"], classes["evaluate"] = BaselineParams, EvaluateParams
    classes |= {f.section: f.params for f in map(registry.get, registry.names())}
    assert set(profile) <= set(classes)
    for section in profile:
        load_section(classes[section], section, path)


def test_targets_pass_within_the_issue_limits():
    targets = finished(1_000_000, 1000)["targets"]
    assert targets["whole_repro_seconds"] == {"value": 115.0, "limit": 3600, "passed": True}
    assert targets["train_sgd_seconds"] == {"value": 100.0, "limit": 600, "passed": True}
    assert targets["stage_peak_rss_mib"] == {
        "value": 1000.0,
        "limit": 8192,
        "passed": True,
        "stage": "train_sgd",
    }
    assert targets["no_family_at_chance"] == {
        "family": "rnn",
        "value": 0.8,
        "chance_at_most": 0.002,
        "passed": True,
    }


def test_targets_fail_with_the_numbers_that_missed():
    families = {"sgd": 0.9, "hgb": 0.02}
    targets = finished(1_000_000, 100, sgd=3600.0, peak=9000.0, families=families)["targets"]
    assert targets["whole_repro_seconds"]["passed"] is False
    assert targets["whole_repro_seconds"]["value"] == 3615.0
    assert targets["train_sgd_seconds"]["passed"] is False
    assert targets["stage_peak_rss_mib"]["passed"] is False
    assert targets["no_family_at_chance"] == {
        "family": "hgb",
        "value": 0.02,
        "chance_at_most": 0.02,  # 2 / 100 domains: at chance, not above it
        "passed": False,
    }


def test_champion_target_compares_the_largest_with_the_smallest_finished_size():
    sizes = {
        "1000000x1000": finished(1_000_000, 1000, champion=0.85),
        "100000x100": finished(100_000, 100, champion=0.91),
        "300000x300": {"rows": 300_000, "domains": 300, "stages": {}, "failed_stage": "demo"},
    }
    assert champion_target(sizes) == {
        "smallest": "100000x100",
        "largest": "1000000x1000",
        "value": 0.85,
        "limit": 0.86,
        "passed": False,
    }
    sizes["1000000x1000"] = finished(1_000_000, 1000, champion=0.87)
    assert champion_target(sizes)["passed"] is True
    assert champion_target({"100000x100": sizes["100000x100"]}) is None


def failed_size() -> dict:
    return {
        "rows": 300_000,
        "domains": 300,
        "total_seconds": 12.0,
        "stages": {
            "demo": stage(10.0, 200.0),
            "train_sgd": {**stage(2.0, 150.0), "error": "Error: train_sgd.max_memory_gib: x|y"},
        },
        "failed_stage": "train_sgd",
    }


def test_markdown_tables_show_each_size_and_stage():
    sizes = {"100000x100": finished(100_000, 100), "300000x300": failed_size()}
    assert summary_table(sizes).splitlines() == [
        "| rows × domains | whole repro | train_sgd | largest stage peak "
        "| champion (test macro-F1) | baseline | rnn | sgd |",
        "|---|---|---|---|---|---|---|---|",
        "| 100,000 × 100 | 115 s | 100 s | 0.98 GiB (train_sgd) | sgd 0.9000 | 0.8600 "
        "| 0.8000 | 0.9000 |",
        "| 300,000 × 300 | failed in train_sgd: Error: train_sgd.max_memory_gib: x\\|y "
        "|  |  |  |  |  |  |",
    ]
    assert stage_table(sizes).splitlines() == [
        "| stage | 100000x100 | 300000x300 |",
        "|---|---|---|",
        "| demo | 10 s, 0.20 GiB | 10 s, 0.20 GiB |",
        "| train_sgd | 100 s, 0.98 GiB | 2 s, 0.15 GiB (failed) |",
        "| predict | 5 s, 0.29 GiB |  |",
    ]


def test_error_line_prefers_the_stage_reason_over_dvc_wrapper():
    wrapper = "ERROR: failed to reproduce 'train_sgd': failed to run: python -m x, exited with 1"
    assert error_line(f"12:00 log line\nError: train_sgd.tune_rows: too small\n{wrapper}\n") == (
        "Error: train_sgd.tune_rows: too small"
    )
    traceback = "Traceback (most recent call last):\n  File x\nnumpy._core.MemoryError: 3 GiB\n"
    assert error_line(traceback + wrapper) == "numpy._core.MemoryError: 3 GiB"
    killed = wrapper.replace("exited with 1", "exited with -9")
    assert error_line(f"12:00 fitting\n{killed}\n") == killed


def test_plot_writes_one_png_of_the_finished_sizes(tmp_path):
    path = tmp_path / "plots" / "scale.png"
    sizes = {
        "100000x100": finished(100_000, 100),
        "300000x300": failed_size(),
        "1000000x1000": finished(1_000_000, 1000, sgd=500.0),
    }
    plot_sizes(sizes, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plot_sizes({"300000x300": failed_size()}, str(tmp_path / "none.png"))
    assert not (tmp_path / "none.png").exists()


def test_quality_row_carries_the_champions_intervals_and_paired_difference():
    from benchmarks.quality import quality_row

    def result(f1, **extra):
        return {"val": {"macro_f1": f1}, "test": {"macro_f1": f1, **extra}}

    evaluation = {
        "svm": result(
            0.91,
            macro_f1_low=0.9,
            macro_f1_high=0.92,
            minus_baseline=0.01,
            minus_baseline_low=-0.002,
            minus_baseline_high=0.021,
        ),
        "baseline": result(0.9, macro_f1_low=0.89, macro_f1_high=0.91),
    }
    champion = {"family": "svm", "val_macro_f1": 0.91, "test_macro_f1": 0.91}
    row = quality_row(evaluation, champion, None)
    assert row["champion_test_interval"] == [0.9, 0.92]
    assert row["baseline_test_interval"] == [0.89, 0.91]
    assert row["champion_minus_baseline_test"] == 0.01
    assert row["champion_minus_baseline_test_interval"] == [-0.002, 0.021]
    fallback = {"family": "baseline", "val_macro_f1": 0.9, "test_macro_f1": 0.9}
    assert quality_row(evaluation, fallback, None)["champion_minus_baseline_test_interval"] == [
        0.0,
        0.0,
    ]
