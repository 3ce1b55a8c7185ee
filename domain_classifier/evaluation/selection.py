"""Choose the champion by validation macro-F1; the test split is only reported."""

from __future__ import annotations

import dataclasses

from domain_classifier.evaluation.ensemble import ENSEMBLE
from domain_classifier.families import registry
from domain_classifier.params import require

SELECTION_METRIC = "macro_f1"
# evaluate.json's row for the fixed baseline (stage `baseline`): shown beside the families,
# never chosen; no family may take this name.
REFERENCE = "baseline"


def choose_champion(results: dict[str, dict]) -> str:
    """`results` maps family -> {"val": {...}, "test": {...}}; a tie goes to the first listed.
    The baseline's reference row is never a candidate."""
    results = {name: r for name, r in results.items() if name != REFERENCE}
    if not results:
        raise ValueError("no evaluated models to choose from")
    return max(results, key=lambda family: results[family]["val"][SELECTION_METRIC])


def champion_summary(family: str, results: dict[str, dict]) -> dict:
    val, test = results[family]["val"], results[family]["test"]
    return {
        "family": family,
        "val_macro_f1": val["macro_f1"],
        "val_accuracy": val["accuracy"],
        "test_macro_f1": test["macro_f1"],
        "test_accuracy": test["accuracy"],
        "test_weighted_f1": test["weighted_f1"],
    }


@dataclasses.dataclass(frozen=True)
class EvaluateParams:
    families: list[str] = dataclasses.field(default_factory=lambda: list(registry.names()))
    # An `ensemble` candidate: the families' probabilities averaged (evaluation/ensemble.py).
    ensemble: bool = True
    # The families it averages; empty: every one in `families`.
    ensemble_members: list[str] = dataclasses.field(default_factory=list)

    def members(self) -> list[str]:
        """The ensemble's families, in order; none when there is no ensemble."""
        return list(self.ensemble_members or self.families) if self.ensemble else []

    def candidates(self) -> list[str]:
        """What select may choose: the families, and the ensemble of two or more."""
        return [*self.families, *([ENSEMBLE] if len(self.members()) > 1 else [])]

    def check(self, where: str) -> None:
        require(bool(self.families), f"{where}.families", "must list at least one family")
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
