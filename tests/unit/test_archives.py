"""Array and archive files: equal content gives equal bytes, whatever the time of writing."""

from __future__ import annotations

import json
import re
import time
import zipfile

import numpy as np
import pytest
import scipy.sparse

from domain_classifier.data.archives import (
    FIXED_TIME,
    load_skops,
    load_sparse,
    renumber,
    restamp_zip,
    save_array,
    save_skops,
    save_sparse,
    without_keys,
)
from domain_classifier.errors import InputError
from domain_classifier.features.text import TextSettings
from domain_classifier.trusted_types import VECTORIZER_TYPES


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


def test_skops_files_name_entries_by_order_not_by_object_id(tmp_path):
    value = {"weights": np.arange(4.0), "text": TextSettings("NFKC", True, True)}
    save_skops(value, tmp_path / "a.skops")
    with zipfile.ZipFile(tmp_path / "a.skops") as archive:
        assert archive.namelist() == ["schema.json", "1.npy"]
        assert {info.date_time for info in archive.infolist()} == {FIXED_TIME}
        schema = json.loads(archive.read("schema.json"))
    ids = set(re.findall(r'"__id__": (\d+)', json.dumps(schema)))
    assert ids == {str(n) for n in range(1, len(ids) + 1)}  # no id() of this process left
    loaded = load_skops(tmp_path / "a.skops", VECTORIZER_TYPES)
    assert loaded["text"] == value["text"] and loaded["weights"].tolist() == [0, 1, 2, 3]


def test_skops_file_naming_an_untrusted_type_is_refused_before_building_it(tmp_path):
    save_skops({"text": TextSettings("NFKC", True, True)}, tmp_path / "model.skops")
    with zipfile.ZipFile(tmp_path / "model.skops") as archive:
        schema = archive.read("schema.json").decode()
    # What a crafted file would do: name a callable that runs a command when built.
    crafted = schema.replace('"TextSettings"', '"Popen"').replace(
        '"domain_classifier.features.text"', '"subprocess"'
    )
    with zipfile.ZipFile(tmp_path / "crafted.skops", "w") as archive:
        archive.writestr("schema.json", crafted)
    with pytest.raises(InputError, match=r"crafted.skops: refused.*subprocess.Popen"):
        load_skops(tmp_path / "crafted.skops", VECTORIZER_TYPES)


def test_truncated_skops_file_is_one_error_naming_it(tmp_path):
    save_skops({"weights": np.arange(100.0)}, tmp_path / "model.skops")
    data = (tmp_path / "model.skops").read_bytes()
    (tmp_path / "model.skops").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"model.skops: not a readable model file"):
        load_skops(tmp_path / "model.skops", ())


def test_equal_strings_and_numbers_give_equal_bytes_whether_shared_or_not(tmp_path):
    word, big = "word", 10**20
    shared = {"name": word, "analyzer": word, "limit": big, "again": big}
    # Equal values made apart are separate objects, as in a copy back from a joblib worker.
    apart = {"name": word, "analyzer": "".join(["wo", "rd"]), "limit": big, "again": int(str(big))}
    assert shared["analyzer"] is not apart["analyzer"] and shared["again"] is not apart["again"]
    save_skops(shared, tmp_path / "shared.skops")
    save_skops(apart, tmp_path / "apart.skops")
    assert (tmp_path / "shared.skops").read_bytes() == (tmp_path / "apart.skops").read_bytes()
    assert load_skops(tmp_path / "apart.skops", VECTORIZER_TYPES) == apart
