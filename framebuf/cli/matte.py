"""framebuf matte: list a file's Cryptomatte layers and names, write the matte of names or globs."""

from __future__ import annotations

import json

from ..errors import FramebufError

NAME = "matte"
HELP = "list Cryptomatte layers and names, or write the matte of names / glob patterns"
DESCRIPTION = HELP + """

Layers are found from the cryptomatte/<key>/name header attributes (V-Ray, Arnold, Nuke, Blender
and Blender 5 multi-part naming); only the layer's rank channels are decoded. The matte of a set
of names is, per pixel, the sum of the coverage of every rank whose id is one of the names' ids
(MurmurHash3 of the UTF-8 name). A --select argument that is a manifest name is that name, even
with * ? [ ] in it; otherwise a glob pattern over the manifest's names ([*] is a literal *).

--list prints, per layer, each manifest name with its id (hex, float) and the number of pixels
where its coverage is > 0, and how many pixels hold ids the manifest does not list.

The matte is one scalar float buffer (a_fp), written with the data window of the file: EXR keeps
it as a float channel; formats without scalar types store it as the alpha of RGBA (--rgb puts it
in R, G and B too, so viewers show it grey); -t picks a data type (e.g. rgba_16 for a 16-bit TIFF).

examples:
  framebuf matte shot.exr --list
  framebuf matte shot.exr --list --layer crypto_object --json
  framebuf matte shot.exr --layer crypto_object --select '/obj/box:polygons:1' -o box.exr
  framebuf matte shot.exr --layer crypto_material --select '/shop/mat3/*' -o mat3.tif --rgb
  framebuf matte asset.exr --select bunny flowerA -o bunny.png --rgb --display-window
"""


def add_arguments(parser):
    parser.add_argument("input", metavar="IN", help="OpenEXR file with Cryptomatte layers")
    parser.add_argument("--list", action="store_true", help="list layers, names, ids and pixel counts")
    parser.add_argument("--layer", help="Cryptomatte layer (its cryptomatte/<key>/name); may be "
                                        "omitted when the file has one")
    parser.add_argument("--select", nargs="+", metavar="NAME", help="names or glob patterns to matte")
    parser.add_argument("-o", "--output", metavar="OUT", help="file to write the matte to (atomically)")
    parser.add_argument("-t", "--type", dest="datatype", help="data type to write (default a_fp, or "
                                                             "rgba_fp with --rgb; see framebuf types)")
    parser.add_argument("-f", "--filetype", help="output format keyword (default: from OUT's extension)")
    parser.add_argument("-c", "--compression", help="compression of the output format")
    parser.add_argument("--rgb", action="store_true", help="write the matte in R, G, B and A")
    parser.add_argument("--display-window", action="store_true",
                        help="pad or crop the matte to the display window (default: the data window)")
    parser.add_argument("--json", action="store_true", help="--list as JSON")


def run(args) -> int:
    from .. import cryptomatte  # the library loads when a command runs, not for --help
    from ..io import find_format, write
    if args.list:
        if args.select or args.output:
            raise FramebufError("--list and --select/-o go separately")
        return _list(args)
    if not args.select or not args.output:
        raise FramebufError("give --list, or --select NAME... with -o OUT")
    spec = find_format(args.filetype, args.output)            # a bad target fails before reading
    lay = cryptomatte.layer(args.input, args.layer)
    ranks = cryptomatte.read_ranks(lay, window="display" if args.display_window else "data")
    fbs = cryptomatte.matte_set(ranks, args.select, rgb=args.rgb)
    options = {"compression": args.compression} if args.compression else {}
    try:
        write(fbs, args.output, filetype=spec.name, datatype=args.datatype, **options)
    except OSError as exc:
        raise FramebufError(f"{exc.filename or args.output}: {exc.strerror or exc}") from None
    return 0


def _list(args) -> int:
    import numpy as np

    from .. import cryptomatte
    chosen = [cryptomatte.layer(args.input, args.layer)] if args.layer else cryptomatte.layers(args.input)
    if not chosen:
        cryptomatte.layer(args.input)                         # raises: no layer
    docs = []
    for lay in chosen:
        if lay.problem is not None and not args.layer:       # say so, list the others
            docs.append({"layer": lay.name, "key": lay.key, "part": lay.part,
                         "problem": lay.problem.problem})
            continue
        ranks = cryptomatte.read_ranks(lay)
        doc = {"layer": lay.name, "key": lay.key, "part": lay.part, "ranks": len(lay.ranks),
               "channels": lay.channels, "manifest": lay.manifest_source,
               "resolution": [int(ranks.shape[1]), int(ranks.shape[0])]}
        if lay.has_manifest:
            m = cryptomatte.mattes(ranks)
            doc["names"] = [{"name": n, "id": f"{m.id_bits(n):08x}",
                             "float": cryptomatte.bits_to_float(m.id_bits(n)),
                             "pixels": m.pixel_count(n)} for n in sorted(m.names)]
            doc["unlisted_pixels"] = m.stray_pixels
        else:       # no manifest: the ids the pixels hold, unnamed
            present = np.unique(ranks.ids[(ranks.coverage > 0) & (ranks.ids != 0)])
            m = cryptomatte.Mattes(ranks, [f"{int(b):08x}" for b in present], present.astype(np.uint32))
            doc["names"] = [{"name": None, "id": n, "float": cryptomatte.bits_to_float(int(n, 16)),
                             "pixels": m.pixel_count(n)} for n in sorted(m.names)]
            doc["unlisted_pixels"] = 0
        docs.append(doc)
    if args.json:
        print(json.dumps(docs, indent=2, ensure_ascii=False))
        return 0
    for doc in docs:
        if "problem" in doc:
            print(f"layer {doc['layer']} (key {doc['key']}, part {doc['part']}): {doc['problem']}")
            continue
        w, h = doc["resolution"]
        n = len(doc["names"])
        print(f"layer {doc['layer']} (key {doc['key']}, part {doc['part']}, {doc['ranks']} ranks, "
              f"{w}x{h}, manifest {doc['manifest']}, {n} {'names' if doc['manifest'] != 'none' else 'ids'})")
        print(f"  {'id':8}  {'float':>15}  {'pixels':>8}  name")
        for e in doc["names"]:
            name = e["name"] if e["name"] is not None else "(not named: no manifest)"
            print(f"  {e['id']}  {e['float']:>15.8g}  {e['pixels']:>8}  {name}")
        if doc["unlisted_pixels"]:
            print(f"  {doc['unlisted_pixels']} pixels hold ids the manifest does not list")
    return 0
