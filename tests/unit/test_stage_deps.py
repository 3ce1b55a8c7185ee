"""dvc.yaml lists exactly what each stage runs and reads: code by import closure, feature sets
and params sections by what the family registry declares."""

from __future__ import annotations

from pathlib import Path

import yaml

from domain_classifier.families import registry
from domain_classifier.families.recurrent import RecurrentParams
from domain_classifier.tools.stage_deps import closure, compact, differences
from tests.support.data import ROOT

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def test_every_stage_lists_exactly_the_code_it_runs():
    assert differences(ROOT) == {}


def write(root: Path, name: str, text: str) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text)


def test_closure_follows_function_imports_and_module_names_in_strings(tmp_path):
    write(tmp_path, "stages/run.py", "def main():\n    from domain_classifier.a import f\n")
    write(tmp_path, "domain_classifier/__init__.py", '"""Package."""\n')
    write(tmp_path, "domain_classifier/a.py", 'MODULES = {"b": "domain_classifier.pkg.b"}\n')
    write(tmp_path, "domain_classifier/pkg/__init__.py", "")
    write(tmp_path, "domain_classifier/pkg/b.py", "import numpy\n")
    write(tmp_path, "domain_classifier/pkg/data.json", "{}")
    write(tmp_path, "domain_classifier/tracking/log.py", "from domain_classifier import a\n")
    write(tmp_path, "domain_classifier/c.py", "import domain_classifier.tracking.log\n")
    found = closure(tmp_path, Path("stages/run.py"))
    assert found == {
        Path("stages/run.py"),
        Path("domain_classifier/a.py"),
        Path("domain_classifier/pkg/b.py"),
    }
    # A folder whose every code file is needed is listed as the folder (its data comes along).
    assert compact(tmp_path, found) == [
        Path("domain_classifier/a.py"),
        Path("domain_classifier/pkg"),
        Path("stages/run.py"),
    ]


def test_type_names_of_the_trusted_list_are_not_imports(tmp_path):
    write(tmp_path, "stages/run.py", "import domain_classifier.trusted_types\n")
    write(tmp_path, "domain_classifier/__init__.py", '"""Package."""\n')
    write(tmp_path, "domain_classifier/trusted_types.py", 'T = ("domain_classifier.big.Model",)\n')
    write(tmp_path, "domain_classifier/big.py", "import numpy\n")
    assert closure(tmp_path, Path("stages/run.py")) == {
        Path("stages/run.py"),
        Path("domain_classifier/trusted_types.py"),
    }


def test_a_missing_or_needless_dependency_is_reported(tmp_path):
    write(tmp_path, "stages/run.py", "from domain_classifier import a\n")
    write(tmp_path, "domain_classifier/a.py", "X = 1\n")
    write(tmp_path, "domain_classifier/b.py", "X = 2\n")
    stage = {"cmd": "python -m stages.run", "deps": ["stages/run.py", "domain_classifier/b.py"]}
    write(tmp_path, "dvc.yaml", yaml.safe_dump({"stages": {"run": stage}}))
    assert differences(tmp_path) == {
        "run": (["domain_classifier/a.py"], ["domain_classifier/b.py"])
    }


def test_training_stages_read_only_their_feature_sets_and_section():
    for name in registry.names():
        family = registry.get(name)
        stage = STAGES[family.section]
        features = {d for d in stage["deps"] if d.startswith("data/features/")}
        assert features == {f"data/features/{s}" for s in family.features}, name
        assert stage["params"] == [family.section, "budget.threads"], name
        assert stage["cmd"] == f"python -m stages.{family.section}"


def test_sequence_families_depend_on_no_tokenize_param_and_no_cv_folds():
    # The encoding they bundle comes from data/features/sequences, not from params.yaml.
    assert "cv_folds" not in RecurrentParams.__dataclass_fields__
    for name in ("rnn", "lstm"):
        assert "data/features/tfidf_char" not in STAGES[f"train_{name}"]["deps"]


def test_evaluate_and_select_cover_every_registered_family_and_the_baseline():
    for stage in ("evaluate", "select"):
        models = {d for d in STAGES[stage]["deps"] if d.startswith("models/")}
        assert models == {f"models/{name}" for name in (*registry.names(), "baseline")}, stage
    assert "models/baseline" in STAGES["baseline"]["outs"]
