import dataclasses
import json

import pytest
import yaml

from domain_classifier.errors import InputError
from domain_classifier.params import load_section, parse_dataclass


@dataclasses.dataclass(frozen=True)
class Example:
    rows: int
    share: float = 0.5
    names: list[str] = dataclasses.field(default_factory=list)


def test_parses_and_fills_defaults():
    parsed = parse_dataclass(Example, {"rows": 3, "share": 1}, "demo")
    assert parsed == Example(rows=3, share=1.0, names=[])


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"rows": 3, "rowz": 4}, "unknown param 'demo.rowz'"),
        ({"rows": "ten"}, "param 'demo.rows' must be int"),
        ({"rows": True}, "param 'demo.rows' must be int"),
        ({"share": 0.1}, "missing param 'demo.rows'"),
        ({"rows": 1, "names": "a"}, "param 'demo.names' must be a list"),
        ({"rows": 1, "names": ["a", 2]}, "param 'demo.names[1]' must be str"),
    ],
)
def test_refuses_bad_params_naming_them(raw, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_dataclass(Example, raw, "demo")


def test_missing_section_and_file_are_named(tmp_path):
    path = tmp_path / "params.yaml"
    with pytest.raises(InputError, match="params file not found"):
        load_section(Example, "demo", path)
    path.write_text("other: {}\n")
    with pytest.raises(InputError, match="missing params section 'demo'"):
        load_section(Example, "demo", path)


def test_repository_params_file_is_valid():
    """Every section of the shipped params.yaml parses with its stage's dataclass."""
    from domain_classifier.data.ingest import DataParams
    from domain_classifier.data.split import SplitParams
    from domain_classifier.evaluation.baseline import BaselineParams
    from domain_classifier.evaluation.selection import EvaluateParams
    from domain_classifier.families import registry
    from domain_classifier.features.tokenize import TokenizeParams
    from domain_classifier.monitoring.params import MonitorParams
    from domain_classifier.planning.settings import BudgetParams
    from domain_classifier.serving.predict import PredictParams
    from tests.support.data import ROOT

    for cls, section in [
        (BudgetParams, "budget"),
        (DataParams, "data"),
        (SplitParams, "split"),
        (TokenizeParams, "tokenize"),
        (BaselineParams, "baseline"),
        *((f.params, f.section) for f in map(registry.get, registry.names())),
        (EvaluateParams, "evaluate"),
        (PredictParams, "predict"),
        (MonitorParams, "monitor"),
    ]:
        assert isinstance(load_section(cls, section, ROOT / "params.yaml"), cls)


def test_reads_floats_the_way_dvc_writes_them(tmp_path):
    # `dvc exp run -S demo.share=0.00005` writes 5e-05, which YAML 1.1 readers take for a string.
    path = tmp_path / "params.yaml"
    path.write_text("demo:\n  rows: 3\n  share: 5e-05\n")
    assert load_section(Example, "demo", path).share == 5e-05


def leaf_paths(tree, prefix=()):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from leaf_paths(value, (*prefix, key))
    else:
        yield prefix


def test_every_param_survives_a_dvc_set_param_rewrite(tmp_path):
    """`dvc exp run -S k=v` re-serialises the values it sets; each section must still parse."""
    from dvc.utils.serialize import modify_yaml

    from domain_classifier.data.ingest import DataParams
    from domain_classifier.data.split import SplitParams
    from domain_classifier.evaluation.baseline import BaselineParams
    from domain_classifier.evaluation.selection import EvaluateParams
    from domain_classifier.families import registry
    from domain_classifier.features.tokenize import TokenizeParams
    from domain_classifier.monitoring.params import MonitorParams
    from domain_classifier.planning.settings import BudgetParams
    from domain_classifier.serving.predict import PredictParams
    from domain_classifier.store.client import MlflowParams
    from stages.demo import DemoParams
    from tests.support.data import ROOT

    path = tmp_path / "params.yaml"
    path.write_text((ROOT / "params.yaml").read_text())
    with modify_yaml(path) as params:
        for keys in leaf_paths(params):
            node = params
            for key in keys[:-1]:
                node = node[key]
            # A plain Python value, as DVC's -S parser hands over: ruamel re-serialises it.
            node[keys[-1]] = json.loads(json.dumps(node[keys[-1]]))
    classes = {
        "demo": DemoParams,
        "data": DataParams,
        "split": SplitParams,
        "tokenize": TokenizeParams,
        "budget": BudgetParams,
        "baseline": BaselineParams,
        "evaluate": EvaluateParams,
        "predict": PredictParams,
        "monitor": MonitorParams,
        "mlflow": MlflowParams,
    }
    sections = set(yaml.safe_load((ROOT / "params.yaml").read_text()))
    families = [registry.get(name) for name in registry.names()]
    assert sections == set(classes) | {family.section for family in families}
    for section, cls in [*classes.items(), *((f.section, f.params) for f in families)]:
        load_section(cls, section, path)
    assert "1e-06" in path.read_text()  # the rewrite really produced YAML 1.2 floats
