"""by_rows: a row-wise function applied in chunks gives what it gives on the whole."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from domain_classifier.rows import by_rows


def row_softmax(x):
    dense = x.toarray() if scipy.sparse.issparse(x) else x
    e = np.exp(dense - dense.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("rows", [1, 7, 10, 100])
def test_chunks_give_the_whole_result(sparse, rows):
    dense = np.random.default_rng(0).normal(size=(23, 5))
    array = scipy.sparse.csr_matrix(dense) if sparse else dense
    chunked = by_rows(row_softmax, array, rows)
    assert chunked.shape == (23, 5) and chunked.dtype == np.float64
    np.testing.assert_array_equal(chunked, row_softmax(dense))


def test_each_chunk_is_at_most_rows_long():
    seen = []
    by_rows(lambda x: seen.append(len(x)) or x, np.zeros((10, 2)), 4)
    assert seen == [4, 4, 2]
