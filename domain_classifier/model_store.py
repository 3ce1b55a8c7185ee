"""One interface for every saved model: raw titles in, domain probabilities out."""
from __future__ import annotations

import importlib
import shutil
from pathlib import Path
from typing import Protocol, Sequence

import joblib
import numpy as np

from domain_classifier.errors import InputError
from domain_classifier.data.tables import read_json, write_json

META_FILE = "meta.json"


class TitleModel(Protocol):
    family: str
    labels: list[str]

    def predict_proba(self, titles: Sequence[str]) -> np.ndarray: ...


class SklearnTitleModel:
    """A fitted text vectorizer and a fitted scikit-learn-style classifier over label ids."""

    format = "joblib"

    def __init__(self, family: str, vectorizer, classifier, labels: list[str]):
        self.family, self.vectorizer, self.classifier = family, vectorizer, classifier
        self.labels = list(labels)

    def predict_proba(self, titles: Sequence[str]) -> np.ndarray:
        return self.classifier.predict_proba(self.vectorizer.transform(list(titles)))

    def save(self, directory: Path) -> None:
        joblib.dump(self, directory / "model.joblib")

    @classmethod
    def load(cls, directory: Path) -> "SklearnTitleModel":
        return joblib.load(directory / "model.joblib")


FORMATS = {SklearnTitleModel.format: SklearnTitleModel}
# Resolved on first load only: importing TensorFlow costs seconds that sklearn models need not pay.
LAZY_FORMATS = {"keras": "domain_classifier.families.recurrent:KerasTitleModel"}


def predict_labels(model: TitleModel, titles: Sequence[str]) -> np.ndarray:
    """Most probable domain for each title."""
    return np.asarray(model.labels)[model.predict_proba(titles).argmax(axis=1)]


def save_model(model, directory: Path | str, extra: dict | None = None) -> None:
    """Write the model and its meta.json into a fresh directory (replaced as a whole)."""
    directory = Path(directory)
    staging = directory.with_name(f".{directory.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        model.save(staging)
        write_json({"family": model.family, "format": model.format, "labels": model.labels,
                    **(extra or {})}, staging / META_FILE)
        shutil.rmtree(directory, ignore_errors=True)
        staging.rename(directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_model(directory: Path | str) -> TitleModel:
    """Load whatever family was saved in `directory`."""
    directory = Path(directory)
    meta = read_json(directory / META_FILE)
    loader = FORMATS.get(meta.get("format"))
    if loader is None and meta.get("format") in LAZY_FORMATS:
        module, name = LAZY_FORMATS[meta["format"]].split(":")
        loader = FORMATS[meta["format"]] = getattr(importlib.import_module(module), name)
    if loader is None:
        raise InputError(f"{directory / META_FILE}: unknown model format {meta.get('format')!r}")
    return loader.load(directory)


def copy_model(source: Path | str, target: Path | str) -> None:
    """Copy a saved model directory as a whole, replacing `target`."""
    target = Path(target)
    staging = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
