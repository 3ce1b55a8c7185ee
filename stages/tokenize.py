"""Stage tokenize: fit text processing on train; write TF-IDF features and token sequences."""
from pathlib import Path

import click
import joblib
import numpy as np
import scipy.sparse

from domain_classifier.stage import PARAMS_OPTION, stage
from domain_classifier.features.tokenize import (TokenizeParams, build_vocabulary, encode_sequences,
                                        make_vectorizer)
from domain_classifier.params import load_section
from domain_classifier.data.split import SPLITS
from domain_classifier.data.tables import read_table, write_json


@click.command()
@PARAMS_OPTION
@click.option("--split-dir", default="data/split", show_default=True)
@click.option("--out-dir", default="data/features", show_default=True)
@stage
def main(params_file, split_dir, out_dir):
    """Fit on train only, transform every split."""
    params = load_section(TokenizeParams, "tokenize", params_file)
    frames = {s: read_table(Path(split_dir) / f"{s}.parquet", ["title", "domain"]) for s in SPLITS}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    labels = sorted(frames["train"]["domain"].unique())
    vectorizer = make_vectorizer(params).fit(frames["train"]["title"].tolist())
    vocabulary = build_vocabulary(frames["train"]["title"], params)
    label_ids = {label: i for i, label in enumerate(labels)}
    for name, frame in frames.items():
        titles = frame["title"].tolist()
        scipy.sparse.save_npz(out / f"tfidf_{name}.npz", vectorizer.transform(titles).tocsr())
        np.save(out / f"sequences_{name}.npy", encode_sequences(titles, vocabulary, params))
        np.save(out / f"labels_{name}.npy", frame["domain"].map(label_ids).to_numpy(np.int32))
    joblib.dump(vectorizer, out / "vectorizer.joblib")
    write_json(labels, out / "labels.json")
    write_json(vocabulary, out / "vocabulary.json")
    click.echo(f"{len(vectorizer.get_feature_names_out())} TF-IDF features, "
               f"{len(vocabulary) + 2} token ids, {len(labels)} domains")


if __name__ == "__main__":
    main()
