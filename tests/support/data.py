"""Where the real catalogues are: read in place by their path relative to the project."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MELI_SAMPLE = (ROOT / "../shared/data/meli-beauty-mlb/items.csv").resolve()
MELI_COLUMNS = {"text_column": "ITE_ITEM_TITLE", "label_column": "ITE_ITEM_DOM_DOMAIN_ID"}

needs_meli = pytest.mark.skipif(not MELI_SAMPLE.is_file(), reason=f"{MELI_SAMPLE} not present")
