"""The one ingestion point: read the raw catalogue, validate it, return (title, domain)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from domain_classifier.data.schema import DOMAIN, TITLE, blank_mask, check_text, row_list
from domain_classifier.data.tables import read_table
from domain_classifier.errors import InputError
from domain_classifier.params import require


@dataclasses.dataclass(frozen=True)
class DataParams:
    source: str
    text_column: str = TITLE
    label_column: str = DOMAIN
    drop_blank_titles: bool = False

    def check(self, where: str) -> None:
        require(bool(self.source.strip()), f"{where}.source", "must name a .csv or .parquet file")
        require(
            self.text_column != self.label_column,
            f"{where}.label_column",
            "must differ from data.text_column",
        )


def ingest(params: DataParams) -> pd.DataFrame:
    """Read and validate the source; return the canonical two-column table."""
    path = Path(params.source)
    raw = read_table(path, [params.text_column, params.label_column])
    check_text(raw[params.text_column], path, params.text_column)
    frame = pd.DataFrame(
        {
            TITLE: raw[params.text_column].astype("string"),
            DOMAIN: raw[params.label_column].astype("string"),
        }
    )
    frame = _handle_blank_titles(frame, path, params)
    _check_labels(frame, path, params.label_column)
    return frame.reset_index(drop=True)


def _handle_blank_titles(frame: pd.DataFrame, path: Path, params: DataParams) -> pd.DataFrame:
    blank = blank_mask(frame[TITLE])
    if not blank.any():
        return frame
    if not params.drop_blank_titles:
        raise InputError(
            f"{path}: column '{params.text_column}' has {int(blank.sum())} null or blank titles "
            f"(data rows {row_list(frame.index[blank])}); remove them or set "
            f"data.drop_blank_titles: true"
        )
    kept = frame[~blank]
    if kept.empty:
        raise InputError(f"{path}: column '{params.text_column}' has no non-blank titles")
    return kept


def _check_labels(frame: pd.DataFrame, path: Path, label_column: str) -> None:
    missing = blank_mask(frame[DOMAIN])
    if missing.any():
        raise InputError(
            f"{path}: column '{label_column}' has {int(missing.sum())} null or blank labels "
            f"(data rows {row_list(frame.index[missing])})"
        )
    domains = frame[DOMAIN].unique()
    if len(domains) < 2:
        raise InputError(
            f"{path}: column '{label_column}' has a single domain '{domains[0]}'; "
            f"a classifier needs at least two"
        )
