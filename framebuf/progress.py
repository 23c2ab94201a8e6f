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


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class BatchProgress:
    """Progress over a whole batch: done / skipped / failed of the total, renders per second of
    the work actually done (skips are free), and the time left at that rate. Silent unless
    stderr is a TTY; :meth:`message` prints a line above the bar (errors as they happen)."""

    def __init__(self, total: int | None, label: str = "", stream=None, enabled: bool | None = None):
        self.total = total
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._line = ""

    def update(self, rep) -> None:
        now = time.perf_counter()
        finished = rep.done + rep.skipped + rep.failed
        if not self.enabled or (now - self._last_draw < 0.1 and finished != self.total):
            return
        self._last_draw = now
        elapsed = now - self._start
        worked = rep.done + rep.failed
        rate = worked / elapsed if elapsed > 0 else 0.0
        text = f"{self.label} {finished}"
        if self.total:
            width = 24
            filled = int(width * min(finished / self.total, 1.0))
            text = f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {finished}/{self.total}"
        text += f"  done {rep.done} skipped {rep.skipped} failed {rep.failed}  {rate:.1f}/s"
        if self.total and rate > 0 and finished < self.total:
            text += f"  ETA {_duration((self.total - finished) / rate)}"
        self._line = text
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()

    def message(self, line: str) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K" + line + "\n" + self._line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def __enter__(self) -> "BatchProgress":
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled and self._line:
            self.stream.write("\n")
            self.stream.flush()


def jit_cache_cold(*modules) -> bool:
    """True when none of the Numba kernels of one of ``modules`` is in the on-disk cache, i.e.
    this process will compile them (12-18 s for a first render, during which a bar would sit at
    0%). A module counts as warm when any of its kernels has a cached entry whose source stamp
    matches: a run uses only some kernels, and editing the module invalidates all of them.

    Reads Numba's cache index through private attributes (numba 0.5x-0.6x); if they change,
    the answer is False (no notice) rather than an error."""
    from numba.core.registry import CPUDispatcher

    for module in modules:
        dispatchers = [v for v in vars(module).values() if isinstance(v, CPUDispatcher)]
        if not dispatchers:
            continue
        try:
            if not any(d._cache._cache_file._load_index() for d in dispatchers):
                return True
        except Exception:  # noqa: BLE001 - private API; never let a notice break a render
            return False
    return False
