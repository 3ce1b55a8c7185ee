"""Deduplicate the canonical table and split it into stratified train/validation/test."""

from __future__ import annotations

import dataclasses
import logging
import math

import pandas as pd
from sklearn.model_selection import train_test_split

from domain_classifier.data.schema import DOMAIN, TITLE, blank_mask
from domain_classifier.errors import InputError
from domain_classifier.features.text import dedup_key
from domain_classifier.params import MAX_SEED, require

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class SplitParams:
    seed: int = 2024
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    min_rows_per_domain: int = 20

    def check(self, where: str) -> None:
        require(
            0 <= self.seed <= MAX_SEED,
            f"{where}.seed",
            f"must be in 0..{MAX_SEED}, got {self.seed}",
        )
        for name in ("val_fraction", "test_fraction"):
            value = getattr(self, name)
            require(0 < value < 0.5, f"{where}.{name}", f"must be in (0, 0.5), got {value}")
        # Stratifying the held-out part again needs two rows per domain in it.
        needed = math.ceil(2 / (self.val_fraction + self.test_fraction))
        require(
            self.min_rows_per_domain >= needed,
            f"{where}.min_rows_per_domain",
            f"must be >= {needed} for these split fractions, got {self.min_rows_per_domain}",
        )


def deduplicate(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Drop blank titles and repeated titles (case/spacing-insensitive), keeping the first."""
    blank = blank_mask(frame[TITLE])
    kept = frame[~blank]
    keys = kept[TITLE].map(dedup_key)
    duplicated = keys.duplicated(keep="first")
    return kept[~duplicated], {
        "blank_titles": int(blank.sum()),
        "duplicate_titles": int(duplicated.sum()),
    }


def drop_rare_domains(frame: pd.DataFrame, min_rows: int) -> tuple[pd.DataFrame, list[str]]:
    """Remove domains with fewer than `min_rows` rows; they cannot be stratified."""
    counts = frame[DOMAIN].value_counts()
    rare = sorted(counts[counts < min_rows].index)
    if rare:
        log.warning(
            "dropping %d domains with fewer than %d rows (split.min_rows_per_domain): %s",
            len(rare),
            min_rows,
            ", ".join(rare),
        )
    return frame[~frame[DOMAIN].isin(rare)], rare


def split_catalogue(frame: pd.DataFrame, params: SplitParams) -> tuple[dict, dict]:
    """Return ({split: table}, summary) with every domain in every split."""
    unique, summary = deduplicate(frame)
    kept, rare = drop_rare_domains(unique, params.min_rows_per_domain)
    if kept[DOMAIN].nunique() < 2:
        raise InputError(
            f"fewer than two domains have split.min_rows_per_domain="
            f"{params.min_rows_per_domain} rows after deduplication; nothing to classify"
        )
    held_out = params.val_fraction + params.test_fraction
    train, rest = train_test_split(
        kept, test_size=held_out, stratify=kept[DOMAIN], random_state=params.seed
    )
    val, test = train_test_split(
        rest,
        test_size=params.test_fraction / held_out,
        stratify=rest[DOMAIN],
        random_state=params.seed,
    )
    splits = {
        name: part.reset_index(drop=True)[[TITLE, DOMAIN]]
        for name, part in zip(SPLITS, (train, val, test))
    }
    summary["rare_domains_dropped"] = rare
    return splits, summary


def split_counts(splits: dict) -> tuple[dict, pd.DataFrame]:
    """Rows and domains per split, and a per-domain count table."""
    totals = {
        name: {"rows": len(part), "domains": int(part[DOMAIN].nunique())}
        for name, part in splits.items()
    }
    per_domain = (
        pd.DataFrame({name: part[DOMAIN].value_counts() for name, part in splits.items()})
        .fillna(0)
        .astype(int)
    )
    per_domain.index.name = DOMAIN
    return totals, per_domain.sort_index().reset_index()
