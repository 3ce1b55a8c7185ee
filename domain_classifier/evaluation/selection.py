"""Choose the champion by validation macro-F1; the test split is only reported.

The baseline (stage `baseline`) is a fixed reference, and also the last candidate: where no
family beats it on validation, it is the champion, so a run never ships a model below it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from domain_classifier.families import registry
from domain_classifier.models.ensemble import ENSEMBLE, save_ensemble
from domain_classifier.models.saved import read_meta
from domain_classifier.params import require

SELECTION_METRIC = "macro_f1"
# evaluate.json's row (and models/ folder) of the fixed baseline; no family may take this name.
REFERENCE = "baseline"


def choose_champion(results: dict[str, dict]) -> str:
    """`results` maps candidate -> {"val": {...}, "test": {...}}; a tie goes to the first
    listed, and the baseline goes last: it is chosen only when strictly best on validation."""
    order = [name for name in results if name != REFERENCE]
    order += [REFERENCE] if REFERENCE in results else []
    if not order:
        raise ValueError("no evaluated models to choose from")
    return max(order, key=lambda name: results[name]["val"][SELECTION_METRIC])


def champion_summary(family: str, results: dict[str, dict], calibration: dict) -> dict:
    """The champion's decisive numbers: the columns `dvc metrics show` prints beside
    `candidate_scores` (evaluate.json and calibration.json keep the rest)."""
    val, test = results[family]["val"], results[family]["test"]
    summary = {"family": family, "val_macro_f1": val["macro_f1"], "test_macro_f1": test["macro_f1"]}
    # Paired bootstrap over test titles (evaluate): the champion's macro-F1 minus the
    # baseline's; the baseline as champion is that difference's zero.
    if family == REFERENCE:
        summary["test_minus_baseline"] = 0.0
    elif "minus_baseline" in test:
        summary["test_minus_baseline"] = test["minus_baseline"]
    summary["test_ece"] = calibration["test"]["ece_after"]
    return summary


def candidate_scores(results: dict[str, dict]) -> dict[str, dict]:
    """candidate -> its val and test macro-F1: one small metrics file each, so that `dvc
    metrics show` prints one row per candidate in few columns."""
    return {
        name: {"val_macro_f1": r["val"]["macro_f1"], "test_macro_f1": r["test"]["macro_f1"]}
        for name, r in results.items()
    }


@dataclasses.dataclass(frozen=True)
class EvaluateParams:
    families: list[str] = dataclasses.field(default_factory=lambda: list(registry.names()))
    # An `ensemble` candidate: the families' probabilities averaged (models/ensemble.py).
    ensemble: bool = True
    # The families it averages; empty: every one in `families`.
    ensemble_members: list[str] = dataclasses.field(default_factory=list)
    # Bootstrap intervals of macro-F1 (and of each candidate minus the baseline) over titles.
    bootstrap_samples: int = 1000
    confidence_level: float = 0.95
    seed: int = 0

    def members(self) -> list[str]:
        """The ensemble's families, in order; none when there is no ensemble."""
        return list(self.ensemble_members or self.families) if self.ensemble else []

    def candidates(self) -> list[str]:
        """What select may choose: the families, the ensemble of two or more, the baseline."""
        return [*self.families, *([ENSEMBLE] if len(self.members()) > 1 else []), REFERENCE]

    def check(self, where: str) -> None:
        require(bool(self.families), f"{where}.families", "must list at least one family")
        require(self.bootstrap_samples >= 1, f"{where}.bootstrap_samples", "must be >= 1")
        require(
            0 < self.confidence_level < 1,
            f"{where}.confidence_level",
            f"must be between 0 and 1, got {self.confidence_level}",
        )
        require(self.seed >= 0, f"{where}.seed", f"must be >= 0, got {self.seed}")
        unknown = sorted(set(self.families) - set(registry.names()))
        require(
            not unknown,
            f"{where}.families",
            f"has unknown family {unknown} (known: {', '.join(registry.names())})",
        )
        require(
            len(set(self.families)) == len(self.families),
            f"{where}.families",
            "lists a family twice",
        )
        outside = [f for f in self.ensemble_members if f not in self.families]
        require(
            not outside,
            f"{where}.ensemble_members",
            f"has {outside}, not in {where}.families (only evaluated families can be averaged)",
        )
        require(
            not self.ensemble_members
            or len(set(self.ensemble_members)) == len(self.ensemble_members) > 1,
            f"{where}.ensemble_members",
            f"must name two or more different families, got {self.ensemble_members}",
        )


def champion_source(family: str, models_dir: Path, members: list[str], scratch: Path) -> Path:
    """The saved folder select copies into models/champion: the family's own, or for the
    ensemble one assembled in `scratch` from its members' folders."""
    if family != ENSEMBLE:
        return models_dir / family
    labels = read_meta(models_dir / members[0])["labels"]
    folder = scratch / ENSEMBLE
    folder.mkdir()
    save_ensemble({name: models_dir / name for name in members}, labels, folder)
    return folder
