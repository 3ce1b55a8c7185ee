"""The mlp family: a Keras network over sparse TF-IDF input. Params refused early, batches fed
from a sparse matrix, determinism, the bundled vectorizer, memory refused, learning."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from domain_classifier.errors import InputError
from domain_classifier.families import keras_search, mlp, registry
from domain_classifier.families.budget import GIB
from domain_classifier.families.keras_search import Rows
from domain_classifier.families.mlp import MlpParams
from domain_classifier.features import files
from domain_classifier.features.tokenize import TFIDF_BLOCKS, TokenizeParams, make_vectorizer
from domain_classifier.models.loading import load_model
from domain_classifier.models.saved import predict_labels, save_model
from domain_classifier.params import parse_dataclass
from tests.support.data import toy_catalogue

TINY = MlpParams(
    seed=11,
    max_trials=2,
    num_initial_points=1,
    epochs=2,
    batch_size=16,
    patience=1,
    validation_fraction=0.2,
    space={"hidden_units": [8, 16], "learning_rate": {"min": 5e-3, "max": 2e-2}},
)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"epochs": 0}, "train_mlp.epochs' must be >= 1"),
        ({"validation_fraction": 0.0}, "train_mlp.validation_fraction' must be between 0 and 1"),
        ({"space": {"units": [32]}}, "train_mlp.space.units' is not a known option"),
        ({"space": {"hidden_units": [0]}}, "train_mlp.space.hidden_units' must be integers >= 1"),
        ({"space": {"dropout": [1.0]}}, "train_mlp.space.dropout' must be numbers in \\[0, 1\\)"),
        (
            {"space": {"learning_rate": {"min": 0.0, "max": 0.1}}},
            "train_mlp.space.learning_rate' must be numbers > 0, got 0.0",
        ),
    ],
)
def test_impossible_params_are_refused_naming_the_param(raw, message):
    with pytest.raises(InputError, match=message):
        parse_dataclass(MlpParams, raw, "train_mlp")


def write_features(directory, titles, domains):
    """What the tokenize stage writes for the TF-IDF families (train split only)."""
    labels = sorted(set(domains))
    vectorizer = make_vectorizer(TokenizeParams(min_df=1)).fit(titles)
    (directory / files.LABELS).mkdir(parents=True)
    files.write_labels(
        directory / files.LABELS, labels, {"train": np.array([labels.index(d) for d in domains])}
    )
    for block in TFIDF_BLOCKS:
        part = vectorizer.only(block)
        (directory / files.tfidf_set(block)).mkdir()
        files.write_tfidf(
            directory / files.tfidf_set(block), part, {"train": part.transform(titles)}
        )


def train(params, directory, titles, domains):
    write_features(directory / "features", titles, domains)
    return registry.get("mlp").train(
        params, directory / "features", "mlp", live_dir=directory / "dvclive"
    )


@pytest.fixture(scope="module")
def toy_runs(tmp_path_factory):
    """The same tiny search run twice from the same seed, in separate folders."""
    titles, domains = toy_catalogue()
    runs = [train(TINY, tmp_path_factory.mktemp(f"run{i}"), titles, domains) for i in range(2)]
    return runs, titles


def test_same_seed_gives_identical_search_and_model_bytes(toy_runs, tmp_path):
    (first, second), titles = toy_runs
    assert first[1] == second[1] and len(first[2]) == TINY.max_trials
    assert first[2]["accuracy"].tolist() == second[2]["accuracy"].tolist()
    for name, (model, _, _) in zip("ab", (first, second)):
        save_model(model, tmp_path / name)
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_saved_model_scores_raw_titles_as_trained_and_alone_as_in_a_batch(toy_runs, tmp_path):
    (first, _), titles = toy_runs
    model = first[0]
    save_model(model, tmp_path / "mlp")
    assert {p.name for p in (tmp_path / "mlp").iterdir()} == {
        "meta.json",
        "model.keras",
        files.VECTORIZER_FILE,
    }
    loaded = load_model(tmp_path / "mlp")
    raw = titles + ["", "  CAPINHA   silicone iphone  ", "palavras nunca vistas"]
    proba = loaded.predict_proba(raw)
    assert proba.shape == (len(raw), 3) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(proba, model.predict_proba(raw))
    alone = np.concatenate([loaded.predict_proba([title]) for title in raw[-4:]])
    assert np.array_equal(alone, proba[-4:])  # a title's scores do not depend on its batch
    assert loaded.predict_proba([]).shape == (0, 3)
    assert predict_labels(loaded, ["Capinha Silicone iPhone 7 Pro"]) == ["MLB-CELLPHONE_COVERS"]


def test_sparse_batches_cover_every_row_once_per_epoch_in_a_seeded_order():
    rows = 53
    X = scipy.sparse.csr_matrix(np.arange(rows, dtype=np.float32).reshape(rows, 1) + 1)
    y = np.arange(rows, dtype=np.int32) % 5
    params = dataclasses.replace(TINY, batch_size=8)
    data = Rows(X, y, np.arange(3, rows))

    def epoch(dataset):
        return [(tf_x.values.numpy(), tf_y.numpy()) for tf_x, tf_y in dataset]

    dataset = keras_search.as_dataset(data, params, shuffle=True)
    epochs = [epoch(dataset) for _ in range(2)]
    for batches in epochs:
        assert [len(b) for _, b in batches] == [8] * 6 + [2]
        order = np.concatenate([x for x, _ in batches]).astype(int) - 1
        assert sorted(order) == list(range(3, rows))  # every row exactly once
        assert np.array_equal(np.concatenate([t for _, t in batches]), y[order])
    assert not np.array_equal(epochs[0][0][0], epochs[1][0][0])  # reshuffled every epoch
    again = epoch(keras_search.as_dataset(data, params, shuffle=True))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(epochs[0], again))


def test_a_fit_over_its_memory_budget_is_refused_before_training(tmp_path):
    titles, domains = toy_catalogue()
    write_features(tmp_path / "features", titles, domains)
    X = files.read_tfidf(tmp_path / "features", TFIDF_BLOCKS, "train")
    fixed, per_row = mlp.memory_estimate(TINY, X, 3)
    params = dataclasses.replace(TINY, max_memory_gib=(fixed + per_row * 50.5) / GIB)
    with pytest.raises(InputError) as refused:
        registry.get("mlp").train(params, tmp_path / "features", "mlp", tmp_path / "live")
    assert str(refused.value).startswith(
        "param 'train_mlp.max_train_rows' lets the fit use 90 rows, estimated at "
    )
    assert not (tmp_path / "live").exists()  # refused before any training


def test_family_learns_the_real_sample(meli_frame, tmp_path):
    train_part, held_out = train_test_split(
        meli_frame, test_size=0.2, random_state=3, stratify=meli_frame["domain"]
    )
    params = MlpParams(
        seed=5,
        max_trials=1,
        num_initial_points=1,
        epochs=3,
        batch_size=64,
        space={"hidden_units": [64], "dropout": [0.2], "learning_rate": [3e-3]},
    )
    model, _, _ = train(
        params, tmp_path, train_part["title"].tolist(), train_part["domain"].tolist()
    )
    predicted = predict_labels(model, held_out["title"].tolist())
    assert f1_score(held_out["domain"], predicted, average="macro") >= 0.8  # chance is 0.33
