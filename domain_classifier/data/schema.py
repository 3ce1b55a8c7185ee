"""The canonical catalogue table every stage after ingest reads: one title, one domain a row."""

from __future__ import annotations

import pandas as pd

TITLE, DOMAIN = "title", "domain"
COLUMNS = [TITLE, DOMAIN]


def blank_mask(titles: pd.Series) -> pd.Series:
    """True where a title is null or only whitespace."""
    return titles.isna() | (titles.fillna("").str.strip() == "")


def row_list(index, limit: int = 5) -> str:
    """1-based data row numbers for an error message, the first `limit` of them."""
    rows = [str(i + 1) for i in list(index)[:limit]]
    more = f" and {len(index) - limit} more" if len(index) > limit else ""
    return ", ".join(rows) + more
