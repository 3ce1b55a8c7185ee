"""Which MLflow store a project uses, and that looking at one never creates it (store/)."""

from __future__ import annotations

import os

import pytest

from domain_classifier.errors import InputError
from domain_classifier.store.client import (
    MlflowParams,
    refuse_new_store,
    store_exists,
    temporary_environ,
    use_project,
)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    use_project(tmp_path)
    yield tmp_path
    use_project(None)


def test_a_relative_sqlite_store_is_taken_from_the_project_not_the_current_folder(
    project, tmp_path_factory, monkeypatch
):
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    params = MlflowParams(tracking_uri="sqlite:///mlflow.db")
    assert params.uri == f"sqlite:///{project / 'mlflow.db'}"
    assert params.own_store


def test_the_environment_names_another_store_which_is_refused_until_it_exists(project, monkeypatch):
    other = project / "other.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{other}")
    params = MlflowParams()
    assert not params.own_store and not store_exists(params.uri)
    with pytest.raises(InputError, match="does not exist; not creating a new, empty one"):
        refuse_new_store(params)
    assert not other.exists()
    other.touch()
    refuse_new_store(params)  # an existing store is used as it is


def test_only_local_stores_can_be_missing(project):
    assert not store_exists(f"sqlite:///{project / 'absent.db'}")
    assert not store_exists((project / "absent-folder").as_uri())
    (project / "runs").mkdir()
    assert store_exists((project / "runs").as_uri())
    assert store_exists("http://127.0.0.1:5000")  # a server answers or is unreachable


def test_temporary_environ_restores_what_was_there_and_removes_what_was_not(monkeypatch):
    monkeypatch.setenv("DC_TEST_SET", "before")
    monkeypatch.delenv("DC_TEST_UNSET", raising=False)
    with temporary_environ({"DC_TEST_SET": "during", "DC_TEST_UNSET": "during"}):
        assert os.environ["DC_TEST_SET"] == os.environ["DC_TEST_UNSET"] == "during"
    assert os.environ["DC_TEST_SET"] == "before" and "DC_TEST_UNSET" not in os.environ
