"""framebuf render: render a .mi scene and execute its framebuffer/output statements."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import FramebufError
from . import _batch
from ._table import format_table

NAME = "render"
#: the contact sheet --preview writes beside a render's files
PREVIEW_NAME = "preview.png"
HELP = "render a .mi scene with the embedded ray caster and write its outputs"
DESCRIPTION = """\
Render SCENE.mi with a sample source (the embedded analytic ray caster by default), resolve the
samples into the camera's frame buffers, run the output shaders and write the files, in mental
ray's order: named framebuffers run every output shader first and then write; legacy output
statements run strictly in sequence. Relative file names go under OUTDIR.

Several scenes (one per frame, say) render as a batch: each into OUTDIR/<scene stem>/, through
the batch layer shared with extract -- resumable (a rerun skips scenes done unless --force),
parallel (-j, --dask, --scheduler), Ctrl-C safe, or straight into WebDataset shards with --to.

Prints a table of the files written; --preview adds OUTDIR/preview.png, a contact sheet of every
buffer. --dry-run prints the output setup and writes nothing.

examples:
  framebuf render scenes/demo.mi -o out --preview
  framebuf render shots/frame.*.mi -o frames -j 2
  framebuf render 'shots/**/*.mi' --to webdataset:shards/shard-%06d.tar --shard-size 500
"""


def add_arguments(parser):
    parser.add_argument("scene", nargs="+", metavar="SCENE.mi",
                        help="the scene file; several (files, folders, quoted globs, @list.txt) "
                             "render as a batch, each into OUTDIR/<stem>/")
    parser.add_argument("-o", "--outdir", default=".", help="folder for the output files (default: .)")
    parser.add_argument("--preview", action="store_true",
                        help="also write OUTDIR/preview.png, a labelled contact sheet of every buffer")
    parser.add_argument("--seed", type=int, default=0, help="sample seed (default 0)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the output setup the render would execute; write nothing")
    parser.add_argument("--source", default="raycast",
                        help="sample source (default raycast; see the framebuf_sample_sources hook)")
    parser.add_argument("--source-option", action="append", default=[], metavar="KEY=VALUE",
                        help="an option of the sample source, e.g. variant=scalar_rgb for "
                             "--source mitsuba (repeatable)")
    batch = parser.add_argument_group("batches of scenes (used when several scenes are given, "
                                      "or with --batch)")
    batch.add_argument("--batch", action="store_true",
                       help="render even one scene through the batch layer (into OUTDIR/<stem>/)")
    batch.add_argument("--to", metavar="webdataset:OUT/shard-%%06d.tar",
                       help="write each scene's files into WebDataset tar shards")
    batch.add_argument("--shard-size", type=int, default=1000, metavar="N",
                       help="scenes per shard with --to webdataset: (default 1000)")
    batch.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _batch.add_executor_arguments(batch)


class _Bar:
    """Adapts ``progress(done, total)`` to a Progress bar created once the total is known."""

    def __init__(self):
        self.bar = None

    def __call__(self, done: int, total: int) -> None:
        from ..progress import Progress

        if self.bar is None:
            self.bar = Progress(total, "rendering")
        if total != self.bar.total:
            self.bar.total = max(int(total), 1)
        self.bar.update(done - self.bar.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def scene_warnings(scene) -> list[str]:
    """The scene's warnings worth showing: a shader framebuf has registered needs no
    declaration in the scene."""
    from ..shading import shaders

    registered = shaders()
    known = {m for name, msgs in scene.undeclared_shaders.items() if name in registered for m in msgs}
    return [w for w in scene.warnings if w not in known]


def _source_options(items) -> dict:
    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise FramebufError(f"--source-option {item!r}: expected KEY=VALUE")
        options[key.strip()] = value
    return options


def _is_batch(args) -> bool:
    if args.batch or args.to or args.dask or args.scheduler or len(args.scene) > 1:
        return True
    one = args.scene[0]
    return one.startswith("@") or Path(one).is_dir() or any(c in one for c in "*?[")


def _compile_notice(source) -> None:
    """Say once why the first render sits still: Numba compiles the sample source's and the
    resolver's kernels (12-18 s for the demo) before the first row, and caches them on disk."""
    import importlib

    from ..progress import jit_cache_cold
    from ..resolve import kernels

    modules = [kernels]
    try:
        modules.append(importlib.import_module(type(source).__module__))
    except ImportError:
        pass
    if jit_cache_cold(*modules):
        print("framebuf render: compiling kernels (first run only, cached afterwards)",
              file=sys.stderr, flush=True)


def run(args) -> int:
    options = _source_options(args.source_option)
    if _is_batch(args):
        if args.dry_run:
            raise FramebufError("--dry-run takes one scene")
        from ._render_batch import run_batch

        return run_batch(args, options)
    args.scene = args.scene[0]
    return _run_one(args, options)


def _run_one(args, options: dict) -> int:
    from ..scene import load
    from ..limits import format_bytes
    from ..scene.execute import render_scene
    from ..sources.base import get_source

    scene = load(args.scene)
    for w in scene_warnings(scene):
        print(f"framebuf render: warning: {w}", file=sys.stderr)
    if args.dry_run:
        print(scene.describe())
        if scene.camera is not None:
            from ..scene.execute import plan_render

            plan = plan_render(scene, Path(args.outdir))
            for w in plan.warnings:
                print(f"framebuf render: warning: {w}", file=sys.stderr)
            rows = [{"file": str(p.path), "format": p.format, "buffers": ",".join(p.buffers),
                     "when": p.when} for p in plan.files]
            width, height = plan.resolution
            over = plan.nbytes > plan.budget
            print(f"\nmemory: {width}x{height} needs about {format_bytes(plan.nbytes)}, "
                  f"{'over' if over else 'within'} the budget of {format_bytes(plan.budget)}"
                  + ("; the render would be refused (FRAMEBUF_MEMORY_BUDGET changes the budget)"
                     if over else ""))
            print("would write (dry run, nothing written):")
            print(format_table(rows, ["file", "format", "buffers", "when"]) if rows else "(no files)")
        return 0
    if scene.camera is None:
        raise FramebufError(f"{scene.path}: the scene has no camera; nothing to render")
    source = get_source(args.source, **options)
    outdir = Path(args.outdir)
    # the folder first: an -o naming a file is one error line, before any notice or work
    outdir.mkdir(parents=True, exist_ok=True)
    _compile_notice(source)
    bar = _Bar()
    try:
        result = render_scene(scene, outdir, seed=args.seed, source=source, progress=bar)
    finally:
        bar.close()
    for w in result.warnings:
        print(f"framebuf render: warning: {w}", file=sys.stderr)
    rows = result.table()
    removed = [{"file": str(p.name), "format": "null", "type": "-", "size": "(removed)"}
               for p in result.removed]
    preview = outdir / PREVIEW_NAME
    written_paths = {f.path.resolve() for f in result.files}
    if args.preview:
        from ..preview import contact_sheet

        path = contact_sheet(result.buffers, preview)
        rows.append({"file": path.name, "format": "png", "type": "rgb (preview)",
                     "size": format_bytes(path.stat().st_size)})
    elif preview.resolve() not in written_paths:
        from ..preview import is_contact_sheet

        # a sheet from an earlier --preview run would pass for this render's picture
        if is_contact_sheet(preview):
            preview.unlink()
            removed.append({"file": preview.name, "format": "png", "type": "rgb (preview)",
                            "size": "(removed: stale, from an earlier --preview run)"})
    t = result.timings
    gone = f", {len(removed)} removed" if removed else ""
    print(f"rendered {result.buffers.width}x{result.buffers.height}, {result.samples} samples "
          f"with {args.source} in {t.get('total', 0.0):.2f} s; {len(rows)} file(s) written{gone} "
          f"in {outdir}")
    rows += removed
    print(format_table(rows, ["file", "format", "type", "size"]) if rows else "no files written")
    return 0
