"""PPM (``ppm``): binary P6, 8-bit RGB (maxval 255) through Pillow; no compression.

Reading takes the whole Netpbm family (P1-P6: PBM, PGM and PPM, ASCII and binary, maxval 1 to
65535) with a parser of our own, from ``.ppm``, ``.pnm``, ``.pgm`` and ``.pbm`` files; the last
two are read-only (entry ``pnm``), so writing ``x.pgm`` is refused instead of putting a P6 colour
file behind a grey file's extension. Samples keep their precision: maxval 255 gives 8-bit types,
other maxvals up to 255 are scaled to 8 bits and maxvals above 255 to 16 bits
(``v * (2^n - 1) / maxval``, rounded), as OpenImageIO does. PBM's 1 is black: bits become 0 / 255
intensity with 1 -> 0. PAM (P7) is not read.
"""

from __future__ import annotations

import re

import numpy as np

from ..datatypes import datatype
from ..errors import CorruptFileError, UnsupportedFeatureError
from ..hookspecs import hookimpl
from ..limits import check_allocation
from . import _pillow
from ._files import read_bytes
from .base import FormatSpec, Image, Layer

#: magic -> (samples per pixel, binary, bitmap)
MAGICS = {b"P1": (1, False, True), b"P2": (1, False, False), b"P3": (3, False, False),
          b"P4": (1, True, True), b"P5": (1, True, False), b"P6": (3, True, False)}
_TOKEN = re.compile(rb"(?:\s|#[^\n\r]*)*(\d+)")


def write(path, image, options):
    _pillow.write_layer(path, image, "ppm", "PPM")


def _header(path, data: bytes, count: int):
    """``count`` decimal header numbers after the magic; comments and whitespace skipped. Returns
    the numbers and the offset just past the single whitespace byte that ends the header."""
    pos, values = 2, []
    for _ in range(count):
        m = _TOKEN.match(data, pos)
        if not m:
            raise CorruptFileError(path, "Netpbm header is incomplete or has a non-number")
        values.append(int(m.group(1)))
        pos = m.end()
    if pos >= len(data) or data[pos:pos + 1] not in b" \t\r\n":
        raise CorruptFileError(path, "Netpbm header does not end in whitespace before the pixels")
    return values, pos + 1


def read(path, options):
    data = read_bytes(path, 3, "Netpbm")
    magic = data[:2]
    if magic == b"P7":
        raise UnsupportedFeatureError(path, "Netpbm PAM (P7)")
    if magic not in MAGICS:
        raise CorruptFileError(path, "not a Netpbm file (no P1-P6 magic)")
    spp, binary, bitmap = MAGICS[magic]
    (width, height, *rest), pos = _header(path, data, 2 if bitmap else 3)
    maxval = 1 if bitmap else rest[0]
    if width == 0 or height == 0:
        raise CorruptFileError(path, f"Netpbm image has no pixels ({width}x{height})")
    if not 1 <= maxval <= 65535:
        raise CorruptFileError(path, f"Netpbm maxval {maxval} is outside 1..65535")
    n = width * height * spp
    # an ASCII file holds a sample in 2 bytes but decodes it to 8 (int64) before the range check
    check_allocation(n * 8, f"{path}: a {width}x{height} Netpbm image")
    if bitmap and binary:
        row = (width + 7) // 8
        if pos + row * height > len(data):
            raise CorruptFileError(path, f"Netpbm pixel data of {width}x{height} is truncated")
        bits = np.unpackbits(np.frombuffer(data, np.uint8, row * height, pos).reshape(height, row), axis=1)
        values = bits[:, :width].reshape(-1)
    elif binary:
        size = 2 if maxval > 255 else 1
        if pos + n * size > len(data):
            raise CorruptFileError(path, f"Netpbm pixel data of {width}x{height} is truncated")
        values = np.frombuffer(data, ">u2" if size == 2 else np.uint8, n, pos)
    else:
        body = data[pos - 1:]
        if bitmap:                       # P1 digits need no separators
            body = re.sub(rb"#[^\n\r]*", b"", body)
            values = np.frombuffer(re.sub(rb"\s", b"", body), np.uint8) - ord("0")
        else:
            values = np.array(re.sub(rb"#[^\n\r]*", b"", body).split(), dtype=np.int64)
        if values.size < n:
            raise CorruptFileError(path, f"Netpbm ASCII data holds {values.size} of {n} samples")
        values = values[:n]
    values = np.asarray(values, np.int64)
    if values.size and (values.min() < 0 or values.max() > maxval):
        raise CorruptFileError(path, f"Netpbm sample above maxval {maxval}")
    if bitmap:
        px = ((1 - values) * 255).astype(np.uint8)          # PBM: 1 is black
        maxval = 255
    elif maxval == 255:
        px = values.astype(np.uint8)
    elif maxval == 65535:
        px = values.astype(np.uint16)
    else:
        top = 255 if maxval < 255 else 65535
        px = ((values * top + maxval // 2) // maxval).astype(np.uint8 if top == 255 else np.uint16)
    px = px.reshape(height, width, spp)
    name = ("s" if spp == 1 else "rgb") + ("_16" if px.dtype == np.uint16 else "")
    dt = datatype(name)
    info = {"format": "ppm", "magic": magic.decode(), "maxval": maxval}
    return Image([Layer("", dt, np.ascontiguousarray(px), dt.channels)], info=info)


def sniff(head: bytes) -> bool:
    return head[:2] in MAGICS and head[2:3] in (b" ", b"\n", b"\r", b"\t", b"#")


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="ppm",
        description="Portable pixmap, 8-bit binary P6",
        extensions=("ppm", "pnm"),
        datatypes=("rgb",),
        default_datatype="rgb",
        writer=write,
        reader=read,
        max_width=2**31 - 1,
        max_height=2**31 - 1,
        sniff=sniff,
        notes="Writes P6 with maxval 255 (mental ray writes 8-bit only); the reader takes P1-P6 "
              "(PBM, PGM, PPM, ASCII and binary, 16-bit maxvals kept as 16 bits).",
    ), FormatSpec(
        name="pnm",
        description="Netpbm PBM/PGM (read only; written files are ppm)",
        extensions=("pgm", "pbm"),
        datatypes=("s", "s_16", "rgb", "rgb_16"),
        default_datatype="s",
        reader=read,
        max_width=2**31 - 1,
        max_height=2**31 - 1,
        sniff=sniff,
        notes="Read-only entry for .pgm and .pbm files (P1-P6 as the ppm reader); framebuf writes "
              "Netpbm only as ppm (P6).",
    )]
