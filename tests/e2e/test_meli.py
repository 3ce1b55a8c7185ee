"""The real Mercado Libre sample through the whole DAG: a params change, nothing else.

In a project copy of its own, so pytest-xdist runs it beside the `pipeline` group."""

from __future__ import annotations

import pytest

from tests.support.data import MELI_COLUMNS, MELI_SAMPLE, needs_meli
from tests.support.project import FAMILIES, copy_project, read_json, run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("meli")]


@needs_meli
def test_mercado_libre_sample_is_a_params_change(tmp_path):
    project = copy_project(tmp_path / "project")
    args = [
        "dvc",
        "exp",
        "run",
        "-S",
        f"data.source={MELI_SAMPLE}",
        "-S",
        f"data.text_column={MELI_COLUMNS['text_column']}",
        "-S",
        f"data.label_column={MELI_COLUMNS['label_column']}",
    ]
    run(args, project)
    evaluation = read_json(project / "metrics/evaluate.json")
    assert evaluation["sgd"]["val"]["macro_f1"] >= 0.85
    for family in FAMILIES:  # tiny budgets, yet every family learns (chance is about 0.33)
        assert evaluation[family]["val"]["macro_f1"] >= 0.6, family
    split = read_json(project / "metrics/split.json")
    assert split["train"]["domains"] == 3
    assert run(["dvc", "exp", "list", "--name-only"], project).strip()
