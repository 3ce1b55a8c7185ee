"""Score every candidate (the families, the ensemble, the baseline) on validation and test."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from domain_classifier.data.schema import DOMAIN
from domain_classifier.data.tables import write_table
from domain_classifier.evaluation.bootstrap import interval_report
from domain_classifier.evaluation.metrics import evaluate_split
from domain_classifier.evaluation.selection import REFERENCE, EvaluateParams
from domain_classifier.models.ensemble import ENSEMBLE, EnsembleModel
from domain_classifier.models.loading import load_model


def evaluate_candidates(
    params: EvaluateParams, splits: dict[str, pd.DataFrame], models_dir: Path, plots_dir: Path
) -> dict[str, dict]:
    """candidate -> split -> summary metrics, with bootstrap intervals of macro-F1 and of
    each candidate minus the baseline; per-domain and confusion tables go under `plots_dir`."""
    results, models = {}, {}
    predicted = {split: {} for split in splits}
    for name in params.candidates():
        if name == ENSEMBLE:
            model = EnsembleModel([models[family] for family in params.members()])
        else:
            model = models[name] = load_model(models_dir / name)
        results[name] = {}
        for split, frame in splits.items():
            summary, per_domain, confusion = evaluate_split(model, frame, split)
            results[name][split] = summary
            predicted[split][name] = confusion["predicted"].to_numpy()
            # One file per split: bars of two splits in one file would stack to F1 near 2.
            write_table(per_domain, plots_dir / "per_domain" / f"{name}_{split}.csv")
            write_table(confusion, plots_dir / "confusion" / f"{name}_{split}.csv")
    for split, frame in splits.items():
        intervals = interval_report(
            frame[DOMAIN].to_numpy(),
            predicted[split],
            REFERENCE,
            params.bootstrap_samples,
            params.confidence_level,
            params.seed,
        )
        for name, values in intervals.items():
            results[name][split].update(values)
    return results
