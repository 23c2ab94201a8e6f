"""framebuf copy: any readable image file to any writable format (mental ray's imf_copy)."""

from __future__ import annotations

import sys
import warnings

from ..errors import DroppedWarning, FramebufError
from . import _batch
from ._table import key_value_options

NAME = "copy"
HELP = "convert an image file to another format, data type or compression (like imf_copy)"
DESCRIPTION = HELP + """

The output format comes from --filetype or OUT's extension, the data type from --type or the
buffer's own type when the format lists it (else the format's default). The conversion flags are
the options-block statements of mental ray (colorclip, desaturate, premultiply, gamma, dither).
A file with several buffers (a multi-layer EXR) copied to a one-buffer format writes its primary
buffer unless --buffer names another (the names framebuf info lists).

EXR to EXR keeps everything the file carries: parts, data and display windows, views, header
attributes with their types, per-channel pixel types, sub-sampling, tiling, line order,
compression and (when nothing changed) mip levels and lossily compressed data as stored. An
option changes only what it names; whatever cannot be kept is said on stderr as a warning.
Read options select what is decoded: --read-option parts=NAME, views=left, buffers=A,B,
level=N, window=display, luminance=rgb.

examples:
  framebuf copy beauty.exr beauty.png --gamma 2.2 --dither
  framebuf copy render.exr render.tif --type rgba_16 --compression deflate
  framebuf copy in.tga out.exr --compression piz --option tiled=on
  framebuf copy stereo.exr left.exr --read-option views=left
  framebuf copy shot.exr frame.png --read-option window=display
  framebuf copy 'renders/*.exr' -d previews -f png --gamma 2.2     # many: resumable, parallel
"""


def add_arguments(parser):
    parser.add_argument("paths", nargs="+", metavar="IN [OUT]",
                        help="IN OUT: one file to another (written atomically); with -d OUTDIR: "
                             "every IN (files, folders, globs, @list.txt) into OUTDIR")
    parser.add_argument("-t", "--type", dest="datatype", help="data type to write (see framebuf types)")
    parser.add_argument("-f", "--filetype", help="output format keyword (see framebuf formats)")
    parser.add_argument("-c", "--compression", help="compression of the output format")
    parser.add_argument("-q", "--quality", type=int, help="JPEG quality 1-100 (0 = default 75)")
    parser.add_argument("-b", "--buffer", help="buffer (layer) to copy from a multi-buffer file")
    parser.add_argument("--colorclip", choices=("rgb", "alpha", "raw"), default="rgb",
                        help="clipping for 8/16-bit output (default rgb)")
    parser.add_argument("--desaturate", action="store_true",
                        help="pull out-of-range colours towards grey instead of clipping")
    parser.add_argument("--premultiply", choices=("on", "off"), default="on",
                        help="off: write un-premultiplied colour (default on)")
    parser.add_argument("--gamma", type=float, default=1.0,
                        help="raise 8/16-bit R, G, B and A to 1/G (default 1)")
    parser.add_argument("--dither", action="store_true", help="dither 8/16-bit output")
    parser.add_argument("-o", "--output", dest="output_flag", metavar="OUT",
                        help="the file to write (instead of the second path)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="a format option, e.g. tiled=on (repeatable)")
    parser.add_argument("--read-option", action="append", default=[], metavar="KEY=VALUE",
                        help="an option for the input's reader, e.g. width=720 for a headerless "
                             "Zpic (repeatable)")
    _batch.add_executor_arguments(parser, "-d,--outdir")
    parser.add_argument("--quiet", action="store_true", help="no progress bar (with -d)")


def run(args) -> int:
    if args.outdir is not None:
        return _run_many(args)
    paths = list(args.paths) + ([args.output_flag] if args.output_flag else [])
    if args.output_flag and len(args.paths) != 1:
        raise FramebufError("give the output once: IN OUT or IN -o OUT (format options are --option KEY=VALUE)")
    if len(paths) != 2:
        raise FramebufError(f"copy takes IN OUT, or IN... -d OUTDIR (got {len(paths)} path(s))")
    src, dst = paths
    if _same_file(src, dst):
        raise FramebufError(f"{dst}: IN and OUT are the same file; write elsewhere (the input "
                            f"would be replaced by its copy)")
    try:
        return copy_file(args, src, dst)
    except FramebufError:
        raise
    except OSError as exc:  # disk full, a folder as OUT ...: one line, like every other error
        target = exc.filename or dst
        raise FramebufError(f"{target}: {exc.strerror or exc}") from None


def _same_file(a: str, b: str) -> bool:
    import os

    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _run_many(args) -> int:
    from ..io import find_format  # the library loads when a command runs, not for --help
    if args.output_flag:
        raise FramebufError("with -d OUTDIR every output is named after its input; -o OUT is for one file")
    ext = None
    if args.filetype:
        spec = find_format(args.filetype, None)            # a bad format: before any work
        ext = "." + spec.extensions[0] if spec.extensions else None
    return _batch.run_per_file("copy", copy_file, args, args.paths, ext, "copied", "file(s)")


def copy_file(args, source: str, target: str) -> int:
    from ..io import find_format, read, write
    """One copy: ``source`` to ``target`` under the options of ``args``."""
    spec = find_format(args.filetype, target)       # fail on a bad target before reading
    fbs = read(source, **key_value_options(args.read_option, "--read-option"))
    buffers = fbs
    if args.buffer:
        buffers = [fbs[args.buffer]]
    elif args.datatype and len(fbs) > 1 and spec.multi_layer:
        raise FramebufError(f"{source} holds {len(fbs)} buffers, each written with its own type; "
                            f"--type {args.datatype} applies to one: name it with --buffer")
    elif len(fbs) > 1 and not spec.multi_layer:
        primary = fbs.primary or next(iter(fbs))
        buffers = [primary]
        warnings.warn(DroppedWarning(f"{source} holds {len(fbs)} buffers; writing {primary.name!r} "
                                     f"(choose another with --buffer)"))
    options = key_value_options(args.option, "--option")
    if args.compression:
        options["compression"] = args.compression
    if args.quality is not None:
        options["quality"] = args.quality
    if not isinstance(buffers, list):
        options.setdefault("attributes", fbs.attributes)
    write(buffers, target, filetype=spec.name, datatype=args.datatype,
          colorclip=args.colorclip, desaturate=args.desaturate,
          premultiply=args.premultiply == "on", gamma=args.gamma, dither=args.dither, **options)
    return 0
