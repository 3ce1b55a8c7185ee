"""Finding the project folder, and the mlruns/ folder a stored artifact location lies in."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain_classifier.project import find_project
from domain_classifier.store.rebase import _artifacts_of


def test_the_project_is_the_nearest_folder_above_holding_dvc_yaml_and_params_yaml(tmp_path):
    outer, inner = tmp_path / "outer", tmp_path / "outer" / "inner"
    (inner / "data" / "deep").mkdir(parents=True)
    for folder in (outer, inner):
        (folder / "dvc.yaml").write_text("stages: {}\n")
        (folder / "params.yaml").write_text("{}\n")
    assert find_project(inner / "data" / "deep") == inner
    assert find_project(inner) == inner
    (inner / "params.yaml").unlink()  # dvc.yaml alone is not this project's folder
    assert find_project(inner / "data") == outer
    assert find_project(tmp_path) is None


def test_without_a_start_it_walks_up_from_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    (tmp_path / "params.yaml").write_text("{}\n")
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path / "data")
    assert find_project() == tmp_path.resolve()


@pytest.mark.parametrize(
    ("location", "root"),
    [
        ("file:///srv/old/mlruns", "/srv/old/mlruns"),
        ("file:///srv/old/mlruns/3/abc/artifacts", "/srv/old/mlruns"),
        ("/srv/old/mlruns/0", "/srv/old/mlruns"),
        ("file:///srv/my%20project/mlruns/models/m-1", "/srv/my project/mlruns"),
        ("file:///srv/mlruns/project/mlruns/1", "/srv/mlruns/project/mlruns"),
        ("s3://bucket/mlruns/1", None),
        ("mlflow-artifacts:/1", None),
        ("file:///srv/elsewhere/artifacts", None),
        ("mlruns/1", None),
    ],
)
def test_the_mlruns_folder_of_a_stored_location(location, root):
    assert _artifacts_of(location) == (Path(root) if root else None)
