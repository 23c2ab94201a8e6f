"""Batches of many inputs: one layer for every command that runs over many files.

``framebuf extract`` goes through it (see :func:`run_job`); pieces:

* :mod:`.inputs` streams input paths from globs, folders and ``@list.txt`` files;
* :mod:`.executors` runs tasks inline, in a local process pool, or on Dask (``--dask``,
  ``--scheduler``); tasks return bytes, the main process writes;
* :mod:`.sinks` writes a render's files into a folder or into WebDataset tar shards;
* :mod:`.journal` records what is finished (SQLite in the output folder), so a rerun skips it;
* :mod:`.runner` is the loop, with Ctrl-C handling and progress.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import FramebufError
from .executors import make_executor
from .inputs import count_inputs, iter_inputs
from .journal import FILE_NAME, Journal, options_key
from .runner import Job, Report, TaskOutput, output_for, run
from .sinks import FolderSink, WebDatasetSink, parse_destination

__all__ = ["Job", "Report", "TaskOutput", "output_for", "run_job", "iter_inputs"]


def _prepare_folder(folder: Path) -> bool:
    """Create the output folder if needed; True when this run created it."""
    if folder.exists():
        if not folder.is_dir():
            raise FramebufError(f"{folder}: exists and is not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise FramebufError(f"{folder}: the output folder is not writable")
        return False
    try:
        folder.mkdir(parents=True)
    except OSError as exc:
        raise FramebufError(f"{folder}: cannot create the output folder ({exc.strerror or exc})") from None
    return True


def run_job(job: Job, specs, *, output: str | None = None, to: str | None = None,
            workers: int | None = None, dask: bool = False, scheduler: str | None = None,
            force: bool = False, verify: bool = False, shard_size: int = 1000,
            progress: bool | None = None, say=None, version: str | None = None,
            on_output=None) -> Report:
    """Run ``job`` over the inputs named by ``specs`` into ``output`` (a folder) or ``to``
    (``webdataset:OUT/shard-%06d.tar``). ``say(line)`` receives notes (skips, the Dask
    dashboard) -- stderr by default."""
    from .. import __version__
    from ..progress import BatchProgress

    import sys

    say = say or (lambda line: print(line, file=sys.stderr))
    kind, folder, pattern = parse_destination(to, output)
    specs = [str(s) for s in specs]
    if not specs:
        raise FramebufError("no input files given")
    total = count_inputs(specs, job.suffixes)
    if total == 0:
        raise FramebufError(f"no input files found in {', '.join(specs)}")
    created = _prepare_folder(folder)
    run_id = os.urandom(8).hex()
    key = options_key({**job.options, "destination": kind}, version or __version__)
    journal = Journal(folder, run_id, job.key or job.name)
    try:
        sink = FolderSink(folder) if kind == "folder" else WebDatasetSink(pattern, shard_size, journal)
        if kind == "webdataset":
            sink.start()
        executor = make_executor(workers, dask, scheduler, warm_up=job.warm_up, tasks_hint=total)
        if executor.dashboard:
            say(f"dask dashboard: {executor.dashboard}")
        bar = BatchProgress(total, job.name, enabled=progress)
        with bar:
            rep = run(job, iter_inputs(specs, job.suffixes), sink, journal, executor, key, force=force,
                      verify=verify, progress=bar, on_output=on_output)
    finally:
        journal.close()
    if created and rep.done == 0 and rep.skipped == 0 and not rep.interrupted:
        # nothing came out: leave no empty folder behind (the journal of failures goes with it)
        shutil.rmtree(folder, ignore_errors=True)
        rep.removed_empty_output = True
    return rep
