"""Params of the monitor stage: drift thresholds and sample sizes, and the reference's paths."""

from __future__ import annotations

import dataclasses
import math

from domain_classifier.params import require


@dataclasses.dataclass(frozen=True)
class MonitorParams:
    label_column: str = "domain"
    chunk_rows: int = 100000
    seed: int = 0
    sample_size: int = 5000
    classifier_folds: int = 3
    p_value: float = 0.01
    confidence_level: float = 0.95
    bootstrap_samples: int = 1000
    max_length_psi: float = 0.2
    max_unseen_token_increase: float = 0.05
    max_ngram_js: float = 0.12
    permutations: int = 199
    max_classifier_auc: float = 0.6
    max_domain_psi: float = 0.2
    max_domain_js: float = 0.1
    low_confidence: float = 0.5
    max_low_confidence_increase: float = 0.05
    max_unseen_label_share: float = 0.01
    min_accuracy_drop: float = 0.03
    min_domain_f1_drop: float = 0.1
    min_domain_support: int = 30
    min_estimated_drop: float = 0.03
    estimate_rows: int = 20000

    def check(self, where: str) -> None:
        require(bool(self.label_column.strip()), f"{where}.label_column", "must name a column")
        for name in ("chunk_rows", "min_domain_support"):
            require(getattr(self, name) >= 1, f"{where}.{name}", "must be >= 1")
        for name in ("sample_size", "estimate_rows"):
            require(getattr(self, name) >= 100, f"{where}.{name}", "must be >= 100")
        require(self.classifier_folds >= 2, f"{where}.classifier_folds", "must be >= 2")
        require(self.bootstrap_samples >= 100, f"{where}.bootstrap_samples", "must be >= 100")
        # Fewer permutations could never give a p-value below the one asked for.
        needed = math.ceil(1 / self.p_value) if 0 < self.p_value < 1 else 1
        require(
            self.permutations >= needed,
            f"{where}.permutations",
            f"must be >= 1 / p_value = {needed}, got {self.permutations}",
        )
        for name in ("p_value", "confidence_level", "low_confidence"):
            value = getattr(self, name)
            require(0 < value < 1, f"{where}.{name}", f"must be in (0, 1), got {value}")
        require(
            0.5 <= self.max_classifier_auc < 1,
            f"{where}.max_classifier_auc",
            f"must be in [0.5, 1), got {self.max_classifier_auc}",
        )
        for field in dataclasses.fields(self):
            if field.name.startswith(("max_", "min_")):
                value = getattr(self, field.name)
                require(value >= 0, f"{where}.{field.name}", f"must be >= 0, got {value}")


@dataclasses.dataclass(frozen=True)
class ReferencePaths:
    split_dir: str = "data/split"
    vocabulary: str = "data/features/sequences/vocabulary.json"
    champion_metrics: str = "metrics/champion.json"
