"""OpenEXR (``exr``): every part, window, view, header attribute and channel type a file carries.

Reading parses the header itself (:mod:`._exrfile`) and decodes only the channels asked for: the
NONE/RLE/ZIPS/ZIP compressions of renderers with our own threaded decoder, the others (PIZ,
PXR24, B44, DWA, HTJ2K) through the OpenEXR binding. Writing goes through the binding.

What a read keeps and a write puts back (README "OpenEXR"):

* **parts**: every part, with its name, view, storage (scanline/tiled), compression, line order,
  tile description and header (``FrameBufferSet.parts``); parts of different sizes are kept, each
  buffer placed where its pixels are in the union of the data windows (``FrameBuffer.window`` is
  the part's own window, and a write crops back to it);
* **windows**: ``FrameBufferSet.origin`` is the data window's corner, ``display_window`` the frame;
* **attributes**: every one with its file type (double stays double, m44f stays m44f); types
  framebuf does not interpret (preview, idmanifest, a studio's own) as their bytes;
* **channels**: per-channel pixel type (half, float, uint: ``FrameBuffer.pixel_types``) and
  sub-sampling (luminance/chroma ``RY``/``BY``: kept as their own buffers, each sample repeated
  over its ``sampling`` block, decimated again on write; ``luminance=rgb`` converts to RGB);
* **mip/rip levels**: level 0 is read (``level=N`` reads another); a write copies the other levels'
  compressed tiles back unchanged when level 0, its channels and the compression are unchanged,
  else it writes one level and warns (:class:`~framebuf.errors.DroppedWarning`).

Deep parts (``deepscanline``/``deeptile``) are read and written by :mod:`._exrdeep`: their samples
go to ``FrameBufferSet.deep`` (one :class:`~framebuf.deep.DeepImage` per part) and the buffers
are their flattened image, so every flat tool sees the picture; a write of a set that carries
deep parts writes them deep (``deep=off``: the flattened buffers).

Channels form buffers by one table-driven rule (:data:`COMPONENT_SETS`): within a layer (the text
before a channel's last dot), ``R G B (A)`` / Nuke's ``red green blue (alpha)`` are colour,
``X Y Z`` a vector (``m`` when the layer name says motion/velocity/vector, else ``n``), any other
channel a scalar: UINT -> ``tag``, ``Z`` -> ``z``, else ``a_h``/``a_fp``. Buffer names: the layer
name (``rgba`` for bare colour, ``z`` for bare depth, a lone channel's layer name when it is alone
there); in a multi-part file the part name stands for the bare layer and prefixes layers whose
names do not already spell it out (``part.layer``). Views: a part's ``view`` attribute, or in a
single-part ``multiView`` file the layer's first name component (the default view is bare).

Writing mental ray's data types (default ``rgba_h``): ``*_h`` HALF, ``*_fp``, ``z``, ``n``, ``m``
FLOAT, ``rgba rgb a`` HALF holding k/255 (EXR has no 8-bit samples), ``tag`` UINT (an extension:
mental ray's table has no ``tag`` for EXR, but ids are UINT in every renderer's EXR). A buffer that
came from an EXR keeps its channels' own pixel types. New buffers: the primary buffer (or the only
one) bare ``R G B A``, others ``name.R`` ...; the standard depth buffer bare ``Z``; normals and
motion ``name.X name.Y name.Z``. A string attribute ``framebufTypes`` records each buffer's data
type and name for our own reader (``m`` rather than ``n``); other readers ignore it.
"""

from __future__ import annotations

import dataclasses
import os
import struct
import warnings

import numpy as np
import OpenEXR

from ..buffers import FilePart
from ..convert import to_half
from ..datatypes import datatype
from ..errors import (
    CorruptFileError, DroppedWarning, FramebufError, UnsupportedDataTypeError,
    UnsupportedOptionError,
)
from ..hookspecs import hookimpl
from . import _exrdeep
from . import _exrfile as exrfile
from .base import (FormatSpec, Image, Layer, Option, choice_option, number_option, on_off_option,
                   text_option)

DATATYPES = ("a", "rgb", "rgba", "a_h", "rgb_h", "rgba_h", "a_fp", "rgb_fp", "rgba_fp", "z", "n", "m",
             "tag")

COMPRESSIONS = {
    "none": OpenEXR.NO_COMPRESSION,
    "rle": OpenEXR.RLE_COMPRESSION,
    "zip": OpenEXR.ZIP_COMPRESSION,
    "zips": OpenEXR.ZIPS_COMPRESSION,
    "piz": OpenEXR.PIZ_COMPRESSION,
    "pxr24": OpenEXR.PXR24_COMPRESSION,
    "b44": OpenEXR.B44_COMPRESSION,
    "b44a": OpenEXR.B44A_COMPRESSION,
    "dwaa": OpenEXR.DWAA_COMPRESSION,
    "dwab": OpenEXR.DWAB_COMPRESSION,
    "htj2k256": OpenEXR.HTJ2K256_COMPRESSION,
    "htj2k32": OpenEXR.HTJ2K32_COMPRESSION,
}
#: compressions a user may ask for (the HTJ2K ones are only kept from files that have them)
WRITE_COMPRESSIONS = ("none", "rle", "zip", "zips", "piz", "pxr24", "b44", "b44a", "dwaa", "dwab")
LINE_ORDERS = {"increasing_y": OpenEXR.INCREASING_Y, "decreasing_y": OpenEXR.DECREASING_Y,
               "random_y": OpenEXR.RANDOM_Y}
LEVEL_MODES = {"one_level": OpenEXR.ONE_LEVEL, "mipmap_levels": OpenEXR.MIPMAP_LEVELS,
               "ripmap_levels": OpenEXR.RIPMAP_LEVELS}

#: header attributes that describe the part's structure; kept in FilePart fields, not attributes
STRUCTURAL = {"channels", "compression", "dataWindow", "displayWindow", "lineOrder", "tiles",
              "type", "name", "chunkCount", "maxSamplesPerPixel", "view"}
#: of those, the ones a single-part file may carry as plain metadata (Nuke writes a "name")
SINGLE_PART_METADATA = {"name", "view"}
#: required attributes the binding writes from its own typed values
BINDING_TYPED = {"pixelAspectRatio": float, "screenWindowCenter": lambda v: np.asarray(v, np.float32),
                 "screenWindowWidth": float}
TYPES_ATTRIBUTE = "framebufTypes"
MOTION_WORDS = ("motion", "velocity", "vector", "mv")
PIXEL_DTYPES = {"half": np.float16, "float": np.float32, "uint": np.uint32}

#: suffix sets that form one buffer, in buffer component order; the first row whose suffixes a
#: layer has (none of them UINT or sub-sampled) wins. kind: colour | vector.
COMPONENT_SETS = (
    (("R", "G", "B", "A"), "colour"),
    (("R", "G", "B"), "colour"),
    (("red", "green", "blue", "alpha"), "colour"),      # Nuke's long names
    (("red", "green", "blue"), "colour"),
    (("r", "g", "b", "a"), "colour"),
    (("r", "g", "b"), "colour"),
    (("X", "Y", "Z"), "vector"),
    (("x", "y", "z"), "vector"),
)


def _names(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, int):
        return [str(value)]
    return [str(v) for v in value]


def _level_value(value) -> tuple[int, int]:
    """The read option level: N or X,Y (a text, an int or a pair) as (x level, y level)."""
    if value == "":
        return (0, 0)
    bits = [int(v) for v in (_names(value) if not isinstance(value, int) else [value])]
    if len(bits) == 1:
        bits = bits * 2
    if len(bits) != 2 or min(bits) < 0:
        raise ValueError(value)
    return bits[0], bits[1]


def _tile_size_value(size) -> tuple[int, int]:
    """The write option tile_size: N or WxH (a text, an int or a pair) as (width, height)."""
    if isinstance(size, (tuple, list)):
        tx, ty = (int(s) for s in size)
    elif isinstance(size, str) and "x" in size.lower():
        tx, ty = (int(s) for s in size.lower().split("x"))
    else:
        tx = ty = int(size)
    if not (1 <= tx <= 65536 and 1 <= ty <= 65536):
        raise ValueError(size)
    return tx, ty


DEFAULT_TILE_SIZE = (32, 32)     # mental ray 3.8's

READ_OPTIONS = {
    "parts": text_option("part names or indices to read, comma-separated (default: all)"),
    "views": text_option("views to read, comma-separated (default: all)"),
    "buffers": text_option("buffer names to read, comma-separated (as framebuf info lists them; "
                           "default: all)"),
    "channels": text_option("channel names to read, comma-separated (part-qualified in multi-part "
                            "files)"),
    "level": Option("mip level N, or X,Y for a rip map (default 0: full resolution)", _level_value,
                    "N or X,Y (whole numbers, at least 0)"),
    "luminance": choice_option("keep (default: Y, RY, BY as their own buffers) or rgb (convert to "
                               "RGB)", ("keep", "rgb"), allowed="keep or rgb"),
    "window": choice_option("data (default: the pixels the file has, where they are) or display "
                            "(cropped or padded with nothing-hit values to the display window; a "
                            "write puts the data window back)", ("data", "display"),
                            allowed="data or display"),
}

WRITE_OPTIONS = {
    "tiled": on_off_option("on/off: tiles instead of scanlines (default: as the input; else off)"),
    "tile_size": Option("tile edge N or WxH in pixels (default 32, as mental ray 3.8); implies "
                        "tiled=on", _tile_size_value, "N or WxH (1-65536)"),
    "dwa_level": number_option("DWAA/DWAB compression level (default 45)", 0),
    "line_order": choice_option("increasing_y, decreasing_y or random_y (tiles; default: as the "
                                "input)", LINE_ORDERS),
    "deep": on_off_option("off: write a deep set's flattened buffers instead of its samples "
                          "(default on)"),
    "multipart": on_off_option("off: refuse to write several parts (default: one part per part the "
                               "buffers came from; a new buffer in a multi-part set gets its own part)"),
}


def write_option(options: dict, name: str):
    """A write option typed through its row, None when not given. io.write has typed it already
    (parsing again is a no-op); direct callers of the deep writer (a scene's deep output) may pass
    text."""
    return WRITE_OPTIONS[name].parse(options.get(name), "exr", name)


# -- planning: which channels form which buffers (header only; `framebuf info` uses it too) ------

class BufferPlan:
    """One buffer a file's channels form: name, data type, part, channel names in the part,
    their pixel types, sub-sampling and view."""

    __slots__ = ("name", "datatype", "part", "channels", "pixel_types", "sampling", "view")

    def __init__(self, name, dtname, part, channels, pixel_types, sampling=(1, 1), view=None):
        self.name, self.datatype, self.part = name, dtname, part
        self.channels, self.pixel_types = tuple(channels), tuple(pixel_types)
        self.sampling, self.view = tuple(sampling), view

    def __repr__(self) -> str:
        return f"BufferPlan({self.name!r}, {self.datatype}, part {self.part}, {self.channels})"


def _split(name: str) -> tuple[str, str]:
    prefix, dot, suffix = name.rpartition(".")
    return (prefix, suffix) if dot else ("", name)


def _hints(attributes: dict) -> dict:
    out = {}
    for entry in str(attributes.get(TYPES_ATTRIBUTE, "")).split(";"):
        parts = entry.split(":")
        if len(parts) == 3:
            out[parts[0]] = (parts[1], parts[2])
    return out


def _part_base(part: exrfile.Part) -> str:
    """A part name without its view suffix (``rgba.left`` / ``rgba_left`` of view ``left``)."""
    name, view = part.name, part.attributes.get("view")
    for sep in (".", "_", "-"):
        if view and name.endswith(sep + view):
            return name[: -len(view) - 1]
    return name


def _buffer_name(part: exrfile.Part, prefix: str, suffix: str | None, multipart: bool,
                 bare_default: str) -> str:
    """A buffer's name from its layer ``prefix`` (and ``suffix`` for one channel of a layer that
    forms several buffers). In a multi-part file the part name stands for the bare layer and for
    a layer named like the part (``character`` in part ``character.left``); other layers get it
    as a prefix unless they already spell it out."""
    if multipart and part.name:
        base = _part_base(part)
        if prefix in ("", base, part.name):
            prefix = part.name
        elif not prefix.startswith(part.name + "."):
            prefix = f"{part.name}.{prefix}"
    if suffix is None:
        return prefix or bare_default
    return f"{prefix}.{suffix}" if prefix else suffix


def _view_of(part: exrfile.Part, layer: str, views: list[str]) -> str | None:
    if part.attributes.get("view"):
        return str(part.attributes["view"])
    if not views:
        return None
    first = layer.split(".", 1)[0]
    return first if first in views[1:] else views[0]


def _scalar_type(ch: exrfile.Channel, suffix: str) -> str:
    if ch.pixel_type == "uint":
        return "tag"
    if suffix == "Z":
        return "z"
    return "a_fp" if ch.pixel_type == "float" else "a_h"


def plan_part(exr: exrfile.ExrFile, part: exrfile.Part) -> list[BufferPlan]:
    """The buffers one part's channels form (module docstring: the naming rule)."""
    hints = _hints(part.attributes)
    views = [str(v) for v in part.attributes.get("multiView", []) or []]
    layers: dict[str, dict[str, exrfile.Channel]] = {}
    for ch in part.channels:
        prefix, suffix = _split(ch.name)
        layers.setdefault(prefix, {})[suffix] = ch
    plans: list[BufferPlan] = []

    def full(prefix, suffix):
        return f"{prefix}.{suffix}" if prefix else suffix

    def add(prefix, suffixes, default_type, default_name):
        chans = [layers[prefix][s] for s in suffixes]
        first = full(prefix, suffixes[0])
        dtname, name = hints.get(first, (None, None))
        if dtname not in DATATYPES or datatype(dtname).components != len(suffixes):
            dtname, name = default_type, default_name
        plans.append(BufferPlan(name, dtname, part.index, [full(prefix, s) for s in suffixes],
                                [c.pixel_type for c in chans], (chans[0].x_sampling, chans[0].y_sampling),
                                _view_of(part, prefix, views)))

    for prefix, chans in layers.items():
        rest = dict(chans)
        groups = []
        for suffixes, kind in COMPONENT_SETS:
            if not all(s in rest for s in suffixes):
                continue
            picked = [rest[s] for s in suffixes]
            if any(c.pixel_type == "uint" or (c.x_sampling, c.y_sampling) != (1, 1) for c in picked):
                continue
            for s in suffixes:
                rest.pop(s)
            groups.append((suffixes, kind, picked))
        for suffixes, kind, picked in groups:
            if kind == "colour":
                floaty = any(c.pixel_type == "float" for c in picked)
                dtname = ("rgba" if len(suffixes) == 4 else "rgb") + ("_fp" if floaty else "_h")
                bare = "rgba" if len(suffixes) == 4 else "rgb"
            else:
                dtname = "m" if any(w in prefix.lower() for w in MOTION_WORDS) else "n"
                bare = dtname
            add(prefix, suffixes, dtname, _buffer_name(part, prefix, None, exr.multipart, bare))
        for suffix, ch in rest.items():
            alone = len(rest) == 1 and not groups
            dtname = _scalar_type(ch, suffix)
            bare = dtname if dtname in ("z", "tag") else suffix
            add(prefix, [suffix], dtname,
                _buffer_name(part, prefix, None if alone else suffix, exr.multipart, bare))
    # the bare (primary) colour buffer first, as written; then file order
    plans.sort(key=lambda p: (p.channels[0] not in ("R", "A"),))
    return plans


def plan(exr: exrfile.ExrFile) -> list[BufferPlan]:
    """Every part's buffers, names made unique across the file (a clash gets ``_`` added)."""
    out, seen = [], set()
    for part in exr.parts:
        for p in plan_part(exr, part):
            while p.name in seen:
                p.name += "_"
            seen.add(p.name)
            out.append(p)
    return out


# -- reading ---------------------------------------------------------------------------------

def _require(exr: exrfile.ExrFile, what: str, wanted: list[str], have, shown: int | None = None) -> None:
    """A read option naming something the file lacks: one error listing (the first ``shown``
    of) what there is."""
    bad = [w for w in wanted if w not in have]
    if bad:
        raise FramebufError(f"{exr.path}: no {what} {', '.join(map(repr, bad))}; {what}s: "
                            f"{', '.join(list(have)[:shown]) or '(none)'}")


def select(exr: exrfile.ExrFile, plans: list[BufferPlan], options: dict) -> list[BufferPlan]:
    """The plans the read options ask for; an unknown name is an error listing what there is."""
    chosen = list(plans)
    want_parts = _names(options.get("parts"))
    if want_parts:
        names = {p.name: p.index for p in exr.parts}
        idx = set()
        for w in want_parts:
            if w in names:
                idx.add(names[w])
            elif w.isdigit() and int(w) < len(exr.parts):
                idx.add(int(w))
            else:
                raise FramebufError(f"{exr.path}: no part {w!r}; parts: "
                                    + ", ".join(p.name or str(p.index) for p in exr.parts))
        chosen = [p for p in chosen if p.part in idx]
    want_views = _names(options.get("views"))
    if want_views:
        have = sorted({p.view for p in plans if p.view})
        _require(exr, "view", want_views, have)
        chosen = [p for p in chosen if p.view in want_views]
    want_buffers = _names(options.get("buffers"))
    if want_buffers:
        _require(exr, "buffer", want_buffers, [p.name for p in plans])
        chosen = [p for p in chosen if p.name in want_buffers]
    want_channels = _names(options.get("channels"))
    if want_channels:
        index = {}
        for p in plans:
            for c in p.channels:
                index.setdefault(exrfile.full_channel_name(exr.parts[p.part].name, c, exr.multipart), p)
                index.setdefault(c, p)
        _require(exr, "channel", want_channels, index, shown=40)
        keep = {id(index[c]) for c in want_channels}
        chosen = [p for p in chosen if id(p) in keep]
    if not chosen:
        raise FramebufError(f"{exr.path}: the read options select no channel")
    return chosen


def _window_of(part: exrfile.Part, level) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = part.data_window
    if level == (0, 0) or not part.is_tiled:
        return (x0, y0, x1, y1)
    w, h = part.level_size(*level)
    return (x0, y0, x0 + w - 1, y0 + h - 1)


def _decode(exr: exrfile.ExrFile, plans: list[BufferPlan], level) -> dict[tuple[int, str], np.ndarray]:
    """(part, channel) -> array for the plans' channels (:func:`_exrfile.decode_parts`)."""
    want: dict[int, list[str]] = {}
    for p in plans:
        want.setdefault(p.part, []).extend(p.channels)
    return exrfile.decode_parts(exr, want, exrfile._threads(), level)


def _upsample(arr: np.ndarray, sampling, window, path="") -> np.ndarray:
    """A sub-sampled channel spread over the whole window: each sample repeated over its block
    (exactly undone by the writer's decimation)."""
    xs, ys = sampling
    x0, y0, x1, y1 = window
    cols = np.arange(x0, x1 + 1) // xs - (-(-x0 // xs))
    rows = np.arange(y0, y1 + 1) // ys - (-(-y0 // ys))
    if arr.shape != (rows[-1] + 1, cols[-1] + 1):
        raise CorruptFileError(path, f"sub-sampled channel has {arr.shape}, expected "
                                   f"{(rows[-1] + 1, cols[-1] + 1)}")
    return arr[rows][:, cols]


def _luminance_to_rgb(y, ry, by, chromaticities) -> np.ndarray:
    """OpenEXR's luminance/chroma (RY = (R-Y)/Y, BY = (B-Y)/Y) back to RGB, with the luminance
    weights of the file's chromaticities (Rec. 709 when it has none); chroma by sample repetition,
    not the library's reconstruction filter."""
    wr, wg, wb = _luminance_weights(chromaticities)
    y = y.astype(np.float32)
    r = (ry.astype(np.float32) + 1) * y
    b = (by.astype(np.float32) + 1) * y
    g = (y - wr * r - wb * b) / np.float32(wg)
    return np.stack([r, g, b], -1)


def _luminance_weights(chromaticities):
    c = chromaticities or (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290)
    rx, ry, gx, gy, bx, by, wx, wy = (float(v) for v in c)
    m = np.array([[rx / ry, gx / gy, bx / by], [1, 1, 1],
                  [(1 - rx - ry) / ry, (1 - gx - gy) / gy, (1 - bx - by) / by]])
    white = np.array([wx / wy, 1.0, (1 - wx - wy) / wy])
    s = np.linalg.solve(m, white)
    return tuple(np.float32(v) for v in s)


def _file_part(part: exrfile.Part, multipart: bool) -> FilePart:
    keep = set() if multipart else SINGLE_PART_METADATA
    attrs = {k: v for k, v in part.attributes.items()
             if not k.startswith("_") and k != TYPES_ATTRIBUTE and (k not in STRUCTURAL or k in keep)}
    types = {k: t for k, t in part.attributes.get("_types", {}).items() if k in attrs}
    return FilePart(
        name=part.name, view=part.attributes.get("view"), kind=part.attributes.get("type", "scanlineimage"),
        data_window=tuple(part.data_window), display_window=tuple(part.display_window),
        compression=part.compression, line_order=part.attributes.get("lineOrder", "increasing_y"),
        tiles=dict(part.tiles) if part.tiles else None, attributes=attrs, attribute_types=types)


def _decode_plans(path, exr, deep, plans, level) -> dict:
    """Every planned channel's pixels, keyed (part, channel); a header that asks for more
    memory than there is is a damaged file, not a crash."""
    try:
        return _exrdeep.flat_channels(deep, plans) if deep else _decode(exr, plans, level)
    except FramebufError:
        raise
    except MemoryError:
        raise CorruptFileError(path, "EXR header asks for more memory than there is") from None


def _frame_box(path, exr, plans, windows: dict, used_parts: list, options):
    """The window the image is read into (the union of the parts' data windows, or the
    display window): (x0, y0, x1, y1), refused when padding to it would waste gigabytes."""
    x0 = min(w[0] for w in windows.values())
    y0 = min(w[1] for w in windows.values())
    x1 = max(w[2] for w in windows.values())
    y1 = max(w[3] for w in windows.values())
    frame = options.get("window", "data")          # typed by io.read_image: data or display
    if frame == "display":
        x0, y0, x1, y1 = exr.parts[used_parts[0]].display_window
    width, height = x1 - x0 + 1, y1 - y0 + 1
    held = sum((w[2] - w[0] + 1) * (w[3] - w[1] + 1) for w in windows.values())
    grid_bytes = width * height * 4 * sum(len(p.channels) for p in plans)
    if grid_bytes > 1 << 30 and width * height > 16 * held:
        # parts far apart, or a display window far bigger than the pixels: padding would
        # allocate gigabytes for nothing
        raise FramebufError(
            f"{path}: the {'display window' if frame == 'display' else 'union of the parts'' data windows'} "
            f"is {width}x{height}, {grid_bytes / 2**30:.1f} GiB for {held} stored pixels; read parts "
            f"one at a time (parts=...) or with window=data")
    return x0, y0, x1, y1


def _luminance_layer(path, exr, plans, p, arrays, decoded, win, grid) -> Layer | None:
    """A Y plan with its RY/BY partners as one RGB layer placed on the grid (None: no
    partners, the Y stays a scalar)."""
    ry_by = _chroma_partners(plans, p)
    if not ry_by:
        return None
    ry, by = ry_by
    part = exr.parts[p.part]
    rgb = _luminance_to_rgb(arrays[0], _upsample(decoded[(ry.part, ry.channels[0])], ry.sampling, win, path),
                            _upsample(decoded[(by.part, by.channels[0])], by.sampling, win, path),
                            part.attributes.get("chromaticities"))
    prefix = p.channels[0][:-1]
    return _place(Layer(p.name if p.name not in ("Y", "a_h") else "rgb", datatype("rgb_fp"),
                        rgb, tuple(prefix + c for c in "RGB"), part=p.part, view=p.view),
                  win, grid)


def _plan_layers(path, exr, plans, decoded: dict, windows: dict, luminance: str, grid) -> list[Layer]:
    """One layer per plan, up-sampled and placed on ``grid`` (x0, y0, width, height)."""
    layers: list[Layer] = []
    converted = set()
    if luminance == "rgb":       # chroma that becomes part of an RGB buffer is not its own
        for p in plans:
            if p.channels[-1].rpartition(".")[2] == "Y":
                converted.update(id(q) for q in _chroma_partners(plans, p) or ())
    for p in plans:
        win = windows[p.part]
        arrays = []
        for c in p.channels:
            a = decoded[(p.part, c)]
            if p.sampling != (1, 1):
                a = _upsample(a, p.sampling, win, path)
            arrays.append(a)
        if luminance == "rgb" and p.channels[-1].rpartition(".")[2] == "Y":
            rgb_layer = _luminance_layer(path, exr, plans, p, arrays, decoded, win, grid)
            if rgb_layer is not None:
                layers.append(rgb_layer)
                continue
        if id(p) in converted:
            continue
        dt = datatype(p.datatype)
        px = np.stack(arrays, axis=-1)
        if dt.sample == "u8":     # our 8-bit types, stored as half k/255
            px = np.clip(np.rint(px.astype(np.float32) * 255.0), 0, 255)
        px = px.astype(dt.file_dtype, copy=False)
        layer = Layer(p.name, dt, px, p.channels, part=p.part, view=p.view, pixel_types=p.pixel_types,
                      sampling=p.sampling if p.sampling != (1, 1) else None)
        layers.append(_place(layer, win, grid))
    return layers


def _note_sources(path, parts: list, used_parts: list, windows: dict, level) -> None:
    """Record in each part read where its stored chunks are, so a write can copy them back
    (mip levels, lossy data); a level read stands on its own as a one-level part."""
    stat = os.stat(path)
    for pi in used_parts:
        parts[pi].extra["source"] = (str(path), pi, stat.st_size, stat.st_mtime_ns, level)
    if level != (0, 0):
        for pi in used_parts:
            parts[pi].tiles = dict(parts[pi].tiles, level_mode="one_level") if parts[pi].tiles else None
            parts[pi].data_window = windows[pi]


def read(path, options) -> Image:
    exr = exrfile.read_header(path)
    deep = _exrdeep.read_parts(exr) if exr.deep else None     # every sample of every part
    luminance = options.get("luminance", "keep")     # the read options are typed by io.read_image
    level = options.get("level", (0, 0))
    plans = select(exr, plan(exr), options)
    decoded = _decode_plans(path, exr, deep, plans, level)
    used_parts = sorted({p.part for p in plans})
    windows = {pi: _window_of(exr.parts[pi], level) for pi in used_parts}
    x0, y0, x1, y1 = _frame_box(path, exr, plans, windows, used_parts, options)
    parts = [_file_part(part, exr.multipart) for part in exr.parts]
    layers = _plan_layers(path, exr, plans, decoded, windows, luminance,
                          (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
    _note_sources(path, parts, used_parts, windows, level)
    first = exr.parts[used_parts[0]]
    info = {"parts": len(exr.parts), "compression": first.compression, "tiled": first.is_tiled,
            "attributes_part": used_parts[0],
            "dataWindow": (x0, y0, x1, y1), "displayWindow": tuple(first.display_window),
            "deep": deep}
    return Image(layers, attributes=parts[used_parts[0]].attributes, info=info, origin=(x0, y0),
                 display_window=tuple(first.display_window), parts=parts)


def _chroma_partners(plans, yplan):
    prefix = yplan.channels[0][:-1]
    found = {}
    for q in plans:
        if q.part == yplan.part and len(q.channels) == 1 and q.channels[0] in (prefix + "RY", prefix + "BY"):
            found[q.channels[0][len(prefix):]] = q
    return (found["RY"], found["BY"]) if len(found) == 2 else None


def _place(layer: Layer, window, grid) -> Layer:
    """Put a layer's pixels where they are in the set's grid (the union of the data windows, or
    the display window): what lies outside the grid is cut, what the layer lacks is nothing-hit."""
    gx0, gy0, gw, gh = grid
    x0, y0, x1, y1 = window
    if (x0, y0, x1 - x0 + 1, y1 - y0 + 1) == grid:
        return layer
    px = layer.pixels
    fill = np.inf if layer.datatype.kind == "depth" else 0
    full = np.full((gh, gw, px.shape[2]), fill, px.dtype)
    ox0, oy0 = max(x0, gx0), max(y0, gy0)
    ox1, oy1 = min(x1, gx0 + gw - 1), min(y1, gy0 + gh - 1)
    if ox0 <= ox1 and oy0 <= oy1:
        full[oy0 - gy0: oy1 - gy0 + 1, ox0 - gx0: ox1 - gx0 + 1] = \
            px[oy0 - y0: oy1 - y0 + 1, ox0 - x0: ox1 - x0 + 1]
    layer.pixels = full
    layer.window = tuple(window)
    return layer


# -- writing ---------------------------------------------------------------------------------

def _pixel_arrays(layer: Layer) -> list[np.ndarray]:
    """Per channel, the array to store: the layer's own pixel types when it has them."""
    dt = layer.datatype
    px = layer.pixels
    if dt.name not in DATATYPES:
        raise UnsupportedDataTypeError("exr", dt.name, list(DATATYPES))
    if len(layer.channels) != px.shape[2]:
        raise FramebufError(f"exr: layer {layer.name!r} has {px.shape[2]} components but channel "
                            f"names {layer.channels}")
    if dt.sample == "u8":
        # 8-bit types keep their quantised values, stored as half k/255 (module docstring)
        px = to_half(px.astype(np.float32) / np.float32(255.0))
    elif dt.sample == "f16" and px.dtype != np.float16:
        px = to_half(px)
    elif dt.name == "tag":
        px = px.astype(np.uint32, copy=False)
    elif px.dtype != np.float16:
        px = px.astype(np.float32, copy=False)
    types = layer.pixel_types if layer.pixel_types and len(layer.pixel_types) == px.shape[2] else None
    out = []
    for i in range(px.shape[2]):
        a = px[:, :, i]
        if types:
            want = PIXEL_DTYPES[types[i]]
            if a.dtype != want:
                if want == np.float16:
                    a = to_half(a.astype(np.float32))
                elif want == np.uint32:
                    if a.dtype.kind == "f" and np.any(a != np.rint(a)):
                        raise FramebufError(f"exr: channel {layer.channels[i]!r} is UINT in the file "
                                            f"but holds fractions now")
                    a = a.astype(np.uint32)
                else:
                    a = a.astype(want)
        out.append(a)
    return out


def _box(window) -> tuple:
    x0, y0, x1, y1 = (int(v) for v in window)
    return (np.array([x0, y0], np.int32), np.array([x1, y1], np.int32))


def _header(part: FilePart, attributes: dict, types: dict, options, image: Image, window, multipart):
    """The binding's header dict for one part."""
    comp = options.get("compression")
    if comp is None or image.info.get("default_compression"):
        comp = part.compression if part.compression in COMPRESSIONS else (comp or "rle")
    if comp not in COMPRESSIONS:
        raise UnsupportedOptionError(f"exr compression must be one of {', '.join(WRITE_COMPRESSIONS)}, "
                                     f"not {comp!r}")
    header = {}
    for key, value in attributes.items():
        if key == TYPES_ATTRIBUTE or (key in STRUCTURAL and (multipart or key not in SINGLE_PART_METADATA)):
            continue
        if key in BINDING_TYPED:
            header[key] = BINDING_TYPED[key](value)
            continue
        typ = types.get(key)
        try:
            header[key] = _binding_value(key, typ, value) if typ else None
        except FramebufError:
            header[key] = None            # the value changed kind: write it as what it is now
        if header[key] is None:
            header[key] = _binding_value(key, _infer_attribute_type(key, value), value)
    header["compression"] = COMPRESSIONS[comp]
    # the options are typed by io.write (a bad value was refused before any work)
    if comp in ("dwaa", "dwab") and "dwa_level" in options:
        header["dwaCompressionLevel"] = options["dwa_level"]
    tiled = options.get("tiled")
    tiles = part.tiles if (tiled is None and part.kind == "tiledimage") else None
    sized = "tile_size" in options
    if tiled or sized:
        tx, ty = options.get("tile_size", DEFAULT_TILE_SIZE)
        if tiled is False:
            raise UnsupportedOptionError("exr tile_size applies to tiled output; it was given "
                                         "with tiled=off")
        if tiled or not tiles:
            # tile_size alone asks for tiles: accepting it and writing scanlines would ignore it
            tiles = {"x_size": tx, "y_size": ty, "level_mode": "one_level", "rounding_mode": "down"}
        else:
            tiles = dict(tiles, x_size=tx, y_size=ty)
    if tiles:
        desc = OpenEXR.TileDescription()
        desc.xSize, desc.ySize = int(tiles["x_size"]), int(tiles["y_size"])
        desc.mode = LEVEL_MODES[tiles["level_mode"]]
        desc.roundingMode = OpenEXR.ROUND_UP if tiles.get("rounding_mode") == "up" else OpenEXR.ROUND_DOWN
        header["type"] = OpenEXR.tiledimage
        header["tiles"] = desc
    else:
        header["type"] = OpenEXR.scanlineimage
    order = options.get("line_order") or part.line_order or "increasing_y"
    if order not in LINE_ORDERS:
        raise UnsupportedOptionError(f"exr line_order must be one of {', '.join(LINE_ORDERS)}, not {order!r}")
    if order == "random_y" and not tiles:
        order = "increasing_y"            # random order exists for tiles only
    header["lineOrder"] = LINE_ORDERS[order]
    header["dataWindow"] = _box(window)
    display = part.display_window or image.display_window or window
    header["displayWindow"] = _box(display)
    if multipart:
        header["name"] = part.name
        if part.view:
            header["view"] = part.view
    return header, comp, tiles


def _flat(value, n: int, dtype):
    arr = np.asarray(value, dtype).reshape(-1)
    if arr.size != n:
        raise ValueError(f"{arr.size} numbers, not {n}")
    return arr


#: attribute type -> the value the binding writes as that type. Types missing here go to the
#: binding as their bytes (OpaqueAttribute), which it writes under their own type name.
BINDING_VALUES = {
    "string": lambda v: v if isinstance(v, str) else None,
    "stringvector": lambda v: [str(x) for x in v] if not isinstance(v, str) else None,
    "int": lambda v: int(v) if float(v) == int(v) else None,
    "float": float,
    "double": lambda v: np.array([float(v)], np.float64),
    "v2i": lambda v: _flat(v, 2, np.int32), "v2f": lambda v: _flat(v, 2, np.float32),
    "v2d": lambda v: _flat(v, 2, np.float64), "v3i": lambda v: _flat(v, 3, np.int32),
    "v3f": lambda v: _flat(v, 3, np.float32), "v3d": lambda v: _flat(v, 3, np.float64),
    "m33f": lambda v: _flat(v, 9, np.float32).reshape(3, 3),
    "m44f": lambda v: _flat(v, 16, np.float32).reshape(4, 4),
    "m33d": lambda v: _flat(v, 9, np.float64).reshape(3, 3),
    "m44d": lambda v: _flat(v, 16, np.float64).reshape(4, 4),
    "box2i": lambda v: tuple(_flat(v, 4, np.int32).reshape(2, 2)),
    "box2f": lambda v: tuple(_flat(v, 4, np.float32).reshape(2, 2)),
    "chromaticities": lambda v: tuple(float(x) for x in _flat(v, 8, np.float64)),
    "envmap": lambda v: OpenEXR.Envmap({"latlong": 0, "cube": 1}.get(v, v)),
}


def _infer_attribute_type(name: str, value) -> str:
    """The EXR type a Python value is written as when no type is recorded for it."""
    if isinstance(value, exrfile.Opaque):
        return value.type
    if isinstance(value, (bool, np.bool_, int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "double" if isinstance(value, np.float64) and not isinstance(value, float) else "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return "stringvector"
    arr = np.asarray(value) if not isinstance(value, str) else None
    if arr is not None and arr.dtype.kind in "iuf":
        # numpy float64 arrays are doubles; Python numbers and float32 arrays are floats
        letter = "i" if arr.dtype.kind in "iu" else (
            "d" if isinstance(value, np.ndarray) and value.dtype == np.float64 else "f")
        if arr.shape in ((2,), (3,)):
            return f"v{arr.shape[0]}{letter}"
        if arr.shape in ((3, 3), (4, 4)):
            return f"m{arr.shape[0]}{arr.shape[0]}{'d' if letter == 'd' else 'f'}"
        if arr.shape in ((2, 2), (4,)):
            return "box2i" if letter == "i" else "box2f"
    raise FramebufError(f"exr: header attribute {name!r} has a type EXR cannot store: {value!r}")


#: attribute types the binding has no Python value for: handed over as their bytes, which it
#: writes under their type name
PACKED = {"rational": "<iI", "timecode": "<II", "keycode": "<7i"}


def _binding_value(name: str, typ: str, value):
    """``value`` as the binding must be handed it to write an attribute of type ``typ``."""
    if isinstance(value, exrfile.Opaque):
        return OpenEXR.OpaqueAttribute(value.data, value.type)
    if typ not in BINDING_VALUES and typ not in PACKED:
        raise FramebufError(f"exr: header attribute {name!r}: cannot write type {typ!r} from {value!r}")
    try:
        if typ in PACKED:
            return OpenEXR.OpaqueAttribute(struct.pack(PACKED[typ], *value), typ)
        out = BINDING_VALUES[typ](value)
    except (TypeError, ValueError, OverflowError, KeyError, struct.error) as exc:
        raise FramebufError(f"exr: header attribute {name!r} does not fit type {typ}: {exc}") from None
    if out is None:
        raise FramebufError(f"exr: header attribute {name!r} does not fit type {typ}: {value!r}")
    return out


def _crop(layer: Layer, window, origin) -> Layer:
    """A layer's pixels over ``window`` (file coordinates) out of the set's grid at ``origin``."""
    x0, y0, x1, y1 = window
    gx, gy = origin
    if (x0 - gx, y0 - gy) == (0, 0) and layer.pixels.shape[:2] == (y1 - y0 + 1, x1 - x0 + 1):
        return layer
    px = layer.pixels[y0 - gy: y1 - gy + 1, x0 - gx: x1 - gx + 1]
    if px.shape[:2] != (y1 - y0 + 1, x1 - x0 + 1):
        raise FramebufError(f"exr: buffer {layer.name!r} does not cover its part's data window {window}")
    return dataclasses.replace(layer, pixels=px)


def _decimate(a: np.ndarray, sampling, window) -> np.ndarray:
    xs, ys = sampling
    x0, y0, _, _ = window
    return np.ascontiguousarray(a[(-y0) % ys::ys, (-x0) % xs::xs])


def build_header(image: Image, options) -> dict:
    """The header of a single-part write (kept for callers that only want the header)."""
    part = image.parts[0] if image.parts else FilePart()
    window = _image_window(image)
    header, _, _ = _header(part, image.attributes, part.attribute_types, options, image, window, False)
    return header


def _image_window(image: Image) -> tuple:
    x0, y0 = image.origin
    return (x0, y0, x0 + image.width - 1, y0 + image.height - 1)


def _hints_needed(layers: list[Layer], part: FilePart, multipart: bool) -> str:
    """``framebufTypes`` entries for the layers our reader would not give back as they are
    (type or name); empty for a copy of a file whose channels already say everything."""
    chans = []
    for layer in layers:
        types = layer.pixel_types or (("uint",) * len(layer.channels) if layer.datatype.name == "tag" else
                                      ("half",) * len(layer.channels) if layer.datatype.sample in ("f16", "u8")
                                      else ("float",) * len(layer.channels))
        xs, ys = layer.sampling or (1, 1)
        chans += [exrfile.Channel(c, t, xs, ys) for c, t in zip(layer.channels, types)]
    chans.sort(key=lambda c: c.name)
    attrs = {"name": part.name, "view": part.view} if part.view else {"name": part.name}
    fake = exrfile.Part(0, attrs, chans)
    exr = exrfile.ExrFile("", 2, exrfile._MULTIPART if multipart else 0, [fake])
    expect = {p.channels[0]: (p.datatype, p.name) for p in plan_part(exr, fake)}
    hints = []
    for layer in layers:
        if not layer.channels or any(c in ";:" for c in layer.channels[0] + layer.name):
            continue
        name = layer.name or expect.get(layer.channels[0], ("", ""))[1]
        if expect.get(layer.channels[0]) != (layer.datatype.name, name):
            hints.append(f"{layer.channels[0]}:{layer.datatype.name}:{layer.name}")
    return ";".join(hints)


def _group_by_part(image: Image, file_parts: list) -> dict[int, list[Layer]]:
    """The layers of each part to write, keyed by index in ``file_parts`` (which gains a part
    for a new buffer that would not fit the existing ones)."""
    by_part: dict[int, list[Layer]] = {}
    home = _first_part(image)
    grid = _image_window(image)
    for layer in image.layers:
        index = layer.part if layer.part is not None and layer.part < len(file_parts) else None
        if index is None:
            index = home
            if len(file_parts) > 1 or (file_parts[home].data_window not in (None, grid)):
                # a new buffer (a shader's output) in a file whose parts do not all cover the
                # set: a part of its own over the whole set, so nothing of it is cropped away
                source = file_parts[home]
                file_parts.append(FilePart(name=_unique_part_name(layer.name or "part", file_parts),
                                           data_window=grid, display_window=source.display_window,
                                           compression=source.compression))
                index = len(file_parts) - 1
        by_part.setdefault(index, []).append(layer)
    return by_part


def _multipart(options, nparts: int) -> bool:
    """Whether the file is multi-part, after the multipart option is checked against it."""
    asked = options.get("multipart")
    if asked:
        raise UnsupportedOptionError("exr option multipart=on is not supported: the OpenEXR binding "
                                     "writes one part as a single-part file")
    if asked is False and nparts > 1:
        raise FramebufError(f"exr: the buffers belong to {nparts} parts; multipart=off cannot "
                            f"write them (choose buffers of one part)")
    return nparts > 1


def _part_channels(part, layers, window, image: Image, label) -> tuple[dict, list]:
    """One part's channels as the binding takes them, and (name, stored array) per channel."""
    channels = {}
    stored = []
    for layer in layers:
        layer = _crop(layer, window, image.origin)
        for name, a in zip(layer.channels, _pixel_arrays(layer)):
            if name in channels:
                raise FramebufError(f"exr: two buffers would write channel {name!r} in part "
                                    f"{part.name or label!r}")
            xs, ys = layer.sampling or (1, 1)
            if (xs, ys) != (1, 1):
                a = _decimate(a, (xs, ys), window)
                # the binding (3.5) wants a window-sized array and stores its first
                # len(samples) values as the sub-sampled raster
                carrier = np.zeros((window[3] - window[1] + 1, window[2] - window[0] + 1), a.dtype)
                carrier.reshape(-1)[: a.size] = a.reshape(-1)
                channels[name] = OpenEXR.Channel(name, carrier, xs, ys)
            else:
                a = np.ascontiguousarray(a)
                channels[name] = a
            stored.append((name, a))
    return channels, stored


def _write_parts(path, written: list, multipart: bool, threads: int) -> None:
    """Hand the headers and channels to the binding; its errors become FramebufError."""
    try:
        if multipart:
            OpenEXR.File([OpenEXR.Part(h, c, n) for h, c, n, _ in written]).write(str(path))
        else:
            header, channels, _, _ = written[0]
            OpenEXR.File(header, channels, num_threads=threads).write(str(path))
    except FramebufError:
        raise
    except Exception as exc:  # noqa: BLE001 - the binding raises RuntimeError/ValueError ...
        raise FramebufError(f"exr: cannot write {path}: {exc}") from None


def write(path, image: Image, options) -> None:
    if image.info.get("deep") and options.get("deep") is not False:
        return _exrdeep.write(path, image.info["deep"],
                              dict(options, default_compression=image.info.get("default_compression")))
    threads = exrfile._threads()
    file_parts = list(image.parts) if image.parts else [FilePart()]
    by_part = _group_by_part(image, file_parts)
    order = sorted(by_part)
    multipart = _multipart(options, len(order))
    written = []
    fallbacks: dict = {}           # a lossy source decoded once for all its parts
    for out_index, pi in enumerate(order):
        part = file_parts[pi]
        layers = by_part[pi]
        window = _part_window(part, layers, image)
        # FrameBufferSet.attributes is one part's header (edits to it land there)
        own = image.info.get("attributes_part", 0) if image.parts else pi
        attributes = image.attributes if pi == own else part.attributes
        header, comp, tiles = _header(part, attributes, part.attribute_types, options, image, window,
                                      multipart)
        channels, stored = _part_channels(part, layers, window, image, out_index)
        hints = _hints_needed(layers, part, multipart)
        if hints:
            header[TYPES_ATTRIBUTE] = hints
        levels = _source_chunks(part, tiles, comp, window, stored, fallbacks)
        if tiles and tiles["level_mode"] != "one_level" and levels is None:
            # the stored levels cannot be copied back and the binding writes level 0 only
            desc = header["tiles"]
            desc.mode = OpenEXR.ONE_LEVEL
            header["tiles"] = desc
        written.append((header, channels, part.name or f"part{out_index}", levels))
    _write_parts(path, written, multipart, threads)
    kept = {i: chunks for i, (_, _, _, chunks) in enumerate(written) if chunks}
    if kept:
        exrfile.replace_chunks(path, kept)


def _unique_part_name(name: str, parts: list[FilePart]) -> str:
    taken = {p.name for p in parts}
    out = name
    while out in taken:
        out += "_"
    return out


def _first_part(image: Image) -> int:
    """Where a buffer without a part goes: the part of the first buffer that has one."""
    for layer in image.layers:
        if layer.part is not None:
            return layer.part
    return 0


def _part_window(part: FilePart, layers: list[Layer], image: Image) -> tuple:
    """The data window a part is written with: its own (when it still lies inside the set's
    grid), else the set's."""
    grid = _image_window(image)
    own = next((layer.window for layer in layers if layer.window), None) or part.data_window
    if own and all(layer.window in (None, own) for layer in layers) and (
            own[0] >= grid[0] and own[1] >= grid[1] and own[2] <= grid[2] and own[3] <= grid[3]):
        if own != grid and not any(layer.window for layer in layers):
            return grid    # the set was cropped or expanded as a whole: its window wins
        return tuple(own)
    if own and any(layer.window for layer in layers):
        warnings.warn(DroppedWarning(
            f"part {part.name or 0!r}: its data window {tuple(own)} reaches outside the buffers' "
            f"window {grid} (read with window=display?); wrote {grid}"), stacklevel=3)
    return grid


#: compressions whose decode-encode round trip changes values: their chunks are copied instead
LOSSY = {"b44", "b44a", "dwaa", "dwab", "pxr24"}


def _source_chunks(part: FilePart, tiles, comp, window, stored: list[tuple[str, np.ndarray]],
                   fallbacks: dict):
    """The part's chunks as the source file stores them, when this write would store exactly
    what they decode to (same compression, tiling, window, channels and pixels) and copying
    matters: mip levels (the binding writes level 0 only) and lossy compressions. Else None,
    with a :class:`DroppedWarning` when mip levels are lost. ``fallbacks`` keeps each source's
    binding decode for the other parts of the same write."""
    multilevel = bool(tiles) and tiles["level_mode"] != "one_level"
    had_levels = bool(part.tiles) and part.tiles.get("level_mode") != "one_level"
    src = part.extra.get("source")
    if not (multilevel or comp in LOSSY):
        reason = "written without levels: tiled=off or new tiling" if had_levels else None
    elif not src:
        reason = "the buffers were not read from a file"
    else:
        reason, chunks = _unchanged_source(part, src, tiles, comp, window, stored, fallbacks)
        if chunks is not None:
            return chunks
    if reason and (multilevel or had_levels):
        warnings.warn(DroppedWarning(
            f"mip/rip levels of part {part.name or 0!r} not kept ({reason}); wrote level 0 only"),
            stacklevel=3)
    return None


def _unchanged_source(part: FilePart, src, tiles, comp, window, stored, fallbacks):
    """(why not, None), or (None, the source part's raw chunks) when nothing changed."""
    path, index, size, mtime, level = src
    try:
        st = os.stat(path)
        changed = (st.st_size, st.st_mtime_ns) != (size, mtime)
    except OSError:
        changed = True
    if level != (0, 0):
        return f"level {level} was read, not level 0", None
    if changed:
        return "the file read has changed since", None
    if comp != part.compression or tiles != part.tiles or tuple(window) != tuple(part.data_window):
        return "the compression, tiling or data window changed", None
    exr = exrfile.read_header(path)
    sp = exr.parts[index]
    names = {c.name: c for c in sp.channels}
    kinds = {np.dtype(np.float16): "half", np.dtype(np.float32): "float", np.dtype(np.uint32): "uint"}
    if sorted(names) != sorted(n for n, _ in stored) or any(
            kinds.get(a.dtype) != names[n].pixel_type for n, a in stored):
        return "the channels changed", None
    source = exrfile.decode_parts(exr, {index: [n for n, _ in stored]}, exrfile._threads(),
                            fallback=fallbacks.setdefault(path, {}))
    if any(not np.array_equal(np.ascontiguousarray(source[(index, n)]).view(np.uint8),
                              np.ascontiguousarray(a).view(np.uint8)) for n, a in stored):
        return "the pixels changed", None
    return None, exrfile.raw_chunks(exr, sp)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="exr",
        stores_attributes=True,
        description="OpenEXR: parts, views, windows, header attributes, half/float/uint channels",
        extensions=("exr",),
        datatypes=DATATYPES,
        default_datatype="rgba_h",
        writer=write,
        reader=read,
        compressions=WRITE_COMPRESSIONS + ("htj2k256", "htj2k32"),
        default_compression="rle",
        options=WRITE_OPTIONS,
        read_options=READ_OPTIONS,
        keeps_windows=True,
        multi_layer=True,
        max_width=2**31 - 1,
        max_height=2**31 - 1,
        sniff=lambda head: head[:4] == b"\x76\x2f\x31\x01",
        notes="Reads and writes back every part, window, view, attribute (with its type), "
              "per-channel pixel type and sub-sampling; mip levels copied when level 0 is "
              "unchanged. rgba/rgb/a are written as HALF holding k/255; *_h HALF; *_fp, z, n, m "
              "FLOAT; tag UINT. New buffers: primary R G B A, others name.R ...; standard depth Z. "
              "Default compression rle as mental ray 3.8 (a file read keeps its own). Deep parts "
              "are read (samples in FrameBufferSet.deep, flattened buffers) and written back deep.",
    )]
