"""The registry under hostile conditions (issue 30): a MLFLOW_TRACKING_URI naming a store
that does not exist, and a `sync` killed with `kill -9` before its model was logged."""

from __future__ import annotations

import shutil
import socket
import subprocess

import pytest
import yaml

from domain_classifier.data.tables import write_json
from domain_classifier.models.integrity import directory_md5
from domain_classifier.store.client import MODEL_MD5_TAG
from domain_classifier.tracking.champion import CHAMPION_DIR, CHAMPION_METRICS
from domain_classifier.tracking.runs import HOST_TAG, PID_TAG, connect
from tests.integration.test_champion_sync import NAME, command

SYNC = ("domain_classifier.tools.registry", "sync")
SUMMARY = {"family": "sgd", "val_macro_f1": 0.9, "test_macro_f1": 0.9}


@pytest.fixture(autouse=True)
def no_inherited_uri(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def missing_store(kind: str, tmp_path, project):
    """(MLFLOW_TRACKING_URI, the URI the error names, where the store would be created)."""
    if kind == "sqlite":
        return (f"sqlite:///{tmp_path}/missing/mlflow.db",) * 2 + (tmp_path / "missing",)
    if kind == "relative-sqlite":  # taken from the project, as the param's own would be
        return "sqlite:///other.db", f"sqlite:///{project}/other.db", project / "other.db"
    return ((tmp_path / "nowhere").as_uri(),) * 2 + (tmp_path / "nowhere",)


@pytest.mark.parametrize("kind", ["sqlite", "relative-sqlite", "file"])
@pytest.mark.parametrize("args", [("stages.select",), SYNC], ids=["select", "sync"])
def test_a_missing_store_named_by_the_environment_is_refused_not_created(
    args, kind, tmp_path, monkeypatch
):
    project = tmp_path / "project"
    (project / CHAMPION_DIR).mkdir(parents=True)  # without one, sync has nothing to check
    params = {"mlflow": {"registered_model": NAME}, "evaluate": {"families": ["sgd"]}}
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    uri, shown, location = missing_store(kind, tmp_path, project)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # else MLflow refuses a file store
    before = sorted(tmp_path.rglob("*"))
    done = command(project, *args, uri=uri)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    naming = [line for line in done.stderr.splitlines() if shown in line]
    assert len(naming) == 1 and naming[0].startswith(f"Error: MLflow tracking store {shown} ")
    assert "does not exist" in naming[0]
    assert not location.exists()
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("environment", [None, "sqlite:///mlflow.db"])
def test_the_params_own_store_is_still_created_on_first_use(environment, tmp_path, monkeypatch):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"mlflow": {"registered_model": NAME}}))
    monkeypatch.chdir(tmp_path)
    if environment:  # the param's own store, named again (a Makefile's export, say)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", environment)
    assert connect("params.yaml") is not None
    assert (tmp_path / "mlflow.db").is_file()


@pytest.fixture
def champion_project(saved_sgd_dir, tmp_path, monkeypatch):
    """A project whose DVC champion is saved_sgd_dir, its store made, no run logged yet."""
    project = tmp_path / "project"
    shutil.copytree(saved_sgd_dir, project / CHAMPION_DIR)
    write_json(SUMMARY, project / CHAMPION_METRICS)
    params = {"mlflow": {"tracking_uri": "sqlite:///mlflow.db", "registered_model": NAME}}
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(project)
    assert connect("params.yaml") is not None
    return project


def run_without_model(client, **tags) -> str:
    """A run with the champion's family and hash that died before logging its model."""
    import mlflow

    experiment = mlflow.get_experiment_by_name("domain-classifier").experiment_id
    md5 = directory_md5(CHAMPION_DIR)
    return client.create_run(experiment, tags={"family": "sgd", MODEL_MD5_TAG: md5, **tags})


def registered(client) -> dict[str, str]:
    return {str(v.version): v.run_id for v in client.search_model_versions(f"name = '{NAME}'")}


def test_sync_registers_the_logged_run_not_the_newer_killed_one(champion_project):
    import mlflow

    from domain_classifier.models.pyfunc import log_title_model

    client = mlflow.MlflowClient()
    with mlflow.start_run() as good:
        mlflow.set_tags({"family": "sgd", MODEL_MD5_TAG: directory_md5(CHAMPION_DIR)})
        mlflow.set_tag("model_uri", log_title_model(CHAMPION_DIR))
    killed = run_without_model(client).info.run_id
    client.set_terminated(killed, status="KILLED")
    done = command(champion_project, *SYNC)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.strip() == "@champion is version 1, the DVC champion"
    assert registered(client) == {"1": good.info.run_id}


def test_sync_killed_before_logging_its_model_recovers_on_the_next_sync(champion_project):
    import mlflow

    client = mlflow.MlflowClient()
    dead = subprocess.Popen(["true"])
    dead.wait()
    # What `kill -9` leaves mid-`log_champion_run`: RUNNING, owned by a process that is gone.
    owner = {HOST_TAG: socket.gethostname(), PID_TAG: str(dead.pid)}
    orphan = run_without_model(client, **owner).info.run_id
    done = command(champion_project, *SYNC)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.strip() == "@champion is version 1, the DVC champion"
    assert client.get_run(orphan).info.status == "KILLED"
    (version,) = registered(client).items()
    assert version[0] == "1" and version[1] != orphan
    assert client.get_run(version[1]).data.tags["model_uri"]
