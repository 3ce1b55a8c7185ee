"""What the recurrent families (rnn, lstm) share: a Keras model over token-id sequences, tuned
by keras-tuner, saved with the text processing it was trained with.

TensorFlow is imported inside functions only: checking params, and loading or using the
scikit-learn families, must not pay its import time.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from domain_classifier.data.archives import renumber, restamp_zip, without_keys
from domain_classifier.data.sampling import stratified_sample
from domain_classifier.data.tables import read_json, write_json
from domain_classifier.errors import InputError
from domain_classifier.families.budget import GIB, require_memory
from domain_classifier.families.family import Family
from domain_classifier.families.tuning import (
    SearchParams,
    best_hyperparameters,
    check_space,
    declare,
    space_values,
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
# Batches read from disk per Python call: each call takes the interpreter lock from the
# training loop, so fewer, larger reads (64 x 128 rows x 32 ids x 4 bytes: 1 MiB) cost less.
CHUNK_BATCHES = 64
# Peak RSS of TensorFlow, Keras and keras-tuner imported, a model traced and fitted (measured
# 0.6-0.8 GiB for small models on 2026-11 TF 2.21 CPU builds; rounded up).
TF_OVERHEAD = 1 * GIB
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
        directory = Path(directory)
        archive = directory / "model.keras"
        # Checked before Keras is imported: Keras calls any non-zip file "not found", and
        # importing TensorFlow for a file that is not a model only adds its log lines.
        if not zipfile.is_zipfile(archive):
            raise InputError(f"{archive}: not a Keras model archive (a .keras file is a zip)")
        import keras

        meta = read_json(directory / META_FILE)
        encoding = read_json(directory / "encoding.json")
        return cls(
            meta["family"],
            keras.models.load_model(archive, safe_mode=True),
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


@dataclasses.dataclass(frozen=True, eq=False)
class Rows:
    """The rows `index` (in this order) of a split whose sequences `X` usually stay on disk
    (memory-mapped): a fit passes indices around and reads one batch at a time."""

    X: np.ndarray
    y: np.ndarray
    index: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    @property
    def labels(self) -> np.ndarray:
        return self.y[self.index]

    def subset(self, positions: np.ndarray) -> Rows:
        return Rows(self.X, self.y, self.index[positions])


def sample_rows(X, y, rows: int, seed: int) -> Rows:
    """A stratified sample of `rows` rows (0: all), keeping two of every class that has them
    so that a stratified holdout can still be carved out of it."""
    return Rows(X, y, stratified_sample(y, rows, seed, min_per_class=2))


def split_holdout(rows: Rows, params: RecurrentParams, where: str, knob: str):
    """Stratified, seeded holdout out of train: the real val split must stay unseen.
    `knob` is the param that chose `rows` (validation_fraction when it is all of train)."""
    from sklearn.model_selection import train_test_split

    try:
        fit, hold = train_test_split(
            np.arange(len(rows)),
            test_size=params.validation_fraction,
            stratify=rows.labels,
            random_state=params.seed,
        )
    except ValueError as exc:
        raise InputError(
            f"param '{where}.{knob}' leaves {len(rows)} rows, too few to hold out a stratified "
            f"validation_fraction ({params.validation_fraction:g}) of them: {exc}"
        ) from None
    return rows.subset(fit), rows.subset(hold)


def chunks(rows: Rows, size: int, order: np.ndarray):
    """(token ids, label ids) of `rows` in `order` (positions), `size` rows at a time."""
    for start in range(0, len(order), size):
        chosen = rows.index[order[start : start + size]]
        yield np.asarray(rows.X[chosen]), rows.y[chosen]


def as_dataset(rows: Rows, params: RecurrentParams, shuffle: bool):
    """Batches read from disk as the fit asks for them: memory is a chunk of batches plus the
    index arrays, whatever the number of rows. Shuffled by a permutation of the positions
    drawn anew each time Keras iterates (every epoch), from the seed and the count of
    iterations so far, so a fit's order is reproducible; one Python generator feeds it, so no
    parallel reads can reorder batches."""
    import tensorflow as tf

    iterations = itertools.count()

    def generate():
        order = np.arange(len(rows))
        if shuffle:
            rng = np.random.default_rng([params.seed, next(iterations)])
            order = rng.permutation(len(rows))
        # Whole batches per chunk, so chunk boundaries are batch boundaries.
        yield from chunks(rows, params.batch_size * CHUNK_BATCHES, order)

    spec = (
        tf.TensorSpec((None, rows.X.shape[1]), tf.as_dtype(rows.X.dtype)),
        tf.TensorSpec((None,), tf.as_dtype(rows.y.dtype)),
    )
    steps = -(-len(rows) // params.batch_size)
    data = tf.data.Dataset.from_generator(generate, output_signature=spec).flat_map(
        lambda X, y: tf.data.Dataset.from_tensor_slices((X, y)).batch(params.batch_size)
    )
    # A known length lets Keras count steps per epoch.
    return data.apply(tf.data.experimental.assert_cardinality(steps))


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
        as_dataset(fit, params, shuffle=True),
        epochs=params.epochs,
        validation_data=as_dataset(holdout, params, shuffle=False),
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
    """Train sequences (memory-mapped) and label ids, the label names, and how the sequences
    were encoded."""
    return (
        read_sequences(features_dir, "train", mmap=True),
        read_labels(features_dir, "train"),
        read_labels(features_dir),
        read_encoding(features_dir),
    )


def largest(space: dict, name: str):
    """The largest value the search may try for `name` (the default if it is not searched)."""
    return max(space_values(space[name])) if name in space else DEFAULTS[name]


def memory_estimate(
    params: RecurrentParams, layer_name: str, sizes: tuple[int, int], sequences: np.ndarray
) -> tuple[float, float, float]:
    """(TensorFlow's own, the largest model's, per train row) bytes of a fit.

    Kept simple and on the safe side: the largest configuration the space allows, its
    weights held four times (weights, gradients, Adam's two moments), one batch's activations
    and their gradients, and per row the index arrays plus the row's token ids, since the
    memory-mapped pages an epoch touches count in RSS (though the kernel may drop them)."""
    vocab, n_labels = sizes
    units, embedding = largest(params.space, "units"), largest(params.space, "embedding_dim")
    directions = 2 if largest(params.space, "bidirectional") else 1
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
        f"(largest {largest(params.space, 'embedding_dim')}) with {sizes[0]:,} token ids and "
        f"{sizes[1]:,} domains: the model alone (TensorFlow included) would need about "
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
    where = f"train_{family}"
    searched = sample_rows(X, y, params.tune_rows, params.seed)
    refitted = sample_rows(X, y, params.max_train_rows, params.seed)
    check_memory(
        params,
        layer_name,
        sizes,
        X,
        {"max_train_rows": len(refitted), "tune_rows": len(searched)},
        where,
    )
    # Both holdouts are carved before tuning starts, so that one that cannot be fails first.
    fit, holdout = split_holdout(
        searched, params, where, "tune_rows" if params.tune_rows else "validation_fraction"
    )
    final = split_holdout(
        refitted,
        params,
        where,
        "max_train_rows" if params.max_train_rows else "validation_fraction",
    )
    log.info(
        "%s: tuning %d trials on %d of %d train rows (holdout %d), up to %d epochs each",
        family,
        params.max_trials,
        len(fit),
        len(y),
        len(holdout),
        params.epochs,
    )
    history = tune((family, layer_name), params, fit, holdout, sizes)
    history["hyperparameters"] = history["hyperparameters"].map(plain_values)
    best = best_hyperparameters(history, family)
    log.info(
        "%s: best %s (holdout accuracy %.4f); retraining it on %d rows (holdout %d)",
        family,
        best,
        history["accuracy"].max(),
        len(final[0]),
        len(final[1]),
    )
    model = fit_final(
        (family, layer_name),
        best,
        params,
        *final,
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
