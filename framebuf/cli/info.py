"""framebuf info: what a file holds, without decoding pixels where the format allows it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import FramebufError
from ._table import key_value_options

NAME = "info"
HELP = "describe image files: format, resolution, windows, channels grouped into buffers, header"
DESCRIPTION = HELP + """

OpenEXR files are described from their headers alone (every part of a multi-part file): data and
display windows, each channel's pixel type, compression, tiling, the channel layout detected
(vray, blender4, blender5, arnold ...) with the roles it finds, the buffers framebuf.read forms
(the names copy --buffer and read options take), and header attributes such as
zmin/zmax, comments and cryptomatte metadata (summarised). Other formats are decoded with
framebuf.read_image.

examples:
  framebuf info 188.exr
  framebuf info renders/*.exr --json > info.json
"""

_TEXT_LIMIT = 160
#: structural attributes shown in a part's entry under their own key (the rest of the reader's
#: STRUCTURAL_TYPES, the table of attributes it depends on, are the fields above them)
_PART_KEYS = {"view": "view", "pixelAspectRatio": "pixel_aspect_ratio",
              "screenWindowCenter": "screen_window_center", "screenWindowWidth": "screen_window_width"}


def add_arguments(parser):
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--json", action="store_true", help="print one JSON document (a list)")
    parser.add_argument("--layout", help="channel layout to apply to EXR files (default: detect)")
    parser.add_argument("--read-option", action="append", default=[], metavar="KEY=VALUE",
                        help="an option for a non-EXR reader, e.g. width=720 for a headerless Zpic "
                             "(repeatable)")


def _plain(v):
    """JSON-friendly attribute value."""
    import numpy as np  # numpy loads when the command runs, not for --help

    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (tuple, list)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return str(v)
    return v


def _short(v):
    if isinstance(v, str) and len(v) > _TEXT_LIMIT:
        return v[:_TEXT_LIMIT] + f"... ({len(v)} characters)"
    return v


def cryptomatte_summary(path: str, attrs: dict) -> list[dict]:
    """One dict per Cryptomatte layer of any part (:func:`framebuf.cryptomatte.layers`): name, key,
    part, hash, conversion, ranks, manifest source and name count, and what is wrong with it."""
    if not any(k.startswith("cryptomatte/") for k in attrs) and "cryptomatte/" not in _all_keys(path):
        return []
    from .. import cryptomatte

    out = []
    for lay in cryptomatte.layers(path):
        entry = {"name": lay.name, "key": lay.key, "part": lay.part, "hash": lay.hash,
                 "conversion": lay.conversion, "ranks": len(lay.ranks),
                 "manifest": lay.manifest_source if lay.has_manifest else None}
        problems = [str(lay.problem)] if lay.problem is not None else []
        if lay.has_manifest:
            try:
                entry["manifest_names"] = len(lay.manifest())
            except FramebufError as exc:
                entry["manifest_names"] = None
                problems.append(str(exc))
        if problems:
            entry["problems"] = problems
        out.append(entry)
    return out


def _all_keys(path: str) -> str:
    """Every part's attribute names, joined (to spot Cryptomatte metadata outside part 0)."""
    from ..formats import _exrfile

    return " ".join(k for part in _exrfile.read_header(path).parts for k in part.attributes)


def _exr_info(path: str, layout) -> dict:
    from ..formats import _exrfile as exrread
    from ..formats import exr as exr_format
    from ..post import layouts

    exr = exrread.read_header(path)
    parts = []
    attrs: dict = {}
    for part in exr.parts:
        for k, v in part.attributes.items():
            if not k.startswith("_") and k not in exrread.STRUCTURAL_TYPES:
                attrs.setdefault(k, v)
        x0, y0, x1, y1 = part.data_window
        parts.append({
            "name": part.name or None,
            **{key: _plain(part.attributes[attr]) for attr, key in _PART_KEYS.items()
               if attr in part.attributes},
            "type": part.attributes.get("type"),
            "resolution": [part.width, part.height],
            "data_window": [x0, y0, x1, y1],
            "display_window": list(part.display_window),
            "compression": part.compression,
            "line_order": part.attributes.get("lineOrder"),
            "tiles": part.tiles,
            "channels": [
                {"name": exrread.full_channel_name(part.name, c.name, exr.multipart),
                 "type": c.pixel_type,
                 **({"sampling": [c.x_sampling, c.y_sampling]} if (c.x_sampling, c.y_sampling) != (1, 1) else {})}
                for c in part.channels],
        })
    problems = exrread.check_chunks(exr)
    if exr.deep:
        problems += _deep_counts(exr, parts)
    names = list(exr.channel_index())
    resolved = layouts.detect(names, exr.multipart, layout)
    # the buffers framebuf.read gives (names that copy --buffer, apply and read options take)
    owner = {}
    buffers = []
    for p in exr_format.plan(exr):
        part = exr.parts[p.part]
        full = [exrread.full_channel_name(part.name, c, exr.multipart) for c in p.channels]
        owner.update({c: p.name for c in full})
        entry = {"buffer": p.name, "type": p.datatype, "channels": full}
        if exr.multipart:
            entry["part"] = p.part
        if p.view:
            entry["view"] = p.view
        if p.sampling != (1, 1):
            entry["sampling"] = list(p.sampling)
        buffers.append(entry)
    # what the channel layout makes of them (framebuf extract, post.layouts.read_set)
    roles = {role: {"channels": list(m.channels), "space": m.space,
                    "buffers": sorted({owner[c] for c in m.channels if c in owner})}
             for role, m in resolved.roles.items()}
    for label, table in (("segmentation", resolved.masks), ("clothing_segmentation", resolved.clothing_masks)):
        if table:
            roles[label] = {"classes": sorted(table), "channels": [table[c] for c in sorted(table)]}
    first = exr.parts[0]
    return {
        "file": path, "format": "OpenEXR", "size_bytes": exr.size,
        "resolution": [first.width, first.height],
        "multipart": exr.multipart, "tiled": exr.tiled, "deep": exr.deep,
        "compression": sorted({p.compression for p in exr.parts}),
        "parts": parts,
        "problems": problems,
        "layout": resolved.layout.name,
        "layout_problems": resolved.problems,
        "roles": roles,
        "buffers": buffers,
        "zrange": {k: attrs[k] for k in ("zmin", "zmax") if k in attrs},
        "cryptomatte": cryptomatte_summary(path, attrs),
        "attributes": {k: _short(_plain(v)) for k, v in attrs.items()
                       if not k.startswith("cryptomatte/")},
    }


def _deep_counts(exr, parts: list) -> list[str]:
    """Each deep part's sample counts (total, min / mean / max per pixel) into ``parts``;
    returns the problems found instead when the samples do not decode."""
    from ..formats import _exrdeep

    try:
        images = _exrdeep.read_parts(exr)
    except FramebufError as exc:
        return [f"deep samples: {getattr(exc, 'reason', exc)}"]
    for entry, img in zip(parts, images):
        counts = img.counts
        entry["samples"] = {"total": img.samples, "min": int(counts.min()),
                            "mean": round(float(counts.mean()), 3), "max": int(counts.max()),
                            "state": img.state}
    return []


def _other_info(path: str, read_options: dict) -> dict:
    from ..io import read_image

    image = read_image(path, **read_options)
    info = dict(image.info)
    return {
        "file": path, "format": info.pop("format", "?"),
        "resolution": [image.width, image.height],
        "buffers": [{"buffer": layer.name or "(unnamed)", "type": layer.datatype.name,
                     "channels": list(layer.channels), "sample": layer.pixels.dtype.name}
                    for layer in image.layers],
        "attributes": {k: _short(_plain(v)) for k, v in {**image.attributes, **info}.items()},
    }


def describe(path: str, layout=None, read_options=None) -> dict:
    p = Path(path)
    if not p.exists():
        raise FramebufError(f"{path}: no such file")
    if p.is_dir():
        raise FramebufError(f"{path}: is a folder, not an image file")
    with open(p, "rb") as fh:
        head = fh.read(4)
    if head == b"\x76\x2f\x31\x01":
        return _exr_info(str(p), layout)
    return _other_info(str(p), read_options or {})


def _text(d: dict) -> str:
    w, h = d["resolution"]
    lines = []
    if d["format"] == "OpenEXR":
        kind = ("multi-part" if d["multipart"] else "single-part") + \
               (" tiled" if d["tiled"] else " scanline") + (" deep" if d["deep"] else "")
        lines.append(f"{d['file']}: OpenEXR, {w}x{h}, {kind}, {len(d['parts'])} part(s), "
                     f"compression {'/'.join(d['compression'])}, {d['size_bytes']} bytes")
        for i, part in enumerate(d["parts"]):
            dw, disp = part["data_window"], part["display_window"]
            tiles = part["tiles"]
            tile_text = (f", tiles {tiles['x_size']}x{tiles['y_size']} {tiles['level_mode']}"
                         if tiles else "")
            name = f" {part['name']!r}" if part["name"] else ""
            name += f" (view {part['view']})" if part.get("view") else ""
            lines.append(f"  part {i}{name}: data window ({dw[0]},{dw[1]})-({dw[2]},{dw[3]}), display "
                         f"window ({disp[0]},{disp[1]})-({disp[2]},{disp[3]}), {part['compression']}"
                         f"{tile_text}, {len(part['channels'])} channels")
            if part.get("samples"):
                n = part["samples"]
                lines.append(f"    deep: {n['total']} samples, per pixel min {n['min']} / mean "
                             f"{n['mean']} / max {n['max']}, {n['state']}")
        for p in d.get("problems", []):
            lines.append(f"  PROBLEM: {p}")
        lines.append(f"  layout: {d['layout']}")
        for role, r in d.get("roles", {}).items():
            if "classes" in r:
                lines.append(f"    {role}: {len(r['classes'])} masks: {', '.join(r['classes'])}")
            else:
                space = f" ({r['space']})" if r.get("space") not in (None, "camera") else ""
                lines.append(f"    {role}: {' '.join(r['channels'])}{space}")
        for p in d.get("layout_problems", []):
            lines.append(f"  layout problem: {p}")
    else:
        lines.append(f"{d['file']}: {d['format']}, {w}x{h}")
    lines.append("  buffers:")
    width = max((len(b["buffer"]) for b in d["buffers"]), default=6)
    for b in d["buffers"]:
        chans = b["channels"]
        if "classes" in b:
            text = f"{len(b['classes'])} masks: {', '.join(b['classes'])}"
        else:
            text = " ".join(chans) if len(" ".join(chans)) < 90 else f"{len(chans)} channels"
        extra = f" ({b['space']})" if b.get("space") not in (None, "camera") else ""
        extra += f" view {b['view']}" if b.get("view") else ""
        extra += " sub-sampled {}x{}".format(*b["sampling"]) if b.get("sampling") else ""
        lines.append(f"    {b['buffer']:<{width}}  {b['type']:<8} {text}{extra}")
    if d.get("zrange"):
        lines.append("  depth range: " + ", ".join(f"{k}={v}" for k, v in d["zrange"].items()))
    for c in d.get("cryptomatte", []):
        manifest = c.get("manifest_names")
        lines.append(f"  cryptomatte {c['name']!r}: key {c['key']}, part {c['part']}, {c['ranks']} ranks, "
                     f"{c['hash']}, {c['conversion']}, manifest: "
                     + (f"{manifest} names ({c['manifest']})" if manifest is not None else "none"))
        lines.extend(f"    problem: {p}" for p in c.get("problems", ()))
    attrs = {k: v for k, v in d.get("attributes", {}).items() if k not in ("zmin", "zmax")}
    if attrs:
        lines.append("  attributes:")
        for k, v in attrs.items():
            lines.append(f"    {k} = {v}")
    return "\n".join(lines)


def run(args) -> int:
    docs, failed = [], 0
    for f in args.files:
        try:
            docs.append(describe(f, args.layout, key_value_options(args.read_option, "--read-option")))
            if docs[-1].get("problems"):
                failed += 1  # readable header, damaged body: say so in the exit code too
        except FramebufError as exc:
            failed += 1
            print(f"framebuf info: error: {exc}", file=sys.stderr)
            docs.append({"file": f, "error": str(exc)})
    if args.json:
        print(json.dumps([_plain(d) for d in docs], indent=1, default=str))
    else:
        print("\n\n".join(_text(d) for d in docs if "error" not in d))
    return 2 if failed else 0  # the house code for a FramebufError (HACKING.md)
