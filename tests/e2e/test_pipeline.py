"""End to end: the real DAG under `dvc repro` in a temporary git copy of the project."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest

from domain_classifier.features.text import dedup_key
from tests.support.project import FAMILIES, read_json, run, stages_run, update_params

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


def test_demo_pipeline_learns_and_keeps_splits_apart(project, first_repro):
    assert {
        "demo",
        "ingest",
        "split",
        "tokenize",
        "plan",
        "baseline",
        "evaluate",
        "select",
        "predict",
        "monitor",
    } | {f"train_{f}" for f in FAMILIES} == stages_run(first_repro)
    evaluation = read_json(project / "metrics/evaluate.json")
    # 3,000 rows in 32 unbalanced domains with one trial each: far above chance (~0.03).
    for family in FAMILIES:
        assert evaluation[family]["val"]["macro_f1"] > 0.2, family
    assert evaluation["sgd"]["val"]["macro_f1"] > 0.5
    champion = read_json(project / "metrics/champion.json")
    candidates = [*FAMILIES, "baseline"]
    assert champion["val_macro_f1"] == max(evaluation[f]["val"]["macro_f1"] for f in candidates)
    # The baseline is the last candidate: the champion is never below it on validation.
    assert evaluation["baseline"]["val"]["macro_f1"] > 0.5
    assert champion["family"] in candidates
    assert champion["val_macro_f1"] >= evaluation["baseline"]["val"]["macro_f1"]
    for name in FAMILIES:
        test = evaluation[name]["test"]
        assert test["macro_f1_low"] <= test["macro_f1"] <= test["macro_f1_high"], name
        assert test["minus_baseline_low"] <= test["minus_baseline_high"], name
    calibration = read_json(project / "metrics/calibration.json")
    assert calibration["calibrated_family"] == champion["family"]
    for split in ("val", "test"):
        assert 0 <= calibration[split]["ece_after"] <= 1
    # Temperature is fitted to minimise val NLL, which in practice lowers val ECE too.
    assert calibration["val"]["ece_after"] <= calibration["val"]["ece_before"] + 0.01
    assert (project / "models/champion/calibration.json").is_file()
    assert (project / "reports/monitor.md").is_file()
    assert read_json(project / "metrics/monitor.json")["retrain_recommended"] is False
    keys = {
        s: set(pd.read_parquet(project / f"data/split/{s}.parquet")["title"].map(dedup_key))
        for s in ("train", "val", "test")
    }
    assert not (
        keys["train"] & keys["val"] or keys["train"] & keys["test"] or keys["val"] & keys["test"]
    )
    batch = pd.read_parquet(project / "data/demo/batch.parquet")
    scored = pd.read_parquet(project / "data/predictions/batch.parquet")
    assert len(scored) == len(batch) == 700
    assert scored["item_id"].tolist() == batch["item_id"].tolist()
    assert scored["needs_review"].notna().all()


def test_second_repro_is_a_no_op(project, first_repro):
    output = run(["dvc", "repro"], project)
    assert stages_run(output) == set()
    assert "Data and pipelines are up to date" in output


def test_character_ngram_change_retrains_no_sequence_family(project, first_repro):
    original = (project / "params.yaml").read_text()
    update_params(project, {"tokenize": {"char_ngram_range": [3, 5]}})
    try:
        run(["dvc", "repro", "--single-item", "tokenize"], project)
        status = run(["dvc", "status"], project)
    finally:
        (project / "params.yaml").write_text(original)
        run(["dvc", "repro", "--single-item", "tokenize"], project)  # from the run-cache
    changed = set(re.findall(r"^(\w+):", status, flags=re.M))
    assert {"train_sgd", "train_hgb", "train_xgb"} <= changed
    assert not changed & {"train_rnn", "train_lstm"}
    assert stages_run(run(["dvc", "repro", "--dry"], project)) == set()


def test_bad_param_fails_with_one_line_naming_it(project, first_repro):
    path = project / "params.yaml"
    original = path.read_text()
    update_params(project, {"train_sgd": {"max_trials": 0}})
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "stages.train_sgd"], cwd=project, capture_output=True, text=True
        )
    finally:
        path.write_text(original)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1] == (
        "Error: param 'train_sgd.max_trials' must be >= 1, got 0"
    )


def test_changing_a_train_param_would_rerun_only_training_and_downstream(project, first_repro):
    original = (project / "params.yaml").read_text()
    update_params(project, {"train_sgd": {"max_iter": 12}})
    try:
        would_run = stages_run(run(["dvc", "repro", "--dry"], project))
    finally:
        (project / "params.yaml").write_text(original)
    assert "train_sgd" in would_run
    # The plan reads every train_* section; where its settings files come out unchanged,
    # DVC reruns no other family.
    assert would_run <= {"plan", "train_sgd", "evaluate", "select", "predict", "monitor"}
