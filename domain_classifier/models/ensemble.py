"""The `ensemble` model: the families' probabilities averaged with equal weights, saved as
its members' folders.

Equal weights on purpose: weights fitted on validation would make the validation score that
chooses the champion optimistic for the ensemble alone, and fitting them on out-of-fold train
predictions would mean training every family K more times.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from domain_classifier.data.tables import write_json
from domain_classifier.models.saved import META_FILE

ENSEMBLE = "ensemble"
MEMBERS_DIR = "members"


class EnsembleModel:
    """A TitleModel whose probabilities are the mean of its members' (same label order)."""

    format = "ensemble"

    def __init__(self, members: list):
        labels = members[0].labels
        if any(m.labels != labels for m in members):
            raise ValueError("ensemble members must share one label order")
        self.members, self.family, self.labels = list(members), ENSEMBLE, list(labels)
        self.fork_safe = all(getattr(m, "fork_safe", False) for m in self.members)

    def predict_proba(self, titles) -> np.ndarray:
        titles = list(titles)
        # A running sum, in member order as np.mean's: one member's probabilities beside it
        # at a time, not all stacked (at 1,000 domains each is 1.1 GB per 141k titles).
        total = np.array(self.members[0].predict_proba(titles), dtype=np.float64)
        for member in self.members[1:]:
            total += member.predict_proba(titles)
        total /= len(self.members)
        return total

    def save(self, directory: Path) -> None:
        raise NotImplementedError("an ensemble is saved from its members' folders: save_ensemble")


def save_ensemble(member_dirs: dict[str, Path], labels: list[str], staging: Path) -> None:
    """Write an ensemble folder into `staging`: each member's saved folder under members/."""
    for name, source in member_dirs.items():
        shutil.copytree(source, staging / MEMBERS_DIR / name)
    write_json(
        {
            "family": ENSEMBLE,
            "format": EnsembleModel.format,
            "labels": labels,
            "members": list(member_dirs),
        },
        staging / META_FILE,
    )


def member_dirs(directory: Path | str, meta: dict) -> list[Path]:
    return [Path(directory) / MEMBERS_DIR / name for name in meta["members"]]
