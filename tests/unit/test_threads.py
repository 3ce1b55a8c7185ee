"""budget.threads: how many cores training uses, and never what it computes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from domain_classifier.errors import InputError
from domain_classifier.params import parse_dataclass
from domain_classifier.planning.settings import BudgetParams, load_threads
from domain_classifier.threads import limited_to, resolve_threads


def test_zero_means_every_core_this_process_may_use():
    assert resolve_threads(0) == len(os.sched_getaffinity(0))
    assert resolve_threads(3) == 3


def test_the_pools_training_uses_are_held_to_the_count():
    from joblib.parallel import get_active_backend
    from threadpoolctl import threadpool_info

    with limited_to(1):
        assert {pool["num_threads"] for pool in threadpool_info()} == {1}
        assert get_active_backend()[1] == 1


def test_tensorflow_pools_are_set_before_its_runtime_starts():
    # A process of its own, as a stage is: in this one TensorFlow may already be running.
    code = (
        "import tensorflow as tf\n"
        "from domain_classifier.threads import limited_to\n"
        "with limited_to(1):\n"
        "    print(tf.config.threading.get_intra_op_parallelism_threads(),"
        " tf.config.threading.get_inter_op_parallelism_threads())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1"]


def test_threads_are_read_from_the_budget_section(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("budget: {minutes: 5, threads: 1}\n")
    assert load_threads(params) == 1
    params.write_text("train_sgd: {}\n")
    assert load_threads(params) == 0
    with pytest.raises(InputError, match="budget.threads"):
        parse_dataclass(BudgetParams, {"threads": -1}, "budget")
