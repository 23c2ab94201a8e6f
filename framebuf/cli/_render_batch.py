"""``framebuf render A.mi B.mi ... -o OUT``: many scenes (or one scene file per frame) through
:mod:`framebuf.batch`, so a batch of renders is resumable, runs on the local pool or on Dask, stops
cleanly on Ctrl-C and can go straight into WebDataset shards.

Each scene renders in a worker into a private temporary folder; its files come back as bytes and
the main process writes them under ``OUT/<scene stem>/`` (the layout a single render writes into
``OUT``, one folder per scene), or into a shard as ``<stem>.<file>``."""

from __future__ import annotations

import tempfile
from pathlib import Path

from . import _batch


def render_task(path: str, params):
    """One scene in a batch worker."""
    from ..batch import output_for

    seed, source_name, source_options, preview = params
    out, problem = output_for(path)
    if problem is not None:
        out.error = f"{path}: {problem.strerror or problem}"
        return out
    with tempfile.TemporaryDirectory(prefix="framebuf-render-") as tmp:
        with _batch.task_outcome(out, path):
            files, out.warnings, out.seconds = _render_into(
                path, Path(tmp), _batch._stem(path), seed, source_name, source_options, preview)
            out.files, out.ok = files, True
    return out


def _render_into(path, root: Path, stem: str, seed, source_name, source_options, preview):
    from ..scene import load
    from ..scene.execute import render_scene
    from ..sources.base import get_source
    from .render import PREVIEW_NAME, scene_warnings

    scene = load(path)
    # the executor keeps every output under ``root`` (an absolute or ../ name is written there,
    # with a warning), so the files the worker hands back are all the scene writes; a scene
    # without a camera is render_scene's located error
    result = render_scene(scene, root, seed=seed, source=get_source(source_name, **source_options))
    files = [(f"{stem}/{Path(w.path).resolve().relative_to(root.resolve()).as_posix()}",
              Path(w.path).read_bytes()) for w in result.files]
    if preview:
        from ..preview import contact_sheet

        sheet = contact_sheet(result.buffers, root / PREVIEW_NAME)
        files.append((f"{stem}/{PREVIEW_NAME}", sheet.read_bytes()))
    warnings = [f"{Path(path).name}: {w}" for w in [*scene_warnings(scene), *result.warnings]]
    return files, warnings, result.timings.get("total", 0.0)


def run_batch(args, options: dict) -> int:
    from .. import batch

    _batch.check_workers(args)
    params = (args.seed, args.source, options, args.preview)
    shaping = {"seed": args.seed, "source": args.source, "source_options": options,
               "preview": args.preview}
    job = batch.Job("render", render_task, params, shaping, _batch._stem, suffixes=(".mi",))
    rep = batch.run_job(job, args.scene, output=None if args.to else args.outdir, to=args.to,
                        workers=args.workers, dask=args.dask, scheduler=args.scheduler,
                        force=args.force, verify=args.verify, shard_size=args.shard_size,
                        progress=False if args.quiet else None)
    return _batch.finish(rep, "rendered", noun="scene(s)")
