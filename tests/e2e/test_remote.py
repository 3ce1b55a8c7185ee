"""Reproducible by construction: a second folder builds the same dvc.lock, and a clone whose
DVC remote holds the outputs pulls them and trains nothing.

The lock names every out by its md5 (models, metrics, plots, dvclive), so equal locks mean
retraining from nothing gave the same bytes; no separate forced-retrain test is needed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.project import FIRST_LOCK, run, stages_run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


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
    built = run(["dvc", "repro"], folder, PYTHONHASHSEED="12345")
    return folder, pulled, built


def test_an_empty_remote_falls_back_to_training_with_one_line(second_folder):
    _, pulled, built = second_folder
    assert pulled.strip().splitlines() == [
        f"DVC remote 'local' ({second_folder[0].parent / 'dvc-remote'}) is empty or missing: "
        "dvc repro trains everything"
    ]
    assert "train_sgd" in stages_run(built)


def test_a_second_folder_builds_the_same_lock(project, second_folder):
    folder, _, _ = second_folder
    assert (folder / "dvc.lock").read_text() == (project.parent / FIRST_LOCK).read_text()


def test_a_clone_of_a_pushed_commit_pulls_and_trains_nothing(second_folder, tmp_path_factory):
    folder, _, _ = second_folder
    assert "pushed" in remote(folder, "push")
    run(["git", "add", "-A"], folder)
    run(["git", "commit", "-qm", "pipeline state"], folder)
    third = clone(folder, tmp_path_factory.getbasetemp() / "third")
    remote(third, "pull")
    output = run(["dvc", "repro"], third)
    assert stages_run(output) == set(), output
    assert (third / "models/champion/meta.json").is_file()
