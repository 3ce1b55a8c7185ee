"""The review workflow on copies of the committed workspace: report.md, its PNGs, the offline page.

No pipeline run: the committed metrics, params and plot files are diffed as they are.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from dvc.utils.serialize import modify_json, modify_yaml

from domain_classifier.errors import InputError
from domain_classifier.families import registry
from domain_classifier.tools import plot_templates, review
from domain_classifier.tools.offline_plots import offline_html, plot_specs
from tests.support.browser import needs_chromium, render_page
from tests.support.data import ROOT
from tests.support.review import (
    column_headers,
    expected_charts,
    legend,
    scene_marks,
    table_row,
)

# DVC's own use of its trie library, many times per call; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:_NoneStep.value:DeprecationWarning")
TINY = {
    "data": {"values": [{"x": 1, "y": 2}, {"x": 2, "y": 3}]},
    "mark": "line",
    "encoding": {
        "x": {"field": "x", "type": "quantitative"},
        "y": {"field": "y", "type": "quantitative"},
    },
}
CDN = [
    "https://cdn.jsdelivr.net/npm/vega@5",
    "https://cdn.jsdelivr.net/npm/vega-lite@5",
    "https://cdn.jsdelivr.net/npm/vega-embed@6",
]


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", *args],
        cwd=project,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture(scope="module")
def committed(tmp_path_factory) -> Path:
    """The project's files (committed metrics and plots included) as a fresh `main` branch."""
    target = tmp_path_factory.mktemp("review") / "project"
    listed = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard")
    for name in listed.splitlines():
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    git(target, "init", "-q", "-b", "main")
    git(target, "add", "-A")
    git(target, "commit", "-qm", "committed workspace")
    return target


@pytest.fixture(scope="module")
def experiment(committed, tmp_path_factory) -> Path:
    """A branch with one param changed, and an uncommitted metric change in its workspace."""
    project = tmp_path_factory.mktemp("experiment") / "project"
    shutil.copytree(committed, project)
    git(project, "checkout", "-q", "-b", "experiment")
    with modify_yaml(project / "params.yaml") as params:
        assert params["train_sgd"]["max_iter"] != 13
        params["train_sgd"]["max_iter"] = 13
    git(project, "commit", "-qam", "more sgd iterations")
    with modify_json(project / "metrics/evaluate.json") as metrics:
        metrics["sgd"]["test"]["macro_f1"] = 0.5
    with modify_json(project / "metrics/scores/sgd.json") as metrics:
        metrics["test_macro_f1"] = 0.5
    return project


@pytest.fixture(scope="module")
def report(experiment) -> review.Report:
    return review.build_report("main", experiment / "report.md", root=experiment)


def test_no_diff_against_the_current_commit(committed):
    assert review.dvc_diff("metrics", "HEAD", committed) == ""
    assert review.dvc_diff("params", "HEAD", committed) == ""
    assert len(plot_specs("HEAD", committed)) == expected_charts(committed)


def test_report_shows_the_changed_param_and_metric(report, experiment, committed):
    text = report.markdown.read_text()
    trials = yaml.safe_load((committed / "params.yaml").read_text())["train_sgd"]["max_iter"]
    assert table_row(text, "params.yaml", "train_sgd.max_iter") == [str(trials), "13"]
    old, new, change = table_row(text, "metrics/scores/sgd.json", "test_macro_f1")
    before = json.loads((committed / "metrics/scores/sgd.json").read_text())
    assert float(old) == pytest.approx(before["test_macro_f1"], abs=1e-5)
    assert float(new) == 0.5 and float(change) == pytest.approx(0.5 - float(old), abs=1e-5)
    champion = json.loads((experiment / "metrics/champion.json").read_text())
    assert (
        f"**Champion: `{champion['family']}`**: validation macro-F1 "
        f"{champion['val_macro_f1']:.4f}, test macro-F1 {champion['test_macro_f1']:.4f}, "
        f"test ECE {champion['test_ece']:.4f}"
    ) in text


def test_report_images_exist_and_are_pngs(report, experiment):
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report.markdown.read_text())
    assert len(links) == len(report.images) == expected_charts(experiment)
    for link in links:
        image = report.markdown.parent / link
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", link
    assert (
        f"`{Path(report.html).relative_to(experiment).as_posix()}`" in report.markdown.read_text()
    )


@needs_chromium
def test_offline_page_renders_every_chart_without_network(report, experiment):
    rendered = render_page(report.html)
    assert rendered.requests == []
    assert rendered.charts == expected_charts(experiment)


@needs_chromium
def test_chromium_check_sees_a_cdn_page_fail(tmp_path):
    offline = tmp_path / "offline.html"
    offline.write_text(offline_html({"tiny": TINY}, "tiny"))
    assert render_page(offline).charts == 1
    # The same chart with the libraries from a CDN, as `dvc plots show` writes it.
    online = tmp_path / "online.html"
    online.write_text(
        "<!DOCTYPE html><html><head>"
        + "".join(f'<script src="{url}"></script>' for url in CDN)
        + '</head><body><div id="c"></div><script>vegaEmbed("#c", '
        + json.dumps(TINY)
        + ")</script></body></html>"
    )
    rendered = render_page(online)
    assert rendered.charts == 0
    assert rendered.requests == sorted(CDN)


def test_unknown_revision_is_one_line_and_writes_nothing(committed, tmp_path, monkeypatch):
    monkeypatch.chdir(committed)
    out = tmp_path / "report.md"
    result = CliRunner().invoke(review.main, ["--rev", "no-such-rev", "--out", str(out)])
    assert result.exit_code == 1
    assert result.output == "Error: unknown Git revision 'no-such-rev'\n"
    assert not out.exists() and not out.with_suffix("").exists()


def test_report_must_be_markdown_and_spare_other_folders(committed):
    with pytest.raises(InputError, match="must be a .md file"):
        review.build_report("HEAD", committed / "report.txt", root=committed)
    with pytest.raises(InputError, match="plots: exists and is not a report folder"):
        review.build_report("HEAD", committed / "plots.md", root=committed)
    assert (committed / "plots/confusion").is_dir()


def test_markdown_says_when_nothing_changed_and_folds_other_confusions():
    champion = {"family": "rnn", "val_macro_f1": 0.9, "test_macro_f1": 0.8, "test_ece": 0.02}
    images = [
        ("Per-domain F1", "r/1.png"),
        ("plots/confusion/rnn_val.csv", "r/2.png"),
        ("Confusion normalised, lstm test", "r/3.png"),
    ]
    text = review.report_markdown("main", champion, "", "", images, "r/plots.html")
    assert "_No metrics changed._" in text and "_No params changed._" in text
    shown, folded = text.split("<details>")
    assert "r/1.png" in shown and "r/2.png" in shown and "r/3.png" in folded


def test_long_metrics_table_keeps_the_deciding_rows_in_view():
    champion = {"family": "sgd", "val_macro_f1": 0.9, "test_macro_f1": 0.8, "test_ece": 0.02}
    rows = [f"| metrics/monitor.json | checks.c{i}.value | 0.1 | 0.2 | 0.1 |" for i in range(40)]
    rows += [
        "| metrics/scores/lstm.json | val_macro_f1 | 0.8 | 0.9 | 0.1 |",
        "| metrics/champion.json | family | sgd | lstm | - |",
    ]
    table = "\n".join(["| Path | Metric | main | workspace | Change |", "|--|--|--|--|--|", *rows])
    text = review.report_markdown("main", champion, table, "", [], "r/plots.html")
    in_view, fold = text.split("<details><summary>All 42 changed metrics</summary>")
    assert "| metrics/scores/lstm.json | val_macro_f1 |" in in_view and "| family |" in in_view
    assert "checks.c0.value" not in in_view and "checks.c39.value" in fold


def test_cli_runs_as_a_module():
    done = subprocess.run(
        [sys.executable, "-m", "domain_classifier.tools.review", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "--rev" in done.stdout


def test_contents_link_to_every_shown_chart_and_section():
    champion = {"family": "sgd", "val_macro_f1": 0.9, "test_macro_f1": 0.8, "test_ece": 0.02}
    images = [("Tuning trials (CV accuracy)", "r/1.png"), ("Per-domain F1 (test)", "r/2.png")]
    text = review.report_markdown("main", champion, "", "", images, "r/plots.html")
    headings = {review.anchor(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.M)}
    links = re.findall(r"\]\(#([^)]+)\)", text)
    assert set(links) == headings - {review.anchor(text.splitlines()[0].lstrip("# "))}
    assert {"tuning-trials-cv-accuracy", "per-domain-f1-test", "metrics", "plots"} <= set(links)


def test_offline_page_lists_its_charts_with_working_links():
    from domain_classifier.tools.offline_plots import offline_html

    spec = {"mark": "point", "data": {"values": [{"x": 1}]}, "encoding": {}}
    page = offline_html({"A chart": spec, "B <chart>": spec}, "Plots")
    links = re.findall(r'<a href="#([^"]+)">([^<]*)</a>', page)
    assert [text for _, text in links] == ["A chart", "B &lt;chart&gt;"]
    assert all(f'<h2 id="{target}">' in page for target, _ in links)


@pytest.fixture(scope="module")
def scenes(committed) -> dict[str, dict]:
    """{chart title: Vega scenegraph} of every committed chart, as the report's PNGs draw it."""
    import vl_convert

    return {
        title: vl_convert.vegalite_to_scenegraph(spec, allowed_base_urls=[])
        for title, spec in plot_specs("HEAD", committed).items()
    }


def families_plotted(project: Path, title: str) -> set[str]:
    """The families whose files a dvc.yaml plot names (each file's path names one)."""
    for entry in yaml.safe_load((project / "dvc.yaml").read_text())["plots"]:
        if title in entry:
            return {
                family
                for path in entry[title]["y"]
                for family in plot_templates.FAMILY_STYLE
                if re.search(rf"(^|[/_]){family}([/_.])", path) and (project / path).is_file()
            }
    raise KeyError(title)


def test_each_family_keeps_one_colour_and_one_marker_in_every_chart(scenes, committed):
    styles = {}  # family: (colour, shape), the first chart's; every other chart must agree
    for title in [t for t in scenes if t.startswith(("Tuning trials", "Learning curves"))]:
        drawn = legend(scenes[title], "family")
        assert set(drawn) == families_plotted(committed, title), title
        assert len(set(drawn.values())) == len(drawn), f"{title}: two families look alike"
        for family, style in drawn.items():
            assert styles.setdefault(family, style) == style, f"{title}: {family}"
        # The marks use the legend's styles (the legend is not drawn from another scale).
        points = {
            (item["fill"], item["shape"])
            for mark in scene_marks(scenes[title], "mark")
            if mark["marktype"] == "symbol"
            for item in mark["items"]
        }
        assert points == set(drawn.values()), title
    assert styles == {f: plot_templates.FAMILY_STYLE[f] for f in styles}
    # Per-domain F1: one facet per family, titled by its name, bars in the family's colour.
    for title in [t for t in scenes if t.startswith("Per-domain F1")]:
        bars = [
            {item["fill"] for item in mark["items"]}
            for mark in scene_marks(scenes[title], "mark")
            if mark["marktype"] == "rect"
        ]
        headers = column_headers(scenes[title])
        assert set(headers) == families_plotted(committed, title)
        assert bars == [{plot_templates.FAMILY_STYLE[f][0]} for f in headers], title


def test_every_family_has_a_style_of_its_own():
    families = yaml.safe_load((ROOT / "params.yaml").read_text())["evaluate"]["families"]
    assert set(families) <= set(plot_templates.FAMILY_STYLE)
    styles = list(plot_templates.FAMILY_STYLE.values())
    assert len({c for c, _ in styles}) == len({s for _, s in styles}) == len(styles)


def test_learning_curves_legend_names_family_and_split_not_paths(scenes):
    for title in [t for t in scenes if t.startswith("Learning curves")]:
        assert set(legend(scenes[title], "split")) == {"train", "holdout"}
        labels = {t["text"] for m in scene_marks(scenes[title], "legend-label") for t in m["items"]}
        assert not any("/" in label or "." in label for label in labels), labels


def test_reliability_diagram_draws_the_perfect_calibration_diagonal(scenes):
    for title in [t for t in scenes if t.startswith("Reliability diagram")]:
        labels = {t["text"] for m in scene_marks(scenes[title], "legend-label") for t in m["items"]}
        assert {"perfect calibration", "before temperature scaling"} <= labels
        lines = [
            [(item["x"], item["y"]) for item in mark["items"]]
            for mark in scene_marks(scenes[title], "mark")
            if mark["marktype"] == "line"
        ]
        # From (0, 0) at the bottom left to (1, 1) at the top right of the 300 px square.
        assert [(0, 300), (300, 0)] in lines, title


def test_confusion_matrices_put_the_true_domain_on_y_as_the_mlflow_png(committed):
    specs = {t: s for t, s in plot_specs("HEAD", committed).items() if "Confusion" in t}
    assert len(specs) == 2 * (len(registry.names()) + 1)  # each family and the baseline, 2 splits
    for title, spec in specs.items():
        encoding = spec["spec"]["encoding"]
        assert (encoding["x"]["field"], encoding["y"]["field"]) == ("predicted", "actual"), title
        assert (encoding["x"]["title"], encoding["y"]["title"]) == (
            "predicted domain",
            "true domain",
        )
        # Normalised per true domain (each row sums to 1), as normalize="true" in MLflow's.
        (share,) = [t for t in spec["spec"]["transform"] if "joinaggregate" in t]
        assert share["groupby"] == ["actual"], title


def test_committed_templates_are_the_generators():
    for name in plot_templates.TEMPLATES:
        committed = (ROOT / plot_templates.TEMPLATES_DIR / f"{name}.json").read_text()
        assert committed == plot_templates.template_text(name), (
            f"{name}.json: run python -m domain_classifier.tools.plot_templates --templates"
        )


def score_cells(text: str, family: str) -> list[str]:
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("|") and f"`{family}`" in cells[0]:
            return cells
    return []


def test_score_table_heads_the_report_with_the_change(report):
    text = report.markdown.read_text()
    top = text.split("### Metrics")[0]
    assert "| model | val macro-F1 | test macro-F1 | val vs `main` | test vs `main` |" in top
    sgd = score_cells(top, "sgd")
    assert sgd[2] == "0.5000" and float(sgd[4]) < 0  # the experiment's sgd.test.macro_f1
    champion = json.loads((report.markdown.parent / "metrics/champion.json").read_text())
    assert score_cells(top, champion["family"])[0] == f"**`{champion['family']}` (champion)**"
    assert "(reference: TF-IDF + LinearSVC)" in score_cells(top, "baseline")[0]
    assert "Champion minus baseline: val " in top


def test_score_table_shows_even_when_no_metric_changed(committed):
    evaluation = json.loads((committed / "metrics/evaluate.json").read_text())
    champion = json.loads((committed / "metrics/champion.json").read_text())
    scores = review.score_table("main", evaluation, champion, evaluation, champion)
    text = review.report_markdown("main", champion, "", "", [], "r/plots.html", scores)
    top, rest = text.split("### Metrics")
    assert "_No metrics changed._" in rest
    assert "| model | val macro-F1 | test macro-F1 |\n" in top and "Same scores at `main`." in top
    assert all(score_cells(top, family) for family in evaluation)
    assert float(score_cells(top, champion["family"])[1]) == pytest.approx(
        evaluation[champion["family"]]["val"]["macro_f1"], abs=5e-5
    )


def test_score_table_marks_a_champion_not_above_the_baseline():
    evaluation = {
        "baseline": {"val": {"macro_f1": 0.8936}, "test": {"macro_f1": 0.90}},
        "sgd": {"val": {"macro_f1": 0.8933}, "test": {"macro_f1": 0.91}},
    }
    table = review.score_table("main", evaluation, {"family": "sgd"}, None)
    assert table.splitlines()[2].startswith("| `baseline` (reference")  # best on validation first
    assert "**`sgd` is not above the baseline on validation.**" in table
    assert "`main` has no `metrics/evaluate.json` to compare with." in table


@needs_chromium
def test_dvc_plots_show_draws_offline_and_its_page_is_ignored(committed, tmp_path):
    """`dvc plots show` as a user runs it after `make`: the page make writes, then DVC's page."""
    project = tmp_path / "project"
    shutil.copytree(committed, project)
    subprocess.run(
        [sys.executable, "-m", "domain_classifier.tools.plot_templates"], cwd=project, check=True
    )
    subprocess.run(
        [sys.executable, "-m", "dvc", "plots", "show"], cwd=project, check=True, capture_output=True
    )
    rendered = render_page(project / "dvc_plots/index.html")
    assert rendered.requests == []
    assert rendered.charts == expected_charts(project)
    ignored = git(project, "check-ignore", "dvc_plots/index.html", ".dvc/offline_plots.html")
    assert ignored.split() == ["dvc_plots/index.html", ".dvc/offline_plots.html"]
