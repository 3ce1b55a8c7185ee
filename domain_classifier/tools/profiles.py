"""Apply a params profile (e.g. profiles/small.yaml) on top of params.yaml, section by section."""

from __future__ import annotations

from pathlib import Path

import click
import yaml
from dvc.utils.serialize import modify_yaml

from domain_classifier.errors import InputError


def apply_profile(profile: dict, params: dict, where: str) -> None:
    """Update params in place: each profile section's keys replace the same keys."""
    for section, values in profile.items():
        if section not in params or not isinstance(values, dict):
            raise InputError(f"{where}: section {section!r} is not a params.yaml section mapping")
        params[section].update(values)


@click.command()
@click.argument("profile_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--params",
    "params_file",
    default="params.yaml",
    show_default=True,
    type=click.Path(exists=True, dir_okay=False),
)
def main(profile_file, params_file):
    """Rewrite PARAMS with PROFILE_FILE's values (commit or `git diff` to see the change)."""
    profile = yaml.safe_load(Path(profile_file).read_text()) or {}
    try:
        # DVC's own round-trip editor (as `dvc exp run -S` uses) keeps params.yaml's comments;
        # on an error it writes nothing.
        with modify_yaml(params_file) as params:
            apply_profile(profile, params, profile_file)
    except InputError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"applied {profile_file} to {params_file}")


if __name__ == "__main__":
    main()
