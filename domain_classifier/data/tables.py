"""Reading and writing tables and JSON files, with clear errors and no half-written outputs."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from domain_classifier.errors import InputError

FORMATS = (".csv", ".parquet")


def table_format(path: Path | str) -> str:
    """Return '.csv' or '.parquet' for a table path, or raise naming the file."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS and Path(path).is_dir():
        suffix = _folder_format(Path(path))
    if suffix not in FORMATS:
        raise InputError(f"{path}: unsupported table format '{suffix}' (use .csv or .parquet)")
    return suffix


def read_table(path: Path | str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a whole CSV (UTF-8) or Parquet table, checking that `columns` exist."""
    path = Path(path)
    _check_readable(path)
    try:
        if table_format(path) == ".parquet":
            frame = pq.read_table(path).to_pandas()
        else:
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8"
            )
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: file is empty") from None
    except (pd.errors.ParserError, pa.ArrowInvalid) as exc:
        raise InputError(f"{path}: cannot parse ({str(exc).splitlines()[0]})") from None
    check_columns(frame.columns, columns or [], path)
    if frame.empty:
        raise InputError(f"{path}: table has no rows")
    return frame


def iter_table(path: Path | str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Yield a CSV or Parquet table in chunks of about `chunk_rows` rows, in file order."""
    path = Path(path)
    if path.is_dir():
        yield from _iter_folder(path, chunk_rows)
        return
    _check_readable(path)
    try:
        if table_format(path) == ".parquet":
            for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas()
            return
        options = pa_csv.ConvertOptions(strings_can_be_null=True)
        reader = pa_csv.open_csv(
            path, read_options=pa_csv.ReadOptions(block_size=1 << 22), convert_options=options
        )
        for batch in reader:
            yield batch.to_pandas()
    except pa.ArrowInvalid as exc:
        message = str(exc).splitlines()[0]
        if "Empty CSV file" in message:
            raise InputError(f"{path}: file is empty") from None
        if "UTF8" in message or "utf-8" in message.lower():
            raise InputError(f"{path}: not valid UTF-8 ({message})") from None
        raise InputError(f"{path}: cannot parse ({message})") from None


def part_files(folder: Path | str) -> list[Path]:
    """The data files of a folder table (e.g. Spark's output), in name order; hidden files
    and markers such as `_SUCCESS` or `.crc` checksums are not data."""
    folder = Path(folder)
    parts = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "_")))
    if not parts:
        raise InputError(f"{folder}: folder has no part files")
    return parts


def _folder_format(folder: Path) -> str:
    suffixes = {p.suffix.lower() for p in part_files(folder)}
    return suffixes.pop() if len(suffixes) == 1 else ""


def _iter_folder(folder: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """A folder of part files reads as one table: the parts one after another."""
    for part in part_files(folder):
        yield from iter_table(part, chunk_rows)


def check_columns(present, required: list[str], path: Path | str) -> None:
    """Raise naming the file and the first missing column."""
    missing = [c for c in required if c not in present]
    if missing:
        raise InputError(
            f"{path}: no column '{missing[0]}' (columns: {', '.join(map(str, present))})"
        )


def _check_readable(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        if path.is_dir():  # a folder table (the Spark engine's) written there before
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def atomic_dir(path: Path | str) -> Iterator[Path]:
    """Yield an empty staging folder beside `path`; it replaces `path` as a whole only if the
    block succeeds, so a failed stage never leaves a half-written output folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield staging
        if path.is_file():  # a single-file table (the local engine's) written there before
            path.unlink()
        shutil.rmtree(path, ignore_errors=True)
        staging.rename(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_table(frame: pd.DataFrame, path: Path | str) -> None:
    """Write a table atomically, as CSV or Parquet by its suffix."""
    fmt = table_format(path)
    with atomic_path(path) as tmp:
        if fmt == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)


def write_json(obj, path: Path | str) -> None:
    """Write JSON atomically with sorted keys, so equal content gives equal bytes."""
    with atomic_path(path) as tmp:
        tmp.write_text(
            json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
        )


def read_json(path: Path | str):
    """Read a JSON file, naming it if it is missing or broken."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
