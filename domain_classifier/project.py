"""Which project a `domain-classifier` command works on: the folder holding dvc.yaml and
params.yaml, found from any folder inside it, or named by --project or an environment variable.

Its params.yaml, MLflow store and models are the defaults of every command; paths a user types
(INPUT, OUTPUT, --model, --params) stay relative to the current folder.
"""

from __future__ import annotations

from pathlib import Path

ENV_VAR = "DOMAIN_CLASSIFIER_PROJECT"
MARKERS = ("dvc.yaml", "params.yaml")


def find_project(start: Path | str | None = None) -> Path | None:
    """The nearest folder at or above `start` (default: the current one) that holds
    dvc.yaml and params.yaml; None where there is none."""
    try:
        here = Path(start if start is not None else Path.cwd()).resolve()
    except FileNotFoundError:  # the current folder was removed
        return None
    for folder in (here, *here.parents):
        if all((folder / marker).is_file() for marker in MARKERS):
            return folder
    return None


def no_project_advice(command: str) -> str:
    """What to do where no project was found: one sentence, naming the command."""
    return (
        f"{Path.cwd()} is not inside a project (a folder holding {' and '.join(MARKERS)}): "
        f"cd into the project folder, or run `domain-classifier --project DIR {command} ...` "
        f"(or set {ENV_VAR}=DIR)"
    )
