"""The `domain-classifier` console script as a user runs it: installed, from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

CONSOLE = Path(sys.executable).parent / "domain-classifier"
# A plain shell: the environment's bin/ is not on PATH.
PLAIN = {**os.environ, "PATH": "/usr/bin:/bin"}
PLAIN.pop("DOMAIN_CLASSIFIER_PROJECT", None)  # else every folder is inside that project

pytestmark = pytest.mark.skipif(
    not CONSOLE.is_file(), reason=f"{CONSOLE} not installed yet (uv sync installs it)"
)


def console(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CONSOLE), *args], cwd=cwd, env=PLAIN, capture_output=True, text=True)


def test_classify_prints_domain_probability_and_top_k(saved_sgd_dir, tmp_path):
    titles = ["Shampoo Anticaspa Marca3 103ml", "Capinha Silicone iPhone 7 Pro"]
    done = console(
        "classify", *titles, "--model", str(saved_sgd_dir), "--trust", "--top-k", "2", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    assert [(row[0], row[3]) for row in rows] == [
        ("MLB-SHAMPOOS", titles[0]),
        ("MLB-CELLPHONE_COVERS", titles[1]),
    ]
    for domain, probability, top, _ in rows:
        candidates = top.split(", ")
        assert len(candidates) == 2 and candidates[0] == f"{domain} {probability}"
        assert 1 / 3 < float(probability) <= 1


def test_predict_scores_a_file_outside_the_project(saved_sgd_dir, tmp_path):
    pd.DataFrame({"title": ["Liquidificador 3 Velocidades 220v", None]}).to_csv(
        tmp_path / "in.csv", index=False
    )
    model = ["--model", str(saved_sgd_dir), "--trust"]
    done = console("predict", "in.csv", "out.parquet", *model, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    scored = pd.read_parquet(tmp_path / "out.parquet")
    assert scored["predicted_domain"].tolist()[0] == "MLB-BLENDERS"
    assert scored["predicted_domain"].isna().tolist() == [False, True]


@pytest.mark.parametrize("command", [["serve"], ["classify", "any title"], ["ui"]])
def test_outside_a_project_it_refuses_in_one_line_creating_nothing(command, tmp_path):
    # Inside a project never trained: tests/integration/test_project_folder.py.
    done = console(*command, cwd=tmp_path)
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1 and "cd into the project folder" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_version_and_short_help_everywhere(tmp_path):
    assert console("--version", cwd=tmp_path).stdout.startswith("domain-classifier, version ")
    for command in (["report", "-h"], ["train", "-h"], ["train", "--help"], ["predict", "-h"]):
        done = console(*command, cwd=tmp_path)
        assert done.returncode == 0 and done.stdout.startswith("Usage: "), (command, done.stderr)
    assert "dvc repro" in console("train", "--help", cwd=tmp_path).stdout


def test_a_blank_title_prints_blank_fields(saved_sgd_dir, tmp_path):
    done = console(
        "classify",
        " ",
        "Shampoo Anticaspa 200ml",
        "--model",
        str(saved_sgd_dir),
        "--trust",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    blank, scored = done.stdout.splitlines()
    assert blank == "\t\t\t "
    assert scored.startswith("MLB-SHAMPOOS\t")


def test_make_alone_lists_the_commands():
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        ["make", "--no-print-directory"], cwd=root, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    listed = [line.split()[1] for line in done.stdout.splitlines()]
    assert {"run", "test", "metrics", "ui", "serve"} <= set(listed)


@pytest.mark.parametrize("command", ["ui", "serve"])
def test_a_busy_port_is_one_line(command, tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = console(command, "--port", str(port), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"Error: 127.0.0.1:{port}: cannot listen there (Address already in use); "
        "pass --port with a free one"
    ]
    assert list(tmp_path.iterdir()) == []
