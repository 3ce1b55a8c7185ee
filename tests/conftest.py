"""Shared fixtures: paths to the real sample and small tables built in temporary folders."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from tests.support import data

# The end-to-end project fixtures live beside their helpers and are shared by every test file.
pytest_plugins = ["tests.support.project"]


@pytest.fixture(autouse=True)
def tracking_uri_stays_put():
    """mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI; no test may pass it to the next."""
    saved = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    if saved is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = saved


@pytest.fixture
def small_catalogue() -> pd.DataFrame:
    """Three clearly separable domains, 30 distinct titles each."""
    titles, domains = data.toy_catalogue()
    return pd.DataFrame({"title": titles, "domain": domains})


@pytest.fixture
def meli_frame() -> pd.DataFrame:
    return data.meli_frame()


@pytest.fixture(scope="session")
def saved_sgd_dir(tmp_path_factory) -> Path:
    """A small SGD title model saved as the pipeline saves one (three obvious domains)."""
    from domain_classifier.features.tokenize import TokenizeParams
    from domain_classifier.models.saved import save_model
    from tests.support.models import train_sgd_model

    rows = []
    for i in range(20):
        rows += [
            (f"Shampoo Anticaspa Marca{i} {100 + i}ml", "MLB-SHAMPOOS"),
            (f"Capinha Silicone iPhone {i} Pro", "MLB-CELLPHONE_COVERS"),
            (f"Liquidificador {i} Velocidades 220v", "MLB-BLENDERS"),
        ]
    frame = pd.DataFrame(rows, columns=["title", "domain"])
    directory = tmp_path_factory.mktemp("model") / "sgd"
    save_model(train_sgd_model(frame, TokenizeParams(min_df=1)), directory)
    return directory


@pytest.fixture(scope="session")
def calibrated_sgd_dir(saved_sgd_dir, tmp_path_factory) -> Path:
    """saved_sgd_dir as select saves a champion: its calibration fitted on held-out titles
    (some of them ambiguous, so the coverage curve has a threshold inside (0, 1))."""
    from domain_classifier.evaluation.calibration import calibrate
    from domain_classifier.models.calibrated import save_calibrated
    from domain_classifier.models.loading import load_model

    held_out = pd.DataFrame(
        [
            ("Shampoo Anticaspa Nova 250ml", "MLB-SHAMPOOS"),
            ("Capinha iPhone 99 Pro", "MLB-CELLPHONE_COVERS"),
            ("Liquidificador 3 Velocidades", "MLB-BLENDERS"),
            ("Shampoo para Liquidificador", "MLB-BLENDERS"),
            ("Capinha Shampoo", "MLB-SHAMPOOS"),
            ("Marca7 Pro 220v", "MLB-CELLPHONE_COVERS"),
        ],
        columns=["title", "domain"],
    )
    calibrated, _, _ = calibrate(load_model(saved_sgd_dir), {"val": held_out, "test": held_out})
    directory = tmp_path_factory.mktemp("model") / "champion"
    save_calibrated(saved_sgd_dir, directory, calibrated)
    return directory
