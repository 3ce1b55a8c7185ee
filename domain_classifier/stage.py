"""What every stage script shares: logging, quiet TensorFlow, one-line errors."""

from __future__ import annotations

import functools
import logging
import os

import click

from domain_classifier import quiet_tensorflow
from domain_classifier.errors import InputError, one_line

quiet_tensorflow.install()  # before TensorFlow's first import, wherever that happens
# Progress bars for local artifact copies only clutter the stage log.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

# MLflow loggers that narrate each model log without telling a user anything: the uv files it
# copies (a detail of every run) and "pip version unresolved" (uv environments carry no pip).
QUIET_LOGGERS = ("mlflow.utils.uv_utils", "mlflow.utils.environment")

PARAMS_OPTION = click.option(
    "--params",
    "params_file",
    default="params.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Params file to read.",
)

TRUST_OPTION = click.option(
    "--trust",
    is_flag=True,
    help="Load the model even if its hash is not one dvc.lock (or its MLflow run) recorded.",
)


def stage(func):
    """Run a stage body with logging set up; turn InputError into one line and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S"
        )
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            # One line even when a value in the message (a column name, say) holds a newline.
            raise click.ClickException(one_line(exc)) from None
        except OSError as exc:  # a full disk, a read-only folder: the system's reason, one line
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(one_line(f"{where}{exc.strerror or exc}")) from None
        except MemoryError:
            raise click.ClickException(
                "out of memory; lower the sizes in params.yaml (rows, features, batch sizes)"
            ) from None

    return wrapper
