"""framebuf apply: read image files into one frame-buffer set, run output shaders, write the result."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from typing import TYPE_CHECKING

from ..errors import FramebufError, UnsupportedDataTypeError
from . import _batch

# the library (numpy, Numba, the registry) is imported when the command runs, not when
# `framebuf --help` builds every command's parser
if TYPE_CHECKING:
    from ..buffers import FrameBufferSet

NAME = "apply"
HELP = "run output shaders on image files: framebuf apply IN... --shader NAME[:p=v,...] -o OUT"
DESCRIPTION = HELP + """

With -d OUTDIR each input is shaded on its own into OUTDIR/<stem>.<ext>, through the batch
layer (streamed inputs, resumable job journal, -j / --dask workers, Ctrl-C safe). Otherwise
several inputs share one frame-buffer set: a one-buffer file becomes a buffer named after the
file's stem, a multi-buffer file (EXR) keeps its buffer names. Shaders run in the order given.
A multi-buffer output format (EXR) gets every buffer it can store (the others are named on
stderr); any other format gets --buffer, else the buffer the last shader wrote, else the primary
colour buffer. Label (tag) buffers go to formats that store tags (tt, map).

examples:
  framebuf apply render.exr --shader gauss:radius=3 -o soft.exr
  framebuf apply beauty.exr --shader over:color=0.2,0.2,0.2 --shader srgb_encode -o preview.png
  framebuf apply masks.exr --shader segmentation_to_label:mapping=face -o segments.tt
  framebuf apply masks.exr --shader segmentation_to_label --shader visualise_labels -o seg.png
  framebuf apply 'shots/*.exr' --shader gamma:gamma=2.2 -d graded      # each input on its own
"""


def add_arguments(parser):
    parser.add_argument("inputs", nargs="+", metavar="IN", help="input image files")
    parser.add_argument("--shader", action="append", default=[], metavar="NAME[:param=value,...]",
                        help="an output shader and its parameters (repeatable; runs in order)")
    parser.add_argument("-o", "--output", metavar="OUT", help="file to write")
    parser.add_argument("--type", dest="datatype", metavar="T",
                        help="data type to write (one-buffer output), e.g. rgba_16")
    parser.add_argument("--buffer", action="append", default=[], metavar="NAME",
                        help="buffer(s) to write (default: see above)")
    _batch.add_executor_arguments(parser, "-d,--outdir")
    parser.add_argument("-f", "--filetype", metavar="FORMAT",
                        help="with -d: the output format (default: each input's own)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar (with -d)")


def load_inputs(paths) -> FrameBufferSet:
    from ..buffers import FrameBufferSet
    from ..io import read
    sets = [(Path(p), read(p)) for p in paths]
    if len(sets) == 1:
        return sets[0][1]
    first = sets[0][1]
    fbs = FrameBufferSet(first.width, first.height, attributes=first.attributes,
                         origin=first.origin, display_window=first.display_window)
    # the output keeps the first input's file structure; the others' buffers join its first part
    fbs.parts, fbs.attributes_part = first.parts, first.attributes_part
    taken: set = set()           # file channel names in the output's first part
    for index, (path, s) in enumerate(sets):
        if (s.width, s.height) != (fbs.width, fbs.height):
            raise FramebufError(f"{path}: {s.width}x{s.height}, but {sets[0][0]} is {fbs.width}x{fbs.height}")
        bufs = list(s)
        for buf in bufs:
            name = path.stem if len(bufs) == 1 else buf.name
            if name in fbs:
                raise FramebufError(f"{path}: buffer name {name!r} is already taken by an earlier input")
            buf.name = name
            if index:
                buf.part, buf.window = None, None
                if len(bufs) == 1 or set(buf.channels or ()) & taken:
                    buf.channels = None       # named after the buffer: "plate.R" ...
            taken.update(buf.channels or ())
            fbs.add_buffer(buf)
    return fbs


def _chain(args) -> list:
    from ..shading import get_shader, parse_param_string, parse_shader_option
    """The shader chain, checked whole before anything is read."""
    if not args.shader:
        raise FramebufError("no --shader given: apply runs output shaders (framebuf shaders lists "
                            "them); to convert a file, use framebuf copy")
    chain = []
    for text in args.shader:
        name, raw = parse_shader_option(text)
        spec = get_shader(name)
        chain.append((spec, {k: parse_param_string(spec, k, v) for k, v in raw.items()}))
    return chain


def run(args) -> int:
    from ..io import find_format
    _chain(args)
    if args.outdir is not None:
        if args.output:
            raise FramebufError("with -d OUTDIR every input is shaded on its own and named after "
                                "itself; -o OUT is for one result")
        ext = None
        if args.filetype:
            spec = find_format(args.filetype, None)
            ext = "." + spec.extensions[0] if spec.extensions else None
        return _batch.run_per_file("apply", apply_each, args, args.inputs, ext, "shaded")
    if not args.output:
        raise FramebufError("give the file to write with -o OUT (or -d OUTDIR to shade each input on its own)")
    return apply_files(args, args.inputs, args.output)


def apply_each(args, source: str, target: str) -> int:
    return apply_files(args, [source], target)


def apply_files(args, inputs, output: str) -> int:
    from ..io import choose_datatype, find_format, write
    from ..shading import ShaderContext, ShaderWarning, run_shader
    """Shade ``inputs`` (one set) with the chain of ``args`` and write ``output``."""
    chain = _chain(args)
    fbs = load_inputs(inputs)
    ctx = ShaderContext(fbs, scene_dir=Path.cwd())
    last_written = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ShaderWarning)
        for spec, params in chain:
            done = run_shader(spec, fbs, params, context=ctx)
            for p in spec.writes:
                if done.buffer_names.get(p):
                    last_written = done.buffer_names[p]
                    break
    for w in caught:  # one line each, like errors
        print(f"framebuf apply: warning: {w.message}", file=sys.stderr)
    fmt = find_format(None, output)
    if args.buffer:
        out = [fbs[n] for n in args.buffer]
    elif fmt.multi_layer and args.datatype is None:
        out, skipped = [], []
        for buf in fbs:
            try:
                choose_datatype(fmt, buf, None)
                out.append(buf)
            except UnsupportedDataTypeError:
                skipped.append(f"{buf.name} ({buf.datatype.name})")
        if skipped:
            print(f"framebuf apply: {fmt.name} cannot store, not written: {', '.join(skipped)}",
                  file=sys.stderr)
        if not out:
            raise FramebufError(f"format {fmt.name!r} can store none of the buffers")
    else:
        chosen = fbs[last_written] if last_written else fbs.primary
        if chosen is None:
            raise FramebufError("nothing to write: no shader wrote a buffer and there is no colour buffer")
        out = chosen
    write(out, output, datatype=args.datatype)
    return 0
