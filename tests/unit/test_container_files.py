"""The container's files agree with each other: what the Dockerfile copies is in the build
context, the local environment, tools, caches and data are not, the serving port is exposed,
and the CI job runs the README's volume workflow (train, then serve, then a query)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
WORKFLOW = ROOT / ".github" / "workflows" / "container.yaml"


def _pattern_regex(pattern: str) -> re.Pattern:
    """Docker's pattern syntax: `*` within one path part, `**` across parts, `?` one char."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def _dockerignore() -> list[tuple[bool, re.Pattern]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip().strip("/")
        rules.append((negated, _pattern_regex(pattern)))
    return rules


def excluded(path: str) -> bool:
    """As Docker decides: the last rule matching the path or one of its parent folders wins."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    verdict = False
    for negated, regex in _dockerignore():
        if any(regex.match(prefix) for prefix in prefixes):
            verdict = not negated
    return verdict


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".venv/bin/python",
        ".tools/uv/bin/uv",
        "domain_classifier/__pycache__/cli.cpython-311.pyc",
        "stages/__pycache__/split.cpython-311.pyc",
        ".pytest_cache/v/cache/lastfailed",
        ".ruff_cache/0.8.0/123",
        ".dvc/cache/files/md5/ab/cdef",
        ".dvc/tmp/lock",
        "mlflow.db",
        "mlruns/1/models/m-1/artifacts/MLmodel",
        "models/champion/model.skops",
        "data/demo/catalogue.parquet",
        "data/split/train.parquet",
        "data/features/labels/train.npy",
        "data/predictions/batch.parquet",
        "dvc_plots/index.html",
        "report.md",
        "report/index.html",
        "scored.parquet",
    ],
)
def test_the_build_context_leaves_out_environments_tools_caches_and_data(path):
    assert excluded(path)


def _copied_sources() -> list[str]:
    sources = []
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY "):
            words = [w for w in shlex.split(line)[1:] if not w.startswith("--")]
            sources += words[:-1]
    return sources


def test_what_the_dockerfile_copies_is_in_the_build_context():
    sources = _copied_sources()
    assert "uv.lock" in sources and "domain_classifier" in sources
    for source in sources:
        assert not excluded(source), source
        assert (ROOT / source).exists(), source
    assert not excluded("domain_classifier/cli.py")
    assert not excluded("domain_classifier/demo/vocabulary/domains.json")


def _instructions(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in DOCKERFILE.splitlines() if line.startswith(name)]


def test_the_image_serves_on_an_exposed_port_from_the_mounted_folder():
    exposed = " ".join(_instructions("EXPOSE ")).split()
    assert "5000" in exposed
    assert _instructions("WORKDIR ")[-1] == "/work"
    # The console script, under an init that passes signals on (docker stop, Ctrl+C).
    assert _instructions("ENTRYPOINT ") == ['["tini", "-g", "--", "domain-classifier"]']
    # The environment from the lock file only, outside the mount point.
    assert "uv sync --frozen" in DOCKERFILE
    assert "UV_PROJECT_ENVIRONMENT=/opt/" in DOCKERFILE
    # Non-root by default; a mounted clone of another owner is still a git repository to DVC.
    assert _instructions("USER ")[-1] not in ("root", "0")
    assert "safe.directory" in DOCKERFILE


def test_ci_trains_then_serves_from_the_mounted_checkout_and_queries_it():
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["image"]["steps"]
    script = "\n".join(step.get("run", "") for step in steps)
    mount = '-v "$PWD":/work --user "$(id -u):$(id -g)"'
    order = [
        "docker build -t domain-classifier .",
        "profiles/small.yaml",
        f"{mount} domain-classifier train",
        "serve --host 0.0.0.0",
        "/ping",
        "http://127.0.0.1:5000/invocations",
        "docker rm -f",
    ]
    positions = [script.find(text) for text in order]
    assert -1 not in positions, dict(zip(order, positions))
    assert positions == sorted(positions)
    assert "-p 5000:5000" in script
    assert (ROOT / "profiles" / "small.yaml").exists()
