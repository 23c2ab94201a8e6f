"""The batch flags every many-input command shares, and running one file-to-file command over
many inputs through :mod:`framebuf.batch` (``copy IN... -d OUTDIR``, ``apply IN... --each -d
OUTDIR``). Each input becomes ``OUTDIR/<stem>.<ext>``; the job journal, executors, Ctrl-C and
progress are extract's."""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..errors import FramebufError


def add_executor_arguments(parser, folder_flag: str | None = None) -> None:
    """-j, --dask, --scheduler, --force, --verify, -q (and ``folder_flag`` for the output folder)."""
    if folder_flag:
        parser.add_argument(*folder_flag.split(","), dest="outdir", metavar="OUTDIR",
                            help="write one output per input into OUTDIR (created if missing), "
                                 "through the batch layer: resumable, parallel, Ctrl-C safe")
    parser.add_argument("-j", "--workers", type=int, default=None,
                        help="worker processes (default: one per core; 1 = in this process)")
    parser.add_argument("--dask", action="store_true",
                        help="run on a local Dask cluster of -j workers (pip install 'framebuf[dask]')")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help="run on an existing Dask cluster (its workers must see the inputs and "
                             "framebuf; outputs come back to this machine)")
    parser.add_argument("--force", action="store_true",
                        help="redo every input, even those the output folder's job journal says are done")
    parser.add_argument("--verify", action="store_true",
                        help="before skipping a done input, check its outputs' SHA-256, not just their sizes")


def check_workers(args) -> None:
    if args.workers is not None and args.workers < 1:
        raise FramebufError("-j needs at least 1 worker")


def finish(rep, verb: str, detail_label: str = "", noun: str = "render(s)") -> int:
    out, err = rep.summary(verb, detail_label, noun)
    for line in out:
        print(line)
    for line in err:
        print(line, file=sys.stderr)
    if rep.interrupted:
        return 130
    return 2 if rep.failed else 0


@contextmanager
def task_outcome(out, path: str):
    """The body of one batch task: the Python warnings it raises join ``out.warnings`` (named by
    the input) when it succeeds, and a failure becomes ``out.error``, one line, so the batch
    goes on. The body sets ``out.files`` and ``out.ok`` last, once everything worked."""
    import warnings

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        out.warnings += [f"{Path(path).name}: {w.message}" for w in caught]
    except FramebufError as exc:
        out.error = str(exc)
    except MemoryError:
        out.error = f"{path}: out of memory"
    except OSError as exc:
        out.error = f"{path}: {exc.strerror or exc}"
    except Exception as exc:   # a bug: one line in the report, the batch goes on
        out.error = f"{path}: internal error: {type(exc).__name__}: {exc}"


def file_task(path: str, params):
    """One input of a per-file command in a worker: the command writes into a private temporary
    folder, whose file comes back as bytes (the main process writes it into OUTDIR)."""
    from ..batch import output_for

    command, args, ext = params
    out, problem = output_for(path)
    if problem is not None:
        out.error = f"{path}: {problem.strerror or problem}"
        return out
    name = _stem(path) + (ext or Path(path).suffix)
    with tempfile.TemporaryDirectory(prefix="framebuf-") as tmp:
        target = Path(tmp) / name
        local = argparse.Namespace(**vars(args))
        with task_outcome(out, path):
            command(local, path, str(target))
            out.files = [(name, target.read_bytes())]
            out.ok = True
    return out


def _stem(path) -> str:
    return Path(path).stem


def run_per_file(job_name: str, command, args, inputs, ext: str | None, verb: str,
                 noun: str = "file(s)") -> int:
    """``command(args, input, output)`` over ``inputs`` into ``args.outdir``."""
    from .. import batch

    check_workers(args)
    shaping = {k: v for k, v in vars(args).items()
               if k not in ("outdir", "workers", "dask", "scheduler", "force", "verify", "quiet",
                            "inputs", "input", "output", "func", "command")
               and not callable(v)}
    job = batch.Job(job_name, file_task, (command, args, ext), {**shaping, "ext": ext},
                    _stem, key=f"{job_name}:{ext or 'as input'}")
    rep = batch.run_job(job, inputs, output=args.outdir, workers=args.workers, dask=args.dask,
                        scheduler=args.scheduler, force=args.force, verify=args.verify,
                        progress=False if getattr(args, "quiet", False) else None)
    return finish(rep, verb, noun=noun)
