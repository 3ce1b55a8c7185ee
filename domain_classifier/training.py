"""The one training entry point: every `train_<family>` stage is this command for its family."""

from __future__ import annotations

import time
from pathlib import Path

import click
import pandas as pd

from domain_classifier.data.tables import write_json, write_table
from domain_classifier.families.family import Family
from domain_classifier.models.saved import save_model
from domain_classifier.planning.settings import load_planned, load_threads
from domain_classifier.stage import PARAMS_OPTION, stage
from domain_classifier.threads import limited_to, resolve_threads


def save_training(
    model, best: dict, history, model_dir, metrics_file, trials_file, score: str
) -> None:
    """Write the model (with its best hyperparameters), the tuning score and the trial history."""
    save_model(model, model_dir, extra={"best_hyperparameters": best})
    write_json(
        {
            score: float(history["accuracy"].max()),
            "trials": int(len(history)),
            "best": best,
        },
        metrics_file,
    )
    write_table(flat_history(history), trials_file)


def flat_history(history: pd.DataFrame) -> pd.DataFrame:
    """One column per hyperparameter (`hp_<name>`) instead of a dict column."""
    return history.drop(columns="hyperparameters").join(
        pd.json_normalize(history["hyperparameters"].tolist()).add_prefix("hp_")
    )


def training_command(family: Family) -> click.Command:
    """The click command the stage script `stages/train_<family>.py` exposes."""

    @click.command(name=family.section, help=f"Tune, fit and save the {family.name} model.")
    @PARAMS_OPTION
    @click.option("--features", default="data/features", show_default=True)
    @click.option("--out", default=f"models/{family.name}", show_default=True)
    @click.option("--metrics", default=f"metrics/train/{family.name}.json", show_default=True)
    @click.option("--trials", default=f"plots/tuning/{family.name}.csv", show_default=True)
    @click.option(
        "--plan",
        "plan_file",
        default=f"data/plan/{family.name}.json",
        show_default=True,
        help="The plan stage's settings, for the sample sizes, trials and folds params leave out.",
    )
    @click.option(
        "--split-dir",
        default="data/split",
        show_default=True,
        help="The splits: train's titles for a family that makes its own features, validation "
        "and test scored for the MLflow run.",
    )
    @stage
    def command(params_file, features, out, metrics, trials, plan_file, split_dir):
        # The MLflow mirror writes no DVC output, so it is no dependency of the stage.
        from domain_classifier.tracking.runs import connect, mirror
        from domain_classifier.tracking.training_run import log_training

        params = load_planned(family, params_file, plan_file)
        started = time.perf_counter()
        tracking = connect(params_file)  # before training: a required store fails fast
        connected = time.perf_counter()
        titles = {"split_dir": Path(split_dir)} if family.reads_titles else {}
        with limited_to(resolve_threads(load_threads(params_file))):
            model, best, history = family.train(params, Path(features), family.name, **titles)
        save_training(model, best, history, out, metrics, trials, family.tuning_score)
        trained = time.perf_counter()
        mirror(
            tracking,
            log_training,
            family=family,
            model=model,
            model_dir=out,
            best=best,
            history=history,
            section=params,
            split_dir=split_dir,
            seconds=trained - connected,
        )
        mirror_seconds = connected - started + time.perf_counter() - trained
        click.echo(
            f"{family.name}: best {best}, {family.tuning_score.replace('_', ' ')} "
            f"{history['accuracy'].max():.4f}; "
            f"MLflow mirror took {mirror_seconds:.1f} s"
        )

    return command
