"""The pipeline's DVC plots as Vega-Lite specs, rendered without network: PNGs, one HTML page."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import vl_convert

from domain_classifier.data.tables import atomic_path
from domain_classifier.errors import InputError


def plot_specs(rev: str, root: Path | str = ".") -> dict[str, dict]:
    """{title: Vega-Lite spec, data inlined} of dvc.yaml's plots, `rev` vs workspace: what
    `dvc plots diff <rev> --json` prints (stages declare no plots of their own, see dvc.yaml)."""
    from dvc.exceptions import DvcException
    from dvc.render.match import match_defs_renderers
    from dvc.repo import Repo

    try:
        with Repo(str(root)) as repo:
            data = repo.plots.diff(revs=[rev])
            templates = repo.plots.templates_dir  # the project's own templates (.dvc/plots)
    except DvcException as exc:
        raise InputError(str(exc)) from None
    # The filled template is what `--json` prints as "content"; image plots have no spec.
    return {
        renderer.name: renderer.get_filled_template()
        for renderer, _, _ in match_defs_renderers(data, templates_dir=templates)
        if renderer.TYPE == "vega" and renderer.datapoints
    }


def png_bytes(spec: dict) -> bytes:
    """Render a spec to PNG; every data URL is refused, so it stays offline whatever the spec."""
    return vl_convert.vegalite_to_png(spec, scale=1.0, allowed_base_urls=[])


def offline_html(specs: dict[str, dict], title: str) -> str:
    """One page drawing every chart, Vega, Vega-Lite and vega-embed bundled in: no URL loads.

    `dvc plots show` writes a page that fetches those libraries from a CDN and stays blank offline.
    """
    names = list(specs)
    charts = "\n".join(
        f'<h2 id="h-{i}">{escape(name)}</h2>\n<div id="chart-{i}"></div>'
        for i, name in enumerate(names)
    )
    contents = "".join(f'<li><a href="#h-{i}">{escape(n)}</a></li>' for i, n in enumerate(names))
    # "</" inside a <script> would end it early; "<\/" is the same string to JavaScript.
    payload = json.dumps([specs[name] for name in names]).replace("</", "<\\/")
    # Static page: no actions menu (its links point at the online Vega editor).
    draw = (
        "const specs = " + payload + ";\n"
        "specs.forEach((spec, i) => vegaEmbed('#chart-' + i, spec,"
        " {renderer: 'svg', actions: false}).catch(e => console.error(e)));"
    )
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{escape(title)}</title>\n'
        f"<script>{vl_convert.javascript_bundle()}</script></head>\n"
        f"<body><h1>{escape(title)}</h1>\n<nav><h2>Contents</h2><ol>{contents}</ol></nav>\n{charts}\n<script>{draw}</script></body></html>\n"
    )


def write_offline_html(specs: dict[str, dict], path: Path | str, title: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(offline_html(specs, title), encoding="utf-8")
    return Path(path)
