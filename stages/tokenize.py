"""Stage tokenize: fit text processing on train; write each feature set to its own folder."""

from pathlib import Path

import click

from domain_classifier.stage import PARAMS_OPTION, stage


@click.command()
@PARAMS_OPTION
@click.option("--split-dir", default="data/split", show_default=True)
@click.option("--out-dir", default="data/features", show_default=True)
@stage
def main(params_file, split_dir, out_dir):
    """Fit on train only, transform every split."""
    from domain_classifier.data.schema import COLUMNS, DOMAIN, TITLE
    from domain_classifier.data.split import SPLITS
    from domain_classifier.data.tables import atomic_dir, read_table
    from domain_classifier.features import files
    from domain_classifier.features.tokenize import (
        TFIDF_BLOCKS,
        TokenizeParams,
        build_vocabulary,
        encode_sequences,
        make_vectorizer,
    )
    from domain_classifier.params import load_section

    params = load_section(TokenizeParams, "tokenize", params_file)
    frames = {s: read_table(Path(split_dir) / f"{s}.parquet", COLUMNS) for s in SPLITS}
    titles = {name: frame[TITLE].tolist() for name, frame in frames.items()}
    out = Path(out_dir)
    labels = sorted(frames["train"][DOMAIN].unique())
    label_ids = {label: i for i, label in enumerate(labels)}
    with atomic_dir(out / files.LABELS) as staging:
        files.write_labels(
            staging,
            labels,
            {name: frame[DOMAIN].map(label_ids).to_numpy() for name, frame in frames.items()},
        )
    vectorizer = make_vectorizer(params).fit(titles["train"])
    for block in TFIDF_BLOCKS:
        part = vectorizer.only(block)
        with atomic_dir(out / files.tfidf_set(block)) as staging:
            files.write_tfidf(staging, part, {n: part.transform(t) for n, t in titles.items()})
    vocabulary = build_vocabulary(titles["train"], params)
    encode = {
        n: encode_sequences(t, vocabulary, params.text, params.sequence_length)
        for n, t in titles.items()
    }
    with atomic_dir(out / files.SEQUENCES) as staging:
        files.write_sequences(staging, vocabulary, params.text, params.sequence_length, encode)
    click.echo(
        f"{vectorizer.n_features()} TF-IDF features, {len(vocabulary) + 2} token ids, "
        f"{len(labels)} domains"
    )


if __name__ == "__main__":
    main()
