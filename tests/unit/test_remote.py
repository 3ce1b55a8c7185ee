"""`make pull` / `make push` (domain_classifier.tools.remote) on a one-stage DVC project.

Clones sit beside each other and share the remote `../remote`, as the project's clones share
`../dvc-remote`; the real pipeline's run from its remote is the end-to-end tests' business.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from dvc.repo import Repo

from domain_classifier.tools.remote import main, pull

# DVC's own index code, on every in-process Repo here; nothing this module can act on.
pytestmark = pytest.mark.filterwarnings("ignore:_NoneStep.value will soon raise:DeprecationWarning")

ROOT = Path(__file__).resolve().parents[2]
DVC_YAML = """\
stages:
  greet:
    cmd: python -c "import sys; open('greeting.txt', 'w').write(sys.argv[1])" ${word}
    params:
      - word
    outs:
      - greeting.txt
"""
CONFIG = """\
[core]
    remote = local
['remote "local"']
    url = ../../remote
"""


def venv_path() -> str:
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    # The venv's dvc, and its python for the stage command; this checkout's package before
    # any copy installed in the venv.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": venv_path()}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)


def ok(cmd: list[str], cwd: Path) -> str:
    proc = run(cmd, cwd)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def remote(action: str, cwd: Path) -> subprocess.CompletedProcess:
    """What `make pull` / `make push` run: every line it prints is in the result."""
    return run([sys.executable, "-m", "domain_classifier.tools.remote", action], cwd)


def remote_here(project: Path, *args: str) -> Result:
    """The same command in this process, without a `dvc` import of its own."""
    return CliRunner().invoke(main, ["--root", str(project), *args])


@pytest.fixture(scope="module")
def origin(tmp_path_factory) -> Path:
    """A committed project whose dvc.lock records one output; clones get no DVC cache.

    Built with DVC in this process: each `dvc` command costs about 3 s of imports.
    """
    project = tmp_path_factory.mktemp("origin")
    ok(["git", "init", "-q", "-b", "main"], project)
    ok(["git", "config", "user.email", "ci@example.invalid"], project)
    ok(["git", "config", "user.name", "CI"], project)
    Repo.init(str(project)).close()
    (project / ".dvc" / "config").write_text(CONFIG)
    (project / "dvc.yaml").write_text(DVC_YAML)
    (project / "params.yaml").write_text("word: hello\n")
    with pytest.MonkeyPatch.context() as patch, Repo(str(project)) as repo:
        patch.setenv("PATH", venv_path())  # the stage command's `python`
        patch.chdir(project)  # `reproduce()` reads dvc.yaml from the current folder
        assert [stage.name for stage in repo.reproduce()] == ["greet"]
    ok(["git", "add", "-A"], project)
    ok(["git", "commit", "-qm", "greeting"], project)
    return project


@pytest.fixture
def clone(origin, tmp_path):
    """Clones side by side in tmp_path, so they share tmp_path/remote (not created here)."""

    def make(name: str) -> Path:
        ok(["git", "clone", "-q", str(origin), name], tmp_path)
        return tmp_path / name

    return make


def test_pull_from_missing_remote_is_one_line_and_no_error(clone, tmp_path):
    proc = remote("pull", clone("fresh"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"DVC remote 'local' ({tmp_path / 'remote'}) "
        "is empty or missing: dvc repro trains everything"
    ]
    assert proc.stderr == ""


def test_pull_from_empty_remote_folder_is_the_same_line(clone, tmp_path):
    (tmp_path / "remote").mkdir()
    result = remote_here(clone("fresh"), "pull")
    assert result.exit_code == 0, result.output
    assert result.output.endswith("is empty or missing: dvc repro trains everything\n")


def test_clone_pulls_what_another_pushed_and_repro_runs_nothing(clone, tmp_path):
    first = clone("first")
    assert "Running stage 'greet'" in ok(["dvc", "repro"], first)
    pushed = remote_here(first, "push")  # creates tmp_path/remote, as on a fresh CI runner
    assert pushed.output == f"DVC remote 'local' ({tmp_path / 'remote'}): 1 file pushed\n"

    second = clone("second")
    pulled = remote_here(second, "pull")
    assert pulled.exit_code == 0, pulled.output
    assert "1 file fetched, 1 output checked out" in pulled.output
    assert "Running stage" not in ok(["dvc", "repro"], second)
    greeting = second / "greeting.txt"
    assert greeting.read_text() == "hello"

    greeting.chmod(0o644)  # DVC leaves checked-out outputs read-only
    greeting.write_text("edited by hand")  # in no cache: pull keeps it unless forced
    kept = remote_here(second, "pull")
    assert kept.exit_code == 1 and len(kept.output.splitlines()) == 1
    assert "Use `--force` to force" in kept.output
    assert greeting.read_text() == "edited by hand"
    assert remote_here(second, "pull", "--force").exit_code == 0
    assert greeting.read_text() == "hello"


def test_remote_that_is_not_a_folder_fails_with_one_line(clone, tmp_path):
    (tmp_path / "remote").write_text("not a DVC remote")
    proc = remote("pull", clone("fresh"))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"Error: DVC remote 'local' ({tmp_path / 'remote'}): ")
    assert len(proc.stderr.splitlines()) == 1


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any folder")
def test_unreadable_remote_fails_with_one_line(clone, tmp_path):
    folder = tmp_path / "remote"
    folder.mkdir()
    folder.chmod(0)
    try:
        result = remote_here(clone("fresh"), "pull")
    finally:
        folder.chmod(0o755)
    assert result.exit_code == 1
    assert "Permission denied" in result.output and len(result.output.splitlines()) == 1


def test_no_default_remote_means_training_everything(clone):
    project = clone("fresh")
    (project / ".dvc" / "config").write_text("")
    with Repo(str(project)) as repo:
        assert pull(repo) == "no default DVC remote in .dvc/config: dvc repro trains everything"
