"""Is this model folder one the pipeline made? Its DVC hash against what `dvc.lock` records.

A model file is code-adjacent: skops builds only trusted types, but a crafted file can still
hold out-of-range tree indices (a crash) or simply wrong weights. So predict loads a folder
only if its hash is one `dvc.lock` records for a `models/` output, unless the user trusts it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from domain_classifier.errors import InputError

MODELS_PREFIX = "models/"
LOCK_FILE = "dvc.lock"


def directory_md5(directory: Path | str) -> str:
    """DVC's own hash of a directory (`<md5>.dir`, as in dvc.lock); nothing is cached."""
    from dvc_data.hashfile.build import build
    from dvc_data.hashfile.db import HashFileDB
    from dvc_objects.fs import LocalFileSystem, MemoryFileSystem

    fs = LocalFileSystem()
    staging = HashFileDB(MemoryFileSystem(), "/staging")  # in memory, dropped on return
    _, _, tree = build(staging, fs.abspath(str(directory)), fs, "md5", dry_run=True)
    return tree.hash_info.value


def locked_model_hashes(lock_file: Path | str) -> dict[str, str]:
    """{path: md5} of every `models/...` output dvc.lock records."""
    # The C loader: dvc.lock runs to thousands of lines, which the pure-Python one reads in seconds.
    lock = yaml.load(Path(lock_file).read_text(), Loader=yaml.CSafeLoader) or {}
    return {
        out["path"]: out["md5"]
        for stage in (lock.get("stages") or {}).values()
        for out in stage.get("outs") or []
        if str(out.get("path", "")).startswith(MODELS_PREFIX) and out.get("md5")
    }


def refuse_untrusted(what: str, reason: str) -> None:
    raise InputError(
        f"{what}: {reason}; refusing to load a model the pipeline did not record (a model "
        "file from elsewhere may crash or mislead predict); pass --trust if you trust it"
    )


def check_model_dir(directory: Path | str, lock_file: Path | str) -> None:
    """Refuse a model folder whose hash is not one dvc.lock records for a model."""
    if not Path(directory).is_dir():
        raise InputError(f"{directory}: no such model directory")
    if not Path(lock_file).is_file():
        refuse_untrusted(str(directory), f"no {lock_file} to check its hash against")
    md5 = directory_md5(directory)
    if md5 not in locked_model_hashes(lock_file).values():
        refuse_untrusted(str(directory), f"its hash {md5} is not one {lock_file} records")
