"""mental images native image files: ``ct st vt wt zt nt mt tt bit cth`` (reference 6.11).

Layout, from the manual's paragraph on the native formats::

    offset  size  field
    0       1     magic byte: the format code of the table below
    1       1     0
    2       2     width,   u16 big-endian
    4       2     height,  u16 big-endian
    6       2     version, u16 big-endian, always 0 (mrViewer refuses anything else)
    8       ...   pixels, uncompressed

Pixels run x increasing, then y increasing, **starting at the lower-left pixel**, so the first stored
row is the bottom of the picture (we flip on write and on read). Components are interleaved per
pixel in RGBA / XYZ / UV order, every multi-byte value big-endian.

Choices where the manual is silent or contradicts itself (all recorded in ``notes``):

* ``wt`` (``vts``): the manual gives magic 5 for both ``vt`` and ``wt`` but also says the two
  files differ only in their magic. We write **16**, the first code above every documented one, so
  it can collide with no mental images format; reading, ``wt`` also accepts the manual's 5.
* ``bit``: 1 bit per pixel, **MSB first, each row padded to a whole byte** (the manual's "1 bit
  per component"); ``packing="bytes"`` writes one byte (0/1) per pixel as mrViewer reads it. The
  reader tells the two apart by the file size.
* ``zt``: mental images store 0 where nothing was hit; in memory that is ``+inf``. We convert at
  this edge: ``+inf`` -> 0 on write, 0 -> ``+inf`` on read.
* A file whose magic belongs to another native format is read as what its magic says (``info``
  reports the real format); only magic 5 depends on the format asked for (``vt`` or ``wt``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from ..datatypes import datatype
from ..errors import CorruptFileError, FramebufError
from ..hookspecs import hookimpl
from .base import FormatSpec, Image, Layer, choice_option
from ..limits import check_allocation
from ._files import read_bytes

HEADER = struct.Struct(">BBHHH")  # magic, 0, width, height, version
VERSION = 0

#: magic of the manual for ``wt``, shared with ``vt``; accepted on read only.
MANUAL_WT_MAGIC = 5
#: our ``wt`` magic (see the module docstring).
WT_MAGIC = 16


@dataclass(frozen=True)
class Native:
    fmt: str
    dtype: str
    magic: int


#: (format keyword, data type, magic byte); the first row of each format is its default type.
TABLE = [
    Native("ct", "rgba", 3),
    Native("ct", "rgba_16", 6),
    Native("ct", "rgba_fp", 11),
    Native("st", "a", 4),
    Native("st", "a_16", 7),
    Native("st", "a_fp", 15),
    Native("vt", "vta", 5),
    Native("wt", "vts", WT_MAGIC),
    Native("zt", "z", 8),
    Native("nt", "n", 9),
    Native("mt", "m", 12),
    Native("tt", "tag", 10),
    Native("bit", "bit", 13),
    Native("cth", "rgbe", 14),
]

BY_MAGIC = {row.magic: row for row in TABLE}
BY_TYPE = {(row.fmt, row.dtype): row for row in TABLE}

DESCRIPTIONS = {
    "ct": "mental images colour (8-bit, 16-bit, float)",
    "st": "mental images alpha/scalar (8-bit, 16-bit, float)",
    "vt": "mental images UV basis vectors from alpha",
    "wt": "mental images UV basis vectors from intensity",
    "zt": "mental images depth map",
    "nt": "mental images normal-vector map",
    "mt": "mental images motion-vector map",
    "tt": "mental images label map",
    "bit": "mental images mask bitmap",
    "cth": "mental images HDR colour (RGBE)",
}

# big-endian file dtype for each on-disk sample kind ("bit" is handled apart)
_BE = {"u8": ">u1", "u16": ">u2", "i16": ">i2", "f32": ">f4", "u32": ">u4", "rgbe": ">u1"}

PACKINGS = ("bits", "bytes")


def _magics_read(fmt: str) -> set[int]:
    """Magic bytes a format keyword's sniff recognises as its own."""
    own = {row.magic for row in TABLE if row.fmt == fmt}
    if fmt == "wt":
        own.add(MANUAL_WT_MAGIC)
    return own


def _sniffer(fmt: str):
    magics = _magics_read(fmt)

    def sniff(head: bytes) -> bool:
        if len(head) < HEADER.size:
            return False
        magic, zero, w, h, version = HEADER.unpack_from(head)
        return magic in magics and zero == 0 and w > 0 and h > 0 and version == VERSION

    return sniff


def bit_row_bytes(width: int) -> int:
    return (width + 7) // 8


# -- writing ----------------------------------------------------------------------------------

def encode(fmt: str, layer: Layer, options: dict) -> bytes:
    """The whole file for one layer: header plus bottom-up, big-endian, interleaved pixels."""
    dt = layer.datatype
    row = BY_TYPE[(fmt, dt.name)]
    h, w = layer.height, layer.width
    if layer.pixels.shape[2] != dt.components:
        raise FramebufError(f"{fmt}: a {dt.name} layer needs {dt.components} components, "
                            f"got {layer.pixels.shape[2]}")
    pixels = np.asarray(layer.pixels)[::-1]  # bottom row first
    if dt.kind == "depth":
        pixels = np.where(np.isposinf(pixels), np.float32(0.0), pixels)
    if dt.sample == "bit":
        packing = options.get("packing") or "bits"      # checked against PACKINGS by io.write
        flags = (pixels[:, :, 0] != 0).astype(np.uint8)
        body = np.packbits(flags, axis=1).tobytes() if packing == "bits" else flags.tobytes()
    else:
        body = np.ascontiguousarray(pixels, dtype=_BE[dt.sample]).tobytes()
    return HEADER.pack(row.magic, 0, w, h, VERSION) + body


def _writer(fmt: str):
    def write(path: str, image: Image, options: dict) -> None:
        layer = image.layers[0]
        with open(path, "wb") as fh:
            fh.write(encode(fmt, layer, options))

    return write


# -- reading ----------------------------------------------------------------------------------

def decode(path, data: bytes, fmt: str) -> Image:
    """Decode a whole native file; ``fmt`` only decides what magic 5 means (vt or wt)."""
    if len(data) < HEADER.size:
        raise CorruptFileError(path, f"file is {len(data)} bytes, shorter than the 8-byte header")
    magic, zero, w, h, version = HEADER.unpack_from(data)
    if magic == MANUAL_WT_MAGIC and fmt == "wt":
        row = BY_TYPE[("wt", "vts")]
    elif magic in BY_MAGIC:
        row = BY_MAGIC[magic]
    else:
        raise CorruptFileError(path, f"bad magic byte {magic}: not a mental images native file")
    if zero != 0:
        raise CorruptFileError(path, f"byte 1 of the header is {zero}, must be 0")
    if version != VERSION:
        raise CorruptFileError(path, f"unknown version {version} (only {VERSION} exists)")
    if w == 0 or h == 0:
        raise CorruptFileError(path, f"empty image size {w}x{h}")
    dt = datatype(row.dtype)
    body = memoryview(data)[HEADER.size:]
    # the size checks below compare with the body exactly; the budget is checked first
    check_allocation(w * h * max(dt.components, 1) * 4, f"{path}: a {w}x{h} {dt.name} image")
    info = {"format": row.fmt, "magic": magic, "version": version}
    if dt.sample == "bit":
        packed, bytewise = h * bit_row_bytes(w), h * w
        if len(body) == packed and w > 1:
            flags = np.unpackbits(np.frombuffer(body, np.uint8).reshape(h, -1), axis=1)[:, :w]
            info["packing"] = "bits"
        elif len(body) == bytewise:
            # w == 1 is the same size either way: any non-zero byte (0x80 or 0x01) is a set pixel
            flags = (np.frombuffer(body, np.uint8).reshape(h, w) != 0).astype(np.uint8)
            info["packing"] = "bytes" if w > 1 else "bits or bytes"
        else:
            raise CorruptFileError(
                path, f"{len(body)} bytes of pixels; a {w}x{h} bitmap has {packed} (1 bit per "
                      f"pixel) or {bytewise} (1 byte per pixel)")
        pixels = flags.reshape(h, w, 1)
    else:
        file_dtype = np.dtype(_BE[dt.sample])
        expected = h * w * dt.components * file_dtype.itemsize
        if len(body) != expected:
            raise CorruptFileError(
                path, f"{len(body)} bytes of pixels; a {w}x{h} {dt.name} image has {expected}")
        pixels = np.frombuffer(body, file_dtype).reshape(h, w, dt.components)
        pixels = pixels.astype(dt.file_dtype)  # native byte order, and a writable copy
        if dt.kind == "depth":
            pixels[pixels == 0] = np.inf
    pixels = np.ascontiguousarray(pixels[::-1])  # back to top row first
    return Image([Layer("", dt, pixels, dt.channels)], info=info)


def _reader(fmt: str):
    def read(path: str, options: dict) -> Image:
        return decode(path, read_bytes(path), fmt)

    return read


# -- registration -----------------------------------------------------------------------------

_NOTES = {
    "wt": (f"Magic {WT_MAGIC} is this project's choice: the manual gives 5 for both vt and wt while "
           f"saying vta and vts files differ only in the magic, so one number must be wrong; {WT_MAGIC} "
           f"is the first code above every documented native magic. Reading accepts 5 as well."),
    "bit": ("Packing is this project's choice (undocumented): packing=bits (default) stores 1 bit per "
            "pixel, most significant bit first, each row padded to a byte; packing=bytes stores one "
            "byte (0/1) per pixel as mrViewer reads it. The reader tells them apart by file size."),
    "zt": "Depth 0 means nothing hit in the file; +inf in memory is written as 0 and 0 read as +inf.",
    "st": "Magics 4/7/15 follow the manual (mrViewer reads 15 as coverage).",
}

_COMMON_NOTE = ("8-byte header (magic, 0, u16 width, u16 height, u16 version 0), big-endian, "
                "bottom row first, interleaved components. Magics: ")


def _specs() -> list[FormatSpec]:
    specs = []
    for fmt in DESCRIPTIONS:
        rows = [row for row in TABLE if row.fmt == fmt]
        magics = ", ".join(f"{r.dtype}={r.magic}" for r in rows)
        options = {}
        if fmt == "bit":
            options["packing"] = choice_option(
                "bits (1 bit per pixel, rows padded to a byte; default) or bytes (1 byte per pixel)",
                PACKINGS)
        specs.append(FormatSpec(
            name=fmt,
            description=DESCRIPTIONS[fmt],
            extensions=(fmt,),
            datatypes=tuple(r.dtype for r in rows),
            default_datatype=rows[0].dtype,
            writer=_writer(fmt),
            reader=_reader(fmt),
            options=options,
            sniff=_sniffer(fmt),
            notes=(_COMMON_NOTE + magics + ". " + _NOTES.get(fmt, "")).strip(),
        ))
    return specs


@hookimpl
def framebuf_formats():
    return _specs()

