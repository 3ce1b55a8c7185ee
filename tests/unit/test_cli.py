"""The console script's help stays light: no heavy library is imported to print it."""

from __future__ import annotations

import json
import subprocess
import sys

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
