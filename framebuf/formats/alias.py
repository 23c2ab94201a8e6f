"""Alias pix (``alias``): run-length encoded 8-bit RGB, and its 8-bit matte variant (reference 6.3).

Layout::

    header, 10 bytes, five u16 big-endian: width, height, x offset, y offset, bits per pixel
    packets, scanlines top row first:
        RGB   (24 bits per pixel): count (1..255), blue, green, red      -- 4 bytes
        matte ( 8 bits per pixel): count (1..255), value                 -- 2 bytes

Choices (also in ``notes``):

* The matte variant is selected by the **data type** ``a`` (bits per pixel 8, 2-byte packets); the
  default ``rgb`` writes the colour file (24, 4-byte packets). The reader picks the type from the
  bits-per-pixel field, so one keyword covers both.
* The obsolete x/y offsets are written as 0 and ignored when read.
* Runs are cut at the end of every scanline (as the format requires) and at 255 pixels; a longer
  run becomes several packets. The reader accepts runs that cross scanlines (as ImageMagick's
  reader does), but refuses a zero count, a run past the last pixel, a truncated packet and bytes
  after the last pixel.
* There is no magic number, so there is no ``sniff``; the extension (``.als``, ``.pix``) or the
  ``alias`` file type selects the format.
"""

from __future__ import annotations

import struct

import numpy as np
from numba import njit

from ..datatypes import datatype
from ..errors import CorruptFileError, FramebufError
from ..hookspecs import hookimpl
from .base import FormatSpec, Image, Layer
from ._files import check_pixels, read_bytes

HEADER = struct.Struct(">HHHHH")  # width, height, x offset, y offset, bits per pixel

#: bits per pixel -> data type; the file's component order is reversed (BGR) for colour.
BITS_TO_TYPE = {24: "rgb", 8: "a"}
TYPE_TO_BITS = {v: k for k, v in BITS_TO_TYPE.items()}

MAX_RUN = 255

# decoder status codes (a kernel cannot raise with a message worth showing)
_OK, _ZERO_COUNT, _OVERRUN, _TRUNCATED, _TRAILING = 0, 1, 2, 3, 4
_STATUS_TEXT = {
    _ZERO_COUNT: "run-length packet with count 0",
    _OVERRUN: "a run goes past the last pixel of the image",
    _TRUNCATED: "file ends before the last pixel (truncated)",
    _TRAILING: "bytes left after the last pixel",
}


@njit(cache=True)
def encode_runs(pixels):
    """Whole-image RLE: ``pixels`` (H, W, C) uint8 in file component order -> packet bytes.

    Each packet is a count (1..255) then C component bytes; a run stops at the end of a row.
    """
    h, w, c = pixels.shape
    out = np.empty(h * w * (c + 1), np.uint8)  # worst case: one packet per pixel
    n = 0
    for y in range(h):
        x = 0
        while x < w:
            run = 1
            while x + run < w and run < MAX_RUN:
                same = True
                for k in range(c):
                    if pixels[y, x + run, k] != pixels[y, x, k]:
                        same = False
                        break
                if not same:
                    break
                run += 1
            out[n] = run
            for k in range(c):
                out[n + 1 + k] = pixels[y, x, k]
            n += c + 1
            x += run
    return out[:n]


@njit(cache=True)
def decode_runs(data, h, w, c):
    """Packets -> (status, pixels (H, W, C)); runs may cross rows, never the end of the image."""
    out = np.zeros((h, w, c), np.uint8)
    flat = out.reshape(h * w, c)
    total = h * w
    pos = 0
    i = 0
    n = data.shape[0]
    while pos < total:
        if i + c + 1 > n:
            return _TRUNCATED, out
        count = data[i]
        if count == 0:
            return _ZERO_COUNT, out
        if pos + count > total:
            return _OVERRUN, out
        for j in range(count):
            for k in range(c):
                flat[pos + j, k] = data[i + 1 + k]
        pos += count
        i += c + 1
    if i != n:
        return _TRAILING, out
    return _OK, out


def _write(path: str, image: Image, options: dict) -> None:
    layer = image.layers[0]
    bits = TYPE_TO_BITS[layer.datatype.name]
    if layer.pixels.shape[2] != layer.datatype.components:
        raise FramebufError(f"alias: a {layer.datatype.name} layer needs "
                            f"{layer.datatype.components} components, got {layer.pixels.shape[2]}")
    pixels = np.ascontiguousarray(layer.pixels, dtype=np.uint8)
    if bits == 24:
        pixels = np.ascontiguousarray(pixels[:, :, 2::-1])  # R, G, B -> B, G, R
    body = encode_runs(pixels)
    with open(path, "wb") as fh:
        fh.write(HEADER.pack(layer.width, layer.height, 0, 0, bits))
        fh.write(body.tobytes())


def _read(path: str, options: dict) -> Image:
    data = read_bytes(path, HEADER.size, "Alias")
    w, h, _xoff, _yoff, bits = HEADER.unpack_from(data)
    if bits not in BITS_TO_TYPE:
        raise CorruptFileError(path, f"bits per pixel {bits}; Alias pix has 24 (RGB) or 8 (matte)")
    if w == 0 or h == 0:
        raise CorruptFileError(path, f"empty image size {w}x{h}")
    dt = datatype(BITS_TO_TYPE[bits])
    c = dt.components
    # a packet covers at most 255 pixels: refuse a size the body cannot fill before allocating it
    packets = (len(data) - HEADER.size) // (c + 1)
    if w * h > packets * MAX_RUN:
        raise CorruptFileError(
            path, f"{packets} packets cannot fill {w}x{h} pixels (truncated or wrong header)")
    check_pixels(path, w, h, c, 1, len(data) - HEADER.size, ratio=MAX_RUN * c / (c + 1),
                 what="Alias pixel data")
    status, pixels = decode_runs(np.frombuffer(data, np.uint8, offset=HEADER.size), h, w, c)
    if status != _OK:
        raise CorruptFileError(path, _STATUS_TEXT[status])
    if bits == 24:
        pixels = np.ascontiguousarray(pixels[:, :, ::-1])  # B, G, R -> R, G, B
    return Image([Layer("", dt, pixels, dt.channels)], info={"bits_per_pixel": bits})


NOTES = (
    "10-byte header (u16 BE width, height, x/y offset written 0, bits per pixel), then RLE packets, "
    "top row first, runs cut at each row end and at 255. Data type rgb (default) writes 24-bit "
    "colour with 4-byte packets (count, B, G, R); data type a writes the 8-bit matte variant with "
    "2-byte packets (count, value) - this project's way of selecting the matte file. The reader "
    "takes the type from the bits-per-pixel field and tolerates runs crossing rows."
)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="alias",
        description="Alias pix, RLE 8-bit RGB (or 8-bit matte with data type a)",
        extensions=("als", "pix"),
        datatypes=("rgb", "a"),
        default_datatype="rgb",
        compressions=("rle",),
        default_compression="rle",
        writer=_write,
        reader=_read,
        notes=NOTES,
    )]
