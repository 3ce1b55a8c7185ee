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


def scene_marks(node, role: str | None = None) -> list[dict]:
    """Every mark node of a Vega scenegraph (vl_convert.vegalite_to_scenegraph), depth first;
    only those with `role` ("mark", "legend-symbol", ...) if given."""
    found = []
    if isinstance(node, dict):
        if "marktype" in node and (role is None or node.get("role") == role):
            found.append(node)
        for child in node.values():
            found += scene_marks(child, role)
    elif isinstance(node, list):
        for child in node:
            found += scene_marks(child, role)
    return found


def legend(scene: dict, title: str) -> dict[str, tuple[str, str]]:
    """{label: (colour, shape)} of the legend titled `title`, as the reader sees it drawn."""
    for group in scene_marks(scene):
        if group.get("role") != "legend":
            continue
        for item in group["items"]:
            titles = [t["text"] for m in scene_marks(item, "legend-title") for t in m["items"]]
            if titles != [title]:
                continue
            symbols = [s for m in scene_marks(item, "legend-symbol") for s in m["items"]]
            labels = [t["text"] for m in scene_marks(item, "legend-label") for t in m["items"]]
            return {
                label: (symbol.get("fill") or symbol.get("stroke"), symbol.get("shape"))
                for label, symbol in zip(labels, symbols)
            }
    return {}


def column_headers(scene: dict) -> list[str]:
    """The facet column titles, left to right."""
    return [
        text["text"]
        for group in scene_marks(scene)
        if group.get("role") == "column-header"
        for item in group["items"]
        for mark in scene_marks(item)
        if mark["marktype"] == "text"
        for text in mark["items"]
    ]
