"""Refuse a fit whose estimated memory exceeds the family's budget, before it starts."""

from __future__ import annotations

from domain_classifier.params import require

GIB = 2**30


def require_memory(
    fixed: float, per_row: float, rows: int, limit_gib: float, where: str, knob: str
) -> None:
    """A fit needing about `fixed + per_row * rows` bytes must stay within `limit_gib`;
    otherwise name `<where>.<knob>` (the rows it caps) and the largest value that would fit."""
    needed, limit = fixed + per_row * rows, limit_gib * GIB
    require(
        fixed < limit,
        f"{where}.max_memory_gib",
        f"is {limit_gib:g}, but the model and the train matrix alone need about "
        f"{fixed / GIB:.1f} GiB; raise it, or lower the tokenize max_features or the domains",
    )
    require(
        needed <= limit,
        f"{where}.{knob}",
        f"lets the fit use {rows:,} rows, estimated at {needed / GIB:.1f} GiB, over "
        f"{where}.max_memory_gib ({limit_gib:g}); set it to at most "
        f"{int((limit - fixed) // per_row):,} (or raise max_memory_gib)",
    )
