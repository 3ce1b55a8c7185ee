"""Quality of a saved model on a labelled split: summary metrics, per-domain report, confusion."""

from __future__ import annotations

import pandas as pd
from sklearn.metrics import accuracy_score, classification_report, precision_recall_fscore_support

from domain_classifier.data.schema import DOMAIN, TITLE
from domain_classifier.models.saved import TitleModel, predict_labels


def summary_metrics(actual, predicted) -> dict:
    """Accuracy and macro/weighted precision, recall and F1."""
    out = {"accuracy": float(accuracy_score(actual, predicted)), "rows": int(len(actual))}
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(
            actual, predicted, average=average, zero_division=0
        )
        out.update(
            {
                f"{average}_precision": float(p),
                f"{average}_recall": float(r),
                f"{average}_f1": float(f),
            }
        )
    return out


def per_domain_report(actual, predicted, split: str) -> pd.DataFrame:
    """One row per true domain: precision, recall, F1 and support."""
    report = classification_report(actual, predicted, output_dict=True, zero_division=0)
    domains = sorted(set(actual))
    return pd.DataFrame(
        [
            {
                "domain": d,
                "split": split,
                "precision": report[d]["precision"],
                "recall": report[d]["recall"],
                "f1": report[d]["f1-score"],
                "support": int(report[d]["support"]),
            }
            for d in domains
        ]
    )


def evaluate_split(model: TitleModel, frame: pd.DataFrame, split: str):
    """Return (summary metrics, per-domain report, confusion rows) for one split."""
    predicted = predict_labels(model, frame[TITLE].tolist())
    actual = frame[DOMAIN].to_numpy()
    confusion = pd.DataFrame({"actual": actual, "predicted": predicted})
    return (
        summary_metrics(actual, predicted),
        per_domain_report(actual, predicted, split),
        confusion,
    )
