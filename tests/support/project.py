"""The project under `dvc repro` in a temporary git copy: shared by every end-to-end test file.

Session-scoped, so the pipeline runs once; test files run in name order and each states
the state it needs rather than relying on what an earlier file left behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dvc.utils.serialize import modify_yaml

from domain_classifier.families import registry
from domain_classifier.tools.profiles import apply_profile
from tests.support.data import MELI_COLUMNS, MELI_SAMPLE, ROOT

SKIP = {"dvc.lock"}
SKIP_DIRS = ("data/", "models/", "metrics/", "plots/")

FAMILIES = registry.names()


def run(cmd: list[str], cwd: Path, **env_vars: str) -> str:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        **env_vars,
    }
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def update_params(project: Path, changes: dict) -> None:
    with modify_yaml(project / "params.yaml") as params:
        apply_profile(changes, params, "test change")


def stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([\w@-]+)'", output))


def copy_project(target: Path) -> Path:
    """The project's source files in a new git repository at `target`, small budgets committed."""
    target.mkdir(parents=True, exist_ok=True)
    listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], ROOT)
    for name in listed.splitlines():
        if name in SKIP or name.startswith(SKIP_DIRS) or not (ROOT / name).is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    run([sys.executable, "-m", "domain_classifier.tools.profiles", "profiles/small.yaml"], target)
    run(["git", "init", "-q", "-b", "main"], target)
    run(["git", "config", "user.email", "ci@example.invalid"], target)
    run(["git", "config", "user.name", "CI"], target)
    run(["git", "add", "-A"], target)
    run(["git", "commit", "-qm", "project under test"], target)
    return target


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    """The copy every `pipeline` test file shares (pytest-xdist runs that group on one worker)."""
    return copy_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="session")
def meli_project(tmp_path_factory) -> Path:
    """A second copy that ran `dvc exp run -S` onto the real Mercado Libre sample (the `meli`
    group: pytest-xdist runs it beside the `pipeline` group's copy); without the sample, the
    demo catalogue reproduced, so the files sharing it still run."""
    target = copy_project(tmp_path_factory.mktemp("meli"))
    if MELI_SAMPLE.is_file():
        changes = {"source": MELI_SAMPLE, **MELI_COLUMNS}
        run(["dvc", "exp", "run", *(f"-Sdata.{k}={v}" for k, v in changes.items())], target)
    else:
        run(["dvc", "repro"], target)
    return target


FIRST_LOCK = "first_repro.dvc.lock"


@pytest.fixture(scope="session")
def first_repro(project) -> str:
    """The first `dvc repro`; its dvc.lock is kept beside the project (later tests move on)."""
    output = run(["dvc", "repro"], project)
    shutil.copy(project / "dvc.lock", project.parent / FIRST_LOCK)
    return output


def read_json(path: Path):
    return json.loads(path.read_text())
