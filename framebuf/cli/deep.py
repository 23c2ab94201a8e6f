"""framebuf deep: flatten, merge, hold out and crop deep OpenEXR files."""

from __future__ import annotations

import sys

from ..errors import FramebufError, UnsupportedOptionError

NAME = "deep"
HELP = "flatten, merge, hold out or crop deep OpenEXR files"
DESCRIPTION = HELP + """

flatten   composites every pixel's samples front to back (tidied first: sorted, volume samples
          split where they overlap, coincident ones merged) into a flat image, written in any
          format (a one-buffer format gets the colour buffer).
merge     several deep files (elements rendered apart) into one deep file, composited by depth;
          part N of every input goes to part N of the output.
holdout   removes the samples of some ids (or in front of / behind a depth) and lets them
          attenuate what lies behind them, as a holdout object would.
crop      keeps the samples of a window (file pixels x0,y0,x1,y1, inclusive).

examples:
  framebuf deep flatten beauty_deep.exr -o beauty.exr
  framebuf deep merge fg_deep.exr bg_deep.exr -o comp_deep.exr
  framebuf deep holdout shot.exr -o shot_no_hero.exr --ids 7 --channel id
  framebuf deep crop shot.exr -o corner.exr --window 0,0,63,63
"""


def add_arguments(parser):
    sub = parser.add_subparsers(dest="operation", metavar="OPERATION", required=True)
    p = sub.add_parser("flatten", help="deep file -> flat image")
    p.add_argument("input", metavar="IN")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--compression", help="output compression (format's own list)")
    p = sub.add_parser("merge", help="several deep files -> one deep file, composited by depth")
    p.add_argument("inputs", metavar="IN", nargs="+")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--cull", action="store_true",
                   help="drop the samples behind each pixel's first opaque one")
    p.add_argument("--compression", help="none, zips (default) or zip")
    p = sub.add_parser("holdout", help="hold out samples by id or depth")
    p.add_argument("input", metavar="IN")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--ids", help="comma-separated ids whose samples are held out")
    p.add_argument("--channel", default="id", help="the uint id channel (default id)")
    p.add_argument("--nearer", type=float, help="hold out samples in front of this depth")
    p.add_argument("--farther", type=float, help="hold out samples at or behind this depth")
    p.add_argument("--compression", help="none, zips (default) or zip")
    p = sub.add_parser("crop", help="keep the samples of a window")
    p.add_argument("input", metavar="IN")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--window", required=True, help="x0,y0,x1,y1 in file pixels, inclusive")
    p.add_argument("--compression", help="none, zips (default) or zip")


def _read_deep(path):
    from ..formats import _exrdeep
    from ..formats._exrfile import read_header
    from pathlib import Path

    if not Path(path).exists():
        raise FramebufError(f"{path}: no such file")
    exr = read_header(path)
    if not exr.deep:
        raise FramebufError(f"{path}: not a deep OpenEXR file (framebuf info shows its parts)")
    return _exrdeep.read_parts(exr)


def _write_deep(images, path, compression):
    from ..formats import _exrdeep
    from ..io import atomic_output

    options = {"compression": compression} if compression else {}
    with atomic_output(path) as tmp:
        _exrdeep.write(tmp, images, options)


def run(args) -> int:
    from .. import deep

    op = args.operation
    if op == "flatten":
        from ..io import find_format, read, write

        fbs = read(args.input)
        if not fbs.deep:
            raise FramebufError(f"{args.input}: not a deep OpenEXR file")
        fbs.deep = None                      # write the flattened buffers
        spec = find_format(None, args.output)
        options = {"compression": args.compression} if args.compression else {}
        if spec.multi_layer:
            write(fbs, args.output, **options)
        else:
            write(fbs.primary or next(iter(fbs)), args.output, **options)
        return 0
    if op == "merge":
        inputs = [_read_deep(p) for p in args.inputs]
        parts = {len(i) for i in inputs}
        if len(parts) != 1:
            raise FramebufError("deep merge: the inputs have different numbers of parts "
                                f"({', '.join(str(len(i)) for i in inputs)})")
        merged = [deep.merge([i[k] for i in inputs], occlusion_cull=args.cull)
                  for k in range(parts.pop())]
        _write_deep(merged, args.output, args.compression)
        return 0
    images = _read_deep(args.input)
    if op == "holdout":
        ids = None
        if args.ids:
            try:
                ids = [int(v) for v in args.ids.split(",") if v.strip()]
            except ValueError:
                raise UnsupportedOptionError(f"--ids takes comma-separated integers, not {args.ids!r}") from None
        if ids is None and args.nearer is None and args.farther is None:
            raise UnsupportedOptionError("deep holdout: give --ids, --nearer or --farther")
        for img in images:
            if ids is not None and args.channel not in img.uint_channels:
                raise FramebufError(f"{args.input}: part {img.name or 0!r} has no uint channel "
                                    f"{args.channel!r}; channels: {', '.join(img.channels)}")
        out = [deep.holdout(img, ids, args.channel, args.nearer, args.farther) for img in images]
    else:
        try:
            window = tuple(int(v) for v in args.window.split(","))
        except ValueError:
            window = ()
        if len(window) != 4:
            raise UnsupportedOptionError(f"--window takes x0,y0,x1,y1, not {args.window!r}")
        out = [deep.crop(img, window) for img in images]
    _write_deep(out, args.output, args.compression)
    print(f"{args.output}: {sum(i.samples for i in out)} samples", file=sys.stderr)
    return 0
