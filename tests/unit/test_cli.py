"""The console script's help stays light: no heavy library is imported to print it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.data import ROOT

# A fresh interpreter: this test process has long imported pandas and friends.
PROBE = """
import json, sys
from click.testing import CliRunner
from domain_classifier.cli import cli
runner = CliRunner()
codes = [runner.invoke(cli, [*name, "--help"]).exit_code for name in
         ([], ["classify"], ["predict"], ["serve"], ["ui"])]
heavy = [m for m in ("pandas", "mlflow", "tensorflow", "sklearn", "numpy") if m in sys.modules]
print(json.dumps({"codes": codes, "heavy": heavy}))
"""


def test_help_of_every_command_imports_no_heavy_library():
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"codes": [0, 0, 0, 0, 0], "heavy": []}


def test_operational_tools_are_subcommands_of_the_console_script():
    """`make pull/push/sync/report` call these: each hands its arguments to its tool."""
    script = str(Path(sys.executable).with_name("domain-classifier"))
    shown = {
        tool: subprocess.run(
            [script, tool, "--help"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        for tool in ("remote", "registry", "report")
    }
    assert {"pull", "push"} <= set(shown["remote"].split())
    assert {"status", "sync"} <= set(shown["registry"].split())
    assert "--rev" in shown["report"]
    refused = subprocess.run([script, "registry", "nope"], cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode == 2 and "No such command 'nope'" in refused.stderr


def test_registry_works_on_the_project_from_outside_it(tmp_path):
    """`--project` names the project: its params.yaml and models/champion are the ones read,
    not the current folder's."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir(), elsewhere.mkdir()
    for name in ("params.yaml", "dvc.yaml"):
        (project / name).write_text((ROOT / name).read_text())
    script = str(Path(sys.executable).with_name("domain-classifier"))
    done = subprocess.run(
        [script, "--project", str(project), "registry", "status"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert f"{project / 'models/champion'}: no DVC champion yet" in done.stderr
