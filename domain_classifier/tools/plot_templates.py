"""The project's DVC plot templates (.dvc/plots/*.json) and the offline page `dvc plots show` fills.

One source for the look of every chart: each model family keeps one colour and one marker in
every plot (tuning trials, learning curves, per-domain F1), read from the plotted file's path,
so a family is told apart by more than colour. Revisions: the workspace is drawn in full, any
other revision faded (without the workspace, the last revision listed is drawn in full).

    python -m domain_classifier.tools.plot_templates             # .dvc/offline_plots.html
    python -m domain_classifier.tools.plot_templates --templates # also .dvc/plots/*.json

The JSON templates are committed (a test checks they match this module); the page is ~0.9 MB of
Vega, Vega-Lite and vega-embed from the installed vl-convert-python, so `make venv` writes it
instead and git ignores it.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from domain_classifier.data.tables import atomic_path

# family: (colour, Vega-Lite point shape). The order is the legend order (params.yaml families,
# then the reference rows). A family missing here is drawn grey with a cross, named by its path.
FAMILY_STYLE: dict[str, tuple[str, str]] = {
    "sgd": ("#4c78a8", "circle"),
    "svm": ("#f58518", "square"),
    "hgb": ("#54a24b", "triangle-up"),
    "xgb": ("#e45756", "diamond"),
    "rnn": ("#72b7b2", "triangle-down"),
    "lstm": ("#b279a2", "triangle-right"),
    "mlp": ("#9d755d", "arrow"),
    "baseline": ("#79706e", "triangle-left"),
    "ensemble": ("#eeca3b", "wedge"),
}
UNKNOWN_STYLE = ("#bab0ac", "cross")
TEMPLATES_DIR = Path(".dvc/plots")
PAGE = Path(".dvc/offline_plots.html")  # .dvc/config: plots.html_template = offline_plots.html

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
# DVC's anchors (dvc_render.vega_templates): filled per plot from dvc.yaml.
DATA, TITLE = "<DVC_METRIC_DATA>", "<DVC_METRIC_TITLE>"
X, Y = "<DVC_METRIC_X>", "<DVC_METRIC_Y>"
X_LABEL, Y_LABEL = "<DVC_METRIC_X_LABEL>", "<DVC_METRIC_Y_LABEL>"
WIDTH, HEIGHT = "<DVC_METRIC_PLOT_WIDTH>", "<DVC_METRIC_PLOT_HEIGHT>"
ZOOM = "<DVC_METRIC_ZOOM_AND_PAN>"


def _lookup(table: dict[str, str], key: str, default: str) -> str:
    pairs = ", ".join(f"'{name}': '{value}'" for name, value in table.items())
    return f"({{{pairs}}})[{key}] || '{default}'"


def family_transforms() -> list[dict]:
    """Vega-Lite transforms giving each row `family`, `family_colour` and `family_shape`.

    DVC names the file a row came from in `filename`, relative to the files' common folder
    ("sgd.csv", "rnn/plots/metrics/train/accuracy.tsv", "sgd_val.csv"): the family is the path
    part that names one, whole, before a '/', '_' or '.'."""
    names = "|".join(FAMILY_STYLE)
    family = rf"replace(datum.filename || '', /^(?:.*[\/_])?({names})(?:[\/_.].*)?$/, '$1')"
    return [
        {"calculate": family, "as": "family"},
        {
            "calculate": _lookup(
                {k: c for k, (c, _) in FAMILY_STYLE.items()}, "datum.family", UNKNOWN_STYLE[0]
            ),
            "as": "family_colour",
        },
        {
            "calculate": _lookup(
                {k: s for k, (_, s) in FAMILY_STYLE.items()}, "datum.family", UNKNOWN_STYLE[1]
            ),
            "as": "family_shape",
        },
    ]


def revision_transforms() -> list[dict]:
    """`rev_opacity`: 1 for the revision drawn in full (the workspace; without it, the last
    revision in the data), 0.35 for the others."""
    return [
        {"calculate": "datum.rev === 'workspace' ? 1 : 0", "as": "is_workspace"},
        {"joinaggregate": [{"op": "max", "field": "is_workspace", "as": "has_workspace"}]},
        {
            "window": [{"op": "last_value", "field": "rev", "as": "last_rev"}],
            "frame": [None, None],
        },
        {
            "calculate": "(datum.has_workspace ? datum.is_workspace"
            " : datum.rev === datum.last_rev) ? 1 : 0.35",
            "as": "rev_opacity",
        },
    ]


# The colour and shape channels read their range from the row itself, so a family keeps its
# style whichever families a plot holds, and the legend lists only those it holds (by name).
# Vega pairs the sorted families with their colours sorted by family: each family must have a
# colour (and a shape) of its own, which FAMILY_STYLE gives.
FAMILY_SHAPE = {
    "field": "family",
    "type": "nominal",
    "title": "family",
    "scale": {"type": "ordinal", "range": {"field": "family_shape"}},
    "legend": None,
}
# One family legend, in colour and with the marker: Vega-Lite merges a colour and a shape
# legend only within a single (unlayered) chart, so the colour legend draws the shapes itself.
FAMILY_COLOUR = {
    **FAMILY_SHAPE,
    "scale": {"type": "ordinal", "range": {"field": "family_colour"}},
    "legend": {
        "symbolOpacity": 1,
        "symbolSize": 90,
        "encode": {
            "symbols": {
                "update": {
                    "shape": {"scale": "shape", "field": "value"},
                    "strokeWidth": {"value": 0},  # a line chart's legend outlines its symbols
                }
            }
        },
    },
}
# Vega-Lite draws a legend for opacity (not for fillOpacity): the revisions, faded or not.
REVISION = {
    "field": "rev",
    "type": "nominal",
    "title": "revision",
    "scale": {"type": "ordinal", "range": {"field": "rev_opacity"}},
    "legend": {"symbolType": "circle", "symbolFillColor": "#555", "symbolStrokeColor": "#555"},
}
# Trials and epochs: whole numbers only (Vega may still place a grid line between two).
WHOLE = {"tickMinStep": 1, "format": "d", "labelExpr": "datum.value % 1 ? '' : datum.label"}
FAMILY_POINT = {"type": "point", "filled": True, "size": 70, "stroke": "white", "strokeWidth": 0.5}


def _axis(field: str, label: str, **extra) -> dict:
    return {"field": field, "type": "quantitative", "title": label, **extra}


def _chart() -> dict:
    """What every full-size family chart starts with: DVC's data, its title, the size."""
    return {
        "$schema": SCHEMA,
        "data": {"values": DATA},
        "title": {"text": TITLE, "anchor": "middle"},
        "width": WIDTH,
        "height": HEIGHT,
    }


def _point_encoding() -> dict:
    """Family colour and marker, faded for the revision other than the workspace."""
    return {"color": FAMILY_COLOUR, "shape": FAMILY_SHAPE, "opacity": REVISION}


def family_scatter() -> dict:
    """Points per family: x and y from dvc.yaml; tooltip with the whole row (hyperparameters)."""
    return {
        **_chart(),
        "transform": family_transforms() + revision_transforms(),
        "params": [ZOOM],
        "mark": {**FAMILY_POINT, "tooltip": {"content": "data"}},
        "encoding": {
            # Trials are whole numbers from 1: padding keeps the first and last off the axes.
            "x": _axis(X, X_LABEL, scale={"zero": False, "padding": 12}, axis=WHOLE),
            "y": _axis(Y, Y_LABEL, scale={"zero": False, "padding": 8}),
            **_point_encoding(),
        },
    }


def family_lines() -> dict:
    """One line per family and split: colour and marker by family, dash by split (the folder
    after `metrics/` in a dvclive path: train solid, eval, the holdout, dashed)."""
    split = {
        "calculate": r"replace(datum.filename || '', /^.*\/metrics\/([^\/]+)\/.*$/, '$1')",
        "as": "split",
    }
    holdout = {"calculate": "datum.split === 'eval' ? 'holdout' : datum.split", "as": "split"}
    dash = {
        "field": "split",
        "type": "nominal",
        "title": "split",
        "sort": ["train", "holdout"],
        "scale": {"domain": ["train", "holdout"], "range": [[1, 0], [6, 3]]},
        "legend": {"symbolStrokeColor": "#555", "symbolType": "stroke"},
    }
    return {
        **_chart(),
        "transform": [*family_transforms(), split, holdout, *revision_transforms()],
        "encoding": {
            "x": _axis(X, X_LABEL, axis=WHOLE),
            "y": _axis(Y, Y_LABEL, scale={"zero": False}),
            "detail": {"field": "rev", "type": "nominal"},
        },
        "layer": [
            {
                "mark": {"type": "line", "strokeWidth": 2},
                "encoding": {"color": FAMILY_COLOUR, "strokeDash": dash, "opacity": REVISION},
            },
            {
                "params": [ZOOM],
                "mark": {**FAMILY_POINT, "size": 50, "tooltip": {"content": "data"}},
                "encoding": {
                    **_point_encoding(),
                    "detail": {"field": "split", "type": "nominal"},
                },
            },
        ],
    }


# Reliability: the two files' last word, and the diagonal as a third series of the same legend.
CALIBRATION = [
    "before temperature scaling",
    "after temperature scaling",
    "perfect calibration",
]


def reliability() -> dict:
    """Accuracy against confidence per bin, before and after calibration, over the diagonal a
    perfectly calibrated model follows; each bin's point sized by the titles it holds (`rows`)."""
    series = {
        "calculate": r"replace(datum.filename || '', /^.*_(before|after)\.[a-z]+$/, '$1')"
        " + ' temperature scaling'",
        "as": "calibration",
    }
    colour = {
        "field": "calibration",
        "type": "nominal",
        "title": None,
        "sort": CALIBRATION,
        "scale": {"domain": CALIBRATION, "range": ["#e45756", "#4c78a8", "#9a9a9a"]},
        "legend": {"symbolType": "stroke", "symbolStrokeWidth": 2, "symbolSize": 300},
    }
    dash = {**colour, "scale": {"domain": CALIBRATION, "range": [[6, 3], [1, 0], [2, 3]]}}
    unit = {"domain": [0, 1], "nice": False}
    position = {"x": _axis(X, X_LABEL, scale=unit), "y": _axis(Y, Y_LABEL, scale=unit)}
    return {
        "$schema": SCHEMA,
        "title": {"text": TITLE, "anchor": "middle"},
        "width": WIDTH,
        "height": HEIGHT,
        "layer": [
            {
                # Two points are a line: (0, 0) to (1, 1), named like the data's own fields.
                "data": {"values": [{"p": 0}, {"p": 1}]},
                "transform": [
                    {"calculate": "datum.p", "as": X},
                    {"calculate": "datum.p", "as": Y},
                    {"calculate": f"'{CALIBRATION[2]}'", "as": "calibration"},
                ],
                "mark": {"type": "line", "strokeWidth": 1.5},
                "encoding": {**position, "color": colour, "strokeDash": dash},
            },
            {
                "data": {"values": DATA},
                "transform": [series, *revision_transforms()],
                "encoding": {**position, "color": colour, "detail": {"field": "rev"}},
                "layer": [
                    {
                        "mark": {"type": "line", "strokeWidth": 2},
                        "encoding": {"strokeDash": dash, "opacity": REVISION},
                    },
                    {
                        "params": [ZOOM],
                        "mark": {**FAMILY_POINT, "tooltip": {"content": "data"}},
                        "encoding": {
                            "size": {
                                "field": "rows",
                                "type": "quantitative",
                                "title": "titles in bin",
                                "scale": {"range": [10, 250]},
                            },
                            "opacity": REVISION,
                        },
                    },
                ],
            },
        ],
    }


def bar_horizontal_facets() -> dict:
    """DVC's bar_horizontal, one facet per family titled by the family and narrow enough for
    seven side by side; bars in the family's colour, revisions side by side (other one faded)."""
    return {
        "$schema": SCHEMA,
        "data": {"values": DATA},
        "title": {"text": TITLE, "anchor": "middle"},
        "transform": family_transforms() + revision_transforms(),
        "width": 130,
        "height": HEIGHT,
        "mark": {"type": "bar", "tooltip": {"content": "data"}},
        "params": [ZOOM],
        "encoding": {
            "x": _axis(X, X_LABEL, scale={"zero": False}),
            "y": {"field": Y, "type": "nominal", "title": Y_LABEL},
            "yOffset": {"field": "rev", "sort": []},
            "color": {**FAMILY_COLOUR, "legend": None},  # the facets name the families
            "opacity": {**REVISION, "legend": {**REVISION["legend"], "symbolType": "square"}},
            "column": {
                "field": "family",
                "type": "nominal",
                "sort": list(FAMILY_STYLE),
                "title": None,
                "header": {"labelFontSize": 13, "labelFontWeight": "bold"},
            },
        },
    }


TEMPLATES = {
    "family_scatter": family_scatter,
    "family_lines": family_lines,
    "reliability": reliability,
    "bar_horizontal_facets": bar_horizontal_facets,
}


def template_text(name: str) -> str:
    return json.dumps(TEMPLATES[name](), indent=2) + "\n"


def write_templates(folder: Path | str = TEMPLATES_DIR) -> list[Path]:
    written = []
    for name in TEMPLATES:
        path = Path(folder) / f"{name}.json"
        with atomic_path(path) as tmp:
            tmp.write_text(template_text(name), encoding="utf-8")
        written.append(path)
    return written


def page_html() -> str:
    """DVC's `plots.html_template`: its page, with Vega, Vega-Lite and vega-embed inlined.

    No `{scripts}` placeholder, so DVC adds none of its CDN <script> tags; each chart's own
    inline `vegaEmbed(...)` call runs after this bundle has defined it."""
    import vl_convert

    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n{refresh_tag}\n'
        "<title>DVC plots (offline)</title>\n"
        f"<script>{vl_convert.javascript_bundle()}</script>\n"
        "<style>body { font-family: sans-serif; } table { border-spacing: 15px; }</style>\n"
        "</head>\n<body>\n{plot_divs}\n</body>\n</html>\n"
    )


def write_page(path: Path | str = PAGE) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(page_html(), encoding="utf-8")
    return Path(path)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--page",
    default=PAGE,
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Offline HTML template for `dvc plots show` to write.",
)
@click.option(
    "--templates",
    is_flag=True,
    help=f"Also rewrite the Vega-Lite templates in {TEMPLATES_DIR}/ from this module.",
)
def main(page: Path, templates: bool) -> None:
    """Write the offline page DVC's plots use (and, with --templates, the plot templates)."""
    written = [write_page(page)]
    if templates:
        written += write_templates()
    click.echo(" ".join(str(p) for p in written))


if __name__ == "__main__":
    main()
