"""Where the real catalogues are: read in place by their path relative to the project."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MELI_SAMPLE = (ROOT / "../shared/data/meli-beauty-mlb/items.csv").resolve()
MELI_COLUMNS = {"text_column": "ITE_ITEM_TITLE", "label_column": "ITE_ITEM_DOM_DOMAIN_ID"}

MELI_MISSING = f"{MELI_SAMPLE} not present"
needs_meli = pytest.mark.skipif(not MELI_SAMPLE.is_file(), reason=MELI_MISSING)


def meli_frame():
    """The real sample as (title, domain), or the calling test skipped when it is absent."""
    import pandas as pd

    if not MELI_SAMPLE.is_file():
        pytest.skip(MELI_MISSING)
    raw = pd.read_csv(MELI_SAMPLE)
    return pd.DataFrame(
        {"title": raw[MELI_COLUMNS["text_column"]], "domain": raw[MELI_COLUMNS["label_column"]]}
    )


def toy_catalogue() -> tuple[list[str], list[str]]:
    """Three clearly separable domains, 30 distinct titles each: (titles, domains)."""
    rows = []
    for i in range(30):
        rows += [
            (f"Shampoo Anticaspa Marca{i} {100 + i}ml", "MLB-SHAMPOOS"),
            (f"Capinha Silicone iPhone {i} Pro", "MLB-CELLPHONE_COVERS"),
            (f"Liquidificador {i} Velocidades 220v Preto", "MLB-BLENDERS"),
        ]
    return [t for t, _ in rows], [d for _, d in rows]


def write_params(folder: Path, **sections) -> str:
    """A params file in `folder` holding only `sections` (a stage reads only its own)."""
    import yaml

    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(sections))
    return str(path)
