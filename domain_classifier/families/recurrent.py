"""What the recurrent families (rnn, lstm) share: a Keras model over token-id sequences, tuned
by keras-tuner (families/keras_search.py), saved with the text processing it was trained with.

TensorFlow is imported inside functions only: checking params, and loading or using the
scikit-learn families, must not pay its import time.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from domain_classifier.data.tables import read_json, write_json
from domain_classifier.families.budget import GIB, require_memory
from domain_classifier.families.family import Family
from domain_classifier.families.keras_search import (
    DROPOUT,
    LEARNING_RATE,
    POSITIVE_INT,
    TF_OVERHEAD,
    KerasParams,
    check_space_rules,
    compile_classifier,
    largest,
    load_keras,
    predict_padded,
    save_keras,
    search_and_fit,
)
from domain_classifier.features.files import (
    LABELS,
    SEQUENCES,
    read_encoding,
    read_labels,
    read_sequences,
)
from domain_classifier.features.text import TextSettings
from domain_classifier.features.tokenize import encode_sequences
from domain_classifier.params import require

SEQUENCE_FEATURES = (LABELS, SEQUENCES)
# Weights per layer input and unit, times the units: one per gate.
GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
# Per train row, the int64 index arrays alive at once (sample, fit/holdout positions, the
# epoch's permutation and its shuffled copy, and sampling's temporaries) plus the int32 label.
INDEX_BYTES_PER_ROW = 8 * 8 + 4
# Used for any option the search space leaves out.
DEFAULTS = {
    "units": 64,
    "embedding_dim": 64,
    "dropout": 0.2,
    "learning_rate": 3e-3,
    "bidirectional": False,
}


# Every value a search space may produce must pass its rule (checked on choices and bounds).
SPACE_RULES = {
    "units": POSITIVE_INT,
    "embedding_dim": POSITIVE_INT,
    "dropout": DROPOUT,
    "learning_rate": LEARNING_RATE,
    "bidirectional": (lambda v: isinstance(v, bool), "must be a list of true/false"),
}


@dataclasses.dataclass(frozen=True)
class RecurrentParams(KerasParams):
    space: dict = dataclasses.field(
        default_factory=lambda: {
            "units": [32, 64],
            "embedding_dim": [32, 64],
            "dropout": {"min": 0.0, "max": 0.5},
            "learning_rate": {"min": 1e-3, "max": 1e-2, "sampling": "log"},
            "bidirectional": [False, True],
        }
    )

    def check(self, where: str) -> None:
        super().check(where)
        check_space_rules(self.space, SPACE_RULES, f"{where}.space")


def build_model(values: dict, family: str, layer_name: str, vocab_size: int, n_labels: int):
    """Embedding (id 0 masked as padding) -> recurrent layer -> dropout -> softmax."""
    import keras

    values = {**DEFAULTS, **values}
    layer = getattr(keras.layers, layer_name)(values["units"])
    if values["bidirectional"]:
        layer = keras.layers.Bidirectional(layer)
    model = keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int32"),
            keras.layers.Embedding(vocab_size, values["embedding_dim"], mask_zero=True),
            layer,
            keras.layers.Dropout(values["dropout"]),
            keras.layers.Dense(n_labels, activation="softmax"),
        ],
        name=family,
    )
    return compile_classifier(model, values["learning_rate"])


class KerasTitleModel:
    """A Keras model bundled with the text processing it was trained with."""

    format = "keras"

    def __init__(
        self,
        family: str,
        model,
        vocabulary: list[str],
        text: TextSettings,
        sequence_length: int,
        labels: list[str],
    ):
        self.family, self.model, self.vocabulary = family, model, list(vocabulary)
        self.text, self.sequence_length, self.labels = text, sequence_length, list(labels)

    def predict_proba(self, titles: Sequence[str]) -> np.ndarray:
        ids = encode_sequences(list(titles), self.vocabulary, self.text, self.sequence_length)
        return predict_padded(self.model, ids, len(self.labels))

    def save(self, directory: Path) -> None:
        save_keras(self.model, directory)
        write_json(self.vocabulary, directory / "vocabulary.json")
        write_json(
            {"text": dataclasses.asdict(self.text), "sequence_length": self.sequence_length},
            directory / "encoding.json",
        )

    @classmethod
    def load(cls, directory: Path, meta: dict) -> KerasTitleModel:
        directory = Path(directory)
        model = load_keras(directory)
        encoding = read_json(directory / "encoding.json")
        return cls(
            meta["family"],
            model,
            read_json(directory / "vocabulary.json"),
            TextSettings(**encoding["text"]),
            encoding["sequence_length"],
            meta["labels"],
        )


def load_train(features_dir: Path | str):
    """Train sequences (memory-mapped) and label ids, the label names, and how the sequences
    were encoded."""
    return (
        read_sequences(features_dir, "train", mmap=True),
        read_labels(features_dir, "train"),
        read_labels(features_dir),
        read_encoding(features_dir),
    )


def memory_estimate(
    params: RecurrentParams, layer_name: str, sizes: tuple[int, int], sequences: np.ndarray
) -> tuple[float, float, float]:
    """(TensorFlow's own, the largest model's, per train row) bytes of a fit.

    Kept simple and on the safe side: the largest configuration the space allows, its
    weights held four times (weights, gradients, Adam's two moments), one batch's activations
    and their gradients, and per row the index arrays plus the row's token ids, since the
    memory-mapped pages an epoch touches count in RSS (though the kernel may drop them)."""
    vocab, n_labels = sizes
    units = largest(params.space, "units", DEFAULTS)
    embedding = largest(params.space, "embedding_dim", DEFAULTS)
    directions = 2 if largest(params.space, "bidirectional", DEFAULTS) else 1
    gates = GATES[layer_name] * directions * units
    weights = (
        vocab * embedding + gates * (embedding + units + 1) + (directions * units + 1) * n_labels
    )
    batch = params.batch_size * (sequences.shape[1] * (embedding + gates) + n_labels)
    model = 4 * (4 * weights + 2 * batch)
    per_row = sequences.shape[1] * sequences.dtype.itemsize + INDEX_BYTES_PER_ROW
    return TF_OVERHEAD, model, per_row


def check_memory(
    params: RecurrentParams,
    layer_name: str,
    sizes: tuple[int, int],
    sequences: np.ndarray,
    rows: dict[str, int],
    where: str,
) -> None:
    """Refuse, before TensorFlow is even imported, a fit estimated over max_memory_gib.
    `rows` maps each sampling knob to the rows it lets a fit use; the largest is named."""
    overhead, model, per_row = memory_estimate(params, layer_name, sizes, sequences)
    # The embedding table (vocabulary x embedding_dim) is what makes a model big.
    require(
        overhead + model <= params.max_memory_gib * GIB,
        f"{where}.space.embedding_dim",
        f"(largest {largest(params.space, 'embedding_dim', DEFAULTS)}) with {sizes[0]:,} token "
        f"ids and {sizes[1]:,} domains: the model alone (TensorFlow included) would need about "
        f"{(overhead + model) / GIB:.1f} GiB, over {where}.max_memory_gib "
        f"({params.max_memory_gib:g}); lower it or the units, or tokenize.vocab_size (or raise "
        "max_memory_gib)",
    )
    knob = max(rows, key=rows.get)
    require_memory(overhead + model, per_row, rows[knob], params.max_memory_gib, where, knob)


def train_recurrent(
    layer_name: str,
    params: RecurrentParams,
    features_dir: Path | str,
    family: str,
    live_dir: Path | str | None = None,
):
    """Tune on a stratified sample of train (`tune_rows`), retrain the best on all of it (or
    on a `max_train_rows` sample) and bundle it with the encoding it must apply to raw titles.

    Returns (model, best hyperparameters, trial history) like every family; dvclive logs go
    to `live_dir` (default dvclive/<family>).
    """
    X, y, labels, (vocabulary, text, length) = load_train(features_dir)
    sizes = (len(vocabulary) + 2, len(labels))  # ids 0 and 1 are padding and unknown
    build = functools.partial(
        build_model, family=family, layer_name=layer_name, vocab_size=sizes[0], n_labels=sizes[1]
    )
    model, best, history = search_and_fit(
        family,
        build,
        params,
        X,
        y,
        lambda rows: check_memory(params, layer_name, sizes, X, rows, f"train_{family}"),
        live_dir,
    )
    return KerasTitleModel(family, model, vocabulary, text, length, labels), best, history


def recurrent_family(name: str, layer_name: str) -> Family:
    """A family whose recurrent layer is `keras.layers.<layer_name>`."""
    return Family(
        name,
        RecurrentParams,
        functools.partial(train_recurrent, layer_name),
        KerasTitleModel,
        SEQUENCE_FEATURES,
        tuning_score="holdout_accuracy",
    )
