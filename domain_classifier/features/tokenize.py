"""Text features fitted on train only: TF-IDF n-gram blocks and padded token-id sequences."""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter

import numpy as np
import scipy.sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from domain_classifier.errors import InputError
from domain_classifier.features.char_ngrams import transform_block
from domain_classifier.features.text import TOKEN_PATTERN, UNICODE_FORMS, TextSettings, tokens
from domain_classifier.params import MAX_SEED, require, require_ngram_ranges

PAD_ID, OOV_ID = 0, 1
TFIDF_BLOCKS = ("word", "char")
VOLATILE = ("stop_words_", "_stop_words_id")
MAX_SEQUENCE_LENGTH = 1024


@dataclasses.dataclass(frozen=True)
class TokenizeParams:
    unicode_form: str = "NFKC"
    lowercase: bool = True
    strip_accents: bool = True
    word_ngram_range: list[int] = dataclasses.field(default_factory=lambda: [1, 2])
    word_max_features: int = 30000
    char_ngram_range: list[int] = dataclasses.field(default_factory=lambda: [2, 5])
    char_max_features: int = 50000
    min_df: int = 2
    sublinear_tf: bool = True
    vocab_size: int = 20000
    sequence_length: int = 32
    # At scale the n-gram and token vocabularies are fitted on a stratified sample of train
    # (every split is still transformed whole); 0: all of train.
    fit_rows: int = 0
    seed: int = 0

    def check(self, where: str) -> None:
        require(
            self.unicode_form in UNICODE_FORMS,
            f"{where}.unicode_form",
            f"must be one of {', '.join(UNICODE_FORMS)}, got {self.unicode_form!r}",
        )
        require_ngram_ranges(self, where)
        for name in ("word_max_features", "char_max_features", "min_df", "sequence_length"):
            require(getattr(self, name) >= 1, f"{where}.{name}", "must be >= 1")
        # Titles are a few dozen tokens; the padded matrix is rows x length int32 in memory.
        require(
            self.sequence_length <= MAX_SEQUENCE_LENGTH,
            f"{where}.sequence_length",
            f"must be <= {MAX_SEQUENCE_LENGTH} (titles are short), got {self.sequence_length}",
        )
        require(self.vocab_size >= 3, f"{where}.vocab_size", "must be >= 3 (pad, unknown, a word)")
        require(self.fit_rows >= 0, f"{where}.fit_rows", "must be >= 0 (0: all of train)")
        require(0 <= self.seed <= MAX_SEED, f"{where}.seed", f"must be in 0..{MAX_SEED}")

    @property
    def text(self) -> TextSettings:
        return TextSettings(self.unicode_form, self.lowercase, self.strip_accents)

    @property
    def normalizer(self):
        return self.text.normalize


def tfidf_block(name: str, params: TokenizeParams) -> TfidfVectorizer:
    """One unfitted TF-IDF block over already normalised titles."""
    common = dict(
        lowercase=False, min_df=params.min_df, sublinear_tf=params.sublinear_tf, dtype=np.float32
    )
    if name == "word":
        return TfidfVectorizer(
            analyzer="word",
            token_pattern=TOKEN_PATTERN,
            ngram_range=tuple(params.word_ngram_range),
            max_features=params.word_max_features,
            **common,
        )
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=tuple(params.char_ngram_range),
        max_features=params.char_max_features,
        **common,
    )


class TitleVectorizer:
    """TF-IDF blocks side by side over titles normalised as in training.

    The normalisation is carried as data (TextSettings), not as a pickled function, so a
    saved model always applies what it was trained with.
    """

    def __init__(self, text: TextSettings, blocks: dict[str, TfidfVectorizer]):
        self.text, self.blocks = text, dict(blocks)

    def fit(self, titles) -> TitleVectorizer:
        normalized = self.normalize(titles)
        for block in self.blocks.values():
            block.fit(normalized)
        return self

    def __getstate__(self) -> dict:
        # Per-process values would make equal vectorizers save to different bytes: a set
        # ordered by the hash seed (informational; scikit-learn documents removing it) and
        # the id() of the stop-word list (a cache key, set again by every transform).
        # Each vocabulary goes out as two arrays: skops would write one entry per term.
        blocks, vocabularies = {}, {}
        for name, block in self.blocks.items():
            blocks[name] = copy.copy(block)
            for volatile in VOLATILE:
                vars(blocks[name]).pop(volatile, None)
            vocabulary = vars(blocks[name]).pop("vocabulary_", None)
            if vocabulary is not None:
                vocabularies[name] = [
                    np.array(list(vocabulary), dtype=str),
                    np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary)),
                ]
        return {**vars(self), "blocks": blocks, "vocabularies": vocabularies}

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        vocabularies = state.pop("vocabularies", {})
        vars(self).update(state)
        for name, (terms, ids) in vocabularies.items():
            self.blocks[name].vocabulary_ = dict(zip(terms.tolist(), ids.tolist()))

    def normalize(self, titles) -> list[str]:
        return [self.text.normalize(title) for title in titles]

    def transform(self, titles) -> scipy.sparse.csr_matrix:
        normalized = self.normalize(titles)
        # As FeatureUnion stacks them, so features (and so models) stay bit-identical.
        blocks = [transform_block(b, normalized) for b in self.blocks.values()]
        return scipy.sparse.hstack(blocks).tocsr()

    def only(self, name: str) -> TitleVectorizer:
        return TitleVectorizer(self.text, {name: self.blocks[name]})

    @classmethod
    def combine(cls, parts: list[TitleVectorizer]) -> TitleVectorizer:
        blocks = {name: block for part in parts for name, block in part.blocks.items()}
        return cls(parts[0].text, blocks)

    def get_feature_names_out(self) -> list[str]:
        """Column names as FeatureUnion gives them: `<block>__<n-gram>`."""
        return [
            f"{name}__{feature}"
            for name, block in self.blocks.items()
            for feature in block.get_feature_names_out()
        ]

    def n_features(self) -> int:
        return sum(len(b.vocabulary_) for b in self.blocks.values())


def make_vectorizer(params: TokenizeParams) -> TitleVectorizer:
    """Word and character TF-IDF side by side; both see the normalised title."""
    return TitleVectorizer(params.text, {name: tfidf_block(name, params) for name in TFIDF_BLOCKS})


def fit_vectorizer(titles: list[str], params: TokenizeParams, source: str) -> TitleVectorizer:
    """Fit on train titles, or say in one line why these titles and params give no features."""
    require(
        params.min_df <= len(titles),
        "tokenize.min_df",
        f"is {params.min_df}, but train has only {len(titles)} titles",
    )
    try:
        return make_vectorizer(params).fit(titles)
    except ValueError as exc:  # scikit-learn: empty vocabulary, min_df beyond max_df, ...
        raise InputError(
            f"{source}: no TF-IDF features from {len(titles)} train titles ({exc}); "
            f"check the titles or lower tokenize.min_df"
        ) from None


def build_vocabulary(titles, params: TokenizeParams) -> list[str]:
    """Most frequent train tokens, ties broken alphabetically so the vocabulary is stable."""
    normalize = params.text.normalize
    counts = Counter(tok for title in titles for tok in tokens(normalize(title)))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [tok for tok, _ in ranked[: params.vocab_size - 2]]


def encode_sequences(titles, vocabulary: list[str], text: TextSettings, length: int) -> np.ndarray:
    """Token ids (0 = padding, 1 = unknown), truncated and right-padded to `length`."""
    index = {tok: i + 2 for i, tok in enumerate(vocabulary)}
    out = np.full((len(titles), length), PAD_ID, dtype=np.int32)
    for row, title in enumerate(titles):
        ids = [index.get(tok, OOV_ID) for tok in tokens(text.normalize(title))][:length]
        out[row, : len(ids)] = ids
    return out
