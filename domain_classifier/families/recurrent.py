"""What the recurrent families (rnn, lstm) share: a Keras model over token-id sequences, tuned
by keras-tuner, saved with the text processing it was trained with.

TensorFlow is imported inside functions only: checking params, and loading or using the
scikit-learn families, must not pay its import time.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from domain_classifier.data.archives import renumber, restamp_zip, without_keys
from domain_classifier.data.tables import read_json, write_json
from domain_classifier.errors import InputError
from domain_classifier.families.family import Family
from domain_classifier.families.tuning import (
    SearchParams,
    best_hyperparameters,
    check_space,
    declare,
    trial_history,
    with_progress,
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
from domain_classifier.model_store import META_FILE
from domain_classifier.params import require

log = logging.getLogger(__name__)
SEQUENCE_FEATURES = (LABELS, SEQUENCES)
KERAS_VOLATILE = {
    "metadata.json": without_keys("date_saved"),
    "config.json": renumber("shared_object_id"),
}
OBJECTIVE = "val_accuracy"
PREDICT_BATCH = 256
# Used for any option the search space leaves out.
DEFAULTS = {
    "units": 64,
    "embedding_dim": 64,
    "dropout": 0.2,
    "learning_rate": 3e-3,
    "bidirectional": False,
}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# Every value a search space may produce must pass its rule (checked on choices and bounds).
SPACE_RULES = {
    "units": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
        "must be integers >= 1",
    ),
    "embedding_dim": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
        "must be integers >= 1",
    ),
    "dropout": (lambda v: _is_number(v) and 0 <= v < 1, "must be numbers in [0, 1)"),
    "learning_rate": (lambda v: _is_number(v) and v > 0, "must be numbers > 0"),
    "bidirectional": (lambda v: isinstance(v, bool), "must be a list of true/false"),
}


@dataclasses.dataclass(frozen=True)
class RecurrentParams(SearchParams):
    """Trials score on a stratified holdout carved out of train (no K-fold CV: too costly)."""

    max_trials: int = 6
    epochs: int = 6
    batch_size: int = 64
    patience: int = 2
    validation_fraction: float = 0.15
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
        require(self.epochs >= 1, f"{where}.epochs", f"must be >= 1, got {self.epochs}")
        require(self.batch_size >= 1, f"{where}.batch_size", f"must be >= 1, got {self.batch_size}")
        require(self.patience >= 0, f"{where}.patience", f"must be >= 0, got {self.patience}")
        require(
            0 < self.validation_fraction < 1,
            f"{where}.validation_fraction",
            f"must be between 0 and 1 (exclusive), got {self.validation_fraction}",
        )
        check_space(self.space, set(SPACE_RULES), f"{where}.space")
        for name, spec in self.space.items():
            rule, message = SPACE_RULES[name]
            for value in spec if isinstance(spec, list) else [spec["min"], spec["max"]]:
                require(rule(value), f"{where}.space.{name}", f"{message}, got {value!r}")


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
    model.compile(
        optimizer=keras.optimizers.Adam(values["learning_rate"]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


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
        proba = [np.zeros((0, len(self.labels)), dtype=np.float32)]
        for start in range(0, len(ids), PREDICT_BATCH):
            proba.append(self._predict_batch(ids[start : start + PREDICT_BATCH]))
        return np.concatenate(proba)

    def _predict_batch(self, ids: np.ndarray) -> np.ndarray:
        # Always one input shape: kernels picked per traced shape differ in the last float bit,
        # so a title would otherwise score differently alone, in a batch, or after reloading.
        # predict_on_batch skips tf.data, whose set-up costs more than a small batch itself.
        full = np.zeros((PREDICT_BATCH, ids.shape[1]), dtype=ids.dtype)
        full[: len(ids)] = ids
        return self.model.predict_on_batch(full)[: len(ids)]

    def save(self, directory: Path) -> None:
        self.model.save(directory / "model.keras")
        # Keras stamps the archive with the save time and the config with object ids of this
        # process; equal weights must give equal bytes.
        restamp_zip(directory / "model.keras", rewrite=KERAS_VOLATILE)
        write_json(self.vocabulary, directory / "vocabulary.json")
        write_json(
            {"text": dataclasses.asdict(self.text), "sequence_length": self.sequence_length},
            directory / "encoding.json",
        )

    @classmethod
    def load(cls, directory: Path) -> KerasTitleModel:
        import keras

        directory = Path(directory)
        meta = read_json(directory / META_FILE)
        encoding = read_json(directory / "encoding.json")
        return cls(
            meta["family"],
            keras.models.load_model(directory / "model.keras", safe_mode=True),
            read_json(directory / "vocabulary.json"),
            TextSettings(**encoding["text"]),
            encoding["sequence_length"],
            meta["labels"],
        )


def seed_everything(seed: int) -> None:
    """Same seed, same data -> bit-identical weights (op determinism costs a little speed)."""
    import keras
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(seed)


def split_holdout(X, y, params: RecurrentParams, where: str):
    """Stratified, seeded holdout out of train: the real val split must stay unseen."""
    from sklearn.model_selection import train_test_split

    try:
        X_fit, X_hold, y_fit, y_hold = train_test_split(
            X, y, test_size=params.validation_fraction, stratify=y, random_state=params.seed
        )
    except ValueError as exc:
        raise InputError(
            f"param '{where}.validation_fraction' cannot hold out a stratified "
            f"sample of {len(y)} rows: {exc}"
        ) from None
    return (X_fit, y_fit), (X_hold, y_hold)


def as_dataset(X, y, params: RecurrentParams, shuffle: bool):
    """Our own tf.data pipeline: under op determinism, Keras' parallel slicing of numpy arrays
    makes TensorFlow log a spurious NodeDef error on every fit."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((X, y))
    if shuffle:
        data = data.shuffle(len(y), seed=params.seed, reshuffle_each_iteration=True)
    return data.batch(params.batch_size)


def seeded_model(
    values: dict, family: tuple[str, str], params: RecurrentParams, sizes: tuple[int, int]
):
    """Reseeding before every build (and so before its data pipeline) makes trials differ only
    by their hyperparameters, and retraining the best trial reproduces its weights exactly."""
    seed_everything(params.seed)
    return build_model(values, *family, *sizes)


def fit_model(model, fit, holdout, params: RecurrentParams, callbacks=()):
    """Early-stop on the tuning objective, so the kept weights are those the trial was scored by."""
    import keras

    stop = keras.callbacks.EarlyStopping(
        OBJECTIVE, mode="max", patience=params.patience, restore_best_weights=True
    )
    return model.fit(
        as_dataset(*fit, params, shuffle=True),
        epochs=params.epochs,
        validation_data=as_dataset(*holdout, params, shuffle=False),
        callbacks=[stop, *callbacks],
        shuffle=False,
        verbose=2,
    )


def make_hypermodel(family: tuple[str, str], params: RecurrentParams, sizes: tuple[int, int]):
    """Built lazily: importing keras_tuner pulls in TensorFlow."""
    import keras_tuner

    class SeededHyperModel(keras_tuner.HyperModel):
        def build(self, hp):
            return seeded_model(declare(hp, params.space), family, params, sizes)

        def fit(self, hp, model, fit, holdout, callbacks=()):
            return fit_model(model, fit, holdout, params, callbacks)

    return SeededHyperModel(name=family[0])


def tune(family: tuple[str, str], params: RecurrentParams, fit, holdout, sizes: tuple[int, int]):
    """Bayesian search scored by the best epoch's holdout accuracy; returns the trial history."""
    import keras_tuner

    with tempfile.TemporaryDirectory(prefix=f"tuner-{family[0]}-") as workdir:
        tuner = with_progress(keras_tuner.BayesianOptimization, family[0])(
            make_hypermodel(family, params, sizes),
            objective=OBJECTIVE,
            max_trials=params.max_trials,
            seed=params.seed,
            num_initial_points=min(params.num_initial_points, params.max_trials),
            directory=workdir,
            project_name=family[0],
            overwrite=True,
        )
        tuner.search(fit, holdout)
        return trial_history(tuner.oracle, OBJECTIVE)


def fit_final(
    family: tuple[str, str],
    best: dict,
    params: RecurrentParams,
    fit,
    holdout,
    sizes: tuple[int, int],
    live_dir: Path | str,
):
    """Retrain the best trial, logging each epoch with dvclive."""
    from dvclive.keras import DVCLiveCallback

    from dvclive import Live

    model = seeded_model(best, family, params, sizes)
    # dvcyaml=False: the pipeline's dvc.yaml declares these plots; no experiment per stage run.
    with Live(dir=str(live_dir), dvcyaml=False, save_dvc_exp=False) as live:
        fit_model(model, fit, holdout, params, [DVCLiveCallback(live=live)])
    return model


def plain_values(values: dict) -> dict:
    """Python scalars for logs and JSON: the oracle samples numpy scalars, and keras-tuner's
    Choice stores booleans as 0/1 (bool is an int subclass)."""
    values = {k: v.item() if isinstance(v, np.generic) else v for k, v in values.items()}
    if "bidirectional" in values:
        values["bidirectional"] = bool(values["bidirectional"])
    return values


def load_train(features_dir: Path | str):
    """Train sequences and label ids, the label names, and how the sequences were encoded."""
    return (
        read_sequences(features_dir, "train"),
        read_labels(features_dir, "train"),
        read_labels(features_dir),
        read_encoding(features_dir),
    )


def train_recurrent(
    layer_name: str,
    params: RecurrentParams,
    features_dir: Path | str,
    family: str,
    live_dir: Path | str | None = None,
):
    """Tune, retrain the best and bundle it with the encoding it must apply to raw titles.

    Returns (model, best hyperparameters, trial history) like every family; dvclive logs go
    to `live_dir` (default dvclive/<family>).
    """
    X, y, labels, (vocabulary, text, length) = load_train(features_dir)
    sizes = (len(vocabulary) + 2, len(labels))  # ids 0 and 1 are padding and unknown
    fit, holdout = split_holdout(X, y, params, f"train_{family}")
    log.info(
        "%s: tuning %d trials on %d rows (holdout %d), up to %d epochs each",
        family,
        params.max_trials,
        len(fit[1]),
        len(holdout[1]),
        params.epochs,
    )
    history = tune((family, layer_name), params, fit, holdout, sizes)
    history["hyperparameters"] = history["hyperparameters"].map(plain_values)
    best = best_hyperparameters(history, family)
    log.info(
        "%s: best %s (holdout accuracy %.4f); retraining it",
        family,
        best,
        history["accuracy"].max(),
    )
    model = fit_final(
        (family, layer_name),
        best,
        params,
        fit,
        holdout,
        sizes,
        live_dir=live_dir or f"dvclive/{family}",
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
