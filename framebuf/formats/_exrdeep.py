"""Deep OpenEXR (``deepscanline`` / ``deeptile`` parts), read and written by framebuf itself.

Why not the OpenEXR binding: it hands deep channels over as numpy object arrays of per-pixel
arrays (a Python object per pixel, about 1 s for a 1920x814 part), and it refuses files with a
``deepImageState`` attribute ("unsupported attribute type"), which OpenEXR's own test images
carry. Deep parts allow only the NONE, RLE, ZIPS and ZIP compressions, byte streams this module
decodes with the same inflate / predictor steps as the flat reader (:mod:`._exrfile`).

A deep chunk (OpenEXR file layout): ``[part]`` ``y`` (scanline) or ``tx ty lx ly`` (tile), then
three uint64 -- packed pixel-offset-table size, packed sample-data size, unpacked sample-data
size -- the pixel offset table (int32 per pixel of the chunk, cumulative sample counts from the
chunk's start) and the sample data: line by line, every channel in turn, every sample of the
line's pixels. A table or data block no smaller than its unpacked size is stored raw.

Limits: every chunk header, table and declared size is checked against the file before a
single sample is allocated: the declared sample data must match the offset tables' counts times
the sample size, and cannot exceed what the compression can expand its packed bytes to.
Writing: NONE, ZIPS (default) and ZIP; RLE is read but not written.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from ..deep import STATES, DeepImage, flatten
from ..errors import CorruptFileError, FramebufError, UnsupportedFeatureError, UnsupportedOptionError
from ..limits import check_allocation
from . import _exrfile as exrfile
from ._exrkernels import _deep_place, _rle_decode, _unpredict

try:
    import imagecodecs as _ic
except ImportError:  # pragma: no cover - imagecodecs is a dependency
    _ic = None

#: the most bytes a compression expands one packed byte to (deflate ~1032:1, OpenEXR RLE 64:1)
MAX_RATIO = {"none": 1, "zips": 1100, "zip": 1100, "rle": 65}
WRITE_COMPRESSIONS = ("none", "zips", "zip")
PIXEL_CODES = {"uint": 0, "half": 1, "float": 2}
FILE_DTYPES = {"uint": np.dtype("<u4"), "half": np.dtype("<f2"), "float": np.dtype("<f4")}
STATE_CODES = {v: k for k, v in STATES.items()}
#: header attributes a deep part writes from its own structure, never from ``attributes``
STRUCTURAL = {"channels", "compression", "dataWindow", "displayWindow", "lineOrder", "tiles",
              "type", "name", "chunkCount", "maxSamplesPerPixel", "view", "version",
              "deepImageState", "_types"}


# -- reading ------------------------------------------------------------------------------------

def _unpack(path, comp: str, blob, n: int) -> np.ndarray:
    """``n`` bytes of a table or data block as stored (raw when it did not shrink)."""
    if comp == "none" or len(blob) == n:
        if len(blob) != n:
            raise CorruptFileError(path, "a deep chunk's block has the wrong size")
        return np.frombuffer(blob, np.uint8)
    out = np.empty(n, np.uint8)
    if comp == "rle":
        if _rle_decode(np.frombuffer(blob, np.uint8), out) != n:
            raise CorruptFileError(path, "an rle deep chunk does not decode (damaged data)")
    elif not exrfile._inflate_into((blob, out)):
        raise CorruptFileError(path, f"a {comp} deep chunk does not inflate (damaged data)")
    joined = np.empty(n, np.uint8)
    _unpredict(out, joined)
    return joined


def _counts(cum: np.ndarray, unpacked: int, bps: int):
    """Per-pixel counts of a chunk's table (lines x pixels of cumulative counts): OpenEXR
    restarts the sum on every line (its writer does, and so does ours); a table running over the
    whole chunk is accepted too. None when neither matches the data size."""
    # differences by subtraction: np.diff with prepend costs 15 us a call, a chunk each
    per = cum.copy()
    per[:, 1:] -= cum[:, :-1]
    if (per >= 0).all() and int(cum[:, -1].sum()) * bps == unpacked:
        return per
    flat = np.diff(cum.ravel(), prepend=0)
    if (flat >= 0).all() and int(cum.ravel()[-1]) * bps == unpacked:
        return flat.reshape(cum.shape)
    return None


def _check_deep_part(path: str, part: exrfile.Part) -> list[str]:
    """Refuse what a deep part cannot be (a flat-only compression, sub-sampled channels) or
    what the reader does not take (no Z); returns the channel names."""
    comp = part.compression
    if comp not in MAX_RATIO:
        raise CorruptFileError(path, f"deep part {part.index} has compression {comp}, which deep "
                                     f"data cannot use")
    if any(c.x_sampling != 1 or c.y_sampling != 1 for c in part.channels):
        raise CorruptFileError(path, "deep channels cannot be sub-sampled")
    names = [c.name for c in part.channels]
    if "Z" not in names:
        raise UnsupportedFeatureError(path, f"deep part {part.index} without a Z channel")
    return names


def _coverage_table(tiles, w: int, h: int) -> np.ndarray:
    """One flag per tile (tiled) or per line (scanline): which chunks have been seen."""
    if tiles:
        # the header parser has refused tile sizes below 1 (_exrfile._tiledesc)
        tw, th = tiles["x_size"], tiles["y_size"]
        return np.zeros((-(-h // th), -(-w // tw)), np.bool_)
    return np.zeros(h, np.bool_)


def _read_counts(exr: exrfile.ExrFile, part: exrfile.Part, data: bytes, table, tiles, counts, seen,
                 bps: int) -> list[tuple]:
    """Walk every chunk's header, check it against the file, and unpack its sample-count
    table into ``counts``; returns (cx, cy, cw, cn, data start, packed, unpacked) per chunk."""
    path = exr.path
    comp = part.compression
    w, h = part.width, part.height
    y0 = part.data_window[1]
    lines_per = exrfile.COMPRESSIONS_BY_NAME.get(comp, 1)
    skip = 4 if exr.multipart else 0
    head = 16 if tiles else 4
    chunks = []
    size = len(data)
    for off in table.tolist():
        if off + skip + head + 24 > size:
            raise CorruptFileError(path, "file ends inside a deep chunk header (truncated?)")
        if skip and struct.unpack_from("<i", data, off)[0] != part.index:
            raise CorruptFileError(path, "a deep chunk names another part (damaged offset table)")
        if tiles:
            tx, ty, lx, ly = struct.unpack_from("<4i", data, off + skip)
            if (lx, ly) != (0, 0):
                continue                   # level 0 only (deep mip levels: README)
            cx, cy, cw, cn = exrfile.tile_box(path, tiles, w, h, tx, ty, "deep tile")
            cover = seen[ty:ty + 1, tx:tx + 1]
        else:
            (yy,) = struct.unpack_from("<i", data, off + skip)
            cx, cy, cw, cn = exrfile.line_box(path, w, h, y0, lines_per, yy, "deep chunk")
            cover = seen[cy:cy + cn]
        packed_table, packed, unpacked = struct.unpack_from("<3Q", data, off + skip + head)
        start = off + skip + head + 24
        if start + packed_table + packed > size:
            raise CorruptFileError(path, "file ends inside a deep chunk (truncated?)")
        if unpacked > MAX_RATIO[comp] * packed + 256 or (packed > unpacked):
            raise CorruptFileError(path, f"a {comp} deep chunk of {packed} bytes claims {unpacked} "
                                         f"bytes of samples (damaged or hostile header)")
        if cover.any():
            raise CorruptFileError(path, "two deep chunks cover the same pixels (damaged file)")
        cover[...] = True
        raw = _unpack(path, comp, data[start:start + packed_table], 4 * cw * cn)
        per = _counts(raw.view("<i4").astype(np.int64).reshape(cn, cw), unpacked, bps)
        if per is None:
            raise CorruptFileError(path, "a deep chunk's sample counts do not match its data size "
                                         "(damaged file)")
        counts[cy:cy + cn, cx:cx + cw] = per
        chunks.append((cx, cy, cw, cn, start + packed_table, packed, unpacked))
    if not seen.all():
        raise CorruptFileError(path, f"deep chunks cover {int(seen.sum())} of {seen.size} "
                                     f"{'tiles' if tiles else 'lines'} (incomplete file?)")
    return chunks


def _allocate_samples(path: str, part: exrfile.Part, names: list[str], total: int):
    """The float and uint sample tables, once their size is checked against the memory
    budget: (types, floats, uints, rows, kinds); rows/kinds say where each channel goes."""
    types = {c.name: c.pixel_type for c in part.channels}
    fl = [c for c in names if types[c] != "uint"]
    ul = [c for c in names if types[c] == "uint"]
    check_allocation(4 * total * len(names), f"{path}: {total} deep samples x {len(names)} channels")
    try:
        floats = np.empty((len(fl), total), np.float32)
        uints = np.empty((len(ul), total), np.uint32)
    except MemoryError:
        raise CorruptFileError(path, f"{total} deep samples need more memory than there is") from None
    rows = np.array([fl.index(c) if types[c] != "uint" else ul.index(c) for c in names], np.int64)
    kinds = np.array([PIXEL_CODES[types[c]] for c in names], np.int64)
    return types, floats, uints, rows, kinds


def _deep_state(attrs: dict) -> str:
    """The deepImageState attribute as a word; anything unreadable counts as messy."""
    state_raw = attrs.get("deepImageState")
    if isinstance(state_raw, exrfile.Opaque) and len(state_raw.data) == 1:
        return STATES.get(state_raw.data[0], "messy")
    return "messy"


def read_part(exr: exrfile.ExrFile, part: exrfile.Part, data: bytes) -> DeepImage:
    """Every sample of one deep part. ``data`` is the whole file."""
    path = exr.path
    comp = part.compression
    names = _check_deep_part(path, part)
    w, h = part.width, part.height
    x0, y0 = part.data_window[:2]
    # the per-pixel count and coverage tables (int64 + bool) come before any sample
    check_allocation(9 * w * h, f"{path}: deep EXR part {part.index} ({w}x{h} sample-count table)")
    bps = sum(c.nbytes for c in part.channels)
    with open(path, "rb") as fh:
        table = exrfile._offsets(exr, part, fh)
    tiles = part.tiles if part.attributes.get("type") == "deeptile" else None
    # the per-pixel counts go straight into the offsets (summed in place below), and coverage
    # is kept per line or per tile, not per pixel: reading allocates little beyond the samples
    offsets = np.zeros(w * h + 1, np.int64)
    counts = offsets[1:].reshape(h, w)
    seen = _coverage_table(tiles, w, h)
    chunks = _read_counts(exr, part, data, table, tiles, counts, seen, bps)
    # everything declared is consistent and bounded by the file: now allocate
    np.cumsum(offsets, out=offsets)
    total = int(offsets[-1])
    types, floats, uints, rows, kinds = _allocate_samples(path, part, names, total)
    fbits, ubits = floats.view(np.uint32), uints

    # one thread: with two (chunks own disjoint pixels) the per-chunk Python steps hold the
    # GIL and reading Stereo/Trunks got slower, 84 -> 94 ms
    for cx, cy, cw, cn, start, packed, unpacked in chunks:
        raw = _unpack(path, comp, data[start:start + packed], unpacked)
        _deep_place(raw, offsets, cx, cy, cw, cn, w, rows, kinds, fbits, ubits, exrfile._HALF_TO_F32)
    attrs = part.attributes
    keep = {k: v for k, v in attrs.items() if k not in STRUCTURAL}
    ktypes = {k: t for k, t in attrs.get("_types", {}).items() if k in keep}
    return DeepImage(w, h, offsets, names, floats, uints, types, origin=(x0, y0),
                     display_window=tuple(part.display_window), name=part.name,
                     view=attrs.get("view"), compression=comp,
                     tiles=dict(tiles) if tiles else None,
                     line_order=attrs.get("lineOrder", "increasing_y"), attributes=keep,
                     attribute_types=ktypes, state=_deep_state(attrs))


def read_parts(exr: exrfile.ExrFile) -> list[DeepImage]:
    """Every part of a deep file (a file mixing deep and flat parts is refused)."""
    if not all(p.is_deep for p in exr.parts):
        raise UnsupportedFeatureError(exr.path, "an OpenEXR file mixing deep and flat parts")
    try:
        with open(exr.path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise FramebufError(f"{exr.path}: cannot read: {exc.strerror or exc}") from None
    return [read_part(exr, part, data) for part in exr.parts]


def flat_channels(images: list[DeepImage], plans) -> dict:
    """(part, channel) -> the flattened channel in its file sample type, for the plans' channels
    (the flat reader's ``_decode``): a deep file read as buffers is its flattened picture."""
    out = {}
    flat = {}
    for plan in plans:
        if plan.part not in flat:
            flat[plan.part] = flatten(images[plan.part])
        img = images[plan.part]
        for c in plan.channels:
            out[(plan.part, c)] = flat[plan.part][c].astype(FILE_DTYPES[img.pixel_types[c]])
    return out


def read(path) -> list[DeepImage]:
    """The deep parts of an OpenEXR file."""
    return read_parts(exrfile.read_header(path))


# -- writing ------------------------------------------------------------------------------------

def _pack(comp: str, raw: np.ndarray) -> bytes:
    """A block as stored: split into even/odd bytes, predicted, deflated; raw when that does
    not shrink it."""
    raw = np.ascontiguousarray(raw).view(np.uint8).ravel()
    if comp == "none" or raw.size == 0:
        return raw.tobytes()
    t = np.concatenate([raw[0::2], raw[1::2]])
    d = np.empty_like(t)
    d[0] = t[0]
    np.subtract(t[1:], t[:-1], out=d[1:])
    d[1:] += 128
    if _ic is not None and hasattr(_ic, "deflate_encode"):
        out = bytes(_ic.deflate_encode(d, level=4))
    else:  # pragma: no cover
        out = zlib.compress(d.tobytes(), 4)
    return out if len(out) < raw.size else raw.tobytes()


def _string(v: str) -> bytes:
    return v.encode("utf-8", "surrogateescape")


def _attribute_bytes(name: str, typ: str, value) -> bytes:
    """One header attribute's value as the file stores it; the struct layouts are the reader's
    (:data:`_exrfile.ATTRIBUTE_TYPES`)."""
    if isinstance(value, exrfile.Opaque):
        return value.data
    if typ == "string":
        return _string(str(value))
    if typ == "stringvector":
        return b"".join(struct.pack("<i", len(_string(s))) + _string(s) for s in value)
    if typ == "compression":
        return bytes([next(k for k, v in exrfile.COMPRESSIONS.items() if v[0] == value)])
    if typ == "tiledesc":
        mode = {v: k for k, v in exrfile.LEVEL_MODES.items()}[value["level_mode"]]
        return struct.pack("<IIB", value["x_size"], value["y_size"],
                           mode | (16 if value.get("rounding_mode") == "up" else 0))
    parse = exrfile.ATTRIBUTE_TYPES.get(typ)
    table = getattr(parse, "table", None)
    if table is not None:
        return bytes([{v: k for k, v in table.items()}.get(value, value)])
    fmt = getattr(parse, "format", None)
    if fmt is None:
        raise FramebufError(f"exr: deep header attribute {name!r}: cannot write type {typ!r}")
    try:
        return struct.pack("<" + fmt, *np.asarray(value).ravel().tolist())
    except (struct.error, TypeError, ValueError) as exc:
        raise FramebufError(f"exr: header attribute {name!r} does not fit type {typ}: {exc}") from None


def _chlist(names, types) -> bytes:
    out = b""
    for c in names:
        out += _string(c) + b"\0" + struct.pack("<iBBBBii", PIXEL_CODES[types[c]], 0, 0, 0, 0, 1, 1)
    return out + b"\0"


def _header(img: DeepImage, comp: str, tiles, order, multipart: bool, chunks: int,
            long_names: list) -> bytes:
    from .exr import _infer_attribute_type
    x0, y0, x1, y1 = img.data_window
    names = sorted(img.channels)
    attrs = [
        ("channels", "chlist", _chlist(names, img.pixel_types)),
        ("compression", "compression", _attribute_bytes("compression", "compression", comp)),
        ("dataWindow", "box2i", struct.pack("<4i", x0, y0, x1, y1)),
        ("displayWindow", "box2i", struct.pack("<4i", *(img.display_window or img.data_window))),
        ("lineOrder", "lineOrder", _attribute_bytes("lineOrder", "lineOrder", order)),
        ("type", "string", b"deeptile" if tiles else b"deepscanline"),
        ("version", "int", struct.pack("<i", 1)),
        ("chunkCount", "int", struct.pack("<i", chunks)),
        ("deepImageState", "deepImageState", bytes([STATE_CODES.get(img.state, 0)])),
    ]
    if tiles:
        attrs.append(("tiles", "tiledesc", _attribute_bytes("tiles", "tiledesc", tiles)))
    if multipart:
        attrs.append(("name", "string", _string(img.name)))
    if img.view:
        attrs.append(("view", "string", _string(img.view)))
    defaults = {"pixelAspectRatio": ("float", 1.0), "screenWindowCenter": ("v2f", (0.0, 0.0)),
                "screenWindowWidth": ("float", 1.0)}
    kept = dict(img.attributes)
    types = dict(img.attribute_types)
    for k, (t, v) in defaults.items():
        if k not in kept:
            kept[k], types[k] = v, t
    for k, v in kept.items():
        if k in STRUCTURAL or k.startswith("_"):
            continue
        t = types.get(k) or _infer_attribute_type(k, v)
        if isinstance(v, exrfile.Opaque):
            t = v.type
        attrs.append((k, t, _attribute_bytes(k, t, v)))
    out = b""
    for k, t, raw in attrs:
        if len(k) > 31 or len(t) > 31:
            long_names.append(k)
        out += _string(k) + b"\0" + _string(t) + b"\0" + struct.pack("<i", len(raw)) + raw
    return out + b"\0"


def _chunks(img: DeepImage, comp: str, tiles, multipart: bool, index: int):
    """Every chunk of one part as bytes, in offset-table order."""
    w, h = img.width, img.height
    x0, y0 = img.origin
    names = sorted(img.channels)
    counts = np.diff(img.offsets).reshape(h, w)
    cols = [(img.row(c), FILE_DTYPES[img.pixel_types[c]]) for c in names]
    prefix = struct.pack("<i", index) if multipart else b""
    if tiles:
        tw, th = int(tiles["x_size"]), int(tiles["y_size"])
        boxes = [(tx * tw, ty * th, min(tw, w - tx * tw), min(th, h - ty * th), (tx, ty))
                 for ty in range(-(-h // th)) for tx in range(-(-w // tw))]
    else:
        per = exrfile.COMPRESSIONS_BY_NAME[comp]
        boxes = [(0, cy, w, min(per, h - cy), None) for cy in range(0, h, per)]
    for cx, cy, cw, cn, tile in boxes:
        cum = np.cumsum(counts[cy:cy + cn, cx:cx + cw], axis=1).astype("<i4")   # per line
        parts = []
        for j in range(cn):
            p = (cy + j) * w + cx
            a, b = int(img.offsets[p]), int(img.offsets[p + cw])
            for values, dt in cols:
                parts.append(values[a:b].astype(dt).tobytes())
        raw = np.frombuffer(b"".join(parts), np.uint8)
        table = _pack(comp, cum)
        sample = _pack(comp, raw)
        head = (struct.pack("<4i", tile[0], tile[1], 0, 0) if tiles else
                struct.pack("<i", cy + y0))
        yield prefix + head + struct.pack("<3Q", len(table), len(sample), raw.size) + table + sample


def write(path, images: list[DeepImage], options: dict) -> None:
    """Write deep parts (one part per image) to ``path`` (the caller makes it atomic)."""
    if not images:
        raise FramebufError("nothing to write: no deep images")
    comp = options.get("compression")
    if comp is None or options.get("default_compression"):
        comp = images[0].compression if images[0].compression in WRITE_COMPRESSIONS else "zips"
    comp = str(comp).lower()
    if comp not in WRITE_COMPRESSIONS:
        raise UnsupportedOptionError(f"deep exr compression must be one of "
                                     f"{', '.join(WRITE_COMPRESSIONS)}, not {comp!r}")
    multipart = len(images) > 1
    if multipart:
        names = [im.name for im in images]
        if len(set(names)) != len(names) or not all(names):
            images = [im if im.name and names.count(im.name) == 1 else
                      _renamed(im, f"{im.name or 'deep'}{i}") for i, im in enumerate(images)]
    from .exr import DEFAULT_TILE_SIZE, write_option     # the rows of the exr format's options
    tiled_opt = write_option(options, "tiled")
    tile_size = write_option(options, "tile_size") or DEFAULT_TILE_SIZE
    headers, bodies, long_names = [], [], []
    for i, img in enumerate(images):
        tiles = img.tiles
        if tiled_opt is not None:
            tiles = ({"x_size": tile_size[0], "y_size": tile_size[1],
                      "level_mode": "one_level", "rounding_mode": "down"} if tiled_opt else None)
        if tiles:
            tiles = dict(tiles, level_mode="one_level")
        order = write_option(options, "line_order") or img.line_order or "increasing_y"
        if order == "random_y" and not tiles:
            order = "increasing_y"
        body = list(_chunks(img, comp, tiles, multipart, i))
        headers.append(_header(img, comp, tiles, order, multipart, len(body), long_names))
        bodies.append(body)
    version = 2 | 0x800 | (0x1000 if multipart else 0) | (0x400 if long_names else 0)
    head = struct.pack("<iI", exrfile.MAGIC, version) + b"".join(headers) + (b"\0" if multipart else b"")
    pos = len(head) + 8 * sum(len(b) for b in bodies)
    tables = []
    for body in bodies:
        offs = []
        for chunk in body:
            offs.append(pos)
            pos += len(chunk)
        tables.append(np.array(offs, "<u8").tobytes())
    with open(path, "wb") as fh:
        fh.write(head)
        for t in tables:
            fh.write(t)
        for body in bodies:
            for chunk in body:
                fh.write(chunk)


def _renamed(img: DeepImage, name: str) -> DeepImage:
    from dataclasses import replace
    return replace(img, name=name)
