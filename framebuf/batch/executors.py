"""Executors: where a batch's tasks run. Every executor returns the task's bytes to the main
process, which alone writes outputs (so every executor leaves the same bytes on disk).

=============  =================================================================================
``inline``     in the main process (``-j 1``): no start-up; Ctrl-C abandons the running task,
               which has written nothing
``local``      a process pool on this machine (default, one worker per core); a worker that dies
               costs a new pool and a retry of its unfinished tasks
``dask``       Dask distributed (``framebuf[dask]``): a LocalCluster of ``-j N`` single-threaded
               worker processes (``--dask``), or an existing cluster (``--scheduler
               tcp://HOST:PORT``); the scheduler reruns the tasks of a worker that dies
=============  =================================================================================

The interface the runner uses: ``submit(fn, *args) -> handle``, ``wait(handles, timeout) ->
done handles``, ``outcome(handle) -> result`` (raises :class:`WorkerLost` when the worker died),
``shutdown(cancel)``.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import signal
import sys

from ..errors import FramebufError


class WorkerLost(Exception):
    """The process running a task died (killed, out of memory); the task may be retried."""


def _fork_unsafe() -> bool:
    """True when this process holds threads a forked child would miss: OpenEXR's pool, once a
    read or write here has used it (a library caller, a test process), deadlocks the child."""
    exr = sys.modules.get("framebuf.formats._exrfile")
    return exr is not None and exr.pool_in_use()


def start_method() -> str:
    """How to start worker processes: ``fork`` (fast, inherits what the parent loaded) on Linux
    while it is safe, else ``spawn``. The fuzz's reader children use it too."""
    return "fork" if sys.platform.startswith("linux") and not _fork_unsafe() else "spawn"


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; workers leave the decision to the main process,
    # which abandons their tasks (they write nothing) and stops them
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _Done:
    """A finished call, for the inline executor."""

    def __init__(self, value=None, error=None):
        self.value, self.error = value, error


class InlineExecutor:
    name = "inline"
    workers = 1
    dashboard = None

    def submit(self, fn, *args):
        return _Done(fn(*args))

    def wait(self, handles, timeout):
        return list(handles)

    def outcome(self, handle):
        return handle.value

    def shutdown(self, cancel: bool = False) -> None:
        pass

    def describe(self) -> str:
        return "in this process"


class LocalExecutor:
    name = "local"
    dashboard = None

    def __init__(self, workers: int, warm_up=None):
        self.workers = max(1, int(workers))
        self.warm_up = warm_up
        self._start()

    def _start(self) -> None:
        method = start_method()
        if method == "fork" and self.warm_up:
            self.warm_up()   # forked workers inherit what the parent loaded
        self.pool = cf.ProcessPoolExecutor(self.workers, mp_context=mp.get_context(method),
                                           initializer=_ignore_sigint)

    def submit(self, fn, *args):
        try:
            return self.pool.submit(fn, *args)
        except cf.process.BrokenProcessPool:
            self._restart()
            return self.pool.submit(fn, *args)

    def wait(self, handles, timeout):
        done, _ = cf.wait(handles, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return list(done)

    def outcome(self, handle):
        try:
            return handle.result()
        except cf.process.BrokenProcessPool as exc:
            self._restart()
            raise WorkerLost(str(exc) or "a worker process died") from None

    def _restart(self) -> None:
        if getattr(self.pool, "_broken", False):
            self.pool.shutdown(wait=False, cancel_futures=True)
            self._start()

    def shutdown(self, cancel: bool = False) -> None:
        if cancel:
            # abandon running tasks: they have written nothing, and waiting for a long render
            # would keep Ctrl-C waiting
            procs = list((getattr(self.pool, "_processes", None) or {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                if p.is_alive():
                    p.kill()
            for p in procs:
                p.join(1)
        else:
            self.pool.shutdown(wait=True)

    def describe(self) -> str:
        return f"{self.workers} local worker process(es)"


def _dask():
    try:
        import distributed
    except ImportError:
        raise FramebufError("--dask and --scheduler need Dask distributed: "
                            "pip install 'framebuf[dask]'") from None
    return distributed


class DaskExecutor:
    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None):
        distributed = _dask()
        self.distributed = distributed
        self.cluster = None
        if scheduler:
            try:
                self.client = distributed.Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise FramebufError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        else:
            import dask

            # single-threaded worker processes: the decoders and encoders are one thread each
            with dask.config.set({"distributed.worker.daemon": False}):
                self.cluster = distributed.LocalCluster(
                    n_workers=max(1, int(workers or os.cpu_count() or 1)), threads_per_worker=1,
                    processes=True, dashboard_address=":0", silence_logs=50)
            self.client = distributed.Client(self.cluster)
        info = self.client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))
        self.dashboard = self._dashboard()
        self.window = max(32, 8 * self.workers)   # a scheduler round trip per task to hide
        self._n = 0
        import queue

        self._finished = queue.SimpleQueue()

    def _dashboard(self) -> str | None:
        try:
            import bokeh  # noqa: F401  (the dashboard is served only with bokeh)
        except ImportError:
            return None
        return self.client.dashboard_link

    def submit(self, fn, *args):
        self._n += 1
        # pure=False: two inputs never share a result; the key names the task on the dashboard
        fut = self.client.submit(fn, *args, pure=False, key=f"framebuf-{self._n}-{os.getpid()}")
        # finished futures arrive through a queue fed by the client's own thread: one wake-up
        # per result instead of a scheduler round trip per wait
        fut.add_done_callback(self._finished.put)
        return fut

    def wait(self, handles, timeout):
        import queue

        try:
            done = [self._finished.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                done.append(self._finished.get_nowait())
            except queue.Empty:
                break
        wanted = set(map(id, handles))
        return [f for f in done if id(f) in wanted]

    def outcome(self, handle):
        try:
            return handle.result()
        except self.distributed.client.FutureCancelledError:
            raise WorkerLost("the task was cancelled") from None
        except Exception as exc:
            if type(exc).__name__ == "KilledWorker":
                raise WorkerLost(str(exc)) from None
            raise

    def shutdown(self, cancel: bool = False) -> None:
        if cancel and self.cluster is not None:
            # Ctrl-C: the local cluster's processes are ours and hold nothing we need (results
            # come back to this process): stop them now instead of a polite goodbye of seconds
            for child in mp.active_children():
                child.kill()
        try:
            self.client.close(timeout=0.5 if cancel else 10)
        except Exception:
            if not cancel:
                raise
        finally:
            if self.cluster is not None:
                try:
                    self.cluster.close(timeout=0.5 if cancel else 10)
                except Exception:
                    if not cancel:
                        raise
                # distributed closes every cluster it knows again at exit, waiting up to 10 s
                # for workers that are already gone
                instances = getattr(type(self.cluster), "_instances", None)
                if instances is not None:
                    instances.discard(self.cluster)

    def describe(self) -> str:
        where = "a local Dask cluster" if self.cluster is not None else f"the Dask cluster at {self.client.scheduler.address}"
        return f"{self.workers} worker(s) of {where}"


def make_executor(workers: int | None, dask: bool = False, scheduler: str | None = None,
                  warm_up=None, tasks_hint: int | None = None):
    if dask or scheduler:
        return DaskExecutor(workers, scheduler)
    n = max(1, int(workers or os.cpu_count() or 1))
    if tasks_hint is not None:
        n = min(n, max(1, tasks_hint))
    return InlineExecutor() if n == 1 else LocalExecutor(n, warm_up)
