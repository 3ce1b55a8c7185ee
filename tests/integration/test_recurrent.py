"""Recurrent families: params refused early, bundled text processing, determinism, learning."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from domain_classifier.errors import InputError
from domain_classifier.families import registry
from domain_classifier.families.recurrent import RecurrentParams
from domain_classifier.families.registry import load_model
from domain_classifier.features import files
from domain_classifier.features.tokenize import TokenizeParams, build_vocabulary, encode_sequences
from domain_classifier.model_store import predict_labels, save_model
from domain_classifier.params import parse_dataclass
from tests.support.data import ROOT

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


def toy_catalogue():
    rows = []
    for i in range(30):
        rows += [
            (f"Shampoo Anticaspa Marca{i} {100 + i}ml", "MLB-SHAMPOOS"),
            (f"Capinha Silicone iPhone {i} Pro", "MLB-CELLPHONE_COVERS"),
            (f"Liquidificador {i} Velocidades 220v Preto", "MLB-BLENDERS"),
        ]
    return [t for t, _ in rows], [d for _, d in rows]


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
