"""A project folder copied, moved or renamed keeps its MLflow store: the store's absolute
artifact locations are re-rooted at the project's own mlruns/ before any use."""

from __future__ import annotations

import contextlib
import logging
import urllib.parse
from pathlib import Path

from domain_classifier.errors import InputError
from domain_classifier.store.client import (
    ARTIFACTS,
    SQLITE,
    MlflowParams,
    first_line,
    project_artifacts,
    project_root,
    store_exists,
)

log = logging.getLogger(__name__)


def _project_sqlite(params: MlflowParams) -> Path | None:
    """The params' own SQLite store if it exists inside the project (so moves with it)."""
    root = project_root()
    if not (params.own_store and params.uri.startswith(SQLITE)):
        return None
    if not (root / "params.yaml").is_file():  # no project here, only a folder
        return None
    path = Path(params.uri[len(SQLITE) :]).resolve()
    return path if path.is_file() and path.is_relative_to(root) else None


def _artifacts_of(location: str) -> Path | None:
    """The `.../mlruns` folder a local artifact location lies in; None for any other."""
    parsed = urllib.parse.urlsplit(location)
    if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
        path = Path(urllib.parse.unquote(parsed.path))
    elif not parsed.scheme:
        path = Path(location)
    else:
        return None
    if not path.is_absolute() or ARTIFACTS not in path.parts:
        return None
    last = len(path.parts) - 1 - path.parts[::-1].index(ARTIFACTS)
    return Path(*path.parts[: last + 1])


def _other_artifact_roots(db) -> list[Path]:
    here = project_artifacts()
    found = {_artifacts_of(row[0] or "") for row in db.execute(_LOCATIONS)}
    return sorted(root for root in found if root is not None and root != here)


_LOCATIONS = "SELECT artifact_location FROM experiments"


def rebase_artifacts(params: MlflowParams) -> list[Path]:
    """Re-root the project store's artifact locations at this project's mlruns/; return the
    old roots it rewrote (none, as a rule).

    MLflow records local artifact locations as absolute paths only (a relative one is taken
    from the current folder when the experiment is created), so a project folder copied,
    moved or renamed would go on reading and writing the old folder's mlruns/. They are
    taken as relative to the project: where the project's own SQLite store names another
    folder's mlruns/, every stored location under it (experiments, runs, logged models,
    model versions) is rewritten to this project's, in one transaction, before any use.
    """
    path = _project_sqlite(params)
    if path is None:
        return []
    import sqlite3

    # mode=rw: never creates the file; isolation_level None: the transaction is ours.
    database = f"{path.as_uri()}?mode=rw"
    with contextlib.closing(
        sqlite3.connect(database, uri=True, timeout=60, isolation_level=None)
    ) as db:
        try:
            if not _other_artifact_roots(db):
                return []
        except sqlite3.OperationalError:  # no experiments table: not an MLflow store yet
            return []
        db.execute("BEGIN IMMEDIATE")  # another process may be re-rooting it right now
        try:
            old_roots = _other_artifact_roots(db)
            new = project_artifacts()
            for old in old_roots:
                for before, after in ((old.as_uri(), new.as_uri()), (str(old), str(new))):
                    _replace_prefix(db, before, after)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    for old in old_roots:
        log.info("MLflow store %s: artifact locations moved from %s to %s", path, old, new)
    return old_roots


def _replace_prefix(db, before: str, after: str) -> None:
    """In every text column, `before` (a whole value, or the folder a value lies in) becomes
    `after`."""
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        if table.startswith("sqlite_"):
            continue
        for column in db.execute(f"PRAGMA table_info('{table}')").fetchall():
            name, kind = column[1], column[2].upper()
            if not any(text in kind for text in ("CHAR", "TEXT", "CLOB")):
                continue
            db.execute(
                f'UPDATE "{table}" SET "{name}" = ? || substr("{name}", ?) '
                f'WHERE substr("{name}", 1, ?) = ? '
                f'AND (length("{name}") = ? OR substr("{name}", ?, 1) = ?)',
                (after, len(before) + 1, len(before), before, len(before), len(before) + 1, "/"),
            )


def rebased(params: MlflowParams) -> None:
    """rebase_artifacts for a command that reads the store: a failure is one line."""
    import sqlite3

    try:
        rebase_artifacts(params)
    except (sqlite3.Error, OSError) as exc:
        raise InputError(
            f"MLflow tracking store {params.uri}: its artifact locations name another folder than "
            f"{project_artifacts()} and cannot be rewritten: {first_line(exc)}"
        ) from None


def require_store(model_uri: str, params: MlflowParams) -> None:
    """Reading a model never creates the store it is looked up in."""
    if not store_exists(params.uri):
        raise InputError(
            f"{model_uri}: cannot load from MLflow store {params.uri}: it does not exist"
        )
    rebased(params)
