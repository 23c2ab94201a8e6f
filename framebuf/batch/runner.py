"""The batch loop: stream inputs, skip what the journal says is done, run the rest on an
executor, write each finished render's files through the sink, record it, report progress.

Ctrl-C (SIGINT, to the main process or its whole group): pending tasks are cancelled and running
ones abandoned (workers write nothing; their results only ever reach disk through this loop),
the results already back are written whole, the open shard is finished, and the run ends with
exit status 130, typically well within a second. Writing one render's files is never cut half-way:
SIGINT is held off for those few milliseconds. A rerun then does only what is missing.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FramebufError
from .executors import WorkerLost
from .journal import Journal, file_sha256

#: a task that lost its worker this many times is reported failed, not retried again
MAX_ATTEMPTS = 3


@dataclass
class TaskOutput:
    """What a worker sends back for one input: the files' bytes and what to record."""

    source: str
    ok: bool = False
    error: str = ""
    warnings: list = field(default_factory=list)
    files: list = field(default_factory=list)      # [(file name, bytes)]
    size: int = 0
    mtime_ns: int = 0
    sha256: str = ""
    seconds: float = 0.0
    detail: str = ""                               # e.g. the layout used


def output_for(path: str) -> tuple[TaskOutput, OSError | None]:
    """A task's result, started with what the journal records of its input (size, mtime,
    SHA-256), and the error when the input cannot be read."""
    from .journal import file_sha256

    out = TaskOutput(str(path))
    try:
        st = os.stat(path)
        out.size, out.mtime_ns, out.sha256 = st.st_size, st.st_mtime_ns, file_sha256(path)
    except OSError as exc:
        return out, exc
    return out, None


@dataclass
class Job:
    """One kind of work over many inputs (``extract`` ...): how to name and run a task."""

    name: str
    task: object                  # picklable top-level function (path, params) -> TaskOutput
    params: object                # passed to every task (picklable)
    options: dict                 # what shapes the outputs (the journal's options key)
    stem: object                  # path -> output name stem
    warm_up: object = None        # run once in the parent before forking local workers
    key: str = ""                 # the journal's job name (default ``name``): copy -f png and
                                  # copy -f tif into one folder are two jobs
    suffixes: tuple = (".exr",)   # the files a folder input stands for


@dataclass
class Report:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    interrupted: bool = False
    seconds: float = 0.0
    details: dict = field(default_factory=dict)    # detail -> count
    warnings: list = field(default_factory=list)
    failures: list = field(default_factory=list)   # error lines, in order (first 1000 kept)
    destination: str = ""
    executor: str = ""
    removed_empty_output: bool = False

    @property
    def total(self) -> int:
        return self.done + self.skipped + self.failed

    def summary(self, verb: str, detail_label: str = "", noun: str = "render(s)") -> tuple[list[str], list[str]]:
        """(lines for stdout, lines for stderr) closing a run."""
        per = noun.replace("(s)", "s")
        rate = f", {self.done / self.seconds:.2f} {per}/s" if self.seconds > 0 and self.done else ""
        out = [f"{verb} {self.done} of {self.total} {noun} in {self.seconds:.2f}s{rate}"
               + (f"; {self.skipped} skipped (done by an earlier run; --force redoes them)"
                  if self.skipped else "")
               + (f"; {self.retried} retried after a worker died" if self.retried else "")]
        if self.details and detail_label:
            out.append(f"{detail_label}: {', '.join(sorted(self.details))}")
        err = [f"warning: {w}" for w in self.warnings]
        if self.failed:
            err.append(f"failed: {self.failed} (errors above; the job journal keeps them)")
        if self.interrupted:
            err.append(f"interrupted: {self.total} {noun} finished and recorded; rerun the same "
                       f"command to do the rest")
        if self.removed_empty_output:
            err.append(f"nothing was written; the output folder {self.destination} was removed")
        return out, err


class _Interrupts:
    """SIGINT during a run. With worker processes the handler only notes it and the loop stops at
    its next turn (a fifth of a second at most): Dask's client and the pool's threads are never
    torn by a KeyboardInterrupt raised in their middle. Inline, the running task is abandoned at
    once (it has written nothing). Either way writing one render's files is never cut: inside
    :meth:`hold` the signal waits until the files are written and recorded."""

    def __init__(self, raise_at_once: bool):
        self.raise_at_once = raise_at_once
        self.pending = False
        self.holding = False
        self.old = None

    def _handler(self, *_):
        self.pending = True
        if self.raise_at_once and not self.holding:
            raise KeyboardInterrupt

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.old = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGINT, self.old)

    def check(self) -> None:
        if self.pending:
            raise KeyboardInterrupt

    @contextmanager
    def hold(self):
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
        if self.raise_at_once:
            self.check()


def stat_of(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def run(job: Job, inputs, sink, journal: Journal, executor, options_key: str, *,
        force: bool = False, verify: bool = False, progress=None, on_output=None,
        window: int | None = None) -> Report:
    """Run ``job`` over ``inputs`` (an iterator of paths). ``progress``: an object with
    ``update(report)`` and ``message(line)`` (:class:`framebuf.progress.BatchProgress`); ``on_output(TaskOutput)`` sees every finished task (a successful one after its files
    are written)."""
    r = _BatchRun(job, inputs, sink, journal, executor, options_key, force=force, verify=verify,
                  progress=progress, on_output=on_output, window=window)
    with r.interrupts:
        try:
            r.loop()
            with r.interrupts.hold():
                journal.record(sink.close())
            executor.shutdown()
        except KeyboardInterrupt:
            r.stop_interrupted()
        finally:
            journal.forget_pending()
            r.rep.seconds = time.perf_counter() - r.t0
    return r.rep


class _BatchRun:
    """The state of one :func:`run`: tasks in flight, results waiting for their turn (written in
    input order), and the report. Each step is a method so the loop in :meth:`loop` reads as
    fill the window, write what is ready, wait, collect."""

    def __init__(self, job: Job, inputs, sink, journal: Journal, executor, options_key: str, *,
                 force: bool, verify: bool, progress, on_output, window: int | None):
        self.job, self.sink, self.journal, self.executor = job, sink, journal, executor
        self.options_key, self.force, self.verify = options_key, force, verify
        self.progress, self.on_output = progress, on_output
        self.rep = Report(destination=sink.describe(), executor=executor.describe())
        self.t0 = time.perf_counter()
        # tasks in flight (and results waiting for their turn): enough to hide the executor's
        # round trip (Dask's is milliseconds), few enough that their bytes stay small
        self.window = window or getattr(executor, "window", None) or max(4, 4 * executor.workers)
        self.inflight: dict = {}            # handle -> (index, path, stem, attempt)
        self.ready: dict = {}               # index -> (TaskOutput | None (None: skipped), stem)
        self.next = 0                       # the index written next
        self.seen = 0                       # inputs read so far
        self.interrupts = _Interrupts(raise_at_once=executor.name == "inline")
        self.it = iter(inputs)
        self.exhausted = False

    def loop(self) -> None:
        while True:
            self.interrupts.check()
            self.fill_window()
            self.drain_in_order()
            if not self.inflight:
                if self.exhausted and not self.ready:
                    return
                continue
            done = self.executor.wait(list(self.inflight), 0.2)
            self.interrupts.check()
            for h in done:
                self.collect(h)
            self.drain_in_order()

    def fill_window(self) -> None:
        """Read inputs until the window is full: skipped and clashing ones go straight to
        ``ready`` (they keep their place in the order), the rest are submitted."""
        while not self.exhausted and len(self.inflight) + len(self.ready) < self.window:
            try:
                path = str(next(self.it))
            except StopIteration:
                self.exhausted = True
                return
            index = self.seen
            self.seen += 1
            path = os.path.abspath(path)
            stem = self.job.stem(path)
            what, other = self.decide(path)
            if what == "skip":
                self.rep.skipped += 1
                self.ready[index] = (None, stem)
                continue
            if what == "clash":
                self.ready[index] = (TaskOutput(path, error=f"{path}: another input of this job has the "
                                                f"same name ({other}); their outputs would overwrite "
                                                f"each other"), None)
                continue
            self.journal.claim(path, stem)
            self.submit(index, path, stem, 1)

    def submit(self, index: int, path: str, stem: str, attempt: int) -> None:
        handle = self.executor.submit(self.job.task, path, self.job.params)
        self.inflight[handle] = (index, path, stem, attempt)

    def collect(self, h) -> None:
        """One finished task's result into ``ready``; a lost worker is retried up to
        MAX_ATTEMPTS times (the input may not be to blame)."""
        index, path, stem, attempt = self.inflight.pop(h)
        try:
            out = self.executor.outcome(h)
        except WorkerLost as exc:
            if attempt < MAX_ATTEMPTS:
                self.rep.retried += 1
                self.submit(index, path, stem, attempt + 1)
                return
            out = TaskOutput(path, error=f"{path}: the worker died {attempt} times on this "
                                         f"input ({exc})")
        except Exception as exc:      # the task itself crashed on a worker
            out = TaskOutput(path, error=f"{path}: internal error: {type(exc).__name__}: {exc}")
        self.ready[index] = (out, stem)

    def drain_in_order(self) -> None:
        while self.next in self.ready:
            out, stem = self.ready.pop(self.next)
            self.commit(out, stem)
            self.next += 1
            if self.progress is not None:
                self.progress.update(self.rep)

    def stop_interrupted(self) -> None:
        rep = self.rep
        rep.interrupted = True
        self.executor.shutdown(cancel=True)
        # what came back is whole: write it (out of order now, it no longer matters), then
        # finish the open shard
        for index in sorted(self.ready):
            out, stem = self.ready[index]
            try:
                self.commit(out, stem)
            except KeyboardInterrupt:
                break
        self.ready.clear()
        try:
            self.journal.record(self.sink.close())
        except KeyboardInterrupt:
            pass

    def decide(self, path: str) -> tuple[str, str | None]:
        """'skip' | 'run' | 'clash', and the clashing input."""
        journal = self.journal
        stem = self.job.stem(path)
        other = journal.stem_owner(stem, path)
        if other is not None:
            return "clash", other
        row = journal.lookup(path)
        if self.force or row is None or row.status != "ok" or row.options != self.options_key:
            return "run", None
        st = stat_of(path)
        if st is None:
            return "run", None
        if st != (row.size, row.mtime_ns):
            if file_sha256(path) != row.sha256:
                return "run", None
            journal.touch(path, *st)
        return ("skip" if self.sink.intact(row, self.verify) else "run"), None

    def fail(self, out: TaskOutput) -> None:
        rep = self.rep
        rep.failed += 1
        line = out.error if out.error.startswith(out.source) else f"{out.source}: {out.error}"
        if len(rep.failures) < 1000:
            rep.failures.append(line)
        if self.progress is not None:
            self.progress.message(f"error: {line}")
        else:
            print(f"error: {line}", file=sys.stderr)

    def commit(self, out: TaskOutput | None, stem: str) -> None:
        """Write one result's files and record it (a failure is recorded with no outputs)."""
        if out is None:
            return
        rep, on_output = self.rep, self.on_output
        if not out.ok:
            self.fail(out)
            if on_output is not None:
                on_output(out)
            self.journal.record([{"input": out.source, "stem": stem, "size": out.size,
                                  "mtime_ns": out.mtime_ns, "sha256": out.sha256,
                                  "options": self.options_key, "status": "failed",
                                  "error": out.error, "outputs": {}, "seconds": out.seconds}])
            return
        row = {"input": out.source, "stem": stem, "size": out.size, "mtime_ns": out.mtime_ns,
               "sha256": out.sha256, "options": self.options_key, "status": "ok", "error": "",
               "seconds": out.seconds}
        with self.interrupts.hold():
            self.journal.record(self.sink.put(row, out.files))
        rep.done += 1
        if out.detail:
            rep.details[out.detail] = rep.details.get(out.detail, 0) + 1
        for w in out.warnings:
            if w not in rep.warnings and len(rep.warnings) < 1000:
                rep.warnings.append(w)
        if on_output is not None:
            on_output(out)
