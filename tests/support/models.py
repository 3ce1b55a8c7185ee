"""The one way tests train a small title model: TF-IDF + SGD on a (title, domain) table."""

from __future__ import annotations

import pandas as pd

from domain_classifier.families.classical import SklearnTitleModel
from domain_classifier.families.sgd import SgdParams, build_sgd
from domain_classifier.features.tokenize import TokenizeParams, make_vectorizer


def train_sgd_model(
    frame: pd.DataFrame, tokenize: TokenizeParams | None = None, seed: int = 1
) -> SklearnTitleModel:
    """A log-loss SGD model fitted on all of `frame`, as the pipeline would bundle it."""
    labels = sorted(frame["domain"].unique())
    vectorizer = make_vectorizer(tokenize or TokenizeParams()).fit(frame["title"])
    y = frame["domain"].map({d: i for i, d in enumerate(labels)}).to_numpy()
    classifier = build_sgd({"loss": "log_loss", "alpha": 1e-4}, SgdParams(seed=seed)).fit(
        vectorizer.transform(frame["title"]), y
    )
    return SklearnTitleModel("sgd", vectorizer, classifier, labels)
