"""Stage ingest: read and validate the raw catalogue named by params data.source."""

import click

from domain_classifier.stage import PARAMS_OPTION, stage


@click.command()
@PARAMS_OPTION
@click.option(
    "--out",
    default="data/ingested/catalogue.parquet",
    show_default=True,
    help="Canonical (title, domain) table to write.",
)
@stage
def main(params_file, out):
    """Write the canonical (title, domain) table that split reads."""
    from domain_classifier.data.ingest import DataParams, ingest
    from domain_classifier.data.tables import write_table
    from domain_classifier.params import load_section

    params = load_section(DataParams, "data", params_file)
    frame = ingest(params)
    write_table(frame, out)
    click.echo(
        f"ingested {len(frame)} rows, {frame['domain'].nunique()} domains from {params.source}"
    )


if __name__ == "__main__":
    main()
