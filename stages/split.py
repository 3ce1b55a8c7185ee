"""Stage split: deduplicate and split the canonical table into train/val/test."""

from pathlib import Path

import click

from domain_classifier.stage import PARAMS_OPTION, stage


@click.command()
@PARAMS_OPTION
@click.option("--data", default="data/ingested/catalogue.parquet", show_default=True)
@click.option("--out-dir", default="data/split", show_default=True)
@click.option("--metrics", default="metrics/split.json", show_default=True)
@stage
def main(params_file, data, out_dir, metrics):
    """Write train/val/test tables, per-domain counts and split metrics."""
    from domain_classifier.data.split import SplitParams, split_catalogue, split_counts
    from domain_classifier.data.tables import read_table, write_json, write_table
    from domain_classifier.params import load_section

    params = load_section(SplitParams, "split", params_file)
    splits, summary = split_catalogue(read_table(data, ["title", "domain"]), params)
    totals, per_domain = split_counts(splits)
    for name, part in splits.items():
        write_table(part, Path(out_dir) / f"{name}.parquet")
    write_table(per_domain, Path(out_dir) / "domain_counts.csv")
    write_json({**totals, **summary}, metrics)
    click.echo(" ".join(f"{k}={v['rows']}" for k, v in totals.items()))


if __name__ == "__main__":
    main()
