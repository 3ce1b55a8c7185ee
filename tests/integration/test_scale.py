"""Scale mechanisms of the TF-IDF families on 5,000 rows x 200 domains: the search on a
`tune_rows` sample, the refit capped at `max_train_rows`, the memory budget refused up front."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import SGDClassifier

from domain_classifier.data.tables import write_table
from domain_classifier.errors import InputError
from domain_classifier.families import classical, registry
from domain_classifier.families.hgb import HgbParams
from domain_classifier.families.sgd import SgdParams, build_sgd
from domain_classifier.families.xgb import XgbParams
from domain_classifier.features import files
from domain_classifier.features.tokenize import TFIDF_BLOCKS, TokenizeParams, make_vectorizer
from tests.support.data import ROOT

ROWS, DOMAINS = 5000, 200
SMALL_SGD = {
    "max_trials": 1,
    "num_initial_points": 1,
    "cv_folds": 2,
    "space": {"alpha": [1e-4], "loss": ["log_loss"]},
}


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    """What tokenize writes for the TF-IDF families: each domain has two words of its own."""
    rng = np.random.default_rng(0)
    y = np.sort(np.concatenate([np.arange(DOMAINS), rng.integers(0, DOMAINS, ROWS - DOMAINS)]))
    noise = [f"n{i}" for i in range(50)]
    titles = [f"k{d}a {rng.choice(noise)} k{d}b {rng.choice(noise)}" for d in y]
    vectorizer = make_vectorizer(TokenizeParams(min_df=1, char_max_features=2000)).fit(titles)
    directory = tmp_path_factory.mktemp("features")
    labels = [f"D{d:03d}" for d in range(DOMAINS)]
    (directory / files.LABELS).mkdir()
    files.write_labels(directory / files.LABELS, labels, {"train": y})
    for block in TFIDF_BLOCKS:
        part, folder = vectorizer.only(block), directory / files.tfidf_set(block)
        folder.mkdir()
        files.write_tfidf(folder, part, {"train": part.transform(titles)})
    return directory, titles, y


class RecordingSGD(SGDClassifier):
    """SGDClassifier noting how many rows each fit sees (clones in CV folds share the list)."""

    fitted_rows: list[int] = []

    def fit(self, X, y, **kwargs):
        RecordingSGD.fitted_rows.append(X.shape[0])
        return super().fit(X, y, **kwargs)


def recording_build(fitted_rows: list[int]):
    """build_sgd's estimator, recording into `fitted_rows`."""
    RecordingSGD.fitted_rows = fitted_rows

    def build(values, params):
        return RecordingSGD(**build_sgd(values, params).get_params())

    return build


def test_search_sees_the_sample_and_the_refit_its_cap(features):
    directory, titles, y = features
    fitted_rows: list[int] = []
    params = SgdParams(**SMALL_SGD, tune_rows=1000, max_train_rows=2500)
    model, _, _ = classical.train_classical(recording_build(fitted_rows), params, directory, "sgd")
    # Two CV folds of the 1,000-row sample (every domain keeps cv_folds rows, so a few more),
    # then one refit on the 2,500-row cap.
    *folds, refit = fitted_rows
    assert len(folds) == 2 and all(480 <= rows <= 560 for rows in folds), folds
    assert 2500 <= refit <= 2500 + DOMAINS
    # Every domain is in the capped refit, so the probability columns are the label list.
    assert model.predict_proba(titles[:5]).shape == (5, DOMAINS)
    assert (model.predict_proba(titles).argmax(axis=1) == y).mean() > 0.9


def test_zero_means_all_of_train(features):
    directory, _, _ = features
    fitted_rows: list[int] = []
    classical.train_classical(
        recording_build(fitted_rows), SgdParams(**SMALL_SGD), directory, "sgd"
    )
    assert fitted_rows[-1] == ROWS and sum(fitted_rows[:-1]) == ROWS


def test_softmax_solver_trains_the_family_on_many_domains(features):
    """The sgd family's one model for all domains, through the stage's trainer and tuner."""
    from domain_classifier.families.sgd import FAMILY

    directory, titles, y = features
    space = {"alpha": [1e-7], "learning_rate": [0.5], "epochs": [5], "batch_size": [256]}
    params = SgdParams(**{**SMALL_SGD, "space": space}, solver="softmax", tune_rows=2000)
    model, best, history = FAMILY.train(params, directory, "sgd")
    assert best == {k: v[0] for k, v in space.items()} and len(history) == 1
    assert model.classifier.coef_.shape == (model.vectorizer.n_features(), DOMAINS)
    assert (model.predict_proba(titles).argmax(axis=1) == y).mean() > 0.9


def test_over_budget_refit_is_refused_before_any_trial(features, monkeypatch):
    directory, _, _ = features
    monkeypatch.setattr(classical, "bayesian_search", pytest.fail)
    from domain_classifier.families.hgb import FAMILY, hgb_memory

    X = files.read_tfidf(directory, TFIDF_BLOCKS, "train")
    fixed, per_row = hgb_memory(HgbParams(), X, DOMAINS)
    # A budget between what the 1,000-row search and the 5,000-row refit need.
    budget = (fixed + per_row * 3000) / 2**30
    # Without early stopping: its own check would refuse 500-row fits of 200 domains first.
    params = HgbParams(tune_rows=1000, max_memory_gib=budget, early_stopping=False)
    with pytest.raises(InputError, match=r"'train_hgb.max_train_rows' lets the fit use 5,000 rows"):
        FAMILY.train(params, directory, "hgb")


TINY_HGB = {
    "max_trials": 1,
    "num_initial_points": 1,
    "cv_folds": 2,
    "n_components": 20,
    "space": {"max_iter": [2], "max_leaf_nodes": [4], "n_iter_no_change": [1]},
}


@pytest.mark.parametrize(
    "params, knob",
    [
        # 2-fold CV on about 1,000 rows: fits of 500, whose 10% cannot hold 200 domains.
        (HgbParams(**TINY_HGB, tune_rows=1000), "train_hgb.tune_rows' gives fits of 5.. rows"),
        (
            HgbParams(**TINY_HGB, max_train_rows=1500),
            "train_hgb.max_train_rows' gives fits of 1,500 rows",
        ),
        (XgbParams(validation_fraction=0.05), "train_xgb.tune_rows' gives fits of 3,333 rows"),
    ],
)
def test_early_stopping_without_a_row_per_domain_is_refused_before_any_trial(
    features, monkeypatch, params, knob
):
    directory, _, _ = features
    monkeypatch.setattr(classical, "bayesian_search", pytest.fail)
    family = params.__class__.__name__[:3].lower()
    with pytest.raises(InputError, match=knob + r".*200 domains need (2,000|4,000)"):
        registry.get(family).train(params, directory, family)


def test_early_stopping_trains_at_the_smallest_fits_the_check_allows(features):
    """200 domains, 10% held out: fits of 2,000 rows pass the check, and scikit-learn's
    stratified split then finds two rows of every domain in each (the sample keeps four)."""
    directory, titles, y = features
    params = HgbParams(**TINY_HGB, tune_rows=4000, max_train_rows=2000)
    tune = classical.sample_rows(y, params.tune_rows, params)
    assert np.bincount(y[tune], minlength=DOMAINS).min() >= 4
    model, _, history = registry.get("hgb").train(params, directory, "hgb")
    assert history["accuracy"].notna().all()
    assert model.predict_proba(titles[:3]).shape == (3, DOMAINS)
    # 5,000 titles are scored in chunks of classical.PREDICT_ROWS: the same as in one go.
    whole = model.classifier.predict_proba(model.vectorizer.transform(titles))
    np.testing.assert_array_equal(model.predict_proba(titles), whole)
    with pytest.raises(InputError, match="tune_rows' gives fits of 1,998 rows"):
        registry.get("hgb").train(dataclasses.replace(params, tune_rows=3996), directory, "hgb")


def test_the_stage_refuses_in_one_line_and_writes_nothing(features, tmp_path):
    directory, _, _ = features
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    # Every setting the plan stage would derive is written, so no plan file is needed.
    params["train_sgd"].update(max_memory_gib=0.001, **SMALL_SGD, tune_rows=0, max_train_rows=0)
    params["mlflow"]["tracking_uri"] = (tmp_path / "mlruns").as_uri()
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    done = subprocess.run(
        [sys.executable, "-m", "stages.train_sgd", "--features", str(directory)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("Error: param 'train_sgd.max_memory_gib' is 0.001, but the model")
    )
    assert not (tmp_path / "models").exists() and not (tmp_path / "metrics").exists()


def test_tokenize_fits_its_vocabularies_on_a_sample_and_transforms_every_row(features, tmp_path):
    _, titles, y = features
    splits = tmp_path / "split"
    splits.mkdir()
    # A word of its own on every row: the vocabulary then shows which rows it was fitted on.
    rows = [f"{title} r{i}" for i, title in enumerate(titles)]
    frame = pd.DataFrame({"title": rows, "domain": [f"D{d:03d}" for d in y]})
    for name in ("train", "val", "test"):
        write_table(frame, splits / f"{name}.parquet")
    vocabulary = {}
    for fit_rows in (0, 400):
        params = yaml.safe_load((ROOT / "params.yaml").read_text())
        params["tokenize"].update(fit_rows=fit_rows, min_df=1)
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
        out = tmp_path / f"features-{fit_rows}"
        subprocess.run(
            [sys.executable, "-m", "stages.tokenize", "--split-dir", str(splits)]
            + ["--out-dir", str(out)],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=True,
            capture_output=True,
        )
        vocabulary[fit_rows] = set(files.read_encoding(out)[0])
        for split in ("train", "test"):
            assert files.read_tfidf(out, TFIDF_BLOCKS, split).shape[0] == ROWS
            assert files.read_sequences(out, split).shape[0] == ROWS
    assert vocabulary[400] < vocabulary[0]
    assert sum(word.startswith("r") for word in vocabulary[400]) == 400


def test_baseline_capped_fits_a_sample_and_still_knows_every_domain(features, monkeypatch):
    from domain_classifier.evaluation import baseline

    _, titles, y = features
    frame = pd.DataFrame({"title": titles, "domain": [f"D{d:03d}" for d in y]})
    fitted: list[int] = []
    build = baseline.build_features

    def recording(params):
        features = build(params)
        fit_transform = features.fit_transform
        features.fit_transform = lambda X: fitted.append(len(X)) or fit_transform(X)
        return features

    monkeypatch.setattr(baseline, "build_features", recording)
    splits = {"train": frame, "val": frame, "test": frame}
    model = baseline.fit_baseline(baseline.BaselineParams(max_train_rows=1000), frame)
    report = baseline.score_baseline(model, splits)
    assert fitted == [1000]
    assert sorted(model.labels) == sorted(frame["domain"].unique())
    assert report["test"]["rows"] == ROWS and report["test"]["macro_f1"] > 0.9
