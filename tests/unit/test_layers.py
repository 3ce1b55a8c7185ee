"""The import rules of docs/design.md: which package may import which, imports inside
functions included (they run as surely as the ones at the top)."""

import ast
from pathlib import Path

import pytest

from domain_classifier.tools.stage_deps import imported_names

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "domain_classifier"
EVERY = {
    "cli",
    "data",
    "demo",
    "evaluation",
    "families",
    "features",
    "models",
    "monitoring",
    "planning",
    "serving",
    "store",
    "tools",
    "tracking",
    "training",
}
# Package -> the project packages it must never import. Lower layers know nothing of higher
# ones; serving and tracking share the saved model (models/) and the store (store/) and never
# reach into each other.
FORBIDDEN = {
    "store": EVERY,
    "families": EVERY - {"data", "features"},
    "models": EVERY - {"data", "families", "store"},
    "evaluation": EVERY - {"data", "families", "models"},
    "serving": EVERY - {"data", "models", "store"},
    "tracking": {"cli", "serving", "tools"},
}


def package_of(module: str) -> str | None:
    """`domain_classifier.models.saved` -> `models`; None outside the project."""
    parts = module.split(".")
    return parts[1] if parts[0] == PROJECT and len(parts) > 1 else None


def violations(files: dict[str, str]) -> list[str]:
    """`path: imports module` for each import a FORBIDDEN rule refuses; `files` maps a path
    under domain_classifier/ to its source."""
    found = []
    for path, source in sorted(files.items()):
        parts = Path(path).parts
        package = Path(parts[1]).stem if len(parts) > 2 else Path(parts[-1]).stem
        refused = FORBIDDEN.get(package, set())
        for name in sorted(imported_names(ast.parse(source), strings=False)):
            target = package_of(name)
            if target is not None and target != package and target in refused:
                found.append(f"{path}: imports {name}")
    return found


def project_files() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
        for path in (ROOT / PROJECT).rglob("*.py")
    }


def test_every_package_keeps_to_its_import_rules():
    assert violations(project_files()) == []


def test_the_rules_name_only_packages_that_exist():
    packages = {p.stem for p in (ROOT / PROJECT).iterdir() if p.suffix == ".py" or p.is_dir()}
    assert set(FORBIDDEN) | {n for names in FORBIDDEN.values() for n in names} <= packages


@pytest.mark.parametrize(
    "path, source, module",
    [
        (
            "domain_classifier/serving/batch.py",
            "from domain_classifier.tracking import runs",
            "domain_classifier.tracking",
        ),
        (
            "domain_classifier/families/sgd.py",
            "import domain_classifier.evaluation.metrics",
            "domain_classifier.evaluation.metrics",
        ),
        (
            "domain_classifier/models/loading.py",
            "def f():\n    from domain_classifier.serving.predict import PredictParams",
            "domain_classifier.serving.predict",
        ),
    ],
)
def test_an_import_across_a_forbidden_line_is_caught_even_inside_a_function(path, source, module):
    assert f"{path}: imports {module}" in violations({path: source})


def test_imports_within_a_package_and_allowed_ones_pass():
    source = "from domain_classifier.models.saved import META_FILE\nimport numpy"
    assert violations({"domain_classifier/models/ensemble.py": source}) == []
    allowed = "from domain_classifier.store.client import MlflowParams"
    assert violations({"domain_classifier/serving/batch.py": allowed}) == []
