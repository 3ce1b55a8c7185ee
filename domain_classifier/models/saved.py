"""The saved-model interface every family implements: raw titles in, domain probabilities
out; its meta.json, save and copy."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from domain_classifier.data.tables import atomic_dir, read_json, write_json

META_FILE = "meta.json"


class TitleModel(Protocol):
    family: str
    labels: list[str]
    format: str
    # Whether predict may score it in forked worker processes (absent: no).
    fork_safe: bool

    def predict_proba(self, titles: Sequence[str]) -> np.ndarray: ...

    def save(self, directory: Path) -> None: ...


def predict_labels(model: TitleModel, titles: Sequence[str]) -> np.ndarray:
    """Most probable domain for each title."""
    return np.asarray(model.labels)[model.predict_proba(titles).argmax(axis=1)]


def read_meta(directory: Path | str) -> dict:
    """meta.json of a saved model: family, format, labels, best hyperparameters."""
    return read_json(Path(directory) / META_FILE)


def save_model(model: TitleModel, directory: Path | str, extra: dict | None = None) -> None:
    """Write the model and its meta.json into a fresh directory (replaced as a whole)."""
    with atomic_dir(directory) as staging:
        model.save(staging)
        write_json(
            {
                "family": model.family,
                "format": model.format,
                "labels": model.labels,
                **(extra or {}),
            },
            staging / META_FILE,
        )


def copy_model(source: Path | str, target: Path | str) -> None:
    """Copy a saved model directory as a whole, replacing `target`."""
    with atomic_dir(target) as staging:
        shutil.copytree(source, staging, dirs_exist_ok=True)
