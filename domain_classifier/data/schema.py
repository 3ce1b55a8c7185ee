"""The canonical catalogue table every stage after ingest reads: one title, one domain a row."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from domain_classifier.errors import InputError

TITLE, DOMAIN = "title", "domain"
COLUMNS = [TITLE, DOMAIN]


# A letter or a digit: what str.isalnum() accepts (Unicode's L and N categories).
LETTER_OR_DIGIT = r"[^\W_]"
LETTER_OR_DIGIT_RE = re.compile(LETTER_OR_DIGIT)


def blank_mask(titles: pd.Series) -> pd.Series:
    """True where a title is null or holds no letter or digit, even after NFKC normalisation
    (which turns e.g. '㎏' into 'kg'): spaces, punctuation, zero-width, format and control
    characters alone carry nothing to classify."""
    text = titles.astype(object).where(titles.notna(), "")
    has = text.str.contains(LETTER_OR_DIGIT, regex=True).fillna(False).to_numpy(dtype=bool).copy()
    # Only what has no letter as written is normalised: NFKC over every title costs a pass.
    for position in np.flatnonzero(~has):
        value = text.iat[position]
        if isinstance(value, str) and value:
            has[position] = bool(LETTER_OR_DIGIT_RE.search(unicodedata.normalize("NFKC", value)))
    return pd.Series(~has, index=titles.index)


def row_list(index, limit: int = 5) -> str:
    """1-based data row numbers for an error message, the first `limit` of them."""
    rows = [str(i + 1) for i in list(index)[:limit]]
    more = f" and {len(index) - limit} more" if len(index) > limit else ""
    return ", ".join(rows) + more


# pandas' names for a column of strings (a categorical one is judged by its categories).
TEXT_KINDS = ("string", "empty")


def check_text(titles: pd.Series, path, column: str) -> None:
    """Titles must be text: a numeric or binary column is a wrong column, not titles."""
    if isinstance(titles.dtype, pd.CategoricalDtype):
        titles = titles.cat.categories.to_series()
    elif isinstance(titles.dtype, pd.ArrowDtype):  # e.g. a dictionary column: judge its values
        titles = titles.astype(object)
    kind = pd.api.types.infer_dtype(titles, skipna=True)
    if kind not in TEXT_KINDS:
        raise InputError(
            f"{path}: column '{column}' holds {kind} values, not text; titles must be strings"
        )
