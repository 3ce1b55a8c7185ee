"""mlp: a Keras network over tokenize's TF-IDF word and character n-grams, read as a sparse
input: one hidden ReLU layer, dropout, softmax over the domains.

The neural family with subword input: titles are brands, sizes, model codes and typos, which
the recurrent families' word ids miss and character n-grams keep. The hidden layer is a
low-rank map shared by every domain (fastText's architecture is the linear case), so rare
domains borrow from common ones where a per-domain linear model cannot.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from domain_classifier.data.archives import load_skops, save_skops
from domain_classifier.families.budget import require_memory
from domain_classifier.families.classical import TFIDF_FEATURES, sparse_bytes
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
    VECTORIZER_FILE,
    read_labels,
    read_tfidf,
    read_vectorizer,
)
from domain_classifier.features.tokenize import TFIDF_BLOCKS, TitleVectorizer
from domain_classifier.trusted_types import VECTORIZER_TYPES

# Used for any option the search space leaves out.
DEFAULTS = {"hidden_units": 256, "dropout": 0.2, "learning_rate": 2e-3}
SPACE_RULES = {"hidden_units": POSITIVE_INT, "dropout": DROPOUT, "learning_rate": LEARNING_RATE}
# Per train row, beyond its TF-IDF entries: the int64 index arrays alive at once (sample,
# fit/holdout positions, the epoch's permutation) and its int32 label.
INDEX_BYTES_PER_ROW = 6 * 8 + 4


@dataclasses.dataclass(frozen=True)
class MlpParams(KerasParams):
    max_trials: int = 4
    epochs: int = 4
    batch_size: int = 256
    patience: int = 1
    validation_fraction: float = 0.1
    space: dict = dataclasses.field(
        default_factory=lambda: {
            "hidden_units": [128, 256],
            "dropout": {"min": 0.0, "max": 0.5},
            "learning_rate": {"min": 1e-3, "max": 1e-2, "sampling": "log"},
        }
    )

    def check(self, where: str) -> None:
        super().check(where)
        check_space_rules(self.space, SPACE_RULES, f"{where}.space")


def build_mlp(values: dict, family: str, n_features: int, n_labels: int):
    """Sparse TF-IDF -> Dense ReLU -> dropout -> softmax."""
    import keras

    values = {**DEFAULTS, **values}
    model = keras.Sequential(
        [
            keras.Input(shape=(n_features,), sparse=True),
            keras.layers.Dense(values["hidden_units"], activation="relu"),
            keras.layers.Dropout(values["dropout"]),
            keras.layers.Dense(n_labels, activation="softmax"),
        ],
        name=family,
    )
    return compile_classifier(model, values["learning_rate"])


class TfidfKerasModel:
    """A Keras network bundled with the TF-IDF vectorizer its input came from."""

    format = "keras-tfidf"

    def __init__(self, family: str, model, vectorizer: TitleVectorizer, labels: list[str]):
        self.family, self.model, self.vectorizer = family, model, vectorizer
        self.labels = list(labels)

    def predict_proba(self, titles: Sequence[str]) -> np.ndarray:
        titles = list(titles)
        if not titles:  # scikit-learn's TF-IDF refuses an empty list
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        X = self.vectorizer.transform(titles).astype(np.float32).tocsr()
        return predict_padded(self.model, X, len(self.labels))

    def save(self, directory: Path) -> None:
        save_keras(self.model, directory)
        save_skops(self.vectorizer, directory / VECTORIZER_FILE)

    @classmethod
    def load(cls, directory: Path, meta: dict) -> TfidfKerasModel:
        directory = Path(directory)
        model = load_keras(directory)
        vectorizer = load_skops(directory / VECTORIZER_FILE, VECTORIZER_TYPES)
        return cls(meta["family"], model, vectorizer, meta["labels"])


def memory_estimate(params: MlpParams, X, n_labels: int) -> tuple[float, float]:
    """(fixed, per train row) bytes of a fit, on the safe side: TensorFlow's own, the train
    matrix already read, and the widest network's weights four times (weights, gradients,
    Adam's two moments) in float32; per row the index arrays and its label."""
    hidden = largest(params.space, "hidden_units", DEFAULTS)
    weights = (X.shape[1] + 1) * hidden + (hidden + 1) * n_labels
    return TF_OVERHEAD + sparse_bytes(X) + 4 * 4 * weights, INDEX_BYTES_PER_ROW


def train_mlp(
    params: MlpParams, features_dir: Path | str, family: str, live_dir: Path | str | None = None
):
    """Tune on a `tune_rows` sample of train, retrain the best on `max_train_rows` (0: all) and
    bundle it with tokenize's vectorizer. Returns (model, best hyperparameters, history)."""
    X = read_tfidf(features_dir, TFIDF_BLOCKS, "train").astype(np.float32)
    y, labels = read_labels(features_dir, "train"), read_labels(features_dir)
    fixed, per_row = memory_estimate(params, X, len(labels))

    def check_memory(rows: dict[str, int]) -> None:
        knob = max(rows, key=rows.get)
        require_memory(fixed, per_row, rows[knob], params.max_memory_gib, f"train_{family}", knob)

    build = functools.partial(build_mlp, family=family, n_features=X.shape[1], n_labels=len(labels))
    model, best, history = search_and_fit(family, build, params, X, y, check_memory, live_dir)
    vectorizer = read_vectorizer(features_dir, TFIDF_BLOCKS)
    return TfidfKerasModel(family, model, vectorizer, labels), best, history


FAMILY = Family(
    "mlp",
    MlpParams,
    train_mlp,
    TfidfKerasModel,
    TFIDF_FEATURES,
    tuning_score="holdout_accuracy",
)
