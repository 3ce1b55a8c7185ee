"""Tune a classical family on the train features, refit the best, bundle it with its vectorizer."""
from __future__ import annotations

import logging
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import scipy.sparse

from domain_classifier.families.classical import FAMILIES
from domain_classifier.model_store import SklearnTitleModel, save_model
from domain_classifier.params import load_section
from domain_classifier.data.tables import read_json, write_json, write_table
from domain_classifier.families.tuning import bayesian_search

log = logging.getLogger(__name__)


def load_features(features_dir: Path | str, split: str) -> tuple:
    """Sparse TF-IDF matrix and label ids of one split, as written by the tokenize stage."""
    features_dir = Path(features_dir)
    X = scipy.sparse.load_npz(features_dir / f"tfidf_{split}.npz").tocsr()
    y = np.load(features_dir / f"labels_{split}.npy")
    return X, y


def family_params(family: str, params_file: Path | str):
    """Parse and check the train_<family> params section."""
    if family in FAMILIES:
        params_cls, _ = FAMILIES[family]
    else:
        from domain_classifier.families.recurrent import RecurrentParams as params_cls
    return load_section(params_cls, f"train_{family}", params_file)


def train_family(family: str, params, features_dir: Path | str, params_file: Path | str):
    """Return (model, best hyperparameters, trial history) for any family."""
    if family in FAMILIES:
        return train_classical(family, params, features_dir)
    from domain_classifier.families.recurrent import train_recurrent

    # Recurrent models bundle the tokenize params, which they read from the same file.
    return train_recurrent(family, params, features_dir, params_file=params_file)


def train_classical(family: str, params, features_dir: Path | str):
    """Tune on sparse TF-IDF features by stratified K-fold CV, then refit on all of train."""
    _, build = FAMILIES[family]
    X, y = load_features(features_dir, "train")
    log.info("%s: tuning %d trials, %d-fold CV on %d rows x %d features", family,
             params.max_trials, params.cv_folds, X.shape[0], X.shape[1])
    best, history = bayesian_search(lambda values: build(values, params), params.space, X, y,
                                    params, name=family)
    log.info("%s: best %s (cv accuracy %.4f); refitting on all of train", family, best,
             history["accuracy"].max())
    classifier = build(best, params).fit(X, y)
    features_dir = Path(features_dir)
    model = SklearnTitleModel(family, joblib.load(features_dir / "vectorizer.joblib"), classifier,
                              read_json(features_dir / "labels.json"))
    return model, best, history


def save_training(model, best: dict, history, model_dir, metrics_file, trials_file) -> None:
    """Write the model (with its best hyperparameters), the CV metrics and the trial history."""
    save_model(model, model_dir, extra={"best_hyperparameters": best})
    write_json({"cv_accuracy": float(history["accuracy"].max()), "trials": int(len(history)),
                "best": best}, metrics_file)
    write_table(flat_history(history), trials_file)


def flat_history(history: pd.DataFrame) -> pd.DataFrame:
    """One column per hyperparameter (`hp_<name>`) instead of a dict column."""
    return history.drop(columns="hyperparameters").join(
        pd.json_normalize(history["hyperparameters"].tolist()).add_prefix("hp_"))
