"""`@champion` follows the DVC champion even when `select` ran with the store down: the issue's
sequence, run as a user runs it (stage and registry commands in subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from domain_classifier.data.tables import write_json
from domain_classifier.models.integrity import directory_md5
from domain_classifier.models.loading import load_model
from domain_classifier.models.saved import predict_labels, save_model
from tests.support.data import ROOT
from tests.support.models import train_sgd_model
from tests.support.net import free_port

NAME = "dc-test"
TITLES = ["Shampoo Anticaspa 400ml", "Capinha iPhone 15 Silicone", "Liquidificador 3 Velocidades"]
SCORES = {"macro_f1": 0.9, "accuracy": 0.9, "weighted_f1": 0.9}


@pytest.fixture(autouse=True)
def no_inherited_uri(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def command(project, *args, uri=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MLFLOW_TRACKING_URI", None)
    if uri:
        env["MLFLOW_TRACKING_URI"] = uri
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=project, env=env, capture_output=True, text=True
    )


def test_champion_selected_with_the_store_down_is_registered_once_it_is_back(
    saved_sgd_dir, small_catalogue, tmp_path, monkeypatch
):
    import mlflow

    from domain_classifier.models.fetch import load_registered
    from domain_classifier.models.pyfunc import log_title_model
    from domain_classifier.store.client import MODEL_MD5_TAG
    from domain_classifier.tracking.champion import ensure_champion
    from domain_classifier.tracking.registry import register_model
    from domain_classifier.tracking.runs import connect

    project = tmp_path / "project"
    project.mkdir()
    params = {
        "mlflow": {"tracking_uri": f"sqlite:///{tmp_path}/m.db", "registered_model": NAME},
        "evaluate": {"families": ["sgd"]},
    }
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(project)
    # The old champion, logged by its training run and registered by select.
    old = directory_md5(saved_sgd_dir)
    assert connect("params.yaml") is not None
    with mlflow.start_run():
        mlflow.set_tags({"family": "sgd", MODEL_MD5_TAG: old})
        mlflow.set_tag("model_uri", log_title_model(saved_sgd_dir))
    assert register_model(connect("params.yaml"), family="sgd", model_md5=old, summary={}) == "1"

    # A retrained sgd wins while the store is down: select warns and succeeds.
    save_model(train_sgd_model(small_catalogue.iloc[::2], seed=3), project / "models/sgd")
    assert directory_md5(project / "models/sgd") != old
    write_json({"sgd": {"val": SCORES, "test": SCORES}}, project / "metrics/evaluate.json")
    (project / "data/split").mkdir(parents=True)
    for split in ("val", "test"):  # select calibrates the champion on val, reports test
        small_catalogue.to_parquet(project / f"data/split/{split}.parquet")
    down = f"http://127.0.0.1:{free_port()}"
    done = command(project, "stages.select", uri=down)
    assert done.returncode == 0, done.stderr
    assert f"MLflow tracking store {down} unreachable" in done.stderr
    new = directory_md5(project / "models/champion")
    assert new != old

    # Store back: status reports the mismatch, sync repairs it, status agrees.
    done = command(project, "domain_classifier.tools.registry", "status")
    assert done.returncode == 1
    assert f"DVC champion:      sgd {new}" in done.stdout
    assert f"registry champion: sgd {old} ({NAME} version 1)" in done.stdout
    done = command(project, "domain_classifier.tools.registry", "sync")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "@champion is version 2, the DVC champion"
    done = command(project, "domain_classifier.tools.registry", "status")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("they agree")
    # Syncing again changes nothing; the registry's champion scores as the DVC champion does.
    assert ensure_champion("params.yaml") == "2"
    registered = load_registered(f"models:/{NAME}@champion", "params.yaml")
    expected = predict_labels(load_model(project / "models/champion"), TITLES).tolist()
    assert predict_labels(registered, TITLES).tolist() == expected


def test_status_with_the_store_down_is_one_error_line(tmp_path):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"mlflow": {"registered_model": NAME}}))
    down = f"http://127.0.0.1:{free_port()}"
    done = command(tmp_path, "domain_classifier.tools.registry", "status", uri=down)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert errors == [f"Error: MLflow tracking store {down} unreachable: @champion not checked"]


def test_sync_before_any_champion_creates_no_store(tmp_path):
    (tmp_path / "params.yaml").write_text(
        yaml.safe_dump({"mlflow": {"tracking_uri": "sqlite:///mlflow.db"}})
    )
    done = command(tmp_path, "domain_classifier.tools.registry", "sync")
    assert done.returncode == 0, done.stderr
    assert "nothing to sync" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]
