"""Progress through the rows of a batch: one line redrawn in place on a terminal (tqdm), a log
line per chunk elsewhere (a DVC stage log, CI). Its clock is the one the summary's rate is
read from, so the last rate on screen and the summary's are the same number."""

from __future__ import annotations

import logging
import sys
import time

from tqdm import tqdm

log = logging.getLogger(__name__)


class RowProgress:
    def __init__(self, total: int | None, stream=None):
        self.total, self.rows = total, 0
        self.start = time.perf_counter()
        stream = stream or sys.stderr
        self.bar = None
        if stream.isatty():
            # A CSV's row count is unknown until it is read: then no bar, the count so far.
            shape = "{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}"
            shape = shape if total else "{n_fmt} rows [{elapsed}"
            self.bar = tqdm(
                total=total,
                unit=" rows",
                unit_scale=True,
                file=stream,
                bar_format=f"scoring {shape}{{postfix}}]",
            )

    def advance(self, rows: int) -> None:
        self.rows += rows
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.rate(self.seconds()):,.0f} rows/s", refresh=False)
            self.bar.update(rows)
        else:
            of = f" of {self.total:,} ({self.rows / self.total:.0%})" if self.total else ""
            log.info("scored %s rows%s", f"{self.rows:,}", of)

    def seconds(self) -> float:
        return time.perf_counter() - self.start

    def rate(self, seconds: float) -> float:
        return self.rows / seconds if seconds else float("inf")

    def finish(self) -> float:
        """The seconds since the start; the bar, if any, ends showing the rate they give."""
        seconds = self.seconds()
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.rate(seconds):,.0f} rows/s", refresh=False)
            self.bar.close()
        return seconds
