"""What the MLflow UI shows of a training and its champion (issue 31): one run per family per
training, lasting as long as the training did, traced to dvc.lock by a few tags and one
`lineage.json`; the champion registered from that run, its signature naming `title`."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from domain_classifier.data.tables import write_json
from domain_classifier.families import registry
from domain_classifier.families.sgd import SgdParams
from domain_classifier.models.fetch import load_registered
from domain_classifier.models.integrity import directory_md5
from domain_classifier.models.loading import load_model
from domain_classifier.models.saved import predict_labels
from domain_classifier.store.client import MODEL_MD5_TAG
from domain_classifier.tracking import training_run
from domain_classifier.tracking.champion import (
    CHAMPION_DIR,
    CHAMPION_METRICS,
    ensure_champion,
    register_champion_dir,
    registry_champion,
    uncalibrated_md5,
)
from domain_classifier.tracking.runs import connect

NAME = "dc-test"
SECONDS = 53.0  # what training took: the run's Duration
SUMMARY = {"family": "sgd", "val_macro_f1": 0.91, "test_macro_f1": 0.9, "test_accuracy": 0.92}
TITLES = ["Shampoo Anticaspa 400ml", "Capinha iPhone 15 Silicone", "Liquidificador 3 Velocidades"]
# As many dependencies as a training stage has: each once was a `dvc.dep.<path>` tag.
DEPS = {f"domain_classifier/module_{i}.py": f"{i:032x}" for i in range(24)}


@pytest.fixture(autouse=True)
def no_inherited_uri(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture
def project(saved_sgd_dir, small_catalogue, tmp_path, monkeypatch):
    """A project whose store exists, with models/sgd trained and val/test splits written."""
    monkeypatch.chdir(tmp_path)
    params = {"mlflow": {"tracking_uri": f"sqlite:///{tmp_path}/m.db", "registered_model": NAME}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    assert connect("params.yaml") is not None
    shutil.copytree(saved_sgd_dir, tmp_path / "models/sgd")
    (tmp_path / "data/split").mkdir(parents=True)
    for split in ("val", "test"):
        small_catalogue.to_parquet(tmp_path / f"data/split/{split}.parquet")
    return tmp_path


def record_of(project) -> dict:
    """What lineage.stage_record reads from DVC for train_sgd (there is no DVC repo here)."""
    return {
        "deps": DEPS,
        "outs": {"models/sgd": directory_md5(project / "models/sgd")},
        "params_md5": "9" * 32,
        "commit": "c" * 40,
        "dirty": False,
    }


def train_run(project, monkeypatch) -> str:
    """The MLflow run the train_sgd stage logs, as it logs it right after training."""
    record = record_of(project)
    monkeypatch.setattr(training_run, "stage_record", lambda stage: record)
    history = pd.DataFrame(
        {"accuracy": [0.8, 0.9], "hyperparameters": [{"alpha": 1e-3}, {"alpha": 1e-4}]}
    )
    return training_run.log_training(
        connect("params.yaml"),
        family=registry.get("sgd"),
        model=load_model(project / "models/sgd"),
        model_dir="models/sgd",
        best={"alpha": 1e-4},
        history=history,
        section=SgdParams(),
        split_dir="data/split",
        seconds=SECONDS,
    )


def runs(client):
    experiment = client.get_experiment_by_name("domain-classifier")
    return client.search_runs([experiment.experiment_id], max_results=100)


def test_a_training_run_lasts_as_long_as_the_training_and_traces_dvc_in_one_artifact(
    project, monkeypatch
):
    import mlflow

    client = mlflow.MlflowClient()
    run = client.get_run(train_run(project, monkeypatch))
    assert run.info.status == "FINISHED"
    # The UI's Duration is end - start: the 53 s of training, not the seconds of logging.
    assert abs(run.info.end_time - run.info.start_time - SECONDS * 1000) <= 2
    assert run.data.metrics["seconds_training"] == SECONDS
    tags = run.data.tags
    assert not [key for key in tags if key.startswith("dvc.dep.")]
    assert {key for key in tags if key.startswith(("dvc.", "git."))} == {
        "dvc.stage",
        "dvc.model_md5",
        "dvc.params_md5",
        "git.commit",
        "git.dirty",
    }
    assert tags["dvc.stage"] == "train_sgd" and tags["git.commit"] == "c" * 40
    # The run page's Source and Created by, as a run started the usual way has them.
    assert tags["mlflow.source.name"] and tags["mlflow.user"]
    assert tags["process.pid"] and tags["process.host"]  # a killed training's run is found
    lineage = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/lineage.json")
    assert lineage == {
        "stage": "train_sgd",
        "git": {"commit": "c" * 40, "dirty": False},
        "params_md5": "9" * 32,
        "deps": DEPS,
        "outs": {"models/sgd": tags[MODEL_MD5_TAG]},
    }
    # The logged model says which folder it holds, by the hash dvc.lock records for it.
    (output,) = run.outputs.model_outputs
    model = client.get_logged_model(output.model_id)
    assert model.tags[MODEL_MD5_TAG] == directory_md5(project / "models/sgd")
    assert model.tags["family"] == "sgd"


def test_the_champion_version_comes_from_the_training_run_that_produced_it(
    project, calibrated_sgd_dir, monkeypatch
):
    import mlflow

    client = mlflow.MlflowClient()
    trained = client.get_run(train_run(project, monkeypatch))
    champion = project / CHAMPION_DIR
    shutil.copytree(calibrated_sgd_dir, champion)  # select: models/sgd plus its calibration
    write_json(SUMMARY, project / CHAMPION_METRICS)
    assert uncalibrated_md5(champion) == trained.data.tags[MODEL_MD5_TAG]

    params = connect("params.yaml")
    assert register_champion_dir(params, family="sgd", summary=SUMMARY, directory=champion) == "1"
    # One run for the family's training, no `sgd-champion` beside it.
    assert [run.info.run_id for run in runs(client)] == [trained.info.run_id]
    version = client.get_model_version_by_alias(NAME, "champion")
    assert version.run_id == trained.info.run_id
    # What the run page lists as its registered models.
    found = client.search_model_versions(f"run_id = '{trained.info.run_id}'")
    assert [str(v.version) for v in found] == ["1"]
    # Logging the champion leaves the training run as it ended.
    after = client.get_run(trained.info.run_id)
    assert (after.info.status, after.info.end_time) == ("FINISHED", trained.info.end_time)
    assert len(after.outputs.model_outputs) == 2  # the family's model and the champion
    # The registry knows the calibrated folder's hash, so sync and serving agree with DVC.
    assert registry_champion(client, params).model_md5 == directory_md5(champion)
    assert ensure_champion("params.yaml") == "1"
    registered = load_registered(f"models:/{NAME}@champion", "params.yaml")
    assert predict_labels(registered, TITLES).tolist() == (
        predict_labels(load_model(champion), TITLES).tolist()
    )
    # The signature tells the UI's reader what to send.
    info = mlflow.models.get_model_info(f"models:/{NAME}@champion")
    assert info.signature.inputs.to_dict() == [
        {"type": "string", "name": "title", "required": True}
    ]
    assert [str(v.version) for v in client.search_model_versions(f"name = '{NAME}'")] == ["1"]


def test_an_ensemble_champion_gets_one_run_of_its_own_with_params_and_lineage(
    project, calibrated_sgd_dir
):
    import mlflow

    client = mlflow.MlflowClient()
    champion = project / CHAMPION_DIR
    shutil.copytree(calibrated_sgd_dir, champion)  # no training run logged these members
    summary = {**SUMMARY, "family": "ensemble"}
    params = connect("params.yaml")
    assert register_champion_dir(params, family="ensemble", summary=summary, directory=champion)
    (run,) = runs(client)
    assert run.info.run_name == "ensemble"
    assert run.data.tags["dvc.stage"] == "select" and run.data.tags["family"] == "ensemble"
    assert float(run.data.params["temperature"]) > 0
    assert run.data.metrics["val_macro_f1"] == SUMMARY["val_macro_f1"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert "lineage.json" in artifacts
    assert client.get_model_version_by_alias(NAME, "champion").run_id == run.info.run_id


def test_the_champion_folder_minus_its_calibration_hashes_as_the_family_folder(
    saved_sgd_dir, calibrated_sgd_dir
):
    assert uncalibrated_md5(calibrated_sgd_dir) == directory_md5(saved_sgd_dir)
    assert uncalibrated_md5(saved_sgd_dir) == directory_md5(saved_sgd_dir)
    assert directory_md5(calibrated_sgd_dir) != directory_md5(saved_sgd_dir)
