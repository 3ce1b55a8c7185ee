"""What every Keras family (rnn, lstm, mlp) shares: seeded builds, batches fed from the rows
a fit uses, the keras-tuner search on a stratified holdout carved out of train, and the refit
of the best trial logged with dvclive.

TensorFlow is imported inside functions only: checking params, and loading or using the
scikit-learn families, must not pay its import time.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse

from domain_classifier.data.archives import renumber, restamp_zip, without_keys
from domain_classifier.data.sampling import stratified_sample
from domain_classifier.errors import InputError
from domain_classifier.families.budget import GIB
from domain_classifier.families.tuning import (
    SearchParams,
    best_hyperparameters,
    check_space,
    declare,
    space_values,
    trial_history,
    with_progress,
)
from domain_classifier.params import require

log = logging.getLogger(__name__)
# Keras stamps a .keras archive with the save time and its config with object ids of this
# process; equal weights must give equal bytes (data/archives.restamp_zip rewrites them).
KERAS_VOLATILE = {
    "metadata.json": without_keys("date_saved"),
    "config.json": renumber("shared_object_id"),
}
KERAS_FILE = "model.keras"
OBJECTIVE = "val_accuracy"
PREDICT_BATCH = 256
# Peak RSS of TensorFlow, Keras and keras-tuner imported, a model traced and fitted (measured
# 0.6-0.8 GiB for small models on 2026-11 TF 2.21 CPU builds; rounded up).
TF_OVERHEAD = 1 * GIB
# Batches read per Python call: each call takes the interpreter lock from the training loop,
# so fewer, larger reads (64 x 128 rows x 32 ids x 4 bytes: 1 MiB) cost less.
CHUNK_BATCHES = 64

# A build: the hyperparameters a trial sampled -> a compiled Keras model.
Build = Callable[[dict], object]


@dataclasses.dataclass(frozen=True)
class KerasParams(SearchParams):
    """Trials score on a stratified holdout carved out of train (no K-fold CV: too costly)."""

    max_trials: int = 6
    epochs: int = 6
    batch_size: int = 64
    patience: int = 2
    validation_fraction: float = 0.15

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


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# Rules a search space's values must pass (checked on choices and bounds), by what they size.
POSITIVE_INT = (
    lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
    "must be integers >= 1",
)
DROPOUT = (lambda v: _is_number(v) and 0 <= v < 1, "must be numbers in [0, 1)")
LEARNING_RATE = (lambda v: _is_number(v) and v > 0, "must be numbers > 0")


def largest(space: dict, name: str, defaults: dict):
    """The largest value the search may try for `name` (the default if it is not searched)."""
    return max(space_values(space[name])) if name in space else defaults[name]


def check_space_rules(space: dict, rules: dict, where: str) -> None:
    """Known names only, and every value the search may produce (each choice, both bounds)
    passes its rule: `rules` maps a name to (predicate, what the message says it must be)."""
    check_space(space, set(rules), where)
    for name, spec in space.items():
        rule, message = rules[name]
        for value in space_values(spec):
            require(rule(value), f"{where}.{name}", f"{message}, got {value!r}")


def compile_classifier(model, learning_rate: float):
    """Adam on sparse categorical cross-entropy, with the accuracy the search scores trials by."""
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def save_keras(model, directory: Path) -> None:
    model.save(directory / KERAS_FILE)
    # Keras stamps the archive with the save time and the config with object ids of this
    # process; equal weights must give equal bytes.
    restamp_zip(directory / KERAS_FILE, rewrite=KERAS_VOLATILE)


def load_keras(directory: Path):
    archive = Path(directory) / KERAS_FILE
    # Checked before Keras is imported: Keras calls any non-zip file "not found", and
    # importing TensorFlow for a file that is not a model only adds its log lines.
    if not zipfile.is_zipfile(archive):
        raise InputError(f"{archive}: not a Keras model archive (a .keras file is a zip)")
    import keras

    return keras.models.load_model(archive, safe_mode=True)


def predict_padded(model, X, n_labels: int) -> np.ndarray:
    """Probabilities of the rows of `X` (token ids, or a sparse matrix), PREDICT_BATCH at a
    time, every batch padded to that many rows: kernels picked per traced shape differ in the
    last float bit, so a title would otherwise score differently alone, in a batch, or after
    reloading. predict_on_batch skips tf.data, whose set-up costs more than a small batch."""
    proba = [np.zeros((0, n_labels), dtype=np.float32)]
    for start in range(0, X.shape[0], PREDICT_BATCH):
        batch = X[start : start + PREDICT_BATCH]
        rows = batch.shape[0]
        if scipy.sparse.issparse(batch):
            batch.resize((PREDICT_BATCH, batch.shape[1]))  # empty rows below
            full = sparse_tensor(batch)
        else:
            full = np.zeros((PREDICT_BATCH, batch.shape[1]), dtype=batch.dtype)
            full[:rows] = batch
        proba.append(model.predict_on_batch(full)[:rows])
    return np.concatenate(proba)


def seed_everything(seed: int) -> None:
    """Same seed, same data -> bit-identical weights (op determinism costs a little speed)."""
    import keras
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(seed)


@dataclasses.dataclass(frozen=True, eq=False)
class Rows:
    """The rows `index` (in this order) of a split whose features `X` usually stay on disk
    (memory-mapped sequences) or in one sparse matrix: a fit passes indices around and reads
    one batch at a time."""

    X: np.ndarray | scipy.sparse.csr_matrix
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


def split_holdout(rows: Rows, params: KerasParams, where: str, knob: str):
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
    """(features, label ids) of `rows` in `order` (positions), `size` rows at a time."""
    for start in range(0, len(order), size):
        chosen = rows.index[order[start : start + size]]
        yield np.asarray(rows.X[chosen]), rows.y[chosen]


def sparse_tensor(X: scipy.sparse.csr_matrix):
    """A CSR matrix as the tf.SparseTensor a Keras sparse input takes (row-major order)."""
    import tensorflow as tf

    coo = X.tocoo()
    indices = np.stack([coo.row, coo.col], axis=1).astype(np.int64)
    return tf.SparseTensor(indices, coo.data.astype(np.float32), coo.shape)


def as_dataset(rows: Rows, params: KerasParams, shuffle: bool):
    """Batches read as the fit asks for them: memory is a chunk of batches plus the index
    arrays, whatever the number of rows. Shuffled by a permutation of the positions drawn
    anew each time Keras iterates (every epoch), from the seed and the count of iterations so
    far, so a fit's order is reproducible; one Python generator feeds it, so no parallel reads
    can reorder batches. Sparse features go one batch per read, as a tf.SparseTensor."""
    import tensorflow as tf

    iterations = itertools.count()
    sparse = scipy.sparse.issparse(rows.X)

    def generate():
        order = np.arange(len(rows))
        if shuffle:
            rng = np.random.default_rng([params.seed, next(iterations)])
            order = rng.permutation(len(rows))
        if sparse:
            for start in range(0, len(order), params.batch_size):
                chosen = rows.index[order[start : start + params.batch_size]]
                yield sparse_tensor(rows.X[chosen]), rows.y[chosen]
            return
        # Whole batches per chunk, so chunk boundaries are batch boundaries.
        yield from chunks(rows, params.batch_size * CHUNK_BATCHES, order)

    if sparse:
        features = tf.SparseTensorSpec((None, rows.X.shape[1]), tf.float32)
    else:
        features = tf.TensorSpec((None, rows.X.shape[1]), tf.as_dtype(rows.X.dtype))
    spec = (features, tf.TensorSpec((None,), tf.as_dtype(rows.y.dtype)))
    steps = -(-len(rows) // params.batch_size)
    data = tf.data.Dataset.from_generator(generate, output_signature=spec)
    if not sparse:
        data = data.flat_map(
            lambda X, y: tf.data.Dataset.from_tensor_slices((X, y)).batch(params.batch_size)
        )
    # A known length lets Keras count steps per epoch.
    return data.apply(tf.data.experimental.assert_cardinality(steps))


def seeded_model(values: dict, build: Build, params: KerasParams):
    """Reseeding before every build (and so before its data pipeline) makes trials differ only
    by their hyperparameters, and retraining the best trial reproduces its weights exactly."""
    seed_everything(params.seed)
    return build(values)


def fit_model(model, fit, holdout, params: KerasParams, callbacks=()):
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


def make_hypermodel(name: str, build: Build, params):
    """Built lazily: importing keras_tuner pulls in TensorFlow."""
    import keras_tuner

    class SeededHyperModel(keras_tuner.HyperModel):
        def build(self, hp):
            return seeded_model(declare(hp, params.space), build, params)

        def fit(self, hp, model, fit, holdout, callbacks=()):
            return fit_model(model, fit, holdout, params, callbacks)

    return SeededHyperModel(name=name)


def tune(name: str, build: Build, params, fit, holdout):
    """Bayesian search scored by the best epoch's holdout accuracy; returns the trial history."""
    import keras_tuner

    with tempfile.TemporaryDirectory(prefix=f"tuner-{name}-") as workdir:
        tuner = with_progress(keras_tuner.BayesianOptimization, name)(
            make_hypermodel(name, build, params),
            objective=OBJECTIVE,
            max_trials=params.max_trials,
            seed=params.seed,
            num_initial_points=min(params.num_initial_points, params.max_trials),
            directory=workdir,
            project_name=name,
            overwrite=True,
        )
        tuner.search(fit, holdout)
        return trial_history(tuner.oracle, OBJECTIVE)


def fit_final(best: dict, build: Build, params, fit, holdout, live_dir: Path | str):
    """Retrain the best trial, logging each epoch with dvclive."""
    from dvclive.keras import DVCLiveCallback

    from dvclive import Live

    model = seeded_model(best, build, params)
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


def search_and_fit(
    name: str,
    build: Build,
    params: KerasParams,
    X,
    y: np.ndarray,
    check_memory: Callable[[dict[str, int]], None],
    live_dir: Path | str | None = None,
):
    """Tune on a stratified sample of train (`tune_rows`), retrain the best on all of it (or
    on a `max_train_rows` sample). `check_memory` gets the rows each sampling knob lets a fit
    use, before anything is fitted. Returns (Keras model, best hyperparameters, history);
    dvclive logs go to `live_dir` (default dvclive/<name>)."""
    where = f"train_{name}"
    searched = sample_rows(X, y, params.tune_rows, params.seed)
    refitted = sample_rows(X, y, params.max_train_rows, params.seed)
    check_memory({"max_train_rows": len(refitted), "tune_rows": len(searched)})
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
        name,
        params.max_trials,
        len(fit),
        len(y),
        len(holdout),
        params.epochs,
    )
    history = tune(name, build, params, fit, holdout)
    history["hyperparameters"] = history["hyperparameters"].map(plain_values)
    best = best_hyperparameters(history, name)
    log.info(
        "%s: best %s (holdout accuracy %.4f); retraining it on %d rows (holdout %d)",
        name,
        best,
        history["accuracy"].max(),
        len(final[0]),
        len(final[1]),
    )
    model = fit_final(best, build, params, *final, live_dir=live_dir or f"dvclive/{name}")
    return model, best, history
