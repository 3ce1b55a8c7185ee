"""Load params.yaml and check each section against the dataclass that describes it.

A mistyped or unknown key must stop a stage before it does any work, so every
section is parsed into a frozen dataclass whose fields are the only keys allowed.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path

from dvc.utils.serialize import YAMLFileCorruptedError, parse_yaml

from domain_classifier.errors import InputError

PARAMS_FILE = Path("params.yaml")


def read_params(path: Path | str = PARAMS_FILE) -> dict:
    """Return the whole params file as a dict."""
    path = Path(path)
    try:
        # DVC's own YAML 1.2 reader: `dvc exp run -S x=5e-05` writes floats PyYAML reads as str.
        data = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        raise InputError(f"{path}: params file not found") from None
    except YAMLFileCorruptedError as exc:
        raise InputError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping of sections")
    return data


def load_section(cls, section: str, path: Path | str = PARAMS_FILE):
    """Parse `section` of the params file into the dataclass `cls`."""
    data = read_params(path)
    if section not in data:
        raise InputError(f"{path}: missing params section '{section}'")
    return parse_dataclass(cls, data[section], section)


def parse_dataclass(cls, raw, where: str):
    """Build `cls` from a mapping, refusing unknown keys and wrong types."""
    if not isinstance(raw, dict):
        raise InputError(f"param '{where}' must be a mapping, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise InputError(
            f"unknown param '{where}.{unknown[0]}' (known: {', '.join(sorted(fields))})"
        )
    hints = typing.get_type_hints(cls)
    values = {}
    for name, field in fields.items():
        if name not in raw:
            if (
                field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            ):
                raise InputError(f"missing param '{where}.{name}'")
            continue
        values[name] = _coerce(raw[name], hints[name], f"{where}.{name}")
    obj = cls(**values)
    check = getattr(obj, "check", None)
    if check is not None:
        check(where)
    return obj


def _coerce(value, hint, where: str):
    """Check `value` against a simple type hint; ints are accepted where floats are."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _coerce(value, inner[0], where)
    if origin is list:
        if not isinstance(value, list):
            raise InputError(f"param '{where}' must be a list, got {value!r}")
        (item,) = typing.get_args(hint)
        return [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise InputError(f"param '{where}' must be a mapping, got {value!r}")
        return value
    if dataclasses.is_dataclass(hint):
        return parse_dataclass(hint, value, where)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is typing.Any:
        return value
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise InputError(f"param '{where}' must be {hint.__name__}, got {value!r}")
    return value


MAX_SEED = 2**32 - 1  # the random_state range of numpy and scikit-learn


def require(condition: bool, where: str, message: str) -> None:
    """Raise an InputError naming the param unless `condition` holds."""
    if not condition:
        raise InputError(f"param '{where}' {message}")


def require_ngram_ranges(params, where: str, names=("word_ngram_range", "char_ngram_range")):
    """Each named [low, high] n-gram range of `params` must have 1 <= low <= high."""
    for name in names:
        low_high = getattr(params, name)
        require(
            len(low_high) == 2 and 1 <= low_high[0] <= low_high[1],
            f"{where}.{name}",
            f"must be [low, high] with 1 <= low <= high, got {low_high}",
        )
