"""A progress bar for long jobs: done/total, rate and time left, on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, unit: str, *, stream: TextIO = sys.stderr) -> None:
        self.total, self.unit, self.stream = total, unit, stream
        self.done = 0
        self.started = time.monotonic()
        self._last_draw = 0.0

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self._last_draw >= 0.2 or self.done >= self.total:
            self._last_draw = now
            self.stream.write("\r" + self.line(now))
            self.stream.flush()

    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        share = self.done / self.total if self.total else 1.0
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        bar = "#" * int(share * 30)
        return (
            f"[{bar:<30}] {share:6.1%} {self.done:,}/{self.total:,} {self.unit} "
            f"{rate:,.0f}/s, {left:,.0f} s left "
        )

    def finish(self) -> float:
        self.stream.write("\n")
        self.stream.flush()
        return time.monotonic() - self.started
