"""Recurrent families: params refused early, bundled text processing, determinism, learning."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from domain_classifier.errors import InputError
from domain_classifier.families import keras_search, recurrent, registry
from domain_classifier.families.budget import GIB
from domain_classifier.families.keras_search import Rows
from domain_classifier.families.recurrent import RecurrentParams
from domain_classifier.features import files
from domain_classifier.features.tokenize import TokenizeParams, build_vocabulary, encode_sequences
from domain_classifier.models.loading import load_model
from domain_classifier.models.saved import predict_labels, save_model
from domain_classifier.params import parse_dataclass
from tests.support.data import ROOT, toy_catalogue

# sequence_length differs from the default so that a model ignoring its bundled encoding would fail.
TOKENIZE = TokenizeParams(sequence_length=16)
TINY = RecurrentParams(
    seed=11,
    max_trials=2,
    num_initial_points=1,
    epochs=2,
    batch_size=16,
    patience=1,
    validation_fraction=0.2,
    space={
        "units": [8, 16],
        "embedding_dim": [8],
        "learning_rate": {"min": 5e-3, "max": 2e-2, "sampling": "log"},
    },
)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"max_trials": 0}, "train_rnn.max_trials' must be >= 1"),
        ({"epochs": 0}, "train_rnn.epochs' must be >= 1"),
        ({"batch_size": 0}, "train_rnn.batch_size' must be >= 1"),
        ({"patience": -1}, "train_rnn.patience' must be >= 0"),
        ({"validation_fraction": 1.0}, "train_rnn.validation_fraction' must be between 0 and 1"),
        ({"space": {"unit": [32]}}, "train_rnn.space.unit' is not a known option"),
        (
            {"space": {"learning_rate": {"min": -0.01, "max": 0.1}}},
            "train_rnn.space.learning_rate' must be numbers > 0, got -0.01",
        ),
        (
            {"space": {"learning_rate": {"min": 0.0, "max": 0.1, "sampling": "log"}}},
            "train_rnn.space.learning_rate' log sampling needs min > 0",
        ),
        (
            {"space": {"dropout": [0.2, 1.0]}},
            "train_rnn.space.dropout' must be numbers in \\[0, 1\\)",
        ),
        ({"space": {"units": [32.5]}}, "train_rnn.space.units' must be integers >= 1"),
        ({"space": {"bidirectional": ["yes"]}}, "train_rnn.space.bidirectional' must be"),
    ],
)
def test_impossible_params_are_refused_naming_the_param(raw, message):
    with pytest.raises(InputError, match=message):
        parse_dataclass(RecurrentParams, raw, "train_rnn")


def test_registry_and_params_do_not_import_tensorflow():
    code = (
        "import sys; from domain_classifier.families import registry; "
        "[registry.get(n).params().check('x') for n in registry.names()]; "
        "assert not {'tensorflow', 'keras'} & set(sys.modules), 'TensorFlow imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def write_features(directory, titles, domains, tokenize=TOKENIZE):
    """What the tokenize stage writes for the sequence families (train split only)."""
    labels = sorted(set(domains))
    vocabulary = build_vocabulary(titles, tokenize)
    for name in (files.LABELS, files.SEQUENCES):
        (directory / name).mkdir(parents=True, exist_ok=True)
    files.write_labels(
        directory / files.LABELS, labels, {"train": np.array([labels.index(d) for d in domains])}
    )
    sequences = encode_sequences(list(titles), vocabulary, tokenize.text, tokenize.sequence_length)
    files.write_sequences(
        directory / files.SEQUENCES,
        vocabulary,
        tokenize.text,
        tokenize.sequence_length,
        {"train": sequences},
    )


def train(family, params, directory, titles, domains):
    write_features(directory / "features", titles, domains)
    return registry.get(family).train(
        params, directory / "features", family, live_dir=directory / "dvclive"
    )


@pytest.fixture(scope="module")
def toy_runs(tmp_path_factory):
    """The same tiny search run twice from the same seed, in separate folders."""
    titles, domains = toy_catalogue()
    return [
        train("rnn", TINY, tmp_path_factory.mktemp(f"run{i}"), titles, domains) + (titles,)
        for i in range(2)
    ], tmp_path_factory.getbasetemp()


def test_same_seed_gives_identical_search_and_model(toy_runs):
    (first, second), _ = toy_runs
    model_a, best_a, history_a, titles = first
    model_b, best_b, history_b, _ = second
    assert best_a == best_b and len(history_a) == TINY.max_trials
    assert history_a["accuracy"].tolist() == history_b["accuracy"].tolist()
    assert np.array_equal(model_a.predict_proba(titles), model_b.predict_proba(titles))


def test_final_training_is_logged_per_epoch_with_dvclive(toy_runs):
    _, base = toy_runs
    plots = next(base.glob("run0*")) / "dvclive" / "plots" / "metrics"
    for name in ("train/loss", "train/accuracy", "eval/loss", "eval/accuracy"):
        rows = (plots / f"{name}.tsv").read_text().splitlines()
        assert rows[0].split("\t")[:2] == ["step", name.split("/")[1]] and len(rows) >= 2


def test_saved_model_reloads_and_gives_identical_probabilities_from_raw_titles(toy_runs, tmp_path):
    (first, _), _ = toy_runs
    model, best, _, titles = first
    save_model(model, tmp_path / "rnn", extra={"best_hyperparameters": best})
    assert {p.name for p in (tmp_path / "rnn").iterdir()} == {
        "meta.json",
        "model.keras",
        "vocabulary.json",
        "encoding.json",
    }
    loaded = load_model(tmp_path / "rnn")
    raw = titles + ["", "  CAPINHA   silicone iphone  ", "palavras nunca vistas"]
    proba = loaded.predict_proba(raw)
    assert proba.shape == (len(raw), 3) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(proba, model.predict_proba(raw))
    alone = np.concatenate([loaded.predict_proba([title]) for title in raw[-4:]])
    assert np.array_equal(alone, proba[-4:])  # a title's scores do not depend on its batch
    assert (loaded.family, loaded.labels, loaded.text, loaded.sequence_length) == (
        model.family,
        model.labels,
        TOKENIZE.text,
        TOKENIZE.sequence_length,
    )
    assert loaded.predict_proba([]).shape == (0, 3)


def test_saving_twice_gives_identical_bytes(toy_runs, tmp_path):
    # A .keras archive records its save time; the store writes it without one.
    (first, _), _ = toy_runs
    model = first[0]
    for name in ("a", "b"):
        save_model(model, tmp_path / name)
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


@pytest.mark.parametrize("family", ["rnn", "lstm"])
def test_family_learns_the_real_sample(family, meli_frame, tmp_path):
    train_part, held_out = train_test_split(
        meli_frame, test_size=0.2, random_state=3, stratify=meli_frame["domain"]
    )
    params = RecurrentParams(
        seed=5,
        max_trials=1,
        num_initial_points=1,
        epochs=2,
        batch_size=64,
        patience=1,
        validation_fraction=0.1,
        space={"units": [32], "embedding_dim": [32], "learning_rate": [3e-3]},
    )
    (
        model,
        _,
        _,
    ) = train(family, params, tmp_path, train_part["title"].tolist(), train_part["domain"].tolist())
    predicted = predict_labels(model, held_out["title"].tolist())
    assert f1_score(held_out["domain"], predicted, average="macro") >= 0.7  # chance is 0.33


def epoch_batches(dataset):
    return [(x.numpy(), y.numpy()) for x, y in dataset]


def test_disk_fed_batches_cover_every_row_once_per_epoch_in_a_seeded_order(tmp_path, monkeypatch):
    rows, length = 203, 5
    X = np.arange(rows * length, dtype=np.int32).reshape(rows, length)  # row i starts at 5i
    y = np.arange(rows, dtype=np.int32) % 7
    np.save(tmp_path / "train.npy", X)
    on_disk = Rows(np.load(tmp_path / "train.npy", mmap_mode="r"), y, np.arange(3, rows))
    in_memory = Rows(X, y, np.arange(3, rows))
    params = dataclasses.replace(TINY, batch_size=16)
    monkeypatch.setattr(keras_search, "CHUNK_BATCHES", 3)  # several reads from disk per epoch

    dataset = keras_search.as_dataset(on_disk, params, shuffle=True)
    epochs = [epoch_batches(dataset) for _ in range(2)]
    same_seed = epoch_batches(keras_search.as_dataset(in_memory, params, shuffle=True))
    for epoch in epochs:
        assert [len(b) for b, _ in epoch] == [16] * 12 + [8]
        order = np.concatenate([b[:, 0] for b, _ in epoch]) // length
        assert sorted(order) == list(range(3, rows))  # every row exactly once
        assert np.array_equal(np.concatenate([t for _, t in epoch]), y[order])
    assert not np.array_equal(epochs[0][0][0], epochs[1][0][0])  # reshuffled every epoch
    assert all(np.array_equal(a, b) for pa, pb in zip(epochs[0], same_seed) for a, b in zip(pa, pb))

    in_order = epoch_batches(keras_search.as_dataset(on_disk, params, shuffle=False))
    assert np.array_equal(np.concatenate([b for b, _ in in_order]), X[3:])


def test_without_sampling_the_holdout_is_todays_split_of_all_train():
    y = np.repeat(np.arange(4), 10)
    fit, holdout = keras_search.split_holdout(
        keras_search.sample_rows(np.zeros((40, 2)), y, 0, TINY.seed), TINY, "train_rnn", "x"
    )
    expected = train_test_split(
        np.arange(40), test_size=TINY.validation_fraction, stratify=y, random_state=TINY.seed
    )
    assert np.array_equal(fit.index, expected[0]) and np.array_equal(holdout.index, expected[1])


def test_tune_rows_samples_the_search_and_max_train_rows_caps_the_refit(tmp_path, monkeypatch):
    seen = {}

    def recording(name, function):
        def record(*args, **kwargs):
            seen[name] = [a for a in args if isinstance(a, Rows)]
            return function(*args, **kwargs)

        return record

    monkeypatch.setattr(keras_search, "tune", recording("tune", keras_search.tune))
    monkeypatch.setattr(keras_search, "fit_final", recording("refit", keras_search.fit_final))
    titles, domains = toy_catalogue()  # 90 rows, 30 per domain
    params = dataclasses.replace(TINY, max_trials=1, tune_rows=30, max_train_rows=60)
    train("rnn", params, tmp_path, titles, domains)

    for stage, size in (("tune", 30), ("refit", 60)):
        fit, holdout = seen[stage]
        assert (len(fit), len(holdout)) == (size * 4 // 5, size // 5), stage
        assert not set(fit.index) & set(holdout.index)
        assert np.bincount(np.concatenate([fit.labels, holdout.labels])).tolist() == [size // 3] * 3


def refusing_budget(directory, rows_that_fit: float) -> float:
    """The max_memory_gib that lets a fit of TINY on the toy catalogue use `rows_that_fit` rows."""
    features = directory / "features"
    X = files.read_sequences(features, "train", mmap=True)
    sizes = (len(files.read_encoding(features)[0]) + 2, len(files.read_labels(features)))
    overhead, model, per_row = recurrent.memory_estimate(TINY, "SimpleRNN", sizes, X)
    return (overhead + model + per_row * rows_that_fit) / GIB


def test_a_fit_over_its_memory_budget_is_refused_naming_max_train_rows(tmp_path):
    titles, domains = toy_catalogue()
    write_features(tmp_path / "features", titles, domains)
    params = dataclasses.replace(TINY, max_memory_gib=refusing_budget(tmp_path, 50.5))
    with pytest.raises(InputError) as refused:
        registry.get("rnn").train(params, tmp_path / "features", "rnn", live_dir=tmp_path / "live")
    assert str(refused.value).startswith(
        "param 'train_rnn.max_train_rows' lets the fit use 90 rows, estimated at "
    )
    assert "set it to at most 50 " in str(refused.value)
    assert not (tmp_path / "live").exists()  # refused before any training


def test_train_stage_refuses_a_model_over_budget_in_one_line(tmp_path):
    titles, domains = toy_catalogue()
    write_features(tmp_path / "features", titles, domains)
    section = {**dataclasses.asdict(TINY), "max_memory_gib": 0.5}
    mlflow = {"tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"train_rnn": section, "mlflow": mlflow}))
    out = tmp_path / "model"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    done = subprocess.run(
        [sys.executable, "-m", "stages.train_rnn", "--params", str(tmp_path / "params.yaml")]
        + ["--features", str(tmp_path / "features"), "--out", str(out)]
        + ["--metrics", str(tmp_path / "m.json"), "--trials", str(tmp_path / "t.csv")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 1
    # Above it only MLflow's notes about the new tracking database.
    errors = [line for line in done.stderr.splitlines() if "Error" in line]
    assert errors == [done.stderr.strip().splitlines()[-1]], done.stderr
    assert errors[0].startswith(
        "Error: param 'train_rnn.space.embedding_dim' (largest 8) with 102 token ids and 3 "
        "domains: the model alone (TensorFlow included) would need about 1.0 GiB, over "
        "train_rnn.max_memory_gib (0.5); "
    ), done.stderr
    assert not out.exists() and not (tmp_path / "m.json").exists()
