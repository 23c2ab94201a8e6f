"""A small progress bar for long work: drawn on a terminal, silent otherwise (CI, pipes, logs)."""

from __future__ import annotations

import sys
import time


class Progress:
    """``with Progress(total, "rendering") as bar: bar.update(n)``; no output unless stderr is a TTY."""

    def __init__(self, total: int, label: str = "", stream=None, enabled: bool | None = None):
        self.total = max(int(total), 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.done = 0
        self._start = time.perf_counter()
        self._last_draw = 0.0

    def update(self, n: int = 1) -> None:
        self.done = min(self.done + n, self.total)
        now = time.perf_counter()
        if self.enabled and (now - self._last_draw > 0.05 or self.done == self.total):
            self._last_draw = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        width = 30
        frac = self.done / self.total
        filled = int(frac * width)
        elapsed = now - self._start
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"{frac:4.0%} {elapsed:5.1f}s"
        )
        self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
