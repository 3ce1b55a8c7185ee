"""A free loopback port for servers the tests start, and the `ui` command started on one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

CONSOLE = Path(sys.executable).parent / "domain-classifier"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_ui(project: Path, port: int, stderr=subprocess.PIPE) -> subprocess.Popen:
    """`domain-classifier ui` from a plain PATH, in a session of its own (the process group
    a terminal's Ctrl+C signals), its output read as text."""
    return subprocess.Popen(
        [str(CONSOLE), "ui", "--port", str(port)],
        cwd=project,
        env={**os.environ, "PATH": "/usr/bin:/bin"},
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
