import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from threadpoolctl import threadpool_limits

from domain_classifier.errors import InputError
from domain_classifier.families import registry
from domain_classifier.families.classical import SklearnTitleModel
from domain_classifier.families.hgb import HgbParams, build_hgb
from domain_classifier.families.sgd import SgdParams, build_sgd
from domain_classifier.families.svm import SvmParams, build_svm
from domain_classifier.families.xgb import EarlyStoppingXGB, XgbParams, build_xgb
from domain_classifier.features.tokenize import TokenizeParams, make_vectorizer
from domain_classifier.models.loading import load_model
from domain_classifier.models.saved import save_model
from domain_classifier.params import parse_dataclass
from tests.support.data import MELI_COLUMNS, MELI_SAMPLE

LOG_RATE = {"min": -0.1, "max": 0.3}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """On a shared, busy machine OpenMP threads wait on each other at every tree node
    (a 180-row fit took 22 s with 2 threads); one thread keeps this module fast."""
    with threadpool_limits(limits=1):
        yield


@pytest.mark.parametrize(
    "cls, section, raw, message",
    [
        (SgdParams, "train_sgd", {"solver": "lbfgs"}, "train_sgd.solver' must be one of ovr, soft"),
        # The default space is one-vs-rest's: softmax has no loss to choose.
        (SgdParams, "train_sgd", {"solver": "softmax"}, "train_sgd.space.loss' is not a known"),
        (
            SgdParams,
            "train_sgd",
            {"solver": "softmax", "space": {"epochs": [0]}},
            "train_sgd.space.epochs' value 0 is invalid",
        ),
        (
            SgdParams,
            "train_sgd",
            {"solver": "softmax", "space": {"alpha": [1e-7, 1e-3], "learning_rate": [1.0]}},
            "train_sgd.space' learning_rate \\* alpha \\* batch_size must be below 1",
        ),
        (HgbParams, "train_hgb", {"max_trials": 0}, "train_hgb.max_trials' must be >= 1"),
        (
            SvmParams,
            "train_svm",
            {"space": {"C": [0.0]}},
            "train_svm.space.C' value 0.0 is invalid",
        ),
        (
            SvmParams,
            "train_svm",
            {"space": {"gamma": [1]}},
            "train_svm.space.gamma' is not a known",
        ),
        (XgbParams, "train_xgb", {"max_trials": 0}, "train_xgb.max_trials' must be >= 1"),
        (
            HgbParams,
            "train_hgb",
            {"reduction": "pca"},
            "train_hgb.reduction' must be one of svd, chi2",
        ),
        (HgbParams, "train_hgb", {"n_components": 0}, "train_hgb.n_components' must be >= 1"),
        (
            HgbParams,
            "train_hgb",
            {"space": {"learning_rate": LOG_RATE}},
            "train_hgb.space.learning_rate' value -0.1 is invalid",
        ),
        (
            HgbParams,
            "train_hgb",
            {"space": {"learning_rat": [0.1]}},
            "train_hgb.space.learning_rat' is not a known option",
        ),
        (
            HgbParams,
            "train_hgb",
            {"space": {"random_state": [1]}},
            "train_hgb.space.random_state' is set by the stage",
        ),
        (
            XgbParams,
            "train_xgb",
            {"space": {"learning_rate": LOG_RATE}},
            "train_xgb.space.learning_rate' must be > 0, got -0.1",
        ),
        (
            XgbParams,
            "train_xgb",
            {"space": {"learning_rat": [0.1]}},
            "train_xgb.space.learning_rat' is not a known option",
        ),
        (
            XgbParams,
            "train_xgb",
            {"space": {"n_jobs": [4]}},
            "train_xgb.space.n_jobs' is set by the stage",
        ),
        (
            XgbParams,
            "train_xgb",
            {"space": {"subsample": {"min": 0.5, "max": 1.5}}},
            "train_xgb.space.subsample' must be in \\(0, 1\\]",
        ),
        (
            XgbParams,
            "train_xgb",
            {"space": {"n_estimators": [10.5]}},
            "train_xgb.space.n_estimators' must be an int >= 1",
        ),
        (
            XgbParams,
            "train_xgb",
            {"space": {"max_depth": ["deep"]}},
            "train_xgb.space.max_depth' must be an int >= 0",
        ),
        (XgbParams, "train_xgb", {"max_features": 0}, "train_xgb.max_features' must be >= 1"),
        (XgbParams, "train_xgb", {"validation_fraction": 1.0}, "train_xgb.validation_fraction'"),
    ],
)
def test_impossible_params_are_refused_naming_them(cls, section, raw, message):
    with pytest.raises(InputError, match=message):
        parse_dataclass(cls, raw, section)


def test_defaults_are_valid_and_registered():
    for family, cls in (
        ("sgd", SgdParams),
        ("svm", SvmParams),
        ("hgb", HgbParams),
        ("xgb", XgbParams),
    ):
        assert registry.get(family).params is cls
        parse_dataclass(cls, {}, f"train_{family}")


@pytest.fixture(scope="module")
def separable_data():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 60)
    dense = np.abs(rng.normal(size=(180, 30))) + np.eye(30)[y * 10] * 3  # chi2 needs X >= 0
    return scipy.sparse.csr_matrix(dense, dtype=np.float32), y


TINY_BUILDS = {
    "sgd-huber": lambda: build_sgd({"loss": "modified_huber"}, SgdParams()),
    "sgd-softmax": lambda: build_sgd(
        {"batch_size": 16, "learning_rate": 0.05, "epochs": 10}, SgdParams(solver="softmax")
    ),
    "svm": lambda: build_svm({"C": 0.5}, SvmParams()),
    "hgb-svd": lambda: build_hgb({"max_iter": 30}, HgbParams(n_components=5)),
    "hgb-chi2": lambda: build_hgb({"max_iter": 30}, HgbParams(reduction="chi2", n_components=5)),
    "xgb": lambda: build_xgb(
        {"n_estimators": 30, "max_depth": 2}, XgbParams(max_features=10, n_jobs=1)
    ),
}


@pytest.mark.parametrize("name", TINY_BUILDS)
def test_builders_fit_sparse_features_and_give_probabilities(name, separable_data, tmp_path):
    X, y = separable_data
    model = TINY_BUILDS[name]().fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (180, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert (proba.argmax(axis=1) == y).mean() > 0.9
    # Saved as skops and loaded back with only the project's trusted types (no pickle).
    vectorizer = make_vectorizer(TokenizeParams(min_df=1)).fit(["a b", "b c"])
    family = name.split("-")[0]
    save_model(SklearnTitleModel(family, vectorizer, model, ["x", "y", "z"]), tmp_path / name)
    assert (tmp_path / name / "model.skops").is_file()
    loaded = load_model(tmp_path / name)
    assert np.array_equal(loaded.classifier.predict_proba(X), proba)


def test_builders_work_inside_cross_validation(separable_data):
    X, y = separable_data
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=1)
    for build in TINY_BUILDS.values():
        assert cross_val_score(build(), X, y, cv=cv, scoring="accuracy").min() > 0.9


def test_xgb_stops_early_and_is_deterministic(separable_data):
    X, y = separable_data
    labels = np.array(["a", "b", "c"])[y]  # the wrapper must not rely on 0..k-1 labels

    def fit():
        return EarlyStoppingXGB(
            {"n_estimators": 500, "learning_rate": 0.3},
            validation_fraction=0.2,
            early_stopping_rounds=5,
            random_state=3,
            n_jobs=1,
        ).fit(X, labels)

    first, second = fit(), fit()
    assert first.best_iteration_ < 100
    assert first.model_.get_booster().num_boosted_rounds() < 500
    assert list(first.classes_) == ["a", "b", "c"]
    assert (first.predict(X) == labels).mean() > 0.9
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


@pytest.fixture(scope="module")
def meli_features():
    if not MELI_SAMPLE.is_file():
        pytest.skip(f"{MELI_SAMPLE} not present")
    raw = pd.read_csv(MELI_SAMPLE)
    titles = raw[MELI_COLUMNS["text_column"]].astype(str).to_numpy()
    y = pd.factorize(raw[MELI_COLUMNS["label_column"]], sort=True)[0]
    t_train, t_test, y_train, y_test = train_test_split(
        titles, y, test_size=0.2, stratify=y, random_state=3
    )
    vectorizer = make_vectorizer(TokenizeParams()).fit(t_train.tolist())
    return (
        vectorizer.transform(t_train.tolist()),
        y_train,
        vectorizer.transform(t_test.tolist()),
        y_test,
    )


REAL_BUILDS = {
    "svm": lambda: build_svm({"C": 0.5}, SvmParams()),
    "hgb": lambda: build_hgb(
        {"learning_rate": 0.1, "max_leaf_nodes": 31, "n_iter_no_change": 30},
        HgbParams(reduction="svd", n_components=100),
    ),
    "xgb": lambda: build_xgb(
        {
            "learning_rate": 0.3,
            "max_depth": 4,
            "n_estimators": 100,
            "colsample_bytree": 0.5,
            "max_bin": 32,
        },
        XgbParams(max_features=2000, n_jobs=1),
    ),
}


@pytest.mark.parametrize("family", REAL_BUILDS)
def test_family_learns_the_real_sample(family, meli_features):
    X_train, y_train, X_test, y_test = meli_features
    model = REAL_BUILDS[family]().fit(X_train, y_train)
    predicted = model.predict_proba(X_test).argmax(axis=1)
    assert f1_score(y_test, predicted, average="macro") >= 0.75  # chance is about 0.33


TWO_PROCESS_SCRIPT = """
import sys
import numpy as np
from domain_classifier.families.classical import SklearnTitleModel
from domain_classifier.families.hgb import HgbParams, build_hgb
from domain_classifier.families.sgd import SgdParams, build_sgd
from domain_classifier.families.svm import SvmParams, build_svm, ngram_features
from domain_classifier.families.xgb import XgbParams, build_xgb
from domain_classifier.features.tokenize import TokenizeParams, make_vectorizer
from domain_classifier.models.saved import save_model
from domain_classifier.models.saved import save_model

rng = np.random.default_rng(0)
words = [f"w{i}" for i in range(60)]
titles = [" ".join(rng.choice(words, 5)) for _ in range(300)]
y = np.array([int(t.split()[0][1:]) % 3 for t in titles])
vectorizer = make_vectorizer(TokenizeParams(min_df=1)).fit(titles)
X = vectorizer.transform(titles)
builds = {"sgd": build_sgd({"loss": "log_loss"}, SgdParams()),
          "svm": build_svm({"C": 0.5}, SvmParams()),
          "hgb": build_hgb({"max_iter": 10}, HgbParams(n_components=5)),
          "xgb": build_xgb({"n_estimators": 10}, XgbParams(max_features=50, n_jobs=1))}
for name, estimator in builds.items():
    model = SklearnTitleModel(name, vectorizer, estimator.fit(X, y), ["a", "b", "c"])
    save_model(model, f"{sys.argv[1]}/{name}")
# svm and the baseline make their own scikit-learn vectorizers from the titles.
own = ngram_features([1, 2], [2, 5])
model = SklearnTitleModel("svm", own, build_svm({}, SvmParams()).fit(own.fit_transform(titles), y),
                          ["a", "b", "c"])
model.predict_proba(titles[:3])  # transforming sets the vectorizers' stop-word id again
save_model(model, f"{sys.argv[1]}/raw")
"""


def test_models_saved_by_two_processes_are_byte_identical(tmp_path):
    # Pickles record which equal strings share one object, and scikit-learn keeps an id();
    # both vary between processes, so dvc.lock would change on every retraining.
    for run, seed in (("a", "1"), ("b", "2")):
        subprocess.run(
            [sys.executable, "-c", TWO_PROCESS_SCRIPT, str(tmp_path / run)],
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
    for name in ("sgd", "svm", "hgb", "xgb", "raw"):
        for path in (tmp_path / "a" / name).iterdir():
            assert path.read_bytes() == (tmp_path / "b" / name / path.name).read_bytes(), path


def test_svm_probabilities_keep_its_labels_and_two_domains_work(separable_data):
    X, y = separable_data
    for labels in (y, (y > 0).astype(int)):
        model = build_svm({"C": 1.0}, SvmParams()).fit(X, labels)
        proba = model.predict_proba(X)
        assert proba.shape == (len(labels), len(set(labels)))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert np.array_equal(model.classes_[proba.argmax(axis=1)], model.predict(X))
