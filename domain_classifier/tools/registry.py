"""Is `@champion` the DVC champion? `status` says (exit 1 when not), `sync` repairs it.

domain-classifier registry status
domain-classifier registry sync    # `make run` calls it after `dvc repro`
"""

from __future__ import annotations

import click

from domain_classifier.stage import PARAMS_OPTION, stage
from domain_classifier.store.client import project_root
from domain_classifier.tracking.champion import (
    ALIAS,
    CHAMPION_DIR,
    connected,
    dvc_champion,
    ensure_champion,
    registry_champion,
)
from domain_classifier.tracking.runs import connect


@click.group()
def main():
    """Compare or align the MLflow registry's champion with DVC's."""


@main.command()
@PARAMS_OPTION
@stage
def status(params_file):
    """Print both champions; exit 1 unless they are the same model."""
    from mlflow import MlflowClient

    params = connected(params_file)
    wanted = dvc_champion(project_root())
    current = registry_champion(MlflowClient(), params)
    click.echo(f"DVC champion:      {wanted.family} {wanted.model_md5} (models/champion)")
    if current is None:
        click.echo(f"registry champion: none ({params.registered_model}@{ALIAS} is not set)")
    else:
        click.echo(
            f"registry champion: {current.family} {current.model_md5 or '(no hash recorded)'} "
            f"({params.registered_model} version {current.version})"
        )
    if not wanted.same_model(current):
        click.echo("they differ: run `domain-classifier registry sync`")
        raise SystemExit(1)
    click.echo("they agree")


@main.command()
@PARAMS_OPTION
@stage
def sync(params_file):
    """Point `@champion` at the DVC champion if it does not already name it."""
    if not (project_root() / CHAMPION_DIR).is_dir():  # checked first: connecting creates a store
        click.echo(f"no DVC champion ({CHAMPION_DIR}) yet: nothing to sync")
        return
    if connect(params_file) is None:  # warned; with mlflow.required it raised instead
        click.echo(f"@{ALIAS} not checked: run this again once the tracking store is back")
        return
    version = ensure_champion(params_file)
    click.echo(f"@{ALIAS} is version {version}, the DVC champion")


if __name__ == "__main__":
    main()
