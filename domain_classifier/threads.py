"""The cores a training stage uses: params.yaml's `budget.threads`, 0 for every core this
process may use (what `taskset` or a container's CPU set allows, not the machine's count).

A thread count changes how long training takes, never what it computes: every pool it sizes
splits work whose results do not depend on the split (one-vs-rest fits with their own seeds,
histograms per feature, TensorFlow ops under op determinism), and nothing saved records it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def resolve_threads(threads: int) -> int:
    return threads or available_cores()


@contextlib.contextmanager
def limited_to(threads: int) -> Iterator[None]:
    """Hold every pool training uses to `threads`: OpenMP and BLAS (hgb, SciPy), joblib
    (sgd's one-vs-rest fits) and TensorFlow's op pools (set before its runtime starts)."""
    import tensorflow as tf  # keras-tuner, which every family tunes with, imports it anyway
    from joblib import parallel_config
    from threadpoolctl import threadpool_limits

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already ran in this process (never in a stage's own)
        pass
    with threadpool_limits(limits=threads), parallel_config(n_jobs=threads):
        yield
