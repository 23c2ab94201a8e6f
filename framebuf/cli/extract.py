"""framebuf extract: multi-channel renders -> rgb/alpha/depth/normals/segments assets + info.json."""

from __future__ import annotations

import sys

from ..errors import FramebufError
from . import _batch

NAME = "extract"
HELP = "extract rgb, alpha, depth, normals and segmentation label assets from multi-channel EXRs"
DESCRIPTION = HELP + """

Per render N.exr: N.rgb.png (8-bit sRGB), N.alpha.tif (uint8), N.depth.tif (float, metres,
background 0), N.normals.tif (float16 x3, camera space, background 0,0,1), N.segments.png (16-bit
labels), N.clothing_segments.png (when clothing masks exist) and N.info.json (segments_mapping,
zmin/zmax, channels used). A bad file is reported and skipped; the exit code is 2 when any failed.

examples:
  framebuf extract renders/*.exr -o assets
  framebuf extract 188.exr -o out --mapping face --assets rgb,segments
  framebuf extract shot.exr -o out --layout blender5 --mapping my_table.json --no-srgb
  framebuf extract beauty.exr -o out --assets rgb,segments --labels-from cryptomatte:CryptoObject \
      --classes classes.json --mapping my_table.json --soft exr --ignore-margin 0.2
"""


def _float(text: str) -> float:
    try:
        return float(text)  # accepts inf, nan
    except ValueError:
        raise FramebufError(f"not a number: {text!r}") from None


def add_arguments(parser):
    parser.add_argument("inputs", nargs="*", metavar="INPUT",
                        help="EXR files, folders (their .exr files, recursively), globs ('renders/**/*.exr', "
                             "quoted: read as a stream), or @list.txt (one path or glob per line)")
    parser.add_argument("-o", "--output", metavar="OUTDIR", help="output folder (created if missing)")
    parser.add_argument("--to", metavar="webdataset:OUT/shard-%%06d.tar",
                        help="write each render's assets into WebDataset tar shards instead of a folder")
    parser.add_argument("--shard-size", type=int, default=1000, metavar="N",
                        help="renders per shard with --to webdataset: (default 1000)")
    parser.add_argument("--assets", default="rgb,alpha,depth,normals,segments",
                        help="comma-separated subset of rgb,alpha,depth,normals,segments "
                             "(segments includes clothing_segments when clothing masks exist)")
    parser.add_argument("--layout", help="channel layout (default: detected from channel names); "
                                         "see --list-layouts")
    parser.add_argument("--list-layouts", action="store_true", help="print the channel layouts and exit")
    parser.add_argument("--mapping", default="per-image",
                        help="segments label values: per-image (background 0, classes 1..N "
                             "alphabetically), face, full_body, clothing, or a JSON table path")
    parser.add_argument("--clothing-mapping", default="per-image", help="the same for clothing segments")
    parser.add_argument("--labels-from", default="masks", metavar="masks|cryptomatte[:LAYER]",
                        help="segments from mask channels (default) or from a Cryptomatte layer "
                             "(its names, or the classes of --classes, numbered by --mapping)")
    parser.add_argument("--classes", metavar="RULES.json",
                        help="with --labels-from cryptomatte: class -> name patterns (globs, or "
                             "re:REGEX matching the whole name); without it each name is a class")
    parser.add_argument("--overlap", choices=("error", "first"), default="error",
                        help="a name two classes claim: fail the render (default) or give it to "
                             "the first class of the rules file (reported)")
    parser.add_argument("--soft", choices=("exr", "tif"),
                        help="also write N.soft.exr|tif: half-float coverage per class (background "
                             "first; info.json lists the channels)")
    parser.add_argument("--ignore-margin", dest="margin", type=float, default=0.0, metavar="M",
                        help="label a pixel --ignore-value where the winning class leads the "
                             "runner-up (background included) by less than M (argmax; default off)")
    parser.add_argument("--ignore-value", type=int, default=65535, metavar="V",
                        help="the label of uncertain pixels under --ignore-margin (default 65535)")
    parser.add_argument("--present", choices=("channels", "pixels"), default="channels",
                        help="per-image numbering counts classes that have a mask channel (default, "
                             "as the sample files) or only those with coverage")
    parser.add_argument("--mode", choices=("argmax", "threshold"), default="argmax")
    parser.add_argument("--threshold", type=float, default=0.48, help="for --mode threshold")
    parser.add_argument("--allow-merge", action="store_true",
                        help="allow a table that gives two classes of a render the same value")
    parser.add_argument("--unknown", choices=("error", "background"), default="error",
                        help="classes the table does not list: fail the render (default) or label "
                             "them background (reported)")
    srgb = parser.add_mutually_exclusive_group()
    srgb.add_argument("--srgb", dest="srgb", action="store_true", default=True,
                      help="sRGB-encode the linear beauty for rgb.png (default)")
    srgb.add_argument("--no-srgb", dest="srgb", action="store_false",
                      help="write the beauty values as they are (for display-referred EXRs)")
    parser.add_argument("--depth-background", type=_float, default=0.0, metavar="VALUE",
                        help="depth.tif value where nothing was hit: 0 (default, as the v1.1/v1.5 "
                             "samples), inf, nan or any number")
    parser.add_argument("--depth-dtype", choices=("auto", "float16", "float32"), default="auto",
                        help="auto: float16 when Z is half, else float32")
    parser.add_argument("--depth-normalised", action="store_true",
                        help="Z holds 0..1 between the header's zmin and zmax; convert to metres")
    parser.add_argument("--normals-background", default="0,0,1", metavar="X,Y,Z",
                        help="normals.tif value where nothing was hit (default 0,0,1 as the samples)")
    parser.add_argument("--compress-level", type=int, default=1, choices=range(1, 10), metavar="1-9",
                        help="deflate level of PNG/TIFF (default 1: fast, a few per cent bigger)")
    parser.add_argument("--no-merge-info", dest="merge_info", action="store_false",
                        help="do not update an N.info.json found next to N.exr; write a fresh one")
    _batch.add_executor_arguments(parser)       # -j, --dask, --scheduler, --force, --verify
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _list_layouts() -> int:
    from ..post.layouts import layouts

    for lay in layouts().values():
        print(f"{lay.name}: {lay.description}")
        for role, aliases in lay.roles.items():
            spelled = " | ".join(" ".join(a.channels) + (f" [{a.space}]" if a.space != "camera" else "")
                                 + (f" x{list(a.signs)}" if a.signs else "") for a in aliases)
            print(f"    {role:<13} {spelled}")
        for label, pats in (("masks", lay.masks), ("clothing", lay.clothing_masks)):
            if pats:
                print(f"    {label:<13} {' | '.join(pats)}")
        if lay.notes:
            print(f"    notes: {lay.notes}")
    return 0


def run(args) -> int:
    if args.list_layouts:
        return _list_layouts()
    if not args.inputs:
        raise FramebufError("no input files given")
    from ..batch import run_job
    from ..batch.sinks import parse_destination
    from ..labels import describe_duplicates, load_mapping
    from ..post.extract import ExtractOptions, extract_job

    _, folder, _ = parse_destination(args.to, args.output)     # a bad destination: before any work
    _batch.check_workers(args)
    assets = tuple(a.strip() for a in args.assets.split(",") if a.strip())
    nb = tuple(_float(v) for v in args.normals_background.split(","))
    opts = ExtractOptions(
        assets=assets, layout=args.layout, mapping=args.mapping,
        clothing_mapping=args.clothing_mapping, present=args.present, mode=args.mode,
        threshold=args.threshold, allow_merge=args.allow_merge, unknown=args.unknown,
        srgb=args.srgb, depth_background=args.depth_background, depth_dtype=args.depth_dtype,
        depth_normalised=args.depth_normalised, normals_background=nb,
        compress_level=args.compress_level, merge_info=args.merge_info,
        labels_from=args.labels_from, classes=args.classes, overlap=args.overlap, soft=args.soft,
        margin=args.margin, ignore_value=args.ignore_value,
    )
    if args.layout is not None:
        from ..post.layouts import layouts

        if args.layout not in layouts():
            raise FramebufError(f"unknown layout {args.layout!r}; layouts: {', '.join(layouts())}")
    # a table's own duplicates are worth one note up front, whatever the renders hold
    for spec in dict.fromkeys((args.mapping, args.clothing_mapping)):
        if spec not in ("per-image", "per_image"):
            dups = load_mapping(spec).duplicates()
            if dups:
                print(f"note: mapping {spec!r} gives several names one value ({describe_duplicates(dups)}); "
                      f"renders holding two of them fail unless --allow-merge", file=sys.stderr)
    rep = run_job(extract_job(folder, opts), args.inputs, output=args.output, to=args.to,
                  workers=args.workers, dask=args.dask, scheduler=args.scheduler, force=args.force,
                  verify=args.verify, shard_size=args.shard_size,
                  progress=False if args.quiet else None)
    return _batch.finish(rep, "extracted", "layouts")
