"""What every stage shares: failures end in one `Error:` line and exit code 1."""

import errno

import click
import pytest
from click.testing import CliRunner

from domain_classifier.errors import InputError
from domain_classifier.stage import stage


def command_raising(exc: BaseException) -> click.Command:
    @click.command()
    @stage
    def main():
        raise exc

    return main


@pytest.mark.parametrize(
    "exc, line",
    [
        (OSError(errno.ENOSPC, "No space left on device", "out.csv"), "out.csv: No space left"),
        (PermissionError(errno.EACCES, "Permission denied", "/data"), "/data: Permission denied"),
        (MemoryError(), "out of memory; lower the sizes in params.yaml"),
        (InputError("a.csv: column 'x\ny' missing"), "a.csv: column 'x y' missing"),
    ],
)
def test_failures_are_one_error_line_and_exit_1(exc, line):
    result = CliRunner().invoke(command_raising(exc))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {line}"), result.output
