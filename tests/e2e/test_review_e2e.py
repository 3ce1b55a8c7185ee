"""The reviewer's workflow on a real run: experiment, `dvc exp show`, report, offline plots."""

from __future__ import annotations

import sys

import pytest

from tests.support.browser import needs_chromium, render_page
from tests.support.project import read_json, run, stages_run
from tests.support.review import expected_charts, table_row

NAME = "domain-classifier"  # params.yaml mlflow.registered_model
pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("meli"),
    pytest.mark.filterwarnings("ignore:_NoneStep.value:DeprecationWarning"),
]


@pytest.fixture(scope="module")
def baseline(meli_project):
    """The Mercado Libre experiment's workspace (demo without the sample), committed on main."""
    project = meli_project
    run(["dvc", "repro"], project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "baseline results", "--allow-empty"], project)
    return project


@pytest.fixture(scope="module")
def experiment(baseline):
    """One param changed, queued and run by one worker, then applied to the workspace.

    Afterwards the workspace goes back to the committed baseline, which later files expect.
    """
    from mlflow import MlflowClient

    store = MlflowClient(f"sqlite:///{baseline}/mlflow.db")
    state = {
        "before": read_json(baseline / "metrics/evaluate.json"),
        "max_iter": read_params(baseline)["train_sgd"]["max_iter"],
        "champion": store.get_model_version_by_alias(NAME, "champion").version,
        "store": store,
    }
    run(
        ["dvc", "exp", "run", "--queue", "-n", "sgd-3-iter", "-S", "train_sgd.max_iter=3"], baseline
    )
    state["ran"] = stages_run(run(["dvc", "exp", "run", "--run-all", "-j", "1"], baseline))
    run(["dvc", "exp", "apply", "sgd-3-iter"], baseline)
    yield state
    run(["git", "checkout", "--", "."], baseline)
    run(["dvc", "checkout"], baseline)


def read_params(project) -> dict:
    from dvc.utils.serialize import parse_yaml

    return parse_yaml((project / "params.yaml").read_text(), "params.yaml")


def test_queued_run_reran_only_that_training_and_downstream(experiment):
    assert "train_sgd" in experiment["ran"]
    assert experiment["ran"] <= {"plan", "train_sgd", "evaluate", "select", "predict", "monitor"}


def test_queued_run_logs_to_the_projects_mlflow_and_leaves_the_champion(experiment):
    store = experiment["store"]
    experiment_id = store.get_experiment_by_name("domain-classifier").experiment_id
    runs = store.search_runs([experiment_id], "params.`train_sgd.max_iter` = '3'")
    assert [r.data.tags["family"] for r in runs] == ["sgd"]
    # @champion follows the workspace's select, which predict and serve read.
    assert store.get_model_version_by_alias(NAME, "champion").version == experiment["champion"]


def test_report_shows_the_param_and_the_metric_that_moved(baseline, experiment):
    before, max_iter = experiment["before"], experiment["max_iter"]
    moved = read_json(baseline / "metrics/evaluate.json")["sgd"]["val"]["macro_f1"]
    assert moved != before["sgd"]["val"]["macro_f1"]  # 3 SGD epochs cannot match the baseline
    run([sys.executable, "-m", "domain_classifier.tools.review", "--rev", "main"], baseline)
    text = (baseline / "report.md").read_text()
    assert table_row(text, "params.yaml", "train_sgd.max_iter") == [str(max_iter), "3"]
    old, new, _ = table_row(text, "metrics/scores/sgd.json", "val_macro_f1")
    assert float(old) == pytest.approx(before["sgd"]["val"]["macro_f1"], abs=1e-4)
    assert float(new) == pytest.approx(moved, abs=1e-4)


def test_make_experiments_lists_the_experiment_in_120_columns(baseline, experiment):
    command = [sys.executable, "-m", "domain_classifier.evaluation.summary", "experiments"]
    lines = run(command, baseline).splitlines()
    assert max(len(line) for line in lines) <= 120
    assert {"sgd", "lstm", "baseline"} <= set(lines[0].split())
    row = next(line for line in lines if line.split()[0] == "sgd-3-iter")
    val, _ = row.split()[lines[0].split().index("sgd")].split("/")  # headers align with cells
    assert float(val) == pytest.approx(
        read_json(baseline / "metrics/scores/sgd.json")["val_macro_f1"], abs=5e-4
    )


@needs_chromium
def test_offline_report_renders_in_chromium(baseline, experiment):
    run([sys.executable, "-m", "domain_classifier.tools.review", "--rev", "main"], baseline)
    rendered = render_page(baseline / "report/plots.html")
    assert rendered.requests == []
    assert rendered.charts == expected_charts(baseline)
