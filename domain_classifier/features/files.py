"""Where the tokenize stage writes each feature set, and how consumers read one back.

One folder per feature set (`data/features/<set>`), each a separate DVC output, so a change
that leaves a set's bytes alone (say, character n-grams for the sequence models) does not
rerun the families that read only that set.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import scipy.sparse

from domain_classifier.data.archives import (
    load_skops,
    load_sparse,
    save_array,
    save_skops,
    save_sparse,
)
from domain_classifier.data.tables import read_json, write_json
from domain_classifier.features.text import TextSettings
from domain_classifier.features.tokenize import TFIDF_BLOCKS, TitleVectorizer
from domain_classifier.trusted_types import VECTORIZER_TYPES

LABELS, SEQUENCES = "labels", "sequences"
VECTORIZER_FILE = "vectorizer.skops"


def tfidf_set(block: str) -> str:
    return f"tfidf_{block}"


FOLDERS = (LABELS, *(tfidf_set(block) for block in TFIDF_BLOCKS), SEQUENCES)


def write_labels(directory: Path, labels: list[str], ids: dict[str, np.ndarray]) -> None:
    write_json(labels, directory / "labels.json")
    for split, values in ids.items():
        save_array(values.astype(np.int32), directory / f"{split}.npy")


def read_labels(features_dir: Path | str, split: str | None = None):
    """The label names, or with `split` the label ids of that split."""
    directory = Path(features_dir) / LABELS
    if split is None:
        return read_json(directory / "labels.json")
    return np.load(directory / f"{split}.npy")


def write_tfidf(directory: Path, vectorizer: TitleVectorizer, matrices: dict) -> None:
    save_skops(vectorizer, directory / VECTORIZER_FILE)
    for split, matrix in matrices.items():
        save_sparse(matrix, directory / f"{split}.npz")


def read_tfidf(features_dir: Path | str, blocks, split: str) -> scipy.sparse.csr_matrix:
    """One split's TF-IDF blocks side by side, in the order the vectorizer stacks them."""
    parts = [load_sparse(Path(features_dir) / tfidf_set(b) / f"{split}.npz") for b in blocks]
    return scipy.sparse.hstack(parts).tocsr() if len(parts) > 1 else parts[0]


def read_vectorizer(features_dir: Path | str, blocks) -> TitleVectorizer:
    directory = Path(features_dir)
    parts = [
        load_skops(directory / tfidf_set(b) / VECTORIZER_FILE, VECTORIZER_TYPES) for b in blocks
    ]
    return TitleVectorizer.combine(parts)


def write_sequences(
    directory: Path,
    vocabulary: list[str],
    text: TextSettings,
    length: int,
    sequences: dict[str, np.ndarray],
) -> None:
    write_json(vocabulary, directory / "vocabulary.json")
    write_json(
        {"text": dataclasses.asdict(text), "sequence_length": length}, directory / "encoding.json"
    )
    for split, values in sequences.items():
        save_array(values, directory / f"{split}.npy")


def read_sequences(features_dir: Path | str, split: str, mmap: bool = False) -> np.ndarray:
    """One split's token ids; with `mmap` read-only and paged in from disk as rows are used,
    so a fit fed batch by batch never holds the whole split."""
    path = Path(features_dir) / SEQUENCES / f"{split}.npy"
    return np.load(path, mmap_mode="r" if mmap else None)


def read_encoding(features_dir: Path | str) -> tuple[list[str], TextSettings, int]:
    """The vocabulary, normalisation and length the sequences were encoded with."""
    directory = Path(features_dir) / SEQUENCES
    encoding = read_json(directory / "encoding.json")
    return (
        read_json(directory / "vocabulary.json"),
        TextSettings(**encoding["text"]),
        encoding["sequence_length"],
    )
