import logging

import pandas as pd
import pytest

from domain_classifier.data.split import SplitParams, split_catalogue, split_counts
from domain_classifier.errors import InputError
from domain_classifier.features.text import dedup_key
from domain_classifier.params import parse_dataclass


def test_no_title_in_two_splits_and_duplicates_dropped(small_catalogue):
    noisy = pd.concat(
        [
            small_catalogue,
            small_catalogue.head(5).assign(title=lambda f: "  " + f.title.str.upper()),
            pd.DataFrame({"title": ["   ", None], "domain": ["MLB-BLENDERS"] * 2}),
        ]
    )
    splits, summary = split_catalogue(noisy, SplitParams(min_rows_per_domain=10))
    assert summary["duplicate_titles"] == 5 and summary["blank_titles"] == 2
    keys = {name: set(part["title"].map(dedup_key)) for name, part in splits.items()}
    assert not keys["train"] & keys["val"] and not keys["train"] & keys["test"]
    assert not keys["val"] & keys["test"]
    assert sum(len(p) for p in splits.values()) == len(small_catalogue)
    for part in splits.values():
        assert part["domain"].nunique() == 3


def test_split_is_deterministic_and_seeded(small_catalogue):
    a, _ = split_catalogue(small_catalogue, SplitParams(seed=1, min_rows_per_domain=10))
    b, _ = split_catalogue(small_catalogue, SplitParams(seed=1, min_rows_per_domain=10))
    c, _ = split_catalogue(small_catalogue, SplitParams(seed=2, min_rows_per_domain=10))
    assert a["test"].equals(b["test"])
    assert not a["test"].equals(c["test"])


def test_rare_domains_are_dropped_with_a_warning_naming_them(small_catalogue, caplog):
    rare = pd.DataFrame({"title": ["Perfume X", "Perfume Y"], "domain": ["MLB-PERFUMES"] * 2})
    with caplog.at_level(logging.WARNING):
        splits, summary = split_catalogue(
            pd.concat([small_catalogue, rare]), SplitParams(min_rows_per_domain=10)
        )
    assert summary["rare_domains_dropped"] == ["MLB-PERFUMES"]
    assert "MLB-PERFUMES" in caplog.text
    assert all("MLB-PERFUMES" not in set(p["domain"]) for p in splits.values())


def test_too_few_domains_after_dropping_is_an_error(small_catalogue):
    with pytest.raises(InputError, match="fewer than two domains"):
        split_catalogue(small_catalogue, SplitParams(min_rows_per_domain=31))


def test_fractions_and_minimum_rows_are_checked():
    with pytest.raises(InputError, match="split.val_fraction"):
        parse_dataclass(SplitParams, {"val_fraction": 0.7}, "split")
    with pytest.raises(InputError, match="split.min_rows_per_domain' must be >= 7"):
        parse_dataclass(SplitParams, {"min_rows_per_domain": 3}, "split")
    with pytest.raises(InputError, match=r"'split.seed' must be in 0..4294967295, got -1"):
        parse_dataclass(SplitParams, {"seed": -1}, "split")


def test_counts_per_split(small_catalogue):
    splits, _ = split_catalogue(small_catalogue, SplitParams(min_rows_per_domain=10))
    totals, per_domain = split_counts(splits)
    assert totals["train"]["rows"] == len(splits["train"]) and totals["val"]["domains"] == 3
    assert per_domain[["train", "val", "test"]].to_numpy().sum() == len(small_catalogue)
