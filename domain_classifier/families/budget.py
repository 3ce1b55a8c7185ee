"""Refuse a fit whose estimated memory exceeds the family's budget, before it starts."""

from __future__ import annotations

from domain_classifier.params import require

GIB = 2**30


def require_memory(
    fixed: float, per_row: float, rows: int, limit_gib: float, where: str, knob: str
) -> None:
    """A fit needing about `fixed + per_row * rows` bytes must stay within `limit_gib`;
    otherwise name `<where>.<knob>` (the rows it caps) and the largest value that would fit."""
    needed = fixed + per_row * rows
    if needed <= limit_gib * GIB:
        return
    fitting = int((limit_gib * GIB - fixed) // per_row) if per_row else 0
    advice = (
        f"set it to at most {fitting:,}"
        if fitting > 0
        else "the model alone exceeds the budget; use fewer features or domains"
    )
    require(
        False,
        f"{where}.{knob}",
        f"lets the fit use {rows:,} rows, estimated at {needed / GIB:.1f} GiB, over "
        f"{where}.max_memory_gib ({limit_gib:g}); {advice} (or raise max_memory_gib)",
    )
