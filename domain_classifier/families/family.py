"""What a model family declares once; the registry, the stages and the tests read it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Feature outputs of the tokenize stage (folders under data/features) a family can read.
FEATURE_SETS = ("labels", "tfidf_word", "tfidf_char", "sequences")


@dataclasses.dataclass(frozen=True)
class Family:
    """A model family: the stage `train_<name>` tunes and fits it from `params.yaml`'s
    `train_<name>` section (parsed into `params`), reading only the `features` it lists.

    `train(params, features_dir, name)` returns (model, best hyperparameters, trial history);
    `model` is the class saved models of this family load with (`model.load(directory, meta)`,
    `meta` being the folder's meta.json: family, format, labels).
    A family that makes its own features from the titles (`reads_titles`) is also given
    `split_dir=`, the folder of the train split.
    """

    name: str
    params: type
    train: Callable[[Any, Path, str], tuple]
    model: type
    features: tuple[str, ...]
    # What the tuning score measures, as metrics name it: CV on train, or a held-out part.
    tuning_score: str = "cv_accuracy"
    reads_titles: bool = False

    def __post_init__(self):
        unknown = set(self.features) - set(FEATURE_SETS)
        if unknown:
            raise ValueError(f"family {self.name}: unknown feature sets {sorted(unknown)}")

    @property
    def section(self) -> str:
        return f"train_{self.name}"
