"""Array and archive files whose bytes depend only on their content.

`numpy.savez` and Keras write zip archives stamped with the time of writing, so equal
models and features would get new hashes in `dvc.lock` on every run.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse

from domain_classifier.data.tables import atomic_path
from domain_classifier.errors import InputError

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
SKOPS_SCHEMA = "schema.json"
# Attributes holding an object's id() in the saving process (CountVectorizer and subclasses).
PROCESS_IDS = ("_stop_words_id",)


def _entry(name: str, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


def save_sparse(matrix, path: Path | str) -> None:
    """Write a CSR matrix in scipy's .npz layout (readable by scipy.sparse.load_npz)."""
    matrix = scipy.sparse.csr_matrix(matrix)
    arrays = {
        "indices": matrix.indices,
        "indptr": matrix.indptr,
        "format": np.array(b"csr"),
        "shape": np.array(matrix.shape),
        "data": matrix.data,
    }
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=False)
            archive.writestr(_entry(f"{name}.npy", zipfile.ZIP_DEFLATED), buffer.getvalue())


def load_sparse(path: Path | str) -> scipy.sparse.csr_matrix:
    return scipy.sparse.load_npz(path).tocsr()


def save_array(array: np.ndarray, path: Path | str) -> None:
    """A .npy file (no timestamp in the format), written atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.lib.format.write_array(handle, np.asanyarray(array), allow_pickle=False)


def save_skops(obj, path: Path | str) -> None:
    """Write `obj` in skops' format (loading it runs no code from the file), canonically:
    skops names array entries and tags objects by `id()` and uuids, which differ in every
    process; here they become 1, 2, ... in schema order, and entry times are fixed.
    scikit-learn's text vectorizers keep `id(self.stop_words)` to skip a check they redo
    when it is absent: it is left out."""
    import skops.io

    with zipfile.ZipFile(io.BytesIO(skops.io.dumps(obj))) as source:
        entries = {info.filename: source.read(info) for info in source.infolist()}
    ids: dict[int, int] = {}
    names: dict[str, str] = {}

    def walk(node):
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key in PROCESS_IDS:
                continue
            if key == "__id__" and isinstance(value, int):
                value = ids.setdefault(_atom(node) or value, len(ids) + 1)
            elif key == "file" and isinstance(value, str) and value in entries:
                value = names.setdefault(value, f"{len(names) + 1}{Path(value).suffix}")
            else:
                value = walk(value)
            out[key] = value
        return out

    schema = walk(json.loads(entries.pop(SKOPS_SCHEMA)))
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as target:
        target.writestr(_entry(SKOPS_SCHEMA, zipfile.ZIP_DEFLATED), json.dumps(schema, indent=1))
        for old, new in names.items():
            target.writestr(_entry(new, zipfile.ZIP_DEFLATED), entries[old])


# Values whose identity means nothing: skops shares a node between two attributes that hold
# the same object, and whether two equal strings or numbers are one object depends on how
# they were made (a literal, a parsed param, an unpickled copy from a joblib worker), so
# their nodes are numbered by value instead.
ATOMS = ("str", "int", "float", "bool", "NoneType")


def _atom(node: dict) -> tuple | None:
    content = node.get("content")
    if node.get("__module__") != "builtins" or node.get("__class__") not in ATOMS:
        return None
    return None if isinstance(content, dict | list) else (node["__class__"], content)


def load_skops(path: Path | str, trusted: tuple[str, ...]):
    """Load a skops file built only from skops' default types and `trusted`; any other type
    in it is refused before anything is built."""
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return skops.io.load(path, trusted=list(trusted))
    except UntrustedTypesFoundException as exc:
        raise InputError(
            f"{path}: refused, it contains types that are not trusted: {exc}"
        ) from None
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, EOFError) as exc:
        raise InputError(f"{path}: not a readable model file ({exc})") from None


def restamp_zip(path: Path | str, rewrite: dict[str, Callable] | None = None) -> None:
    """Rewrite a zip archive with fixed entry times, in name order; `rewrite` maps a JSON
    entry's name to a function that returns its content without volatile values."""
    rewrite = rewrite or {}
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as target:
        for info, data in sorted(entries, key=lambda entry: entry[0].filename):
            if info.filename in rewrite:
                content = rewrite[info.filename](json.loads(data))
                data = json.dumps(content, sort_keys=True).encode()
            target.writestr(_entry(info.filename, info.compress_type), data)


def without_keys(*keys: str) -> Callable[[dict], dict]:
    return lambda content: {k: v for k, v in content.items() if k not in keys}


def renumber(key: str) -> Callable:
    """Replace the values of `key` anywhere in a JSON tree by 1, 2, ... in order of first
    appearance: equal values stay equal. (Keras writes Python object ids there, which differ
    in every process.)"""

    def rewrite(content):
        numbers: dict = {}

        def walk(node):
            if isinstance(node, dict):
                return {
                    k: numbers.setdefault(v, len(numbers) + 1) if k == key else walk(v)
                    for k, v in node.items()
                }
            if isinstance(node, list):
                return [walk(item) for item in node]
            return node

        return walk(content)

    return rewrite
