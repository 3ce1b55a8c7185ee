"""The project as a user meets it from a shell (issue 31): its champion and store are found from
any folder inside it, from outside with --project or DOMAIN_CLASSIFIER_PROJECT, and a project
folder moved or copied elsewhere reads and writes only its new folder."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from domain_classifier.data.tables import write_json
from domain_classifier.tracking.champion import CHAMPION_DIR, CHAMPION_METRICS

CONSOLE = Path(sys.executable).parent / "domain-classifier"
TITLE = "Shampoo Anticaspa 400ml"
SYNC = ("domain_classifier.tools.registry", "sync")
SUMMARY = {"family": "sgd", "val_macro_f1": 0.9, "test_macro_f1": 0.9}

pytestmark = pytest.mark.skipif(
    not CONSOLE.is_file(), reason=f"{CONSOLE} not installed yet (uv sync installs it)"
)


@pytest.fixture(autouse=True)
def no_inherited_project(monkeypatch):
    from domain_classifier.store.client import use_project

    for name in ("MLFLOW_TRACKING_URI", "DOMAIN_CLASSIFIER_PROJECT", "DVC_ROOT"):
        monkeypatch.delenv(name, raising=False)
    yield
    use_project(None)


def plain_env(**extra: str) -> dict[str, str]:
    """A plain shell's: the environment's bin/ not on PATH, no project or store named."""
    env = {**os.environ, "PATH": "/usr/bin:/bin", **extra}
    for name in ("MLFLOW_TRACKING_URI", "DOMAIN_CLASSIFIER_PROJECT", "DVC_ROOT"):
        if name not in extra:
            env.pop(name, None)
    return env


def console(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CONSOLE), *args], cwd=cwd, env=plain_env(**env), capture_output=True, text=True
    )


def module(project: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m ...` in the project, as `make sync` runs it."""
    from tests.support.data import ROOT

    env = plain_env(PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=project, env=env, capture_output=True, text=True
    )


PARAMS = {
    "mlflow": {"required": True},
    "predict": {"input": "unused.csv", "output": "unused.csv", "top_k": 1},
}


def make_project(folder: Path, champion: Path) -> Path:
    """A project folder (dvc.yaml, params.yaml, a data/ subfolder) with `champion` as its DVC
    champion and no store yet."""
    shutil.copytree(champion, folder / CHAMPION_DIR)
    write_json(SUMMARY, folder / CHAMPION_METRICS)
    (folder / "dvc.yaml").write_text("stages: {}\n")
    (folder / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    (folder / "data").mkdir()
    return folder


@pytest.fixture(scope="module")
def registered(saved_sgd_dir, tmp_path_factory) -> Path:
    """A project after a pipeline's registration: its own sqlite:///mlflow.db and mlruns/,
    @champion version 1 logged and registered as `sync` does. Tests copy it."""
    from domain_classifier.tracking.champion import ensure_champion

    project = make_project(tmp_path_factory.mktemp("registered") / "project", saved_sgd_dir)
    # mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI, and this fixture outlives the
    # per-test guard in conftest: put the variable back as it was (monkeypatch's delenv would
    # not remove one that was unset when it was called).
    saved = os.environ.get("MLFLOW_TRACKING_URI")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        try:
            assert ensure_champion("params.yaml") == "1"
        finally:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
            if saved is not None:
                os.environ["MLFLOW_TRACKING_URI"] = saved
    return project


@pytest.fixture
def trained(registered, tmp_path) -> Path:
    """tmp_path/old/project: a copy of `registered`, its store re-rooted there (as any
    command would on first use), so that it names only its own mlruns/."""
    from domain_classifier.store.client import store_params, use_project
    from domain_classifier.store.rebase import rebase_artifacts

    project = tmp_path / "old" / "project"
    shutil.copytree(registered, project)
    use_project(project)
    assert rebase_artifacts(store_params(project / "params.yaml")) == [registered / "mlruns"]
    use_project(None)
    assert artifact_roots(project) == {project / "mlruns"}
    return project


def cells(database: Path) -> list[str]:
    """Every text value in an SQLite file."""
    with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [
            value
            for table in tables
            for row in db.execute(f'SELECT * FROM "{table}"')
            for value in row
            if isinstance(value, str)
        ]


def artifact_roots(project: Path) -> set[Path]:
    """The mlruns/ folders the project's store names (experiments, runs, models)."""
    from domain_classifier.store.rebase import _artifacts_of

    return {root for root in map(_artifacts_of, cells(project / "mlflow.db")) if root}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# Finding the project


def test_from_a_subfolder_the_projects_champion_answers(trained):
    done = console("classify", TITLE, cwd=trained / "data")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("MLB-SHAMPOOS\t")
    assert not (trained / "data" / "mlflow.db").exists()


@pytest.mark.parametrize("how", ["option", "environment", "params"])
def test_from_outside_the_project_is_named_by_option_or_environment(how, trained, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if how == "option":
        done = console("--project", str(trained), "classify", TITLE, cwd=elsewhere)
    elif how == "environment":
        done = console("classify", TITLE, cwd=elsewhere, DOMAIN_CLASSIFIER_PROJECT=str(trained))
    else:  # its params file: the store it names is taken from the project that file is in
        done = console("classify", TITLE, "--params", str(trained / "params.yaml"), cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("MLB-SHAMPOOS\t")
    assert list(elsewhere.iterdir()) == []


def test_outside_a_project_a_store_named_by_the_environment_is_enough(trained, tmp_path):
    uri = f"sqlite:///{trained / 'mlflow.db'}"
    done = console("classify", TITLE, cwd=tmp_path, MLFLOW_TRACKING_URI=uri)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("MLB-SHAMPOOS\t")


def test_predict_reads_and_writes_the_current_folder_with_the_projects_champion(trained):
    (trained / "data" / "in.csv").write_text(f"title\n{TITLE}\n")
    done = console("predict", "in.csv", "out.csv", cwd=trained / "data")
    assert done.returncode == 0, done.stderr
    header, row = (trained / "data" / "out.csv").read_text().splitlines()
    assert row.startswith(f"{TITLE},MLB-SHAMPOOS,")
    assert "top1_domain" in header and "top2_domain" not in header  # the project's top_k: 1


@pytest.mark.parametrize("command", [["classify", TITLE], ["serve"], ["ui"], ["predict", "a", "b"]])
def test_outside_a_project_the_error_says_where_to_go(command, tmp_path):
    done = console(*command, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"Error: {tmp_path} is not inside a project (a folder holding dvc.yaml and "
        f"params.yaml): cd into the project folder, or run `domain-classifier --project DIR "
        f"{command[0]} ...` (or set DOMAIN_CLASSIFIER_PROJECT=DIR)"
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_project_that_is_not_one_is_one_line(how, tmp_path):
    if how == "option":
        done = console("--project", str(tmp_path), "classify", TITLE, cwd=tmp_path)
        named = f"--project {tmp_path}"
    else:
        done = console("classify", TITLE, cwd=tmp_path, DOMAIN_CLASSIFIER_PROJECT=str(tmp_path))
        named = f"DOMAIN_CLASSIFIER_PROJECT={tmp_path}"
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"Error: {named}: not a project folder (no dvc.yaml and params.yaml in it or above it)"
    ]


@pytest.mark.parametrize("command", [["classify", TITLE], ["serve"], ["ui"]])
def test_a_project_never_trained_says_make_run_creating_nothing(command, saved_sgd_dir, tmp_path):
    project = make_project(tmp_path / "project", saved_sgd_dir)
    before = snapshot(project)
    done = console(*command, cwd=project / "data")
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert f"in sqlite:///mlflow.db (project {project}); run `make run` there first" in line
    assert snapshot(project) == before and not (project / "mlflow.db").exists()


# A moved or copied project folder


@pytest.mark.parametrize(("how", "first"), [("move", "classify"), ("copy", "ui"), ("copy", "sync")])
def test_a_moved_or_copied_project_uses_only_its_new_folder(
    how, first, trained, calibrated_sgd_dir, tmp_path
):
    """Whichever command meets the moved store first re-roots it; the old folder is gone (a
    move) or out of the way (a copy, renamed so that any access to it fails)."""
    new = tmp_path / "new" / "re named"  # a space: file URIs quote it
    new.parent.mkdir()
    if how == "move":
        trained.rename(new)
    else:
        shutil.copytree(trained, new)
        trained.rename(trained.with_name("away"))
    kept = snapshot(trained.with_name("away")) if how == "copy" else {}
    steps = {"classify": classify_from_a_subfolder, "ui": read_as_the_ui, "sync": sync}
    for name in [first, *(step for step in steps if step != first)]:
        steps[name](new, calibrated_sgd_dir)
    assert not trained.exists()
    if how == "copy":
        assert snapshot(trained.with_name("away")) == kept
    assert artifact_roots(new) == {new / "mlruns"}
    assert not any(str(trained) in cell for cell in cells(new / "mlflow.db") if "mlruns" in cell)


def classify_from_a_subfolder(project: Path, _) -> None:
    done = console("classify", TITLE, cwd=project / "data")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("MLB-SHAMPOOS\t")


def read_as_the_ui(project: Path, _) -> None:
    """What `domain-classifier ui` does before MLflow's server opens the store, then what the
    server's pages read: the runs and their artifacts."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.artifacts import download_artifacts

    from domain_classifier.store.client import store_params, use_project
    from domain_classifier.tracking.runs import runs_page

    use_project(project)
    params = store_params(project / "params.yaml")
    assert runs_page(params).startswith("#/experiments/")
    client = MlflowClient(params.uri)
    experiment = client.get_experiment_by_name(params.experiment)
    runs = client.search_runs([experiment.experiment_id])
    assert runs and all(
        run.info.artifact_uri.startswith((project / "mlruns").as_uri()) for run in runs
    )
    version = client.get_model_version_by_alias(params.registered_model, "champion")
    logged = client.get_logged_model(version.source.removeprefix("models:/"))
    assert logged.artifact_location.startswith((project / "mlruns").as_uri())
    mlflow.set_tracking_uri(params.uri)  # models:/ lookups use it, whatever client asks
    downloaded = download_artifacts(version.source, dst_path=str(project.parent / "download"))
    assert (Path(downloaded) / "MLmodel").is_file()
    use_project(None)


def sync(project: Path, calibrated_sgd_dir: Path) -> None:
    """A new DVC champion: sync logs its run and registers it, inside the new folder."""
    shutil.rmtree(project / CHAMPION_DIR)
    shutil.copytree(calibrated_sgd_dir, project / CHAMPION_DIR)
    done = module(project, *SYNC)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "@champion is version 2, the DVC champion"
    assert len(list((project / "mlruns" / "models").iterdir())) == 2
