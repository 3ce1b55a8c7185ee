"""What every stage script shares: logging, quiet TensorFlow, one-line errors."""
from __future__ import annotations

import functools
import logging
import os
import time

import click

from domain_classifier.errors import InputError

# Must be set before TensorFlow is first imported, or its C++ banner floods the stage log.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Progress bars for local artifact copies only clutter the stage log.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

PARAMS_OPTION = click.option("--params", "params_file", default="params.yaml", show_default=True,
                             type=click.Path(dir_okay=False), help="Params file to read.")


def stage(func):
    """Run a stage body with logging set up; turn InputError into one line and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s",
                            datefmt="%H:%M:%S")
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def training_command(family: str) -> click.Command:
    """The click command every train_<family> stage script exposes."""

    @click.command(name=f"train_{family}", help=f"Tune, fit and save the {family} model.")
    @PARAMS_OPTION
    @click.option("--features", default="data/features", show_default=True)
    @click.option("--out", default=f"models/{family}", show_default=True)
    @click.option("--metrics", default=f"metrics/train/{family}.json", show_default=True)
    @click.option("--trials", default=f"plots/tuning/{family}.csv", show_default=True)
    @click.option("--split-dir", default="data/split", show_default=True,
                  help="Validation and test splits, scored for the MLflow run only.")
    @stage
    def command(params_file, features, out, metrics, trials, split_dir):
        from domain_classifier.tracking.training_run import log_training
        from domain_classifier.tracking.mlflow_store import connect, mirror
        from domain_classifier.families.training import family_params, save_training, train_family

        params = family_params(family, params_file)
        started = time.perf_counter()
        tracking = connect(params_file)  # before training: a required store fails fast
        connected = time.perf_counter()
        model, best, history = train_family(family, params, features, params_file)
        save_training(model, best, history, out, metrics, trials)
        trained = time.perf_counter()
        mirror(tracking, log_training, family=family, model=model, model_dir=out, best=best,
               history=history, section=params, split_dir=split_dir,
               seconds=trained - connected)
        mirror_seconds = connected - started + time.perf_counter() - trained
        click.echo(f"{family}: best {best}, cv accuracy {history['accuracy'].max():.4f}; "
                   f"MLflow mirror took {mirror_seconds:.1f} s")

    return command
