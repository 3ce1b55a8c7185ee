"""The monitor's history: one row of headline figures per monitored batch, for `dvc plots`.

A batch is known by a hash of the predictions file's content, not by its path: the
predict stage writes every batch to the same path. Monitoring the same batch again
replaces its row in place, so reruns (or DVC re-running the stage) never duplicate it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from domain_classifier.data.tables import part_files, read_table, write_table
from domain_classifier.errors import InputError
from domain_classifier.monitoring.checks import MonitorResult
from domain_classifier.monitoring.report import performance_figures, rounded

ID_CHARS = 12
COLUMNS = (
    "run",
    "batch_id",
    "batch",
    "rows",
    "labelled_rows",
    "estimated_accuracy",
    "estimated_accuracy_low",
    "estimated_accuracy_high",
    "estimated_macro_f1",
    "real_accuracy",
    "real_macro_f1",
    "baseline_accuracy",
    "fired",
)


def batch_id(path: Path | str) -> str:
    """A hash of the file's bytes; of a folder's part files in name order (Spark names each
    part after its job, so the names are left out)."""
    digest = hashlib.sha256()
    for part in part_files(path) if Path(path).is_dir() else [path]:
        with open(part, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:ID_CHARS]


def history_row(result: MonitorResult, batch: Path | str) -> dict:
    figures = rounded(performance_figures(result))
    return {
        "batch_id": batch_id(batch),
        "batch": str(batch),
        "rows": result.batch.rows,
        **{name: figures[name] for name in COLUMNS[4:-1]},
        "fired": ";".join(f"{c.kind}:{c.name}" for c in result.checks if c.drift),
    }


def append_history(path: Path | str, row: dict) -> pd.DataFrame:
    """Add `row` as the next run, or replace the row of the same batch; write atomically."""
    path = Path(path)
    history = _read(path)
    same = (history["batch_id"] == row["batch_id"]).to_numpy()
    if same.any():
        at = int(same.argmax())
        row = {**row, "run": int(history["run"].iloc[at])}
        before, after = history.iloc[:at], history.iloc[at + 1 :][~same[at + 1 :]]
    else:
        row = {**row, "run": int(history["run"].max()) + 1 if len(history) else 1}
        before, after = history, history.iloc[:0]
    parts = [part for part in (before, pd.DataFrame([row]), after) if len(part)]
    history = pd.concat(parts, ignore_index=True)
    history = history[[*COLUMNS, *(c for c in history.columns if c not in COLUMNS)]]
    write_table(history, path)
    return history


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame(columns=list(COLUMNS))
    history = read_table(path, ["run", "batch_id"])
    try:
        history["run"] = pd.to_numeric(history["run"]).astype(int)
    except (ValueError, TypeError):
        raise InputError(f"{path}: column 'run' must hold whole numbers") from None
    # Rows written by an older version may lack newer columns: they stay empty.
    return history.reindex(columns=[*COLUMNS, *(c for c in history.columns if c not in COLUMNS)])
