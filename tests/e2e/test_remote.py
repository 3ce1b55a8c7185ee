"""Reproducible by construction: a second folder builds the same dvc.lock entries, and a clone
whose DVC remote holds the outputs pulls them and trains nothing.

The lock names every out by its md5 (data, features, models, metrics, dvclive), so equal
entries mean retraining from nothing gave the same bytes. The second folder builds the data
stages, one TF-IDF family and one Keras family, not all five: hgb's and xgb's files are
compared byte for byte across two processes and hash seeds in tests/integration/test_classical.py,
and lstm is saved by the same code as rnn (families/recurrent.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from dvc.utils.serialize import parse_yaml

from tests.support.project import FIRST_LOCK, run, stages_run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]
SECOND_FOLDER_TARGETS = ("train_sgd", "train_rnn")


def remote(project: Path, action: str) -> str:
    return run([sys.executable, "-m", "domain_classifier.tools.remote", action], project)


def clone(source: Path, target: Path) -> Path:
    run(["git", "clone", "-q", str(source), str(target)], source.parent)
    return target


@pytest.fixture(scope="module")
def second_folder(project, first_repro, tmp_path_factory):
    """The committed project cloned beside the first and built there from nothing, under
    another hash seed, sharing the default remote (the folder dvc-remote beside both)."""
    folder = clone(project, tmp_path_factory.getbasetemp() / "second")
    assert not (folder.parent / "dvc-remote").exists()
    pulled = remote(folder, "pull")
    built = run(["dvc", "repro", *SECOND_FOLDER_TARGETS], folder, PYTHONHASHSEED="12345")
    return folder, pulled, built


def lock_stages(path: Path) -> dict:
    return parse_yaml(path.read_text(), str(path))["stages"]


def test_an_empty_remote_falls_back_to_training_with_one_line(second_folder):
    _, pulled, built = second_folder
    assert pulled.strip().splitlines() == [
        f"DVC remote 'local' ({second_folder[0].parent / 'dvc-remote'}) is empty or missing: "
        "dvc repro trains everything"
    ]
    assert "train_sgd" in stages_run(built)


def test_a_second_folder_builds_the_same_lock_entries(project, second_folder):
    folder, _, built = second_folder
    second = lock_stages(folder / "dvc.lock")
    assert (
        set(second)
        == stages_run(built)
        == {"demo", "ingest", "split", "tokenize", "plan", *SECOND_FOLDER_TARGETS}
    )
    first = lock_stages(project.parent / FIRST_LOCK)
    for name, entry in second.items():
        assert entry == first[name], name


def test_a_clone_of_a_pushed_commit_pulls_and_trains_nothing(
    project, second_folder, tmp_path_factory
):
    run(["dvc", "repro"], project)  # the state to push, whatever earlier tests left
    assert "pushed" in remote(project, "push")
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "pipeline state"], project)
    third = clone(project, tmp_path_factory.getbasetemp() / "third")
    remote(third, "pull")
    output = run(["dvc", "repro"], third)
    assert stages_run(output) == set(), output
    assert (third / "models/champion/meta.json").is_file()
