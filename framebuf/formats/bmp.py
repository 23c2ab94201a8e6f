"""BMP (``bmp``): 24-bit BI_RGB (uncompressed) Windows bitmap through Pillow.

mental ray's table says "rgb, RLE" while its ``shader.h`` says "32-bit uncompressed" (reference
6.10). BMP's RLE exists only for 4- and 8-bit palette images, so a true-colour RGB bitmap is
uncompressed either way; we write 24 bits per pixel because the type is ``rgb`` (no alpha to put in a
fourth byte) and every reader handles it.
"""

from __future__ import annotations

import struct

import numpy as np

from ..datatypes import datatype
from ..errors import CorruptFileError, ImageSizeError
from ..hookspecs import hookimpl
from ..limits import check_allocation
from . import _pillow
from ._files import read_bytes
from .base import FormatSpec, Image, Layer

HEADER_BYTES = 54


def write(path, image, options):
    layer = _pillow.only_layer(image, "bmp")
    # the file and pixel-array sizes are u32 fields: refuse before encoding anything
    row = (layer.width * 3 + 3) // 4 * 4
    if HEADER_BYTES + row * layer.height > 2**32 - 1:
        raise ImageSizeError(f"a {layer.width}x{layer.height} bmp would exceed the format's 4 GiB size field")
    _pillow.write_layer(path, image, "bmp", "BMP")


BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS = 0, 3, 6
#: default masks of uncompressed 16- and 32-bit pixels (5-5-5 and 8-8-8, no alpha)
DEFAULT_MASKS = {16: (0x7C00, 0x03E0, 0x001F, 0), 32: (0xFF0000, 0xFF00, 0xFF, 0)}


def _masks(raw: bytes, hsize: int, bpp: int, compression: int) -> tuple[int, ...]:
    """Red, green, blue and alpha masks: from the header (V2 and later), else the three or four
    u32 after a 40-byte header, else the defaults. An alpha mask counts only when the header has
    one (V3+ or BI_ALPHABITFIELDS): the fourth byte of a plain 32-bit BI_RGB pixel is unused."""
    if compression == BI_RGB:
        alpha = struct.unpack_from("<I", raw, 66)[0] if hsize >= 56 and bpp == 32 else 0
        return DEFAULT_MASKS[bpp][:3] + (alpha,)
    if hsize >= 52:
        r, g, b = struct.unpack_from("<III", raw, 54)
        a = struct.unpack_from("<I", raw, 66)[0] if hsize >= 56 else 0
        return r, g, b, a
    n = 4 if compression == BI_ALPHABITFIELDS else 3
    m = struct.unpack_from(f"<{n}I", raw, 54)
    return tuple(m) + ((0,) if n == 3 else ())


def _read_bitfields(path: str, raw: bytes):
    """16- and 32-bit bitmaps (BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS) with any masks, which
    Pillow refuses or misreads; None for every other kind (Pillow decodes those)."""
    if len(raw) < 54 or raw[:2] != b"BM":
        return None
    hsize = struct.unpack_from("<I", raw, 14)[0]
    if hsize < 40:
        return None
    width, height, _planes, bpp, compression = struct.unpack_from("<iiHHI", raw, 18)
    if bpp not in (16, 32) or compression not in (BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS):
        return None
    if len(raw) < 14 + hsize + 16:
        raise CorruptFileError(path, "BMP header is truncated")
    masks = _masks(raw, hsize, bpp, compression)
    offset = struct.unpack_from("<I", raw, 10)[0]
    h, w = abs(height), width
    if w <= 0 or h == 0:
        raise CorruptFileError(path, f"BMP image has no pixels ({width}x{height})")
    stride = (bpp * w + 31) // 32 * 4
    if offset + stride * h > len(raw):
        raise CorruptFileError(path, f"BMP pixel data of {w}x{h} runs past the end of the file")
    check_allocation(w * h * 4 * 4, f"{path}: a {w}x{h} BMP image")
    rows = np.frombuffer(raw, np.uint8, stride * h, offset).reshape(h, stride)
    nbytes = bpp // 8
    px = rows[:, :w * nbytes].copy().view("<u2" if bpp == 16 else "<u4").astype(np.uint32)
    if height > 0:                       # positive height: bottom-up rows
        px = px[::-1]
    planes = []
    for mask in masks:
        if not mask:
            planes.append(None)
            continue
        shift = (mask & -mask).bit_length() - 1
        top = mask >> shift
        planes.append(((((px & mask) >> shift) * 255 + top // 2) // top).astype(np.uint8))
    if any(p is None for p in planes[:3]):
        raise CorruptFileError(path, f"BMP colour masks {masks[:3]} leave a channel empty")
    out = np.stack([p for p in planes if p is not None], axis=-1)
    return out


def read(path, options):
    """Palette, RLE and 24-bit bitmaps through Pillow; 16- and 32-bit ones (any bit-field masks,
    BI_ALPHABITFIELDS) by :func:`_read_bitfields`, with alpha only where the header gives an alpha
    mask (OpenImageIO also takes the unused fourth byte of plain 32-bit pixels as alpha)."""
    raw = read_bytes(path)
    px = _read_bitfields(path, raw)
    if px is None:
        return _pillow.read_file(path, "bmp", ("BMP", "DIB"))
    dt = datatype("rgba" if px.shape[2] == 4 else "rgb")
    return Image([Layer("", dt, np.ascontiguousarray(px), dt.channels)], info={"format": "bmp"})


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="bmp",
        description="MS Windows bitmap, 24-bit RGB, uncompressed",
        extensions=("bmp",),
        datatypes=("rgb",),
        default_datatype="rgb",
        writer=write,
        reader=read,
        max_width=2**31 - 1,   # signed 32-bit fields; the 4 GiB file size is checked on write
        max_height=2**31 - 1,
        sniff=lambda head: head[:2] == b"BM",
        notes="24-bit BI_RGB, bottom-up rows, as Pillow writes it: mental ray's 'RLE' applies only "
              "to palette BMPs and its header comment's 32-bit variant would carry an unused byte.",
    )]
