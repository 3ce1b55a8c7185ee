"""End to end: the real DAG under `dvc repro` in a temporary git copy of the project."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from domain_classifier.text import dedup_key
from tests.conftest import MELI_COLUMNS, MELI_SAMPLE, ROOT, needs_meli

pytestmark = pytest.mark.slow
SKIP = {"dvc.lock"}
SKIP_DIRS = ("data/", "models/", "metrics/", "plots/")

# One fixed, fast-learning configuration: a random draw may pick a slow learning rate.
RECURRENT_SPACE = {"units": [32], "embedding_dim": [32], "dropout": [0.1],
                   "learning_rate": [0.01], "bidirectional": [False]}
TINY_SEARCH = {"max_trials": 1, "num_initial_points": 1, "cv_folds": 2}
SMALL_BUDGET = {
    "demo": {"rows": 3000, "batch_rows": 700},
    "tokenize": {"word_max_features": 5000, "char_max_features": 8000},
    "train_sgd": {"max_trials": 2, "num_initial_points": 2, "cv_folds": 2,
                  "space": {"alpha": {"min": 5.0e-5, "max": 5.0e-4, "sampling": "log"},
                            "loss": ["log_loss"]}},
    "train_hgb": {**TINY_SEARCH, "space": {"learning_rate": [0.2], "max_iter": [40]}},
    "train_xgb": {**TINY_SEARCH, "space": {"learning_rate": [0.3], "n_estimators": [40]}},
    "train_rnn": {**TINY_SEARCH, "epochs": 8, "space": RECURRENT_SPACE},
    "train_lstm": {**TINY_SEARCH, "epochs": 8, "space": RECURRENT_SPACE},
    "monitor": {"bootstrap_samples": 200, "sample_size": 1000},
}
FAMILIES = ("sgd", "hgb", "xgb", "rnn", "lstm")


def run(cmd: list[str], cwd: Path) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def update_params(project: Path, changes: dict) -> None:
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for section, values in changes.items():
        params[section].update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([\w@-]+)'", output))


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A git repository holding the project's source files, with small budgets committed."""
    target = tmp_path_factory.mktemp("project")
    listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], ROOT)
    for name in listed.splitlines():
        if name in SKIP or name.startswith(SKIP_DIRS) or not (ROOT / name).is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    update_params(target, SMALL_BUDGET)
    run(["git", "init", "-q"], target)
    run(["git", "config", "user.email", "ci@example.invalid"], target)
    run(["git", "config", "user.name", "CI"], target)
    run(["git", "add", "-A"], target)
    run(["git", "commit", "-qm", "project under test"], target)
    return target


@pytest.fixture(scope="module")
def first_repro(project) -> str:
    return run(["dvc", "repro"], project)


def read_json(path: Path):
    return json.loads(path.read_text())


def test_demo_pipeline_learns_and_keeps_splits_apart(project, first_repro):
    assert {"demo", "ingest", "split", "tokenize", "evaluate", "select", "predict",
            "monitor"} | {f"train_{f}" for f in FAMILIES} == stages_run(first_repro)
    evaluation = read_json(project / "metrics/evaluate.json")
    # 3,000 rows in 32 unbalanced domains with one trial each: far above chance (~0.03).
    for family in FAMILIES:
        assert evaluation[family]["val"]["macro_f1"] > 0.2, family
    assert evaluation["sgd"]["val"]["macro_f1"] > 0.5
    champion = read_json(project / "metrics/champion.json")
    assert champion["val_macro_f1"] == max(evaluation[f]["val"]["macro_f1"] for f in FAMILIES)
    assert (project / "reports/monitor.md").is_file()
    assert read_json(project / "metrics/monitor.json")["retrain_recommended"] is False
    keys = {s: set(pd.read_parquet(project / f"data/split/{s}.parquet")["title"].map(dedup_key))
            for s in ("train", "val", "test")}
    assert not (keys["train"] & keys["val"] or keys["train"] & keys["test"]
                or keys["val"] & keys["test"])
    batch = pd.read_parquet(project / "data/demo/batch.parquet")
    scored = pd.read_parquet(project / "data/predictions/batch.parquet")
    assert len(scored) == len(batch) == 700
    assert scored["item_id"].tolist() == batch["item_id"].tolist()


def test_second_repro_is_a_no_op(project, first_repro):
    output = run(["dvc", "repro"], project)
    assert stages_run(output) == set()
    assert "Data and pipelines are up to date" in output


def test_retraining_from_scratch_gives_identical_metrics(project, first_repro):
    # Metrics and trial histories, not model files: a .keras archive records its save time.
    tracked = ["metrics/evaluate.json", "metrics/champion.json", "metrics/train/sgd.json",
               "metrics/train/lstm.json", "plots/tuning/sgd.csv", "plots/tuning/lstm.csv",
               "dvclive/lstm/metrics.json"]
    before = {name: (project / name).read_bytes() for name in tracked}
    for family in ("sgd", "lstm"):  # a scikit-learn and a Keras family
        shutil.rmtree(project / f"models/{family}")
    (project / "metrics/evaluate.json").unlink()
    # Without --force DVC would check the models out of its cache instead of training again.
    forced = run(["dvc", "repro", "--force", "--single-item", "train_sgd", "train_lstm"], project)
    assert stages_run(forced) == {"train_sgd", "train_lstm"}
    run(["dvc", "repro"], project)
    assert {name: (project / name).read_bytes() for name in tracked} == before


def test_changing_a_train_param_reruns_only_training_and_downstream(project, first_repro):
    update_params(project, {"train_sgd": {"max_iter": 12}})
    ran = stages_run(run(["dvc", "repro"], project))
    assert "train_sgd" in ran
    assert ran <= {"train_sgd", "evaluate", "select", "predict", "monitor"}


def test_bad_param_fails_with_one_line_naming_it(project, first_repro):
    path = project / "params.yaml"
    original = path.read_text()
    update_params(project, {"train_sgd": {"max_trials": 0}})
    try:
        proc = subprocess.run([sys.executable, "-m", "stages.train_sgd"], cwd=project,
                              capture_output=True, text=True)
    finally:
        path.write_text(original)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1] == (
        "Error: param 'train_sgd.max_trials' must be >= 1, got 0")


@needs_meli
def test_mercado_libre_sample_is_a_params_change(project, first_repro):
    args = ["dvc", "exp", "run", "-S", f"data.source={MELI_SAMPLE}",
            "-S", f"data.text_column={MELI_COLUMNS['text_column']}",
            "-S", f"data.label_column={MELI_COLUMNS['label_column']}"]
    run(args, project)
    evaluation = read_json(project / "metrics/evaluate.json")
    assert evaluation["sgd"]["val"]["macro_f1"] >= 0.85
    for family in FAMILIES:  # tiny budgets, yet every family learns (chance is about 0.33)
        assert evaluation[family]["val"]["macro_f1"] >= 0.6, family
    split = read_json(project / "metrics/split.json")
    assert split["train"]["domains"] == 3
    assert run(["dvc", "exp", "list", "--name-only"], project).strip()
