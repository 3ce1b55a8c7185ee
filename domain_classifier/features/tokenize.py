"""Text features fitted on train only: TF-IDF n-grams and padded token-id sequences."""
from __future__ import annotations

import dataclasses
import functools
from collections import Counter

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from domain_classifier.params import require
from domain_classifier.features.text import TOKEN_PATTERN, UNICODE_FORMS, normalize_title, tokens

PAD_ID, OOV_ID = 0, 1


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

    def check(self, where: str) -> None:
        require(self.unicode_form in UNICODE_FORMS, f"{where}.unicode_form",
                f"must be one of {', '.join(UNICODE_FORMS)}, got {self.unicode_form!r}")
        for name in ("word_ngram_range", "char_ngram_range"):
            low_high = getattr(self, name)
            require(len(low_high) == 2 and 1 <= low_high[0] <= low_high[1],
                    f"{where}.{name}", f"must be [low, high] with 1 <= low <= high, got {low_high}")
        for name in ("word_max_features", "char_max_features", "min_df", "sequence_length"):
            require(getattr(self, name) >= 1, f"{where}.{name}", "must be >= 1")
        require(self.vocab_size >= 3, f"{where}.vocab_size", "must be >= 3 (pad, unknown, a word)")

    @property
    def normalizer(self):
        return functools.partial(normalize_title, unicode_form=self.unicode_form,
                                 lowercase=self.lowercase, strip_accents=self.strip_accents)


def make_vectorizer(params: TokenizeParams) -> FeatureUnion:
    """Word and character TF-IDF side by side; both see the normalised title."""
    common = dict(preprocessor=params.normalizer, min_df=params.min_df,
                  sublinear_tf=params.sublinear_tf, dtype=np.float32)
    word = TfidfVectorizer(analyzer="word", token_pattern=TOKEN_PATTERN,
                           ngram_range=tuple(params.word_ngram_range),
                           max_features=params.word_max_features, **common)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(params.char_ngram_range),
                           max_features=params.char_max_features, **common)
    return FeatureUnion([("word", word), ("char", char)])


def build_vocabulary(titles, params: TokenizeParams) -> list[str]:
    """Most frequent train tokens, ties broken alphabetically so the vocabulary is stable."""
    counts = Counter(tok for title in titles for tok in tokens(params.normalizer(title)))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [tok for tok, _ in ranked[: params.vocab_size - 2]]


def encode_sequences(titles, vocabulary: list[str], params: TokenizeParams) -> np.ndarray:
    """Token ids (0 = padding, 1 = unknown), truncated and right-padded to sequence_length."""
    index = {tok: i + 2 for i, tok in enumerate(vocabulary)}
    out = np.full((len(titles), params.sequence_length), PAD_ID, dtype=np.int32)
    for row, title in enumerate(titles):
        ids = [index.get(tok, OOV_ID) for tok in tokens(params.normalizer(title))]
        ids = ids[: params.sequence_length]
        out[row, : len(ids)] = ids
    return out
