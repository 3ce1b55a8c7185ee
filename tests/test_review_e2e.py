"""The reviewer's workflow on a real run: experiment, `dvc exp show`, report, offline plots."""
from __future__ import annotations

import re
import sys

import pytest

from domain_classifier.browser_check import render_page
from tests.conftest import ROOT
from tests.pipeline_project import read_json, run, stages_run
from tests.test_review import expected_charts, needs_chromium, table_row

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:_NoneStep.value:DeprecationWarning")]


def experiments_keep() -> str:
    """The --keep pattern `make experiments` documents, read from the Makefile itself."""
    match = re.search(r"^EXP_KEEP := (.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    return match.group(1).replace("$$", "$")


@pytest.fixture(scope="module")
def baseline(project, first_repro):
    """Whatever earlier files left in the workspace, reproduced and committed on main."""
    run(["dvc", "repro"], project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "baseline results", "--allow-empty"], project)
    return project


@pytest.fixture(scope="module")
def experiment(baseline):
    """One param changed as a named experiment, applied in the workspace."""
    before = read_json(baseline / "metrics/evaluate.json")
    max_iter = read_json_params(baseline)["train_sgd"]["max_iter"]
    output = run(["dvc", "exp", "run", "-n", "sgd-3-iter", "-S", "train_sgd.max_iter=3"],
                 baseline)
    return before, max_iter, stages_run(output)


def test_a_train_param_reruns_only_that_training_and_downstream(experiment):
    ran = experiment[2]
    assert "train_sgd" in ran
    assert ran <= {"train_sgd", "evaluate", "select", "predict", "monitor"}


def read_json_params(project) -> dict:
    from dvc.utils.serialize import parse_yaml

    return parse_yaml((project / "params.yaml").read_text(), "params.yaml")


def test_report_shows_the_param_and_the_metric_that_moved(baseline, experiment):
    before, max_iter, _ = experiment
    after = read_json(baseline / "metrics/evaluate.json")
    moved = after["sgd"]["val"]["macro_f1"]
    assert moved != before["sgd"]["val"]["macro_f1"]  # 3 SGD epochs cannot match the baseline
    run([sys.executable, "-m", "domain_classifier.review", "--rev", "main"], baseline)
    text = (baseline / "report.md").read_text()
    assert table_row(text, "params.yaml", "train_sgd.max_iter") == [str(max_iter), "3"]
    old, new, _ = table_row(text, "metrics/evaluate.json", "sgd.val.macro_f1")
    assert float(old) == pytest.approx(before["sgd"]["val"]["macro_f1"], abs=1e-4)
    assert float(new) == pytest.approx(moved, abs=1e-4)


def test_exp_show_lists_the_experiment_with_only_the_deciding_columns(baseline, experiment):
    table = run(["dvc", "exp", "show", "--md", "--drop", ".*", "--keep", experiments_keep()],
                baseline)
    header = table.splitlines()[0]
    assert "sgd-3-iter" in table
    assert {"sgd.val.macro_f1", "lstm.test.macro_f1", "family", "test_accuracy"} <= {
        cell.strip() for cell in header.split("|")}
    assert "max_iter" not in header and "cv_accuracy" not in header


@needs_chromium
def test_offline_report_renders_in_chromium(baseline, experiment):
    run([sys.executable, "-m", "domain_classifier.review", "--rev", "main"], baseline)
    rendered = render_page(baseline / "report/plots.html")
    assert rendered.requests == []
    assert rendered.charts == expected_charts(baseline)


def test_queued_experiment_runs_with_one_worker_into_the_projects_mlflow(baseline, experiment):
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{baseline}/mlflow.db")
    champion = client.get_model_version_by_alias("domain-classifier", "champion").version
    run(["dvc", "exp", "run", "--queue", "-n", "queued-4-iter", "-S", "train_sgd.max_iter=4"],
        baseline)
    run(["dvc", "exp", "run", "--run-all", "-j", "1"], baseline)
    assert "queued-4-iter" in run(["dvc", "exp", "show", "--md"], baseline)
    experiment_id = client.get_experiment_by_name("domain-classifier").experiment_id
    runs = client.search_runs([experiment_id], "params.`train_sgd.max_iter` = '4'")
    assert [r.data.tags["family"] for r in runs] == ["sgd"]
    # @champion follows the workspace, which predict and serve read; a queued run leaves it.
    assert client.get_model_version_by_alias("domain-classifier", "champion").version == champion
