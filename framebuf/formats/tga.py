"""Targa (``tga``): 32-bit BGRA true colour through Pillow, run-length encoded by default.

Image type 10 (RLE true colour) is written unless ``compression none`` asks for type 2: mental
ray's ``shader.h`` calls its variant "compressed RGBA Targa" while its manual's table shows "-"
(reference 6.10), and RLE is never larger than raw by more than 1/128 and much smaller on flat
render backgrounds. The attribute byte says 8 alpha bits; rows are stored bottom-up (Pillow's
default origin), which every reader honours.
"""

from __future__ import annotations

import struct

import numpy as np
from numba import njit

from ..errors import CorruptFileError
from ..hookspecs import hookimpl
from . import _pillow
from .base import FormatSpec

PIL_COMPRESSION = {"rle": "tga_rle", "none": None}
FOOTER_SIGNATURE = b"TRUEVISION-XFILE.\x00"
FOOTER_BYTES = 8 + len(FOOTER_SIGNATURE)       # extension and developer offsets, signature


@njit(cache=True)
def _rle_end(data, start, pixels, bpp):
    """Byte offset just past ``pixels`` pixels of TGA RLE packets, or -1 if the data ends first."""
    pos = start
    done = 0
    n = data.shape[0]
    while done < pixels:
        if pos >= n:
            return -1
        head = data[pos]
        count = (head & 0x7F) + 1
        pos += 1 + (bpp if head & 0x80 else bpp * count)
        done += count
    return pos if pos <= n else -1


def check_complete(path: str) -> None:
    """Pillow decodes the pixels and stops: a file cut inside its TGA 2.0 footer, or inside the
    last packet, would pass. Walk the layout to the end of the pixel data and look at the rest."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 18:
        raise CorruptFileError(path, f"TGA header needs 18 bytes, the file has {len(raw)}")
    idlen, cmtype, itype, _, cmlen, cmsize, _, _, width, height, bits, _ = struct.unpack("<BBBHHBHHHHBB", raw[:18])
    start = 18 + idlen + (cmlen * ((cmsize + 7) // 8) if cmtype else 0)
    bpp = (bits + 7) // 8
    pixels = width * height
    if itype in (1, 2, 3):
        end = start + pixels * bpp
    elif itype in (9, 10, 11) and bpp:
        end = _rle_end(np.frombuffer(raw, np.uint8), start, pixels, bpp)
    else:
        return                                          # Pillow judges other variants
    if end < 0 or end > len(raw):
        raise CorruptFileError(path, f"TGA pixel data of {width}x{height} runs past the end of the file")
    tail = raw[end:]
    if tail and len(tail) < FOOTER_BYTES and not tail.endswith(FOOTER_SIGNATURE):
        raise CorruptFileError(path, f"TGA file ends inside its footer ({len(tail)} of {FOOTER_BYTES} bytes)")


def write(path, image, options):
    comp = PIL_COMPRESSION[options.get("compression") or "rle"]
    _pillow.write_layer(path, image, "tga", "TGA", compression=comp)


def read(path, options):
    image = _pillow.read_file(path, "tga", ("TGA",))
    check_complete(path)
    return image


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="tga",
        description="Truevision Targa, 32-bit RGBA",
        extensions=("tga",),
        datatypes=("rgba",),
        default_datatype="rgba",
        writer=write,
        reader=read,
        compressions=("rle", "none"),
        default_compression="rle",
        max_width=65535,      # u16 header fields
        max_height=65535,
        notes="Writes image type 10 (RLE true colour, 32 bpp, 8 alpha bits) by default, type 2 with "
              "compression none: mental ray's header comment says 'compressed RGBA Targa'. No magic "
              "number, so the file is recognised by its extension.",
    )]
