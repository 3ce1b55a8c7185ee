"""`domain-classifier ui` as a process, as a terminal runs it (issue 31): MLflow's job runner
off (its 8 extra processes doubled the start), no access log, and Ctrl+C (SIGINT to the
terminal's whole foreground group) shuts the server down cleanly, with no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.net import CONSOLE, free_port, start_ui

pytestmark = pytest.mark.skipif(not CONSOLE.is_file(), reason=f"{CONSOLE} not installed yet")


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    import mlflow

    from domain_classifier.tracking.runs import connect

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("mlflow: {}\n")
    assert connect("params.yaml") is not None
    with mlflow.start_run(run_name="sgd"):
        mlflow.log_metric("val_macro_f1", 0.9)
    return tmp_path


def answered(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def test_ui_is_two_quiet_server_processes_and_ctrl_c_stops_it_cleanly(store):
    import psutil

    port = free_port()
    terminal = start_ui(store, port, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while not answered(f"{base}/") and time.monotonic() - started < 240:
            assert terminal.poll() is None, terminal.stdout.read()
            time.sleep(0.5)
        for _ in range(5):  # what a browser asks for: each used to be an access-log line
            assert answered(f"{base}/ajax-api/2.0/mlflow/experiments/search?max_results=5")
        server = [p.cmdline() for p in psutil.Process(terminal.pid).children(recursive=True)]
        assert not [c for c in server if "huey" in " ".join(c) or "_job_runner" in " ".join(c)]
        assert len(server) == 2, server  # mlflow's server and its uvicorn worker
        os.killpg(terminal.pid, signal.SIGINT)
        output, _ = terminal.communicate(timeout=60)
    finally:
        if terminal.poll() is None:
            os.killpg(terminal.pid, signal.SIGKILL)
            terminal.wait()
    assert terminal.returncode == 0, output
    assert "Traceback" not in output, output
    assert '"GET ' not in output, output
    assert "Application shutdown complete" in output, output
