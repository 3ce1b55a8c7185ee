"""Stage tokenize: fit text processing on train; write each feature set to its own folder."""

import contextlib
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
    from domain_classifier.data.sampling import stratified_sample
    from domain_classifier.data.schema import COLUMNS, DOMAIN, TITLE
    from domain_classifier.data.split import SPLITS
    from domain_classifier.data.tables import atomic_dir, read_table
    from domain_classifier.features import files
    from domain_classifier.features.tokenize import (
        TFIDF_BLOCKS,
        TokenizeParams,
        build_vocabulary,
        encode_sequences,
        fit_vectorizer,
    )
    from domain_classifier.params import load_section

    params = load_section(TokenizeParams, "tokenize", params_file)
    frames = {s: read_table(Path(split_dir) / f"{s}.parquet", COLUMNS) for s in SPLITS}
    titles = {name: frame[TITLE].tolist() for name, frame in frames.items()}
    labels = sorted(frames["train"][DOMAIN].unique())
    label_ids = {label: i for i, label in enumerate(labels)}
    train_ids = frames["train"][DOMAIN].map(label_ids).to_numpy()
    fitted_on = [
        titles["train"][i] for i in stratified_sample(train_ids, params.fit_rows, params.seed)
    ]
    vectorizer = fit_vectorizer(fitted_on, params, f"{split_dir}/train.parquet")
    vocabulary = build_vocabulary(fitted_on, params)
    out = Path(out_dir)
    # Every folder is staged and moved in only when all four are written: a failure leaves
    # the previous features whole, never a mixture of old and new.
    with contextlib.ExitStack() as stack:
        staged = {name: stack.enter_context(atomic_dir(out / name)) for name in files.FOLDERS}
        files.write_labels(
            staged[files.LABELS],
            labels,
            {name: frame[DOMAIN].map(label_ids).to_numpy() for name, frame in frames.items()},
        )
        for block in TFIDF_BLOCKS:
            part = vectorizer.only(block)
            matrices = {n: part.transform(t) for n, t in titles.items()}
            files.write_tfidf(staged[files.tfidf_set(block)], part, matrices)
        encode = {
            n: encode_sequences(t, vocabulary, params.text, params.sequence_length)
            for n, t in titles.items()
        }
        files.write_sequences(
            staged[files.SEQUENCES], vocabulary, params.text, params.sequence_length, encode
        )
    click.echo(
        f"{vectorizer.n_features()} TF-IDF features, {len(vocabulary) + 2} token ids, "
        f"{len(labels)} domains; fitted on {len(fitted_on)} of {len(titles['train'])} train titles"
    )


if __name__ == "__main__":
    main()
