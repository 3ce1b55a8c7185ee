"""Batch scoring against hostile paths and values: nothing a user has is deleted, overwritten
or altered, and every refusal is one printable `Error:` line."""

from __future__ import annotations

import decimal
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from domain_classifier.data.tables import read_table
from stages import predict as predict_stage
from tests.support.data import write_params

CONSOLE = Path(sys.executable).parent / "domain-classifier"
PLAIN = {**os.environ, "PATH": "/usr/bin:/bin"}  # a plain shell: the venv is not on PATH
TITLES = ["Shampoo Anticaspa 200ml", "Capinha Silicone iPhone 9 Pro"]


def digest(path: Path) -> dict[str, str]:
    """sha256 of a file, or of every file under a folder, by relative path."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {
        str(p.relative_to(path.parent)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    }


def stage(folder: Path, model: Path, source: Path, output: Path, **predict):
    """The predict stage run as `python -m stages.predict` runs it, in this process."""
    params = write_params(folder, predict={"input": str(source), "output": str(output), **predict})
    args = ["--params", params, "--model", str(model), "--trust"]
    return CliRunner().invoke(predict_stage.main, args, catch_exceptions=True)


def scored_from(table, suffix: str, model: Path, folder: Path) -> Path:
    """The stage's output for a Parquet input holding `table` (a DataFrame or an Arrow table)."""
    source, output = folder / "batch.parquet", folder / f"scored{suffix}"
    if isinstance(table, pa.Table):
        pq.write_table(table, source)
    else:
        table.to_parquet(source)
    result = stage(folder, model, source, output)
    assert result.exit_code == 0, result.output
    return output


def one_error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


@pytest.fixture
def batch(tmp_path) -> Path:
    path = tmp_path / "batch.csv"
    pd.DataFrame({"title": TITLES, "id": ["1", "2"]}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("name", "held"), [("predictions", "batch.parquet"), ("victim.csv", "notes.txt")]
)
def test_an_existing_folder_as_output_is_refused_and_kept(
    name, held, batch, saved_sgd_dir, tmp_path
):
    folder = tmp_path / name
    folder.mkdir()
    pd.DataFrame({"title": ["a user's earlier batch"]}).to_parquet(folder / held)
    before = digest(folder)
    line = one_error_line(stage(tmp_path, saved_sgd_dir, batch, folder))
    assert str(folder) in line and "folder" in line
    assert digest(folder) == before


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink", "hardlink"])
def test_the_input_itself_as_output_is_refused(suffix, spelling, saved_sgd_dir, tmp_path):
    source = tmp_path / f"batch{suffix}"
    frame = pd.DataFrame({"title": TITLES})
    frame.to_csv(source, index=False) if suffix == ".csv" else frame.to_parquet(source)
    before = digest(source)
    output = {
        "same": source,
        "dotted": tmp_path / "." / source.name,
        "symlink": tmp_path / f"link{suffix}",
        "hardlink": tmp_path / f"hard{suffix}",
    }[spelling]
    if spelling == "symlink":
        output.symlink_to(source)
    if spelling == "hardlink":
        os.link(source, output)
    line = one_error_line(stage(tmp_path, saved_sgd_dir, source, output))
    assert "input table itself" in line
    assert digest(source) == before


def test_an_output_inside_an_input_folder_is_refused(saved_sgd_dir, tmp_path):
    parts = tmp_path / "batch.parquet"
    parts.mkdir()
    pd.DataFrame({"title": TITLES}).to_parquet(parts / "part-0.parquet")
    before = digest(parts)
    line = one_error_line(stage(tmp_path, saved_sgd_dir, parts, parts / "scored.parquet"))
    assert "inside the input folder" in line
    assert digest(parts) == before


def test_an_output_under_a_file_names_that_file(batch, saved_sgd_dir, tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    line = one_error_line(stage(tmp_path, saved_sgd_dir, batch, tmp_path / "notes.txt/out.csv"))
    assert f"{tmp_path / 'notes.txt'} is a file, not a folder" in line


def typed_table() -> pa.Table:
    """Columns whose values pandas' default conversion would alter."""
    return pa.table(
        {
            "title": pa.array([TITLES[0], None, TITLES[1]], pa.string()),
            "id": pa.array([9007199254740993, None, 1234567890123456789], pa.int64()),
            "price": pa.array(
                [decimal.Decimal("12.50"), None, decimal.Decimal("99999999.99")],
                pa.decimal128(10, 2),
            ),
            "tags": pa.array([["a", "b"], None, []], pa.list_(pa.string())),
            "seller": pa.array([{"name": "x", "rank": 1}, None, {"name": "y", "rank": 2}]),
            "note": pa.array(["long", None, "text"], pa.large_string()),
            "flag": pa.array([True, None, False], pa.bool_()),
        }
    )


def test_parquet_columns_keep_their_arrow_types_and_values(saved_sgd_dir, tmp_path):
    given = typed_table()
    scored = pq.read_table(scored_from(given, ".parquet", saved_sgd_dir, tmp_path))
    for field in given.schema:
        assert scored.schema.field(field.name).type == field.type, field.name
        assert scored[field.name].to_pylist() == given[field.name].to_pylist(), field.name


def test_parquet_to_csv_writes_integers_as_integers_and_nested_values_as_json(
    saved_sgd_dir, tmp_path
):
    scored = read_table(scored_from(typed_table(), ".csv", saved_sgd_dir, tmp_path))
    assert scored["id"].tolist() == ["9007199254740993", "", "1234567890123456789"]
    assert scored["price"].tolist() == ["12.50", "", "99999999.99"]
    assert [json.loads(v) if v else None for v in scored["tags"]] == [["a", "b"], None, []]
    assert json.loads(scored["seller"][0]) == {"name": "x", "rank": 1}


def test_a_cell_with_a_bare_carriage_return_reads_back_as_one_row(saved_sgd_dir, tmp_path):
    given = pd.DataFrame({"title": TITLES, "note": ["one\rtwo", "three\nfour"]})
    output = scored_from(given, ".csv", saved_sgd_dir, tmp_path)
    scored = read_table(output)
    assert scored["note"].tolist() == ["one\rtwo", "three\nfour"]
    assert pd.read_csv(output, keep_default_na=False)["note"].tolist() == [
        "one\rtwo",
        "three\nfour",
    ]


def test_the_formula_guard_covers_header_cells(saved_sgd_dir, tmp_path):
    given = pd.DataFrame({"title": TITLES, "=HYPERLINK(1)": ["@x", "ok"]})
    scored = read_table(scored_from(given, ".csv", saved_sgd_dir, tmp_path))
    assert "'=HYPERLINK(1)" in scored.columns and "=HYPERLINK(1)" not in scored.columns
    assert scored["'=HYPERLINK(1)"].tolist() == ["'@x", "ok"]


@pytest.mark.parametrize("title", ["\u200b\u200b", "\u2060\ufeff", " \x00\x1b ", "---"])
def test_a_title_without_letters_or_digits_is_blank(title, saved_sgd_dir, tmp_path):
    given = pd.DataFrame({"title": [TITLES[0], title]})
    output = scored_from(given, ".parquet", saved_sgd_dir, tmp_path)
    assert pd.read_parquet(output)["predicted_domain"].isna().tolist() == [False, True]


def test_an_uncalibrated_model_reports_no_coverage(batch, saved_sgd_dir, tmp_path):
    result = stage(tmp_path, saved_sgd_dir, batch, tmp_path / "scored.csv")
    assert result.exit_code == 0, result.output
    assert "no review coverage: the model is not calibrated" in result.output
    assert "coverage 0.0%" not in result.output


def console(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CONSOLE), *args], cwd=cwd, env=PLAIN, capture_output=True)


def test_a_malformed_row_with_escape_bytes_gives_one_escaped_line(saved_sgd_dir, tmp_path):
    (tmp_path / "batch.csv").write_bytes(b"title\nok\n\x1b]0;pwned\x07,\x00\x1b[31mred,extra\n")
    done = console(
        "predict", "batch.csv", "out.csv", "--model", str(saved_sgd_dir), "--trust", cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: batch.csv"), lines
    assert "\\x1b]0;pwned\\x07" in lines[0]
    assert not any(ord(ch) < 32 for ch in lines[0])
    assert not (tmp_path / "out.csv").exists()


def test_a_pickle_named_model_keras_is_refused_without_loading_tensorflow(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "meta.json").write_text(
        json.dumps({"family": "lstm", "format": "keras", "labels": ["a", "b"]})
    )
    (model / "model.keras").write_bytes(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01.")
    done = console("classify", "a title", "--model", str(model), "--trust", cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.decode().splitlines()
    assert lines == [
        f"Error: {model / 'model.keras'}: not a Keras model archive (a .keras file is a zip)"
    ]


def stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process from /proc, None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields[0], int(fields[1])


def children(pid: int) -> list[int]:
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    return [p for p in pids if (found := stat(p)) and found[1] == pid]


def alive(pid: int) -> bool:
    found = stat(pid)
    return found is not None and found[0] != "Z"  # a zombie has ended; only its entry is left


def test_killing_predict_leaves_no_worker_behind(saved_sgd_dir, tmp_path):
    source = tmp_path / "batch.parquet"
    pd.DataFrame({"title": TITLES * 200_000}).to_parquet(source)
    params = write_params(
        tmp_path,
        predict={
            "input": str(source),
            "output": str(tmp_path / "out.parquet"),
            "chunk_rows": 500,
            "workers": 2,
        },
    )
    command = [
        sys.executable,
        "-m",
        "stages.predict",
        "--params",
        params,
        "--model",
        str(saved_sgd_dir),
        "--trust",
    ]
    parent = subprocess.Popen(command, cwd=Path(__file__).parents[2], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(workers := children(parent.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(workers) >= 2, "predict did not start its two workers"
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [w for w in workers if alive(w)] == []
