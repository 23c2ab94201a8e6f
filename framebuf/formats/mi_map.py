"""``map``: a memory-mappable texture file, **this project's own layout** (not mental ray's).

mental ray's ``.map`` is undocumented (reference 6.12: probably a dump of its in-memory
``miImg_image``, in host byte order, with an optional filter pyramid). We keep the idea - raw pixels
that can be mapped straight into memory, host byte order by default, an optional pyramid - but the
bytes are ours; mental ray and imf_disp will not read these files, nor we theirs.

Layout (version 1). Every number after the byte-order mark, and every sample, is in the byte order
the mark names::

    offset size  field
    0      8     magic  b"\\x89FBMAP\\r\\n"  (a high byte and CR LF catch 7-bit and text-mode damage)
    8      2     byte-order mark: b"II" little-endian, b"MM" big-endian
    10     2     version = 1
    12     4     width of level 0
    16     4     height of level 0
    20     2     data type code (mental ray's miImg_type, the ``code`` column of datatypes.py)
    22     2     components per pixel
    24     4     sample kind, ASCII, NUL-padded: u8 u16 i16 f16 f32 u32 bit rgbe
    28     2     bytes per component sample (bit: 1, one byte 0/1 per pixel; rgbe: 1)
    30     2     level count L (1..20)
    32     4     plane alignment in bytes (64)
    36     4     reserved, 0
    40     8     total file size in bytes (catches truncation)
    48     16    reserved, 0
    64     24*L  level table, one entry per level:
                 u64 offset of the level's pixels, u32 width, u32 height, u64 byte count
    ...          pixel planes, each starting at a multiple of the alignment: the level as one
                 C-contiguous (height, width, components) array, **top row first**, components
                 interleaved, no row padding

so ``numpy.memmap(path, dtype, "r", offset, (height, width, components))`` is a level with no
copying (:func:`open_map` does exactly that after checking the header).

Choices:

* Byte order: host order by default (as mental ray's ``imf_copy`` writes maps); option
  ``byteorder`` = ``native`` | ``little`` | ``big``. A reader on the other byte order still reads
  the file (numpy swaps on access), it only loses zero-copy speed.
* Pyramid (option ``pyramid``): level k+1 halves level k, rounding odd sizes up (the last row or
  column is repeated before halving), down to 1x1 or 20 levels, mental ray's limit. Each 2x2 box is
  reduced according to the data's meaning: mean for colour, scalar, UV, vectors and coverage
  (rounded for integer samples; RGBE decoded, averaged, encoded), **min** for depth (nearest
  surface, so a +inf "nothing hit" never swallows a hit), **max** for labels and masks (as
  mental ray's label interpolation).
* Any data type; the buffer's own type is kept. Depth keeps ``+inf`` for nothing hit.
"""

from __future__ import annotations

import os
import struct
import sys

import numpy as np

from .. import convert
from ..datatypes import DATATYPES, DataType
from ..errors import CorruptFileError, FramebufError
from ..hookspecs import hookimpl
from ..limits import check_allocation
from .base import FormatSpec, Image, Layer, Option, choice_option, int_option, on_off_option

MAGIC = b"\x89FBMAP\r\n"
VERSION = 1
ALIGN = 64
MAX_LEVELS = 20
HEADER_SIZE = 64
BOM = {"<": b"II", ">": b"MM"}
ORDER_OF_BOM = {v: k for k, v in BOM.items()}

# after magic and byte-order mark: version, width, height, code, components, sample, sample bytes,
# levels, alignment, reserved, file size, 16 reserved bytes
_HEAD = "HIIHH4sHHII Q16x"
_ENTRY = "QIIQ"

BYTEORDERS = {"native": "<" if sys.byteorder == "little" else ">", "little": "<", "big": ">"}

BY_CODE = {dt.code: dt for dt in DATATYPES.values()}


def head_struct(order: str) -> struct.Struct:
    return struct.Struct(order + _HEAD)


def entry_struct(order: str) -> struct.Struct:
    return struct.Struct(order + _ENTRY)


def sample_dtype(dt: DataType, order: str) -> np.dtype:
    """The numpy dtype of one stored component (bit masks and RGBE bytes are uint8)."""
    return dt.file_dtype.newbyteorder(order) if dt.file_dtype.itemsize > 1 else dt.file_dtype


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


# -- pyramid ------------------------------------------------------------------------------------

def _reduce_kind(dt: DataType) -> str:
    if dt.kind == "depth":
        return "min"
    if dt.kind in ("label", "mask"):
        return "max"
    return "mean"


def halve(pixels: np.ndarray, dt: DataType) -> np.ndarray:
    """One pyramid step: 2x2 boxes of ``pixels`` (file samples of ``dt``) reduced to one pixel."""
    h, w = pixels.shape[:2]
    # repeat the last row/column of an odd size so every box is complete
    p = np.pad(pixels, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    boxes = [p[0::2, 0::2], p[1::2, 0::2], p[0::2, 1::2], p[1::2, 1::2]]
    how = _reduce_kind(dt)
    if how == "min":
        return np.minimum.reduce(boxes)
    if how == "max":
        return np.maximum.reduce(boxes)
    if dt.sample == "rgbe":
        mean = sum(convert.rgbe_decode(b) for b in boxes) / 4.0
        return convert.rgbe_encode(mean)
    mean = sum(b.astype(np.float64) for b in boxes) / 4.0
    if np.issubdtype(pixels.dtype, np.integer):
        info = np.iinfo(pixels.dtype)
        return np.clip(np.rint(mean), info.min, info.max).astype(pixels.dtype)
    return mean.astype(pixels.dtype)


def pyramid(pixels: np.ndarray, dt: DataType, enabled: bool) -> list[np.ndarray]:
    levels = [pixels]
    while enabled and len(levels) < MAX_LEVELS and levels[-1].shape[:2] != (1, 1):
        levels.append(halve(levels[-1], dt))
    return levels


# -- writing ------------------------------------------------------------------------------------

def _write(path: str, image: Image, options: dict) -> None:
    layer = image.layers[0]
    dt = layer.datatype
    order = BYTEORDERS[options.get("byteorder") or "native"]   # options typed by io.write
    if layer.pixels.shape[2] != dt.components:
        raise FramebufError(f"map: a {dt.name} layer needs {dt.components} components, "
                            f"got {layer.pixels.shape[2]}")
    levels = pyramid(np.asarray(layer.pixels), dt, options.get("pyramid", False))
    sdt = sample_dtype(dt, order)
    offset = _align(HEADER_SIZE + len(levels) * entry_struct(order).size)
    entries = []
    for lv in levels:
        nbytes = lv.size * sdt.itemsize
        entries.append((offset, lv.shape[1], lv.shape[0], nbytes))
        offset = _align(offset + nbytes)
    total = entries[-1][0] + entries[-1][3]
    head = MAGIC + BOM[order] + head_struct(order).pack(
        VERSION, layer.width, layer.height, dt.code, dt.components, dt.sample.encode("ascii"),
        sdt.itemsize, len(levels), ALIGN, 0, total)
    with open(path, "wb") as fh:
        fh.write(head)
        for entry in entries:
            fh.write(entry_struct(order).pack(*entry))
        for (off, _w, _h, _n), lv in zip(entries, levels):
            fh.write(b"\0" * (off - fh.tell()))
            fh.write(np.ascontiguousarray(lv, dtype=sdt).tobytes())


# -- reading ------------------------------------------------------------------------------------

class MapHeader:
    """The checked header of a map file: data type, byte order and the level table."""

    def __init__(self, path, datatype: DataType, order: str, levels: list[tuple[int, int, int, int]]):
        self.path = str(path)
        self.datatype = datatype
        self.order = order
        self.levels = levels  # (offset, width, height, nbytes)

    @property
    def sample_dtype(self) -> np.dtype:
        return sample_dtype(self.datatype, self.order)


def read_header(path) -> MapHeader:
    """Parse and check everything about a map file except its pixel values."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(HEADER_SIZE)
        if len(head) < HEADER_SIZE:
            raise CorruptFileError(path, f"file is {len(head)} bytes, shorter than the 64-byte header")
        if head[:8] != MAGIC:
            raise CorruptFileError(path, "bad magic: not a framebuf map file")
        order = ORDER_OF_BOM.get(head[8:10])
        if order is None:
            raise CorruptFileError(path, f"bad byte-order mark {head[8:10]!r} (II or MM)")
        (version, width, height, code, comps, sample, sbytes, nlevels, align, _res,
         total) = head_struct(order).unpack_from(head, 10)
        if version != VERSION:
            raise CorruptFileError(path, f"unknown map version {version} (this reader knows {VERSION})")
        dt = BY_CODE.get(code)
        if dt is None:
            raise CorruptFileError(path, f"unknown data type code {code}")
        sample = sample.rstrip(b"\0").decode("ascii", "replace")
        sdt = sample_dtype(dt, order)
        if (comps, sample, sbytes) != (dt.components, dt.sample, sdt.itemsize):
            raise CorruptFileError(
                path, f"data type {dt.name} has {dt.components} x {dt.sample} ({sdt.itemsize} bytes), "
                      f"the header says {comps} x {sample} ({sbytes} bytes)")
        if width == 0 or height == 0:
            raise CorruptFileError(path, f"empty image size {width}x{height}")
        if not 1 <= nlevels <= MAX_LEVELS:
            raise CorruptFileError(path, f"level count {nlevels} is not in 1..{MAX_LEVELS}")
        if align == 0 or align % sdt.itemsize:
            raise CorruptFileError(path, f"plane alignment {align} does not fit {sdt.itemsize}-byte samples")
        if total != size:
            raise CorruptFileError(path, f"file is {size} bytes, the header says {total} (truncated?)")
        es = entry_struct(order)
        table = fh.read(es.size * nlevels)
    if len(table) < es.size * nlevels:
        raise CorruptFileError(path, "file ends inside the level table")
    levels = []
    want_w, want_h = width, height
    table_end = HEADER_SIZE + es.size * nlevels
    for i in range(nlevels):
        off, w, h, nbytes = es.unpack_from(table, i * es.size)
        if (w, h) != (want_w, want_h):
            raise CorruptFileError(path, f"level {i} is {w}x{h}, expected {want_w}x{want_h}")
        if nbytes != w * h * comps * sbytes:
            raise CorruptFileError(path, f"level {i}: {nbytes} bytes for {w}x{h} pixels")
        if off % align or off < table_end or off + nbytes > size:
            raise CorruptFileError(path, f"level {i}: offset {off} is misaligned or outside the file")
        levels.append((off, w, h, nbytes))
        want_w, want_h = (w + 1) // 2, (h + 1) // 2
    return MapHeader(path, dt, order, levels)


def open_map(path, level: int = 0) -> np.memmap:
    """Map one level of a map file read-only: a (height, width, components) array, top row first."""
    hdr = read_header(path)
    if not 0 <= level < len(hdr.levels):
        raise FramebufError(f"{path}: no level {level}; the file has {len(hdr.levels)}")
    off, w, h, _n = hdr.levels[level]
    return np.memmap(path, dtype=hdr.sample_dtype, mode="r", offset=off,
                     shape=(h, w, hdr.datatype.components))


def _read(path: str, options: dict) -> Image:
    hdr = read_header(path)
    level = options.get("level", 0)          # typed by io.read_image
    mapped = open_map(path, level)
    check_allocation(mapped.size * 4, f"{path}: a {mapped.shape[1]}x{mapped.shape[0]} map level")
    pixels = np.array(mapped, dtype=hdr.datatype.file_dtype)  # native order; frees the mapping
    del mapped
    dt = hdr.datatype
    info = {
        "byteorder": "little" if hdr.order == "<" else "big",
        "levels": [f"{w}x{h}" for _o, w, h, _n in hdr.levels],
        "level": level,
    }
    return Image([Layer("", dt, pixels, dt.channels)], info=info)


NOTES = (
    "This project's own memory-mappable layout, NOT mental ray's (whose .map layout is "
    "undocumented): 64-byte header (magic \\x89FBMAP\\r\\n, byte-order mark II/MM, version 1, "
    "width, height, miImg_type code, components, sample kind, sample bytes, level count, "
    "alignment, file size), a level table (offset, width, height, bytes), then each level as one "
    "64-byte-aligned (h, w, c) top-first interleaved array, ready for numpy.memmap. Host byte "
    "order unless byteorder=little/big. pyramid=true adds box-halved levels down to 1x1 (max 20): "
    "mean for colour/vectors, min for depth, max for labels/masks. Read option level picks a level."
)


_LEVEL_ROW = int_option("pyramid level to read (0 = full resolution)", 0)
#: a blank level (``--read-option level=``) is level 0, as before typed rows
_LEVEL = Option(_LEVEL_ROW.help, lambda v: 0 if isinstance(v, str) and not v.strip()
                else _LEVEL_ROW.convert(v), _LEVEL_ROW.allowed)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="map",
        read_options={"level": _LEVEL},
        description="memory-mappable texture with optional filter pyramid (framebuf's own layout)",
        extensions=("map",),
        datatypes=tuple(DATATYPES),
        default_datatype="rgba",
        writer=_write,
        reader=_read,
        options={
            "pyramid": on_off_option("also store box-halved levels down to 1x1 (at most 20 levels)"),
            "byteorder": choice_option("native (default, the host's), little or big", BYTEORDERS),
        },
        max_width=2 ** 32 - 1,  # u32 fields
        max_height=2 ** 32 - 1,
        sniff=lambda head: head[:8] == MAGIC,
        notes=NOTES,
    )]
