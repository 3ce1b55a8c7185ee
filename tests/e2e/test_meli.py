"""The real Mercado Libre sample through the whole DAG: a params change, nothing else."""

from __future__ import annotations

import pytest

from tests.support.data import needs_meli
from tests.support.project import FAMILIES, read_json, run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("meli"), needs_meli]


def test_mercado_libre_sample_is_a_params_change(meli_project):
    evaluation = read_json(meli_project / "metrics/evaluate.json")
    assert evaluation["sgd"]["val"]["macro_f1"] >= 0.85
    for family in FAMILIES:  # tiny budgets, yet every family learns (chance is about 0.33)
        assert evaluation[family]["val"]["macro_f1"] >= 0.6, family
    split = read_json(meli_project / "metrics/split.json")
    assert split["train"]["domains"] == 3
    assert run(["dvc", "exp", "list", "--name-only"], meli_project).strip()
