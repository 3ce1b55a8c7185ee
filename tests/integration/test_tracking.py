"""MLflow mirror, code level: params checks, unreachable stores, the raw-title model, aliases."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
import yaml

from domain_classifier.errors import InputError
from domain_classifier.models.fetch import load_registered
from domain_classifier.models.loading import load_model
from domain_classifier.models.saved import predict_labels
from domain_classifier.params import parse_dataclass
from domain_classifier.store.client import MlflowParams
from domain_classifier.tracking.runs import connect
from tests.support.net import free_port

TITLES = ["Shampoo Anticaspa 400ml", "Capinha iPhone 15 Silicone", "Liquidificador 3 Velocidades"]


@pytest.fixture(autouse=True)
def no_inherited_uri(monkeypatch):
    # mlflow.set_tracking_uri also exports MLFLOW_TRACKING_URI, which would leak between tests.
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def params_file(tmp_path, **mlflow) -> str:
    path = tmp_path / "params.yaml"
    path.write_text(
        yaml.safe_dump({"mlflow": {"tracking_uri": f"sqlite:///{tmp_path}/m.db", **mlflow}})
    )
    return str(path)


@pytest.mark.parametrize(
    "key,value",
    [
        ("registered_model", "team/model"),
        ("registered_model", "champion@v2"),
        ("registered_model", ""),
        ("experiment", ""),
        ("experiment", "bad\nname"),
    ],
)
def test_invalid_names_are_refused_naming_the_param(key, value):
    with pytest.raises(InputError, match=rf"^param 'mlflow\.{key}' must be"):
        parse_dataclass(MlflowParams, {key: value}, "mlflow")


def test_environment_uri_overrides_the_param(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:1")
    assert MlflowParams(tracking_uri="sqlite:///mlflow.db").uri == "http://127.0.0.1:1"


def test_unreachable_store_warns_once_or_fails_fast_when_required(tmp_path, caplog):
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="domain_classifier.tracking.runs"):
        assert connect(params_file(tmp_path, tracking_uri=uri)) is None
    assert [r.getMessage() for r in caplog.records if uri in r.getMessage()] == [
        caplog.records[-1].getMessage()
    ]
    with pytest.raises(
        InputError,
        match=rf"MLflow tracking store {uri} unreachable and "
        r"param 'mlflow.required' is true",
    ):
        connect(params_file(tmp_path, tracking_uri=uri, required=True))


def test_logged_model_takes_raw_titles_as_frame_series_or_list(saved_sgd_dir, tmp_path):
    import mlflow

    from domain_classifier.models.pyfunc import load_title_model, log_title_model

    assert connect(params_file(tmp_path)) is not None
    with mlflow.start_run():
        uri = log_title_model(saved_sgd_dir)
    expected = predict_labels(load_model(saved_sgd_dir), TITLES).tolist()
    served = mlflow.pyfunc.load_model(uri)
    for batch in (pd.DataFrame({"title": TITLES, "item_id": [1, 2, 3]}), pd.Series(TITLES), TITLES):
        out = served.predict(batch)
        assert out["predicted_domain"].tolist() == expected == out["top1_domain"].tolist()
        assert out["probability"].between(0, 1).all()
        assert (out["top1_probability"] >= out["top2_probability"]).all()
    # The predict stage's columns: top_k as asked, nothing for a null or blank title.
    out = served.predict(pd.Series([TITLES[0], None, "  "]), params={"top_k": 2})
    assert list(out.columns) == [
        "predicted_domain",
        "probability",
        "top1_domain",
        "top1_probability",
        "top2_domain",
        "top2_probability",
        "needs_review",
    ]
    assert out["predicted_domain"].isna().tolist() == [False, True, True]
    assert out["probability"].isna().tolist() == [False, True, True]
    assert predict_labels(load_title_model(uri), TITLES).tolist() == expected


def test_champion_alias_moves_and_the_replaced_version_keeps_previous(saved_sgd_dir, tmp_path):
    import mlflow
    from mlflow import MlflowClient

    from domain_classifier.models.integrity import directory_md5
    from domain_classifier.models.pyfunc import log_title_model
    from domain_classifier.store.client import MODEL_MD5_TAG
    from domain_classifier.tracking.registry import _promote

    assert connect(params_file(tmp_path)) is not None
    client = MlflowClient()
    versions = []
    for recorded in (directory_md5(saved_sgd_dir), "0" * 32 + ".dir"):
        with mlflow.start_run():
            mlflow.set_tag(MODEL_MD5_TAG, recorded)
            uri = log_title_model(saved_sgd_dir)
        versions.append(mlflow.register_model(uri, "dc-test").version)
        _promote(client, "dc-test", versions[-1])
    _promote(client, "dc-test", versions[-1])  # promoting the champion again changes nothing
    assert client.get_model_version_by_alias("dc-test", "champion").version == versions[1]
    assert client.get_model_version_by_alias("dc-test", "previous").version == versions[0]
    expected = predict_labels(load_model(saved_sgd_dir), TITLES).tolist()
    model = load_registered("models:/dc-test@previous", params_file(tmp_path))
    assert predict_labels(model, TITLES).tolist() == expected
    # The champion's run recorded another hash than the model it holds: refused unless trusted.
    with pytest.raises(InputError, match=r"^models:/dc-test@champion: its hash \w+\.dir is not"):
        load_registered("models:/dc-test@champion", params_file(tmp_path))
    trusted = load_registered("models:/dc-test@champion", params_file(tmp_path), trust=True)
    assert predict_labels(trusted, TITLES).tolist() == expected


def test_loading_an_unknown_registered_model_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match=r"^models:/nope@champion: cannot load from MLflow"):
        load_registered("models:/nope@champion", params_file(tmp_path))


def test_embedded_store_is_the_projects_even_from_a_queued_experiment(tmp_path, monkeypatch):
    from domain_classifier.store.client import in_temporary_workspace

    workspace = tmp_path / ".dvc/tmp/exps/tmpabc123"
    workspace.mkdir(parents=True)
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))  # what DVC sets for a queued experiment
    assert MlflowParams().uri == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    assert in_temporary_workspace()
    assert MlflowParams(tracking_uri="sqlite:////srv/m.db").uri == "sqlite:////srv/m.db"


def test_a_stage_refuses_an_invalid_model_name_in_one_line(tmp_path):
    import subprocess
    import sys

    from tests.support.data import ROOT

    path = tmp_path / "params.yaml"
    path.write_text(
        yaml.safe_dump(
            {"evaluate": {"families": ["sgd"]}, "mlflow": {"registered_model": "team/classifier"}}
        )
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stages.select",
            "--params",
            str(path),
            "--metrics",
            str(tmp_path / "champion.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: param 'mlflow.registered_model' must be letters, digits, '_', '.' or '-' "
        "(it goes into models:/<name>@champion), got 'team/classifier'"
    ]
    assert not (tmp_path / "champion.json").exists()


def test_logged_model_validates_requests_as_predict_validates_batches(saved_sgd_dir, tmp_path):
    import mlflow
    from mlflow.exceptions import MlflowException

    from domain_classifier.models.pyfunc import MAX_REQUEST_TITLES, log_title_model

    assert connect(params_file(tmp_path)) is not None
    with mlflow.start_run():
        served = mlflow.pyfunc.load_model(log_title_model(saved_sgd_dir))
    out = served.predict(pd.DataFrame({"title": [TITLES[0], None, "  ", ""]}))
    assert out["predicted_domain"].tolist()[1:] == [None, None, None]
    assert (
        out["predicted_domain"].iloc[0] == predict_labels(load_model(saved_sgd_dir), TITLES[:1])[0]
    )
    assert out["probability"].isna().tolist() == [False, True, True, True]
    assert out["probability"].iloc[1] is None  # JSON null from the server, never NaN
    assert (
        served.predict({"title": TITLES[:1]})["predicted_domain"].tolist()
        == out["predicted_domain"].tolist()[:1]
    )
    refused = {
        "numbers": [1, 2, 3],
        "no title column": pd.DataFrame({"name": TITLES, "shop": TITLES}),
        "too many": pd.DataFrame({"title": ["x"] * (MAX_REQUEST_TITLES + 1)}),
    }
    messages = {
        "numbers": "titles must be strings; row 1 is int",
        "no title column": "send a 'title' column or a single column",
        "too many": f"the limit is {MAX_REQUEST_TITLES}",
    }
    for case, batch in refused.items():
        with pytest.raises(MlflowException, match=messages[case]):
            served.predict(batch)


HOLD_A_RUN = """
import sys, time
import mlflow
from domain_classifier.tracking.runs import connect, owned_run
connect(sys.argv[1])
with owned_run():
    print(mlflow.active_run().info.run_id, flush=True)
    time.sleep(300)
"""


def test_a_run_whose_process_was_killed_is_marked_killed_and_a_live_one_is_left(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from mlflow import MlflowClient

    from domain_classifier.tracking.runs import owned_run
    from tests.support.data import ROOT

    params = params_file(tmp_path)
    assert connect(params) is not None  # the store and experiment exist before the holder starts
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": ""}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_RUN, params], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        killed = holder.stdout.readline().strip()
        holder.send_signal(signal.SIGKILL)  # mid-run: MLflow gets no chance to end it
        holder.wait()
        client = MlflowClient()
        assert client.get_run(killed).info.status == "RUNNING"
        with owned_run() as live:  # a run whose process (this one) is alive
            assert connect(params) is not None
            assert client.get_run(live.info.run_id).info.status == "RUNNING"
        assert client.get_run(killed).info.status == "KILLED"
    finally:
        holder.kill()
        holder.wait()
