"""PNG (``png``): 8-bit RGB or RGBA through Pillow.

mental ray's table lists ``rgb`` and ``rgba`` (default ``rgba``, reference section 5) with "RLE"
compression; PNG's only compression is deflate, so that is what ``compression`` offers, and
``compress_level`` sets its effort (0-9). The default is 4, not zlib's customary 6: with Pillow's
zlib-ng, level 4 gave the 2048x2048 render of bench/writers.py a slightly *smaller* file than
level 6 (7.40 MB against 7.43 MB) in under half the time (2.6 s against 6.1 s), and a smaller one
than OpenImageIO's default PNG (7.70 MB). Colour is stored as the buffer holds it: premultiplied
unless ``premultiply off`` (PNG itself defines straight alpha)."""

from __future__ import annotations

import struct
import zlib

import imagecodecs
import numpy as np

from ..datatypes import datatype
from ..errors import CorruptFileError
from ..hookspecs import hookimpl
from ..limits import check_allocation, check_declared
from . import _pillow
from ._files import read_bytes
from .base import FormatSpec, Image, Layer, int_option

SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEFAULT_LEVEL = 4
IEND_CHUNK = b"\x00\x00\x00\x00IEND\xaeB`\x82"     # length 0, type, CRC


def write(path, image, options):
    # io.write has parsed compress_level through its row (an int 0-9)
    _pillow.write_layer(path, image, "png", "PNG",
                        compress_level=options.get("compress_level", DEFAULT_LEVEL))


#: decoded samples per pixel -> (8-bit type, 16-bit type); grey + alpha is widened to RGBA
READ_TYPES = {1: ("s", "s_16"), 2: ("rgba", "rgba_16"), 3: ("rgb", "rgb_16"), 4: ("rgba", "rgba_16")}
#: deflate expands at most about 1032:1; a header asking for far more pixels is damaged
MAX_EXPANSION = 1100


#: samples per pixel of each PNG colour type (grey, RGB, palette, grey+alpha, RGBA)
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
#: Adam7 passes: (x start, y start, x step, y step)
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _idat_chunks(path, data: bytes) -> list[memoryview]:
    """The IDAT payloads, every chunk length checked against the file (a length of 0xFFFFFFFF is
    damage, not a request for 4 GiB)."""
    view = memoryview(data)
    pos, out = len(SIGNATURE), []
    while pos + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        if length > 0x7FFFFFFF or pos + 12 + length > len(data):
            raise CorruptFileError(path, f"PNG chunk {kind!r} at byte {pos} declares {length} bytes; "
                                         f"the file ends {len(data) - pos - 12} bytes after its header")
        if kind == b"IDAT":
            out.append(view[pos + 8:pos + 8 + length])
        elif kind == b"IEND":
            break
        pos += 12 + length
    if not out:
        raise CorruptFileError(path, "PNG file has no image data (IDAT chunk)")
    return out


def _raw_size(width: int, height: int, depth: int, colour: int, interlace: int) -> int:
    """Bytes the IDAT stream inflates to: each row's filter byte plus its packed samples."""
    bits = CHANNELS.get(colour, 4) * depth

    def rows(w, h):
        return 0 if w == 0 or h == 0 else h * (1 + (w * bits + 7) // 8)
    if interlace != 1:
        return rows(width, height)
    return sum(rows(max(0, -(-(width - x0) // dx)), max(0, -(-(height - y0) // dy)))
               for x0, y0, dx, dy in ADAM7)


def _check_inflates_to(path, idat, raw: int) -> None:
    """libpng fills rows the data does not reach with zeros and says nothing: inflate the stream
    (output counted and dropped, a block at a time) and refuse a file that holds fewer bytes."""
    d = zlib.decompressobj()
    total = 0
    try:
        for piece in idat:
            buf = piece
            while buf:
                total += len(d.decompress(buf, 1 << 20))
                buf = d.unconsumed_tail
                if total > raw or d.eof:
                    break
            if total > raw or d.eof:
                break
        total += len(d.flush()) if not d.eof and total <= raw else 0
    except zlib.error as exc:
        raise CorruptFileError(path, f"PNG image data does not inflate: {exc}") from None
    if total < raw:
        raise CorruptFileError(path, f"PNG image data ends after {total} of {raw} bytes (truncated or "
                                     f"damaged)")


def read(path, options):
    """Decode with libpng (imagecodecs): 16-bit samples stay 16-bit, palettes become RGB(A), a
    tRNS chunk (palette alpha or grey / RGB colour key) becomes an alpha channel, 1/2/4-bit grey
    is scaled to 8 bits, as OpenImageIO reads them. Gamma and ICC chunks are reported by neither
    and not applied."""
    data = read_bytes(path, len(SIGNATURE) + 25, "PNG")
    if not data.startswith(SIGNATURE) or data[12:16] != b"IHDR":
        raise CorruptFileError(path, "not a png file (bad signature or header)")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    if width == 0 or height == 0:
        raise CorruptFileError(path, f"png image has no pixels ({width}x{height})")
    # libpng stops after the image data: a file cut after it (or inside the last CRC) would pass
    if IEND_CHUNK not in data[-4096:]:
        raise CorruptFileError(path, "PNG file is truncated: no IEND chunk at its end")
    idat = _idat_chunks(path, data)
    raw = _raw_size(width, height, depth, colour, interlace)
    stored = sum(len(c) for c in idat)
    check_declared(path, raw // MAX_EXPANSION, stored,
                   f"image data ({width}x{height}, {depth}-bit, colour type {colour})")
    # decoded as at most 16-bit RGBA, before the copy numpy makes
    check_allocation(width * height * 8, f"{path}: a {width}x{height} PNG image")
    _check_inflates_to(path, idat, raw)
    try:
        px = imagecodecs.png_decode(data)
    except Exception as exc:  # noqa: BLE001 - libpng errors of every kind on bad data
        raise CorruptFileError(path, f"cannot decode png data: {exc or type(exc).__name__}") from None
    if px.ndim == 2:
        px = px[:, :, None]
    if px.ndim != 3 or px.shape[2] not in READ_TYPES or px.dtype not in (np.uint8, np.uint16):
        raise CorruptFileError(path, f"png decoded to an unexpected layout {px.shape} {px.dtype}")
    if px.shape[2] == 2:                                # grey + alpha -> RGBA
        px = px[:, :, [0, 0, 0, 1]]
    dt = datatype(READ_TYPES[px.shape[2]][px.dtype == np.uint16])
    info = {"format": "png", "bit_depth": depth, "colour_type": colour}
    return Image([Layer("", dt, np.ascontiguousarray(px), dt.channels)], info=info)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="png",
        description="Portable Network Graphics, 8-bit RGB or RGBA",
        extensions=("png",),
        datatypes=("rgb", "rgba"),
        default_datatype="rgba",
        writer=write,
        reader=read,
        compressions=("deflate",),
        default_compression="deflate",
        options={"compress_level": int_option(
            "deflate effort 0 (store) to 9, default 4 (measured: as small as 6, twice as fast)", 0, 9)},
        max_width=2**31 - 1,
        max_height=2**31 - 1,
        sniff=lambda head: head.startswith(SIGNATURE),
        notes="mental ray's 'RLE' for png is deflate, PNG's only compression, at level 4 by default "
              "(measured as small as level 6 and twice as fast with Pillow's zlib-ng). Written by Pillow; "
              "colour is stored as the buffer holds it (premultiplied unless premultiply off). "
              "The reader (libpng via imagecodecs) keeps 16-bit samples (rgb_16, rgba_16, s_16), turns "
              "palettes into rgb/rgba and tRNS into alpha; grey stays one channel, grey+alpha becomes RGBA.",
    )]
