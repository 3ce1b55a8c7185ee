"""Open a local HTML page in headless Chromium: the charts it drew, the URLs it tried to fetch."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

# The flags the project asks for; each run adds a fresh --user-data-dir, so no state leaks in.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
)
# Nothing may leave the machine even if the page asks: every host name (the proxy's too)
# resolves to nothing, and the proxy keeps IP-literal URLs from connecting directly. The net
# log still records each attempt. (Chromium's IPv6 probe connect()s a UDP socket, which sends
# no packet.)
CONFINE = ("--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND")
# The same confinement, except for the loopback server a test starts.
CONFINE_BUT_LOOPBACK = (
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
# Chromium marks its own service traffic (clock sync, account and spelling lookups) this way;
# a page's requests carry the page's origin ("null" for file://).
BROWSER_INITIATOR = "not an origin"


@dataclass(frozen=True)
class PageRender:
    charts: int  # <svg>/<canvas class="marks"> elements, one per chart Vega drew
    requests: list[str]  # network URLs the page asked for; local files never appear here
    browser_requests: list[str]  # Chromium's own attempts, blocked by CONFINE; for diagnosis


def chromium() -> str | None:
    """Path of Debian's `chromium`, or None."""
    return shutil.which("chromium")


def render_page(html: Path | str, budget_ms: int = 30_000, timeout_s: float = 300) -> PageRender:
    """Load `html` from disk, let its scripts run `budget_ms` of virtual time, read the result."""
    browser = chromium()
    if browser is None:
        raise FileNotFoundError("chromium not found (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="chromium-") as tmp:
        netlog = Path(tmp) / "netlog.json"
        command = [
            browser,
            *FLAGS,
            *CONFINE,
            f"--user-data-dir={tmp}/profile",
            f"--log-net-log={netlog}",
            f"--virtual-time-budget={budget_ms}",
            "--dump-dom",
            Path(html).resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
        if done.returncode != 0:
            raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
        page, own = requested_urls(json.loads(netlog.read_text(encoding="utf-8")))
    return PageRender(count_charts(done.stdout), page, own)


def dump_url(url: str, budget_ms: int = 30_000, screenshot: Path | None = None) -> str:
    """The DOM of a page a local server serves, after `budget_ms` of virtual time."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as tmp:
        shot = [f"--screenshot={screenshot}", "--window-size=1600,1000"] if screenshot else []
        command = [
            chromium(),
            *FLAGS,
            *CONFINE_BUT_LOOPBACK,
            f"--user-data-dir={tmp}/profile",
            *shot,
        ]
        command += [f"--virtual-time-budget={budget_ms}", "--dump-dom", url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def requested_urls(netlog: dict) -> tuple[list[str], list[str]]:
    """(the page's, Chromium's own) network request URLs from a Chromium net log.

    File loads do not go through the network stack, so every URL request here is network.
    """
    start = netlog["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    page, own = set(), set()
    for event in netlog["events"]:
        params = event.get("params", {})
        if event["type"] == start and "url" in params:
            (own if params.get("initiator") == BROWSER_INITIATOR else page).add(params["url"])
    return sorted(page), sorted(own)


class _ChartCounter(HTMLParser):
    def __init__(self):
        super().__init__()
        self.charts = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("svg", "canvas") and "marks" in (dict(attrs).get("class") or "").split():
            self.charts += 1


def count_charts(dom: str) -> int:
    """Charts Vega rendered: it draws each into one <svg class="marks"> (or canvas)."""
    counter = _ChartCounter()
    counter.feed(dom)
    return counter.charts


# Tests that open a page in Chromium skip with this reason on a machine without it.
needs_chromium = pytest.mark.skipif(
    chromium() is None, reason="chromium not installed (make browser)"
)
