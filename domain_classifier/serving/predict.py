"""Batch scoring in chunks: one output row per input row, in input order, memory flat."""

from __future__ import annotations

import collections
import ctypes
import dataclasses
import json
import logging
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from domain_classifier.data.schema import blank_mask, check_text
from domain_classifier.data.tables import (
    atomic_path,
    check_columns,
    iter_table,
    table_format,
    table_rows,
    write_csv,
)
from domain_classifier.errors import InputError
from domain_classifier.models.saved import TitleModel
from domain_classifier.models.scoring import (
    REVIEW_COLUMN,
    REVIEW_PRECISION,
    TOP_K,
    add_predictions,
    flag_review,
    output_columns,
    rank_titles,
    review_threshold_of,
)
from domain_classifier.params import require
from domain_classifier.progress import RowProgress

log = logging.getLogger(__name__)

ENGINES = ("local", "spark")
JVM_MEMORY = re.compile(r"^[1-9][0-9]*[kmgt]?$", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class SparkParams:
    """How `predict.engine: spark` runs; `master` may be a cluster (yarn, k8s://, spark://)."""

    master: str = "local[*]"
    driver_memory: str = "2g"
    # Tasks the batch is spread over; 0: as Spark reads it, but at least one per core.
    partitions: int = 0

    def check(self, where: str) -> None:
        require(bool(self.master.strip()), f"{where}.master", "must not be empty")
        require(
            bool(JVM_MEMORY.match(self.driver_memory)),
            f"{where}.driver_memory",
            f"must be a JVM size such as 2g or 512m, got {self.driver_memory!r}",
        )
        require(self.partitions >= 0, f"{where}.partitions", "must be >= 0")


@dataclasses.dataclass(frozen=True)
class PredictParams:
    input: str
    output: str
    text_column: str = "title"
    top_k: int = TOP_K
    chunk_rows: int = 10000
    # OWASP's rule for CSV opened in a spreadsheet: a cell starting with = + - @ tab or CR is
    # a formula there, so such cells get a leading quote. Off: cells are copied verbatim.
    csv_formula_guard: bool = True
    # Processes scoring chunks side by side; 0: one per core.
    workers: int = 0
    engine: str = "local"
    spark: SparkParams = dataclasses.field(default_factory=SparkParams)
    # needs_review is true below the confidence that reaches this precision on validation.
    review_precision: float = REVIEW_PRECISION

    def check(self, where: str) -> None:
        require(self.top_k >= 1, f"{where}.top_k", f"must be >= 1, got {self.top_k}")
        require(
            0 < self.review_precision <= 1,
            f"{where}.review_precision",
            f"must be in (0, 1], got {self.review_precision}",
        )
        require(self.chunk_rows >= 1, f"{where}.chunk_rows", "must be >= 1")
        require(self.workers >= 0, f"{where}.workers", "must be >= 0 (0: one per core)")
        require(
            self.engine in ENGINES,
            f"{where}.engine",
            f"must be one of {', '.join(ENGINES)}, got {self.engine!r}",
        )
        for name in ("input", "output"):
            try:
                table_format(getattr(self, name))
            except InputError as exc:
                require(False, f"{where}.{name}", str(exc))
        require(
            self.engine != "spark" or table_format(self.output) == ".parquet",
            f"{where}.output",
            "must be a .parquet folder with engine spark (Spark writes part files)",
        )


def check_batch(chunk: pd.DataFrame, params: PredictParams, n_labels: int) -> None:
    """Refuse a batch predict cannot score as it is: no title column, a title column that
    holds something other than text, or columns that the output would overwrite."""
    check_columns(chunk.columns, [params.text_column], params.input)
    check_text(chunk[params.text_column], params.input, params.text_column)
    added = [*output_columns(min(params.top_k, n_labels)), REVIEW_COLUMN]
    taken = [c for c in added if c in chunk.columns]
    if taken:
        raise InputError(
            f"{params.input}: has column(s) {', '.join(map(repr, taken))}, which predict "
            f"writes; rename them (the output keeps every input column)"
        )


def predict_file(model: TitleModel, params: PredictParams) -> dict:
    """Score params.input into params.output; return rows, blank titles and rows per second."""
    blanks, filed = 0, 0
    threshold = review_threshold_of(model, params.review_precision)
    k = min(params.top_k, len(model.labels))
    progress = RowProgress(table_rows(params.input))
    # Workers fork first, before reading starts any thread in this process.
    with ChunkScorer(model, k, params.workers) as scorer, atomic_path(params.output) as tmp:
        writer = _ChunkWriter(tmp, table_format(params.output), params.csv_formula_guard)
        try:
            for chunk, blank, ranked in scorer.ranked(_checked_chunks(params, model)):
                scored = add_predictions(chunk, blank, ranked, model.labels)
                scored = flag_review(scored, threshold)
                filed += int((~scored[REVIEW_COLUMN].fillna(True)).sum())
                writer.write(scored)
                blanks += int(blank.sum())
                if len(chunk):
                    progress.advance(len(chunk))
        finally:
            writer.close()
        seconds = progress.finish()
        if progress.rows == 0:
            raise InputError(f"{params.input}: table has no rows")
    filed = None if threshold is None else filed
    return batch_stats(params.input, progress.rows, blanks, seconds, filed)


def _checked_chunks(params: PredictParams, model: TitleModel):
    """(chunk, blank-title mask, non-blank titles) for each chunk of the input."""
    for chunk in iter_table(params.input, params.chunk_rows, arrow_types=True):
        check_batch(chunk, params, len(model.labels))
        blank = blank_mask(chunk[params.text_column]).to_numpy()
        yield chunk, blank, chunk[params.text_column][~blank].tolist()


_WORKER_MODEL: TitleModel | None = None


def _rank_in_worker(titles: list[str], k: int):
    return rank_titles(_WORKER_MODEL, titles, k)


def _set_worker_model(model: TitleModel, parent: int) -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = model
    die_with_parent(parent)


PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """End this worker when `parent` dies, even by kill -9, which runs no clean-up in it: a
    forked worker blocks on its task queue forever otherwise. The kernel sends the signal on
    Linux; elsewhere a thread watches the parent pid."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # it died before the signal was asked for
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


class ChunkScorer:
    """Ranks chunks in order, in this process or spread over worker processes.

    Workers are forked with the model already loaded, so they start in milliseconds and share
    its memory; at most two chunks per worker are in flight, so memory stays flat on a batch
    of any size. Only a model that says it is `fork_safe` is forked: TensorFlow and OpenMP
    (Keras, the tree ensembles) hang in a forked child, and they use every core by themselves.
    """

    def __init__(self, model: TitleModel, k: int, workers: int):
        self.model, self.k = model, k
        self.workers = resolve_workers(workers) if getattr(model, "fork_safe", False) else 1
        self.pool = None

    def __enter__(self) -> ChunkScorer:
        if self.workers > 1:
            self.pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_set_worker_model,
                initargs=(self.model, os.getpid()),
            )
            self.pool.submit(int).result()  # every worker forks now, before reading starts
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def ranked(self, chunks):
        """(chunk, blank, ranked) for each (chunk, blank, titles), in input order."""
        if self.pool is None:
            for chunk, blank, titles in chunks:
                yield chunk, blank, rank_titles(self.model, titles, self.k)
            return
        try:
            yield from self._ranked_by_workers(chunks)
        except BrokenProcessPool:
            # The kernel's OOM killer is the usual cause; the pool cannot say which it was.
            raise InputError(
                f"a predict worker process died (out of memory?): lower predict.chunk_rows "
                f"or predict.workers (now {self.workers})"
            ) from None

    def _ranked_by_workers(self, chunks):
        pending = collections.deque()
        for chunk, blank, titles in chunks:
            pending.append((chunk, blank, self.pool.submit(_rank_in_worker, titles, self.k)))
            # Chunks already scored go out at once (progress moves while reading goes on).
            while len(pending) >= 2 * self.workers or (pending and pending[0][2].done()):
                chunk, blank, future = pending.popleft()
                yield chunk, blank, future.result()
        while pending:
            chunk, blank, future = pending.popleft()
            yield chunk, blank, future.result()


def resolve_workers(workers: int) -> int:
    """`predict.workers`, where 0 means one per core this process may use."""
    return workers or len(os.sched_getaffinity(0))


def batch_stats(source: str, rows: int, blanks: int, seconds: float, filed: int | None = 0) -> dict:
    """What an engine reports of a scored batch; blank titles are also a warning. `filed` is
    None where there is no review threshold (an uncalibrated model)."""
    if blanks:
        log.warning("%s: %d null or blank titles got no prediction", source, blanks)
    return {
        "rows": rows,
        "blank_titles": blanks,
        "auto_filed": filed,  # needs_review false; None: no threshold
        "seconds": seconds,
        "rows_per_second": rows / seconds if seconds else float("inf"),
    }


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix a quote to text cells, header cells included, that a spreadsheet would run as a
    formula (OWASP CSV injection)."""
    out = frame.rename(
        columns=lambda name: f"'{name}" if str(name).startswith(FORMULA_START) else name
    )
    for name in out.columns:
        column = out[name]
        if pd.api.types.infer_dtype(column, skipna=True) != "string":
            continue
        risky = column.str.startswith(FORMULA_START, na=False)
        if risky.any():
            out.loc[risky, name] = "'" + column[risky]
    return out


def json_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Nested Arrow columns (lists, structs, maps) as JSON text, the one form a CSV cell can
    hold them in and give them back; null stays an empty cell."""
    out = frame.copy()
    for name in out.columns:
        dtype = out[name].dtype
        if isinstance(dtype, pd.ArrowDtype) and pa.types.is_nested(dtype.pyarrow_dtype):
            values = pa.array(out[name]).to_pylist()
            cells = [
                None if v is None else json.dumps(v, default=str, ensure_ascii=False)
                for v in values
            ]
            out[name] = pd.array(cells, dtype=pd.ArrowDtype(pa.string()))
    return out


class _ChunkWriter:
    """Appends scored chunks to one CSV or Parquet file."""

    def __init__(self, path: Path, fmt: str, formula_guard: bool):
        self.path, self.fmt, self.parquet = path, fmt, None
        self.first, self.formula_guard = True, formula_guard

    def write(self, frame: pd.DataFrame) -> None:
        if self.fmt == ".csv":
            frame = json_cells(frame)
            if self.formula_guard:
                frame = neutralise_formulas(frame)
            write_csv(frame, self.path, append=not self.first)
        else:
            # No pandas metadata: Arrow types say it all, and pandas' note of an Arrow-typed
            # column (a dictionary, say) is one pandas itself cannot read back.
            table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata()
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(self.path, table.schema)
            self.parquet.write_table(table.cast(self.parquet.schema))
        self.first = False

    def close(self) -> None:
        if self.parquet is not None:
            self.parquet.close()
