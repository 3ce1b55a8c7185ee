import os
import subprocess
import sys
import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain_classifier.errors import InputError
from domain_classifier.features import char_ngrams, files
from domain_classifier.features.text import fold_accents, normalize_title
from domain_classifier.features.tokenize import (
    OOV_ID,
    PAD_ID,
    TFIDF_BLOCKS,
    TokenizeParams,
    build_vocabulary,
    encode_sequences,
    make_vectorizer,
)
from domain_classifier.params import parse_dataclass


def test_normalisation_folds_case_accents_and_spaces():
    assert normalize_title("  Sérum  FACIAL Hidratação ") == "serum facial hidratacao"
    assert normalize_title("Sérum", lowercase=False, strip_accents=False) == "Sérum"
    # NFKC turns compatibility characters (full-width digits, ligatures) into plain ones.
    assert normalize_title("ｆｉ３０ml") == "fi30ml"


def test_vocabulary_is_frequency_ranked_and_stable():
    params = TokenizeParams(vocab_size=4)
    vocab = build_vocabulary(["b a", "a c", "c b a"], params)
    assert vocab == ["a", "b"]  # a:3, then b and c tie at 2 -> alphabetical, cut at 4-2


def test_sequences_are_padded_truncated_and_mark_unknown_tokens():
    params = TokenizeParams(sequence_length=3)
    seqs = encode_sequences(
        ["Shampoo Óleo", "x y z w", "shampoo nunca"],
        ["shampoo", "oleo"],
        params.text,
        params.sequence_length,
    )
    assert seqs.shape == (3, 3) and seqs.dtype == np.int32
    assert seqs[0].tolist() == [2, 3, PAD_ID]
    assert seqs[1].tolist() == [OOV_ID] * 3
    assert seqs[2].tolist() == [2, OOV_ID, PAD_ID]


def test_vectorizer_is_fitted_on_given_titles_only():
    params = TokenizeParams(min_df=1, word_ngram_range=[1, 1], char_ngram_range=[3, 3])
    vectorizer = make_vectorizer(params).fit(["shampoo anticaspa", "capinha iphone"])
    names = set(vectorizer.get_feature_names_out())
    assert "word__shampoo" in names and "word__liquidificador" not in names
    unseen = vectorizer.transform(["liquidificador"])
    assert (
        unseen[
            :,
            [i for i, n in enumerate(vectorizer.get_feature_names_out()) if n.startswith("word__")],
        ].nnz
        == 0
    )


@pytest.mark.parametrize(
    "raw, param",
    [
        ({"unicode_form": "NFX"}, "tokenize.unicode_form"),
        ({"char_ngram_range": [5, 2]}, "tokenize.char_ngram_range"),
        ({"vocab_size": 2}, "tokenize.vocab_size"),
        ({"sequence_length": 100_000_000}, "tokenize.sequence_length' must be <= 1024"),
    ],
)
def test_bad_tokenize_params_are_named(raw, param):
    with pytest.raises(InputError, match=param):
        parse_dataclass(TokenizeParams, raw, "tokenize")


def test_blocks_saved_apart_stack_back_to_the_whole(tmp_path):
    titles = [
        "Shampoo Anticaspa 400ml",
        "Capinha iPhone 15",
        "Liquidificador Turbo",
        "Shampoo Óleo",
    ]
    vectorizer = make_vectorizer(TokenizeParams(min_df=1)).fit(titles)
    for block in TFIDF_BLOCKS:
        part = vectorizer.only(block)
        (tmp_path / files.tfidf_set(block)).mkdir()
        files.write_tfidf(
            tmp_path / files.tfidf_set(block), part, {"train": part.transform(titles)}
        )
    whole = vectorizer.transform(titles)
    stacked = files.read_tfidf(tmp_path, TFIDF_BLOCKS, "train")
    assert (whole != stacked).nnz == 0 and whole.shape == stacked.shape
    reloaded = files.read_vectorizer(tmp_path, TFIDF_BLOCKS)
    assert (reloaded.transform(titles) != whole).nnz == 0


def test_saved_vectorizer_holds_no_per_process_value():
    vectorizer = make_vectorizer(TokenizeParams(min_df=2)).fit(["a b", "a c", "a b d"])
    vectorizer.transform(["a b"])  # sets the stop-word cache key again
    for block in vectorizer.__getstate__()["blocks"].values():
        assert not {"stop_words_", "_stop_words_id"} & set(vars(block))


def test_vectorizers_fitted_in_two_processes_are_saved_as_the_same_bytes(tmp_path):
    code = (
        "import sys; from domain_classifier.features.tokenize import *; "
        "from domain_classifier.data.archives import save_skops; "
        "titles = ['Shampoo Anticaspa 400ml', 'Capinha iPhone 15', 'Shampoo Óleo 1L'] * 3; "
        "v = make_vectorizer(TokenizeParams(min_df=2)).fit(titles); v.transform(titles); "
        "save_skops(v, sys.argv[1])"
    )
    for name, seed in (("a", "1"), ("b", "2")):
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / name)],
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


@pytest.mark.parametrize(
    "titles, min_df, message",
    [
        (["!!!", "???", "..."] * 5, 1, "no TF-IDF features from 15 train titles"),
        (["shampoo", "capinha"] * 5, 11, "'tokenize.min_df' is 11, but train has only 10 titles"),
    ],
)
def test_titles_that_give_no_features_are_one_clear_error(titles, min_df, message):
    from domain_classifier.features.tokenize import fit_vectorizer

    params = TokenizeParams(min_df=min_df)
    with pytest.raises(InputError, match=message) as info:
        fit_vectorizer(titles, params, "train.parquet")
    assert "\n" not in str(info.value)


TITLES = [
    "shampoo anticaspa 400ml",
    "  capinha   iphone\t15 pro ",
    "",
    " ",
    "x",
    "creme hidratante creme",  # a repeated word counts twice
    "名字 ﬁ ① é",
    "liquidificador 220v shampoo",
]


@pytest.mark.parametrize("cache_words", [3, 200_000])
def test_char_ngrams_counted_by_word_equal_scikit_learn_bit_for_bit(monkeypatch, cache_words):
    # A cache of 3 words is refilled many times on the way: results must not depend on it.
    monkeypatch.setattr(char_ngrams, "MAX_CACHED_WORDS", cache_words)
    params = TokenizeParams(min_df=1, char_ngram_range=[2, 5])
    block = make_vectorizer(params).fit(TITLES).blocks["char"]
    assert char_ngrams.counts_by_word(block)
    titles = TITLES * 3 + ["unseen words only", "shampoo"]
    expected, fast = block.transform(titles), char_ngrams.transform_block(block, titles)
    assert fast.dtype == expected.dtype and fast.shape == expected.shape
    assert (fast.indptr == expected.indptr).all() and (fast.indices == expected.indices).all()
    assert (fast.data == expected.data).all()


def test_blocks_that_cross_words_are_left_to_scikit_learn():
    params = TokenizeParams(min_df=1)
    blocks = make_vectorizer(params).fit(TITLES).blocks
    assert not char_ngrams.counts_by_word(blocks["word"])
    blocks["char"].set_params(lowercase=True)  # preprocessing per title, not per word
    assert not char_ngrams.counts_by_word(blocks["char"])


@given(st.text(max_size=40))
@settings(max_examples=300, derandomize=True, deadline=None)
def test_accents_fold_as_dropping_every_combining_mark(text):
    decomposed = unicodedata.normalize("NFKD", text)
    expected = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    assert fold_accents(text) == expected
