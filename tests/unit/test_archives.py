"""Array and archive files: equal content gives equal bytes, whatever the time of writing."""

from __future__ import annotations

import json
import time
import zipfile

import numpy as np
import scipy.sparse

from domain_classifier.data.archives import (
    load_sparse,
    renumber,
    restamp_zip,
    save_array,
    save_sparse,
    without_keys,
)


def test_sparse_files_written_apart_in_time_are_identical(tmp_path):
    matrix = scipy.sparse.random(
        50, 30, density=0.1, format="csr", random_state=1, dtype=np.float32
    )
    save_sparse(matrix, tmp_path / "a.npz")
    time.sleep(2.1)  # zip timestamps have a two-second resolution
    save_sparse(matrix, tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = load_sparse(tmp_path / "a.npz")
    assert loaded.dtype == np.float32 and (loaded != matrix).nnz == 0


def test_arrays_round_trip(tmp_path):
    save_array(np.arange(6, dtype=np.int32).reshape(2, 3), tmp_path / "a.npy")
    assert np.load(tmp_path / "a.npy").tolist() == [[0, 1, 2], [3, 4, 5]]


def test_restamped_zip_drops_volatile_keys_and_times(tmp_path):
    def archive(path, saved_at):
        with zipfile.ZipFile(path, "w") as out:
            out.writestr("weights.bin", b"\x00\x01")
            out.writestr("metadata.json", json.dumps({"date_saved": saved_at, "version": "3"}))

    archive(tmp_path / "a.zip", "2026-01-01")
    time.sleep(2.1)
    archive(tmp_path / "b.zip", "2026-01-02")
    for name in ("a.zip", "b.zip"):
        restamp_zip(tmp_path / name, rewrite={"metadata.json": without_keys("date_saved")})
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.zip") as restamped:
        assert json.loads(restamped.read("metadata.json")) == {"version": "3"}
        assert restamped.read("weights.bin") == b"\x00\x01"


def test_object_ids_are_renumbered_keeping_which_are_shared():
    def config(a, b):  # the shape of a Keras config: ids of this process's objects
        return {
            "layers": [
                {"dtype": {"shared_object_id": a}, "init": {"shared_object_id": b}},
                {"dtype": {"shared_object_id": a}},
            ]
        }

    first, second = (
        renumber("shared_object_id")(config(140, 77)),
        renumber("shared_object_id")(config(901, 12)),
    )
    assert first == second == config(1, 2)
