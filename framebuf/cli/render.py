"""framebuf render: render a .mi scene and execute its framebuffer/output statements."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import FramebufError
from ._table import format_table

NAME = "render"
HELP = "render a .mi scene with the embedded ray caster and write its outputs"
DESCRIPTION = """\
Render SCENE.mi with a sample source (the embedded analytic ray caster by default), resolve the
samples into the camera's frame buffers, run the output shaders and write the files, in mental
ray's order: named framebuffers run every output shader first and then write; legacy output
statements run strictly in sequence. Relative file names go under OUTDIR.

Prints a table of the files written; --preview adds OUTDIR/preview.png, a contact sheet of every
buffer. --dry-run prints the output setup and writes nothing."""


def add_arguments(parser):
    parser.add_argument("scene", metavar="SCENE.mi", help="the scene file")
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
    from ..scene import load
    from ..scene.execute import human_size, render_scene
    from ..sources.base import get_source

    from ..shading import shaders

    scene = load(args.scene)
    registered = shaders()
    # a shader framebuf has registered needs no declaration in the scene
    known = {m for name, msgs in scene.undeclared_shaders.items() if name in registered for m in msgs}
    for w in scene.warnings:
        if w in known:
            continue
        print(f"framebuf render: warning: {w}", file=sys.stderr)
    if args.dry_run:
        print(scene.describe())
        if scene.camera is not None:
            from ..limits import format_bytes
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
    options = {}
    for item in args.source_option:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise FramebufError(f"--source-option {item!r}: expected KEY=VALUE")
        options[key.strip()] = value
    source = get_source(args.source, **options)
    outdir = Path(args.outdir)
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
    preview = outdir / "preview.png"
    written_paths = {f.path.resolve() for f in result.files}
    if args.preview:
        from ..preview import contact_sheet

        path = contact_sheet(result.buffers, preview)
        rows.append({"file": path.name, "format": "png", "type": "rgb (preview)",
                     "size": human_size(path.stat().st_size)})
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
