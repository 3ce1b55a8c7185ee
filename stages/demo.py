"""Stage demo: generate the built-in demo catalogue and the default batch to score."""

import dataclasses

import click

from domain_classifier.params import load_section, require
from domain_classifier.stage import PARAMS_OPTION, stage


@dataclasses.dataclass(frozen=True)
class DemoParams:
    rows: int = 20000
    batch_rows: int = 5000
    seed: int = 42
    label_noise: float = 0.02
    zipf_exponent: float = 1.0
    spanish_share: float = 0.3

    def check(self, where: str) -> None:
        require(self.rows >= 1, f"{where}.rows", f"must be >= 1, got {self.rows}")
        require(self.batch_rows >= 1, f"{where}.batch_rows", f"must be >= 1, got {self.batch_rows}")


@click.command()
@PARAMS_OPTION
@click.option("--catalogue", default="data/demo/catalogue.parquet", show_default=True)
@click.option("--batch", default="data/demo/batch.parquet", show_default=True)
@stage
def main(params_file, catalogue, batch):
    """Write a labelled demo catalogue and a batch of new titles from the same distribution."""
    from domain_classifier.demo.generator import generate_batch, generate_catalogue

    params = load_section(DemoParams, "demo", params_file)
    shape = dict(
        label_noise=params.label_noise,
        zipf_exponent=params.zipf_exponent,
        spanish_share=params.spanish_share,
    )
    try:
        summary = generate_catalogue(catalogue, params.rows, params.seed, **shape)
        generate_batch(batch, params.batch_rows, params.seed, **shape)
    except ValueError as exc:
        raise click.ClickException(f"params demo: {exc}") from None
    click.echo(
        f"demo catalogue: {summary['rows']} rows, {summary['domains']} domains; "
        f"batch: {params.batch_rows} rows"
    )


if __name__ == "__main__":
    main()
