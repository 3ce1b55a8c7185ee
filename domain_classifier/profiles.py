"""Apply a params profile (e.g. profiles/small.yaml) on top of params.yaml, section by section."""
from __future__ import annotations

from pathlib import Path

import click
import yaml

from domain_classifier.errors import InputError


def apply_profile(profile: dict, params: dict, where: str) -> dict:
    """Return params with each profile section's keys replacing the same keys."""
    out = dict(params)
    for section, values in profile.items():
        if section not in params or not isinstance(values, dict):
            raise InputError(f"{where}: section {section!r} is not a params.yaml section mapping")
        out[section] = {**params[section], **values}
    return out


@click.command()
@click.argument("profile_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--params", "params_file", default="params.yaml", show_default=True,
              type=click.Path(exists=True, dir_okay=False))
def main(profile_file, params_file):
    """Rewrite PARAMS with PROFILE_FILE's values (commit or `git diff` to see the change)."""
    params = yaml.safe_load(Path(params_file).read_text())
    try:
        merged = apply_profile(yaml.safe_load(Path(profile_file).read_text()) or {}, params,
                               profile_file)
    except InputError as exc:
        raise click.ClickException(str(exc)) from None
    Path(params_file).write_text(yaml.safe_dump(merged, sort_keys=False))
    click.echo(f"applied {profile_file} to {params_file}")


if __name__ == "__main__":
    main()
