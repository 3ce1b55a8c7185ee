"""Reading and writing tables and JSON files, with clear errors and no half-written outputs."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
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
    chunks = list(iter_table(path, READ_ALL))
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    check_columns(frame.columns, columns or [], path)
    if frame.empty:
        raise InputError(f"{path}: table has no rows")
    return frame


def iter_table(
    path: Path | str, chunk_rows: int, arrow_types: bool = False
) -> Iterator[pd.DataFrame]:
    """Yield a CSV or Parquet table in chunks of `chunk_rows` rows (the last may be shorter),
    in file order; a table with a header and no rows yields one empty chunk.

    CSV cells are read as the strings they are: no type inference (which could change its mind
    after the first block) and no null markers ('NA', 'null', 'NaN' stay text; an empty cell is
    an empty string). With `arrow_types`, Parquet columns keep their Arrow types (pandas'
    ArrowDtype), so a table passed through comes out as it came in: no nullable integer turned
    into a float, no decimal rescaled."""
    path = Path(path)
    if path.is_dir():
        yield from _iter_folder(path, chunk_rows, arrow_types)
        return
    _check_readable(path)
    try:
        if table_format(path) == ".parquet":
            # pre_buffer (pyarrow's default) keeps every row group's read-ahead until the
            # file is closed: reading a 3M-row demo batch, Arrow's allocations grew from 42
            # to 113 MiB with it and stayed at 13 MiB without it.
            source = pq.ParquetFile(path, pre_buffer=False)
            batches = source.iter_batches(batch_size=min(chunk_rows, PARQUET_BATCH_ROWS))
            mapper = pd.ArrowDtype if arrow_types else None
            for table in _rebatch(batches, chunk_rows, source.schema_arrow):
                yield table.to_pandas(types_mapper=mapper)
        else:
            yield from _iter_csv(path, chunk_rows)
    except (pa.ArrowInvalid, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "Empty CSV file" in message:
            raise InputError(f"{path}: file is empty") from None
        raise InputError(f"{path}: cannot parse ({message})") from None


def table_rows(path: Path | str) -> int | None:
    """Rows in a Parquet file from its footer; None for CSV, which must be read to count."""
    if table_format(path) != ".parquet" or not Path(path).is_file():
        return None
    try:
        return pq.ParquetFile(path).metadata.num_rows
    except (pa.ArrowInvalid, OSError):
        return None  # iter_table reports the damage with the file's name


READ_ALL = 1 << 40
PARQUET_BATCH_ROWS = 1 << 16
CSV_BLOCK_BYTES = 1 << 22


def _iter_csv(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        names = pa_csv.open_csv(path).schema.names
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: header row: not valid UTF-8 (byte {exc.start + 1})") from None
    options = pa_csv.ConvertOptions(
        column_types={name: pa.binary() for name in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    reader = pa_csv.open_csv(
        path,
        read_options=pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES),
        # A quoted cell may hold a line break (ours are written quoted): without this, one
        # that falls on a block boundary would split its row in two.
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=options,
    )
    done = 0
    for table in _rebatch(reader, chunk_rows, reader.schema):
        yield _decoded(table, path, done).to_pandas()
        done += table.num_rows


def _rebatch(batches, chunk_rows: int, schema: pa.Schema) -> Iterator[pa.Table]:
    """Regroup record batches into tables of exactly `chunk_rows` rows (the last shorter);
    a source with no rows gives one empty table, so its columns can still be checked."""
    pending, count, emitted = [], 0, False
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        while count >= chunk_rows:
            table = pa.Table.from_batches(pending, schema)
            yield table.slice(0, chunk_rows)
            rest = table.slice(chunk_rows)
            pending, count, emitted = rest.to_batches(), rest.num_rows, True
    if count or not emitted:
        yield pa.Table.from_batches(pending, schema)


def _decoded(table: pa.Table, path: Path, first_row: int) -> pa.Table:
    """Binary CSV columns as UTF-8 strings; an undecodable cell is an error naming it."""
    columns = []
    for name, column in zip(table.column_names, table.columns):
        try:
            columns.append(column.cast(pa.string()))
        except pa.ArrowInvalid:
            row = next(i for i, v in enumerate(column.to_pylist()) if not _is_utf8(v))
            raise InputError(
                f"{path}: column '{name}', data row {first_row + row + 1}: not valid UTF-8"
            ) from None
    return pa.Table.from_arrays(columns, names=table.column_names)


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


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


def _iter_folder(folder: Path, chunk_rows: int, arrow_types: bool) -> Iterator[pd.DataFrame]:
    """A folder of part files reads as one table: the parts one after another."""
    for part in part_files(folder):
        yield from iter_table(part, chunk_rows, arrow_types)


def check_columns(present, required: list[str], path: Path | str) -> None:
    """Raise naming the file and the first missing column."""
    present = list(present)
    repeated = sorted({str(c) for c in present if present.count(c) > 1})
    if repeated:
        raise InputError(f"{path}: column {repeated[0]!r} appears more than once")
    missing = [c for c in required if c not in present]
    if missing:
        raise InputError(
            f"{path}: no column '{missing[0]}' (columns: {', '.join(map(repr, present))})"
        )


def _check_readable(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")


def check_output(source: Path | str, target: Path | str) -> None:
    """Refuse an output path whose writing would destroy data: the input itself (by resolved
    path and inode, so a link or another spelling counts), a path inside an input folder, or
    an existing folder, unless it holds only a table's part files and markers (what the Spark
    engine left there), which either engine may replace."""
    source, target = Path(source), Path(target)
    if target.exists() and source.exists() and os.path.samefile(source, target):
        raise InputError(f"{target}: is the input table itself; give another output path")
    if source.is_dir() and target.resolve().is_relative_to(source.resolve()):
        raise InputError(f"{target}: is inside the input folder {source}; write it elsewhere")
    if target.is_dir() and not only_parts(target):
        raise InputError(
            f"{target}: is a folder holding more than a table's part files; give a file path "
            f"for the output (nothing was written)"
        )


# What Spark (Hadoop's committers) writes into an output folder: parts, markers, checksums.
PART_NAME = re.compile(r"part-.*|_SUCCESS|_(committed|started)_.*|\..*\.crc")


def only_parts(folder: Path) -> bool:
    """Whether a folder holds nothing but a table writer's files: no subfolder, no link."""
    return all(
        p.is_file() and not p.is_symlink() and PART_NAME.fullmatch(p.name) for p in folder.iterdir()
    )


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it into place only if the block succeeds.
    An existing folder at `path` is replaced only if it holds nothing but part files (a
    folder table written there before), file by file: nothing is removed recursively."""
    path = Path(path)
    if path.is_dir() and not only_parts(path):
        raise InputError(f"{path}: is a folder; give a file path for this output")
    _clear_leftovers(path)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=TEMP_SUFFIX, dir=path.parent)
    os.close(fd)
    # mkstemp makes the file private (0600); an output is as readable as any file the user makes.
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield Path(tmp)
        if path.is_dir():
            _remove_parts(path)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def atomic_dir(path: Path | str) -> Iterator[Path]:
    """Yield an empty staging folder beside `path`; it replaces `path` as a whole only if the
    block succeeds, so a failed stage never leaves a half-written output folder."""
    path = Path(path)
    _clear_leftovers(path)
    staging = Path(tempfile.mkdtemp(prefix=_temp_prefix(path), suffix=TEMP_SUFFIX, dir=path.parent))
    os.chmod(staging, 0o777 & ~_umask())
    try:
        yield staging
        # The old folder moves aside before the new one moves in: at no moment is `path` a
        # mixture, and a kill in between leaves the old output beside it, removed next run.
        retired = path.with_name(f"{_temp_prefix(path)}old{TEMP_SUFFIX}")
        if path.exists():
            path.rename(retired)
        staging.rename(path)
        _remove(retired)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


TEMP_SUFFIX = ".tmp"
_OWNER = re.compile(r"\.pid(\d+)\.")


def _temp_prefix(path: Path) -> str:
    """Temporary names carry the writer's pid, so a later run can tell a leftover from the
    file of a writer still at work."""
    return f".{path.name}.pid{os.getpid()}."


def _clear_leftovers(path: Path) -> None:
    """Create `path`'s folder; remove temporary files beside `path` whose writer is gone."""
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise InputError(f"{path}: {blocking} is a file, not a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*{TEMP_SUFFIX}"):
        owner = _OWNER.search(leftover.name[len(path.name) + 1 :])
        if owner and _alive(int(owner.group(1))):
            continue
        _remove(leftover)


def _remove_parts(folder: Path) -> None:
    """Empty a folder of part files and remove it; rmdir fails, keeping it, if a file that is
    not a part appeared meanwhile."""
    for part in folder.iterdir():
        if part.is_file() and PART_NAME.fullmatch(part.name):
            part.unlink()
    folder.rmdir()


def _remove(path: Path) -> None:
    """Delete a file or a folder (a table may be either: Spark writes a folder of parts)."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_table(frame: pd.DataFrame, path: Path | str) -> None:
    """Write a table atomically, as CSV or Parquet by its suffix."""
    fmt = table_format(path)
    with atomic_path(path) as tmp:
        if fmt == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            write_csv(frame, tmp)


def write_csv(frame: pd.DataFrame, path: Path, append: bool = False) -> None:
    """Write (or append, without a header) CSV rows. Lines end in CRLF (RFC 4180) because
    Python's CSV writer quotes a cell only for the line ending's characters: with LF alone, a
    bare CR inside a cell would go out unquoted and read back as a line break."""
    frame.to_csv(
        path, mode="a" if append else "w", header=not append, index=False, lineterminator="\r\n"
    )


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
