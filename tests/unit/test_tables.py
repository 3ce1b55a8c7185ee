"""The one table reader and the atomic writers: data copied as it is, nothing left behind."""

import os
import stat
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from domain_classifier.data.tables import atomic_dir, iter_table, read_table, write_table
from domain_classifier.errors import InputError


def test_csv_cells_are_read_as_the_text_they_are(tmp_path):
    path = tmp_path / "batch.csv"
    path.write_bytes(b"title,country,code\nNA,NA,007\nnull,N/A,#N/A\nNaN,,1.50\n")
    frame = read_table(path)
    assert frame.to_dict("list") == {
        "title": ["NA", "null", "NaN"],
        "country": ["NA", "N/A", ""],
        "code": ["007", "#N/A", "1.50"],
    }


def test_column_types_that_change_late_in_a_big_file_are_still_text(tmp_path):
    path = tmp_path / "batch.csv"
    numbers = "".join(f"t{i},{i}\n" for i in range(300_000))  # several 4 MiB blocks of ints
    path.write_text(f"title,code\n{numbers}t,not a number\n")
    chunks = list(iter_table(path, 100_000))
    assert [len(c) for c in chunks] == [100_000, 100_000, 100_000, 1]
    assert chunks[-1]["code"].tolist() == ["not a number"] and chunks[0]["code"][5] == "5"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_chunk_rows_is_honoured(tmp_path, suffix):
    path = tmp_path / f"batch{suffix}"
    write_table(pd.DataFrame({"title": [f"t{i}" for i in range(10)]}), path)
    assert [len(c) for c in iter_table(path, 4)] == [4, 4, 2]


def test_an_undecodable_cell_is_named_by_column_and_row(tmp_path):
    path = tmp_path / "batch.csv"
    path.write_bytes(b"title,shop\n" + b"ok,fine\n" * 60 + b"ok,Jos\xe9 Lojas\n")
    with pytest.raises(InputError) as info:
        list(iter_table(path, 25))
    assert str(info.value) == f"{path}: column 'shop', data row 61: not valid UTF-8"


def test_outputs_get_the_users_usual_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        write_table(pd.DataFrame({"a": ["1"]}), tmp_path / "out.csv")
        with atomic_dir(tmp_path / "folder") as staging:
            (staging / "x").write_text("x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "folder").stat().st_mode) == 0o755


def test_leftovers_of_a_killed_writer_go_at_the_next_write(tmp_path):
    script = (
        "import os, sys\n"
        "from domain_classifier.data.tables import atomic_path\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_text('half')\n"
        "    os.kill(os.getpid(), 9)\n"
    )
    out = tmp_path / "out.csv"
    proc = subprocess.run([sys.executable, "-c", script, str(out)], check=False)
    assert proc.returncode == -9
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    live = tmp_path / f".out.csv.pid{os.getpid()}.busy.tmp"  # a writer still at work
    live.write_text("busy")
    write_table(pd.DataFrame({"a": ["1"]}), out)
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "out.csv"]


def test_a_failed_folder_write_keeps_the_old_folder_whole(tmp_path):
    target = tmp_path / "features"
    with atomic_dir(target) as staging:
        (staging / "a").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(target) as staging:
        (staging / "a").write_text("new")
        raise RuntimeError("stage failed")
    assert (target / "a").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["features"]


def test_reading_a_parquet_file_in_chunks_holds_only_the_chunk(tmp_path):
    """pyarrow's pre_buffer keeps what it read ahead until the file closes (a 10M-row
    predict's memory grew ~31 MiB per million rows): Arrow may hold a chunk, not the file."""
    rng = np.random.default_rng(0)
    words = ["".join(w) for w in rng.choice(list("abcdefghijklmnopqrstuvwxyz"), (50_000, 8))]
    titles = [" ".join(row) for row in rng.choice(words, (40_000, 8))]  # hardly compressible
    path = tmp_path / "many_groups.parquet"
    pq.write_table(pa.table({"title": titles}), path, row_group_size=1_000)
    del words, titles
    before = pa.total_allocated_bytes()
    held = [pa.total_allocated_bytes() - before for _ in iter_table(path, 1_000)]
    assert len(held) == 40
    assert max(held) < path.stat().st_size / 4, (max(held), path.stat().st_size)
