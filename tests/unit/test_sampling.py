"""Stratified samples: what tuning, capped refits and tokenize's vocabulary are fitted on."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain_classifier.data.sampling import stratified_sample
from domain_classifier.errors import InputError
from domain_classifier.families.budget import require_memory


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(1, 300), min_size=1, max_size=30),
    rows=st.integers(0, 4000),
    min_per_class=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_sample_keeps_every_class_in_proportion(counts, rows, min_per_class, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    sample = stratified_sample(np.random.default_rng(1).permutation(y), rows, seed, min_per_class)
    assert np.all(np.diff(sample) > 0)  # sorted, no repeats
    if rows == 0 or rows >= len(y):
        assert len(sample) == len(y)
        return
    kept = np.bincount(np.random.default_rng(1).permutation(y)[sample], minlength=len(counts))
    counts, exact = np.array(counts), np.array(counts) * rows / len(y)
    floor = np.minimum(counts, min_per_class)
    assert np.all(kept >= floor) and np.all(kept <= counts)
    raised = kept == floor
    assert np.all(np.abs(kept - exact)[~raised] < 1)  # otherwise the proportional share
    if not raised.any():
        assert kept.sum() == rows


def test_same_seed_same_sample_and_another_seed_another():
    y = np.repeat(np.arange(10), 100)
    first = stratified_sample(y, 200, seed=3)
    assert np.array_equal(first, stratified_sample(y, 200, seed=3))
    assert not np.array_equal(first, stratified_sample(y, 200, seed=4))


def test_a_fit_over_budget_names_the_knob_and_the_rows_that_fit():
    with pytest.raises(InputError) as error:
        require_memory(2**30, 2**20, 10_000, 4.0, "train_hgb", "max_train_rows")
    assert str(error.value) == (
        "param 'train_hgb.max_train_rows' lets the fit use 10,000 rows, estimated at 10.8 GiB, "
        "over train_hgb.max_memory_gib (4); set it to at most 3,072 (or raise max_memory_gib)"
    )
    require_memory(2**30, 2**20, 3_072, 4.0, "train_hgb", "max_train_rows")  # fits exactly


def test_a_model_over_budget_by_itself_names_the_budget():
    with pytest.raises(InputError, match="'train_sgd.max_memory_gib' is 1, but the model"):
        require_memory(2 * 2**30, 10, 5, 1.0, "train_sgd", "tune_rows")
