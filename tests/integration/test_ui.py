"""`domain-classifier ui` as a user meets it: the page Chromium shows lists the training runs
with their validation and test macro-F1."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.browser import dump_url, needs_chromium
from tests.support.net import CONSOLE, free_port, start_ui

FAMILIES = {"sgd": 0.8123, "hgb": 0.7456, "xgb": 0.7789, "rnn": 0.6912, "lstm": 0.7034}

pytestmark = [
    needs_chromium,
    pytest.mark.skipif(not CONSOLE.is_file(), reason=f"{CONSOLE} not installed yet"),
]


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    """Five training runs mirrored the way the stages mirror them (connect names the store)."""
    import mlflow

    from domain_classifier.tracking.runs import connect

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("mlflow: {}\n")
    assert connect("params.yaml") is not None
    for family, f1 in FAMILIES.items():
        with mlflow.start_run(run_name=family):
            mlflow.set_tag("family", family)
            mlflow.log_metrics({"val_macro_f1": f1, "test_macro_f1": f1 - 0.01})
    return tmp_path


def wait_for(url: str, server: subprocess.Popen, seconds: float = 180) -> None:
    started = time.monotonic()
    while time.monotonic() - started < seconds and server.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"{url} never answered: {server.stderr.read()[-2000:]}")


def test_ui_lands_on_the_training_runs_with_their_macro_f1(store):
    port = free_port()
    server = start_ui(store, port)
    try:
        url = server.stdout.readline().split()[-1]
        assert url.startswith(f"http://127.0.0.1:{port}/#/experiments/")
        wait_for(f"http://127.0.0.1:{port}/", server)
        page = dump_url(url, screenshot=os.environ.get("UI_SCREENSHOT"))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    for family, f1 in FAMILIES.items():
        assert f">{family}<" in page
        assert f">{f1}<" in page
    assert ">val_macro_f1<" in page and ">test_macro_f1<" in page
