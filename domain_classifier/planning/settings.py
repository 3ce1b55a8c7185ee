"""Where a training stage's sample sizes, trials and folds come from: its params section,
and for each it leaves out, the plan stage's data/plan/<family>.json. Kept apart from the cost
model, so a refitted coefficient reruns the plan stage alone (and a family only if its
settings change)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from domain_classifier.data.tables import read_json
from domain_classifier.errors import InputError
from domain_classifier.params import parse_dataclass, read_params, require

DERIVED = ("max_trials", "num_initial_points", "cv_folds", "tune_rows", "max_train_rows")


def plan_file(directory, family: str) -> Path:
    return Path(directory) / f"{family}.json"


def load_planned(family, params_file, planned):
    """The family's params: its section in the params file, the plan's settings for the
    derived keys it leaves out (the plan file is read only if one is left out)."""
    raw = read_params(params_file)
    if family.section not in raw:
        raise InputError(f"{params_file}: missing params section '{family.section}'")
    section = raw[family.section]
    own = {field.name for field in dataclasses.fields(family.params)} & set(DERIVED)
    if isinstance(section, dict) and not own <= set(section):  # (a Keras family has no folds)
        section = {**read_json(planned), **section}
    return parse_dataclass(family.params, section, family.section)


@dataclasses.dataclass(frozen=True)
class BudgetParams:
    minutes: float = 5.0  # the whole `dvc repro`, every stage included
    # Cores each training stage uses; 0: every core it may use. Results do not depend on it.
    threads: int = 0

    def check(self, where: str) -> None:
        require(self.minutes > 0, f"{where}.minutes", f"must be > 0, got {self.minutes}")
        require(self.threads >= 0, f"{where}.threads", f"must be >= 0, got {self.threads}")


def load_threads(params_file) -> int:
    """`budget.threads` of the params file, 0 (every core) where it has no budget section."""
    section = read_params(params_file).get("budget", {})
    return parse_dataclass(BudgetParams, section, "budget").threads
