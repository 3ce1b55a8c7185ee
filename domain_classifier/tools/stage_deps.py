"""The project code each stage runs, derived from its imports: what `dvc.yaml` must list.

A stage's code dependencies are the import closure of its script within the project,
counting imports inside functions and module names written as strings (the family
registry loads modules by name). Run `python -m domain_classifier.tools.stage_deps` to
print, per stage, what is missing from or extra in `dvc.yaml`.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import click
import yaml

PACKAGES = ("domain_classifier", "stages")
# The MLflow mirror writes nothing DVC tracks: a change there changes no stage output.
NOT_DEPENDENCIES = ("domain_classifier/tracking/",)
# Strings there are type names skops may build when loading a model file, not imports: the
# stages that load models already import every family through the registry.
TYPE_NAME_FILES = ("domain_classifier/trusted_types.py",)
_MODULE_NAME = re.compile(rf"^(?:{'|'.join(PACKAGES)})(?:\.\w+)*$")


def module_file(root: Path, name: str) -> Path | None:
    """The file of a project module, relative to `root`, or None outside the project."""
    if not _MODULE_NAME.match(name):
        return None
    base = Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if (root / candidate).is_file():
            return candidate
    return None


def imported_names(tree: ast.AST, strings: bool = True) -> set[str]:
    """Every module a file may import: import statements anywhere, and module-name strings."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            # `from package import module` imports a module, not a name.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif strings and isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value.split(":")[0])
    return names


def parents(name: str) -> list[str]:
    """Importing a.b.c runs a/__init__.py and a/b/__init__.py first."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def has_code(path: Path) -> bool:
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return any(not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)) for n in body)


def closure(root: Path, script: Path) -> set[Path]:
    """Project files that running `script` can execute (empty package markers left out)."""
    seen, todo = set(), [script]
    while todo:
        path = todo.pop()
        if path in seen or str(path).startswith(NOT_DEPENDENCIES):
            continue
        seen.add(path)
        tree = ast.parse((root / path).read_text(encoding="utf-8"))
        for name in imported_names(tree, strings=str(path) not in TYPE_NAME_FILES):
            for module in [*parents(name), name]:
                found = module_file(root, module)
                if found is not None and found not in seen:
                    todo.append(found)
    return {p for p in seen if p.name != "__init__.py" or has_code(root / p)}


def stage_script(cmd: str) -> Path | None:
    """`python -m stages.train_sgd ...` -> stages/train_sgd.py."""
    match = re.match(r"python -m (stages\.\w+)", cmd)
    return Path(*match.group(1).split(".")).with_suffix(".py") if match else None


def code_deps(root: Path) -> dict[str, set[Path]]:
    """Per stage of dvc.yaml: the project files it runs."""
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    return {
        name: closure(root, script)
        for name, stage in stages.items()
        if (script := stage_script(stage["cmd"])) is not None
    }


def python_files(root: Path, directory: Path) -> set[Path]:
    """The code files under a folder (empty package markers left out)."""
    found = {p.relative_to(root) for p in (root / directory).rglob("*.py")}
    return {p for p in found if p.name != "__init__.py" or has_code(root / p)}


def listed_code(root: Path) -> dict[str, list[Path]]:
    """Per stage: the files and folders of project code its dvc.yaml deps name."""
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    return {
        name: [
            Path(d)
            for d in stage.get("deps", [])
            if str(d).startswith(PACKAGES) and not str(d).endswith(".csv")
        ]
        for name, stage in stages.items()
    }


def compact(root: Path, files: set[Path]) -> list[Path]:
    """The files as dvc.yaml lists them: a folder wherever every code file in it is needed
    (a folder dependency also covers its data files, such as the demo vocabulary)."""
    folders = sorted(
        {parent for f in files for parent in f.parents if parent.parts}, key=lambda p: len(p.parts)
    )
    chosen: list[Path] = []
    for folder in folders:
        if (
            folder.parts[0] in PACKAGES
            and len(folder.parts) > 1
            and python_files(root, folder) <= files
            and not any(c in folder.parents for c in chosen)
        ):
            chosen.append(folder)
    rest = [f for f in files if not any(c in f.parents for c in chosen)]
    return sorted(chosen + rest)


def differences(root: Path) -> dict[str, tuple[list[str], list[str]]]:
    """Per stage whose listing is wrong: (code it runs that dvc.yaml misses, listed code it
    never runs)."""
    listed, needed = listed_code(root), code_deps(root)
    out = {}
    for name, files in needed.items():
        covered, extra = set(), []
        for dep in listed[name]:
            code = python_files(root, dep) if (root / dep).is_dir() else {dep}
            covered |= code
            if not code or not code <= files:
                extra.append(str(dep))
        missing = sorted(map(str, files - covered))
        if missing or extra:
            out[name] = (missing, extra)
    return out


@click.command()
@click.option("--root", default=".", type=click.Path(file_okay=False), show_default=True)
@click.option("--show", is_flag=True, help="Print every stage's code dependencies.")
def main(root, show):
    """Check that each dvc.yaml stage lists exactly the project code it runs."""
    root = Path(root)
    if show:
        for name, files in code_deps(root).items():
            click.echo(f"{name}:\n" + "".join(f"  - {f}\n" for f in compact(root, files)))
    wrong = differences(root)
    for name, (missing, extra) in wrong.items():
        for path in missing:
            click.echo(f"{name}: missing dep {path}")
        for path in extra:
            click.echo(f"{name}: needless dep {path}")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
