"""README.md as a newcomer reads it: its short commands run as written, its links lead somewhere.

A fenced ```sh, ```bash or ```console block runs here only when the line before it (blank lines
aside) is the marker `<!-- runs-in-test -->`, so the README decides which of its commands are
short and leave nothing behind. `<!-- runs-in-test: needs models/champion mlflow.db -->` runs the
block only once those paths exist in the project (after `make run`), and skips it before.
Each block runs as one bash script (`-e -o pipefail`) from the project folder in a plain
shell: the environment's bin/ is not on PATH, so a block calls the console script the way the
README tells a user to (`source .venv/bin/activate`, or `.venv/bin/domain-classifier`).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MAX_README_LINES = 320

MARKER = re.compile(r"<!--\s*runs-in-test(?:\s*:\s*needs\s+(?P<needs>[^>]*?))?\s*-->")
FENCE = re.compile(r"^(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)")
SHELLS = {"sh", "bash", "console", "shell"}
# What a user's login shell has, and not what this test process may have inherited: the
# environment activated, a tracking store or project chosen, a make that started pytest.
NOT_INHERITED = {
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "MLFLOW_TRACKING_URI",
    "DOMAIN_CLASSIFIER_PROJECT",
    "MAKEFLAGS",
    "MAKELEVEL",
    "MFLAGS",
}
PLAIN = {
    **{key: value for key, value in os.environ.items() if key not in NOT_INHERITED},
    "PATH": "/usr/bin:/bin",
}
TIMEOUT_S = 300


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    marker: str | None  # the marker line before it, if any

    @property
    def needs(self) -> list[str]:
        found = MARKER.fullmatch(self.marker or "")
        return (found["needs"] or "").split() if found else []

    @property
    def script(self) -> str:
        """The commands, as a user would paste them (a console block: its `$ ` lines)."""
        if self.lang != "console":
            return self.text
        return "\n".join(line[2:] for line in self.text.splitlines() if line.startswith("$ "))


def fenced_blocks(text: str) -> list[Block]:
    blocks, lines = [], text.splitlines()
    previous, i = None, 0  # previous: the last non-blank line outside a block
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        fence, start, body = opening["fence"], i, []
        i += 1
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        marker = previous if previous is not None and MARKER.fullmatch(previous) else None
        blocks.append(Block(start + 1, opening["lang"].lower(), "\n".join(body), marker))
        previous, i = None, i + 1
    return blocks


def marked_blocks() -> list[Block]:
    return [block for block in fenced_blocks(README.read_text()) if block.marker]


def test_the_readme_marks_commands_to_run():
    marked = marked_blocks()
    assert marked, "no block in README.md is marked <!-- runs-in-test -->"
    for block in marked:
        assert block.lang in SHELLS, f"README.md:{block.line}: a marked ```{block.lang} block"
        assert block.script.strip(), f"README.md:{block.line}: a marked block with no command"


def test_the_readme_starts_with_the_two_commands():
    first = next(block for block in fenced_blocks(README.read_text()) if block.lang in SHELLS)
    commands = [line.split("#")[0].strip() for line in first.script.splitlines()]
    assert [command for command in commands if command] == ["make run", "make test"]


@pytest.mark.parametrize(
    "block", [pytest.param(block, id=f"README.md:{block.line}") for block in marked_blocks()]
)
def test_a_marked_block_runs_as_written(block):
    missing = [path for path in block.needs if not (ROOT / path).exists()]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (after `make run`)")
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block.script],
        cwd=ROOT,
        env=PLAIN,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert done.returncode == 0, (
        f"README.md:{block.line} exited {done.returncode}:\n{block.script}\n"
        f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    )


def test_the_readme_is_short():
    lines = len(README.read_text().splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines (at most {MAX_README_LINES})"


# [text](target) and ![alt](target), with an optional "title"; code spans are removed first.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?(?P<target>[^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+).*?\1")
SCHEME = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced blocks."""
    kept, fence = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening["fence"]
        elif fence is not None and line.startswith(fence):
            fence = None
        elif fence is None:
            kept.append((number, line))
    return kept


def anchors(path: Path) -> set[str]:
    """The heading anchors GitHub makes: lowercased, punctuation dropped, spaces to hyphens,
    a repeated heading numbered (-1, -2, ...)."""
    slugs, counts = set(), {}
    for _, line in prose_lines(path.read_text()):
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading[1].lower()).replace(" ", "-")
        repeat = counts.get(slug, 0)
        counts[slug] = repeat + 1
        slugs.add(f"{slug}-{repeat}" if repeat else slug)
    return slugs


def broken_links(path: Path) -> list[str]:
    broken = []
    for number, line in prose_lines(path.read_text()):
        for found in LINK.finditer(CODE_SPAN.sub("", line)):
            target = found["target"]
            if SCHEME.match(target):
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            where = f"{path.relative_to(ROOT)}:{number}: {target}"
            if not linked.exists():
                broken.append(f"{where} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{where} (no heading #{anchor} in {linked.relative_to(ROOT)})")
    return broken


def test_every_relative_link_leads_somewhere():
    documents = [README, *sorted((ROOT / "docs").glob("*.md"))]
    broken = [link for document in documents for link in broken_links(document)]
    assert not broken, "broken links:\n" + "\n".join(broken)
