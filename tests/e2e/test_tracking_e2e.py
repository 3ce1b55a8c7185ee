"""MLflow mirror end to end: runs traced to dvc.lock, the champion alias, serving, faults."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from dvc.utils.serialize import parse_yaml

from domain_classifier.evaluation.selection import choose_champion
from domain_classifier.families import registry
from domain_classifier.models.loading import load_model
from tests.support.net import free_port
from tests.support.project import FAMILIES, read_json, run, stages_run, update_params

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]
NAME = "domain-classifier"  # params.yaml mlflow.registered_model


@pytest.fixture(scope="module")
def store(project, first_repro, monkeypatch_module):
    """The project's embedded store, with the workspace reproduced whatever ran before."""
    from mlflow import MlflowClient

    run(["dvc", "repro"], project)
    uri = f"sqlite:///{project}/mlflow.db"
    monkeypatch_module.setenv("MLFLOW_TRACKING_URI", uri)
    return MlflowClient(uri)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def lock_stage(project, name: str) -> dict:
    # Read as DVC reads it: YAML 1.2, where 5e-05 is a float.
    return parse_yaml((project / "dvc.lock").read_text(), "dvc.lock")["stages"][name]


def runs_of(store, family: str | None = None):
    experiment = store.get_experiment_by_name("domain-classifier")
    query = f"tags.family = '{family}'" if family else ""
    return store.search_runs([experiment.experiment_id], query, max_results=1000)


def test_each_training_run_is_traced_to_its_dvc_lock_entry(project, store):
    import mlflow

    evaluation = read_json(project / "metrics/evaluate.json")
    history = run(["git", "rev-list", "HEAD"], project).split()
    for family in FAMILIES:
        lock = lock_stage(project, f"train_{family}")
        model_md5 = next(o["md5"] for o in lock["outs"] if o["path"] == f"models/{family}")
        matching = [r for r in runs_of(store, family) if r.data.tags["dvc.model_md5"] == model_md5]
        assert matching, f"no MLflow run logged models/{family} {model_md5}"
        tags, metrics = matching[0].data.tags, matching[0].data.metrics
        assert tags["dvc.stage"] == f"train_{family}" and tags["git.commit"] in history
        # Every dependency's hash in one artifact, not a tag each.
        assert not [key for key in tags if key.startswith("dvc.dep.")]
        lineage = mlflow.artifacts.load_dict(f"{matching[0].info.artifact_uri}/lineage.json")
        assert lineage["deps"] == {d["path"]: d["md5"] for d in lock["deps"]}
        assert lineage["outs"][f"models/{family}"] == model_md5
        # The run lasts as long as the training did (Duration), not as long as its logging.
        info = matching[0].info
        assert info.end_time - info.start_time == pytest.approx(
            metrics["seconds_training"] * 1000, abs=5
        )
        params = json.dumps([lock["params"]["params.yaml"]], sort_keys=True)
        assert tags["dvc.params_md5"] == hashlib.md5(params.encode()).hexdigest()
        for split in ("val", "test"):
            assert metrics[f"{split}_macro_f1"] == pytest.approx(
                evaluation[family][split]["macro_f1"]
            )
        score = registry.get(family).tuning_score
        assert metrics[score] == read_json(project / f"metrics/train/{family}.json")[score]
        artifacts = {a.path for a in store.list_artifacts(matching[0].info.run_id, "confusion")}
        counts = len(load_model(project / f"models/{family}").labels) > 12
        expected = {"test", "val"} | ({"test_counts", "val_counts"} if counts else set())
        assert artifacts == {f"confusion/{name}.png" for name in expected}


def test_a_repro_that_skips_every_stage_logs_no_run(project, store):
    before = len(runs_of(store))
    assert stages_run(run(["dvc", "repro"], project)) == set()
    assert len(runs_of(store)) == before


def champion(store):
    return store.get_model_version_by_alias(NAME, "champion")


def test_champion_alias_follows_select_and_keeps_previous(project, store):
    best = choose_champion(read_json(project / "metrics/evaluate.json"))
    first = champion(store)
    assert first.tags["family"] == best == read_json(project / "metrics/champion.json")["family"]
    # Its source is the run that trained it (or, for the ensemble, select's run of it): one run
    # per family per training, no empty `<family>-champion` beside it.
    source = store.get_run(first.run_id)
    assert source.info.run_name == best
    expected_stage = "select" if best == "ensemble" else f"train_{best}"
    assert source.data.tags["dvc.stage"] == expected_stage
    assert not [r for r in runs_of(store) if r.info.run_name.endswith("-champion")]
    other = next(f for f in FAMILIES if f != best)
    original = (project / "params.yaml").read_text()
    try:
        # Only `other` and a baseline that cannot learn (C tiny) left: `other` must win.
        update_params(project, {"evaluate": {"families": [other]}, "baseline": {"C": 1e-5}})
        ran = stages_run(run(["dvc", "repro", "select"], project))
        assert ran == {"baseline", "evaluate", "select"}
        assert champion(store).tags["family"] == other
        assert store.get_model_version_by_alias(NAME, "previous").version == first.version
    finally:
        (project / "params.yaml").write_text(original)
        run(["dvc", "repro"], project)  # the champion is back: predict and monitor stay cached
    assert champion(store).version == first.version  # re-used, not registered twice


def test_registry_champion_predicts_like_the_dvc_champion(project, store, tmp_path):
    out = tmp_path / "scored.parquet"
    run(
        [
            sys.executable,
            "-m",
            "stages.predict",
            "--model",
            f"models:/{NAME}@champion",
            "--output",
            str(out),
        ],
        project,
    )
    from_registry = pd.read_parquet(out)
    from_dvc = pd.read_parquet(project / "data/predictions/batch.parquet")
    assert from_registry["predicted_domain"].tolist() == from_dvc["predicted_domain"].tolist()
    assert np.allclose(from_registry["probability"], from_dvc["probability"])


def test_serving_the_champion_answers_raw_titles(project, store):
    titles = pd.read_parquet(project / "data/split/test.parquet")["title"].head(3).tolist()
    expected = load_model(project / "models/champion")
    expected = np.asarray(expected.labels)[expected.predict_proba(titles).argmax(axis=1)]
    port = free_port()
    console = Path(sys.executable).parent / "domain-classifier"
    if not console.is_file():
        pytest.skip(f"{console} not installed yet (uv sync installs it)")
    # As from a plain shell: the environment's bin/ (uvicorn) is not on PATH.
    server = subprocess.Popen(
        [str(console), "serve", "--port", str(port)],
        cwd=project,
        start_new_session=True,
        env={**os.environ, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    started = time.monotonic()
    try:
        body = json.dumps(
            {"dataframe_split": {"columns": ["title"], "data": [[t] for t in titles]}}
        ).encode()
        answer = None
        while answer is None and time.monotonic() - started < 120 and server.poll() is None:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/invocations",
                    body,
                    {"Content-Type": "application/json"},
                )
                answer = json.load(urllib.request.urlopen(request, timeout=10))
            except OSError:
                time.sleep(1)
        assert answer is not None, server.stderr.read().decode()[-2000:] if server.poll() else ""
        print(f"serve: first answer {time.monotonic() - started:.1f} s after start")
        assert [p["predicted_domain"] for p in answer["predictions"]] == expected.tolist()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_unreachable_store_warns_or_fails_fast_when_required(project, tmp_path):
    uri = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    outputs = [
        "--out",
        str(tmp_path / "sgd"),
        "--metrics",
        str(tmp_path / "sgd.json"),
        "--trials",
        str(tmp_path / "trials.csv"),
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "stages.train_sgd", *outputs],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stderr.splitlines() if uri in line] == [
        line for line in proc.stderr.splitlines() if "unreachable" in line
    ]
    assert len([line for line in proc.stderr.splitlines() if uri in line]) == 1
    assert (tmp_path / "sgd/meta.json").is_file() and (tmp_path / "sgd.json").is_file()

    params = yaml.safe_load((project / "params.yaml").read_text())
    params["mlflow"]["required"] = True
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    outputs = [o.replace("sgd", "required") for o in outputs]
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "stages.train_sgd",
            "--params",
            str(tmp_path / "params.yaml"),
            *outputs,
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .startswith(
            f"Error: MLflow tracking store {uri} unreachable and param 'mlflow.required' is true"
        )
    )
    assert not (tmp_path / "required").exists() and not (tmp_path / "required.json").exists()
    assert time.monotonic() - started < 60  # failed before training, not after retries
