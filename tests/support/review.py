"""What the review report and dvc.yaml are expected to show, read the way a reviewer reads them."""

from __future__ import annotations

from pathlib import Path

import yaml


def expected_charts(project: Path) -> int:
    """Charts dvc.yaml's top-level plots define: one per title, one per file under a path key."""
    count = 0
    for entry in yaml.safe_load((project / "dvc.yaml").read_text())["plots"]:
        key = entry if isinstance(entry, str) else next(iter(entry))
        path = project / key
        count += sum(f.is_file() for f in path.iterdir()) if path.is_dir() else 1
    return count


def table_row(text: str, path: str, key: str) -> list[str]:
    """The cells after path and key in the markdown table row for `key`, or []."""
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[:2] == [path, key]:
            return cells[2:]
    return []
