"""Row-chunked evaluation of row-wise functions, for matrices whose temporaries would not fit."""

from __future__ import annotations

import numpy as np


def by_rows(function, array, rows: int) -> np.ndarray:
    """`function` (one row's result independent of the others) applied to `rows`-row chunks
    of `array` (dense or sparse) into one array: the same numbers as on the whole, a chunk's
    temporaries at a time."""
    first = function(array[:rows])
    if array.shape[0] <= rows:
        return first
    out = np.empty((array.shape[0], *first.shape[1:]), dtype=first.dtype)
    out[: len(first)] = first
    for start in range(rows, array.shape[0], rows):
        out[start : start + rows] = function(array[start : start + rows])
    return out
