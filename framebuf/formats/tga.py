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

from ..datatypes import datatype
from ..errors import CorruptFileError
from ..hookspecs import hookimpl
from . import _pillow, _rle
from ._files import check_pixels, read_bytes
from .base import FormatSpec, Image, Layer

PIL_COMPRESSION = {"rle": "tga_rle", "none": None}
FOOTER_SIGNATURE = b"TRUEVISION-XFILE.\x00"
FOOTER_BYTES = 8 + len(FOOTER_SIGNATURE)       # extension and developer offsets, signature


#: header fields, in file order (little-endian)
HEADER = struct.Struct("<BBBHHBHHHHBB")
ALPHA_TYPE_OFFSET = 494          # byte of the 495-byte TGA 2.0 extension area giving the alpha type


def _unpack_16(px: np.ndarray) -> np.ndarray:
    """15/16-bit A1R5G5B5 little-endian pixels (..., 2 bytes) to 8-bit RGB, each 5-bit value
    scaled by bit replication (v << 3 | v >> 2), as OpenImageIO does; the attribute bit is dropped."""
    v = px[..., 0].astype(np.uint16) | (px[..., 1].astype(np.uint16) << 8)
    r, g, b = (v >> 10) & 31, (v >> 5) & 31, v & 31
    return (np.stack([r, g, b], axis=-1) * 255 + 15) // 31


def _decode(path: str, raw: bytes) -> tuple[np.ndarray, dict]:
    if len(raw) < HEADER.size:
        raise CorruptFileError(path, f"TGA header needs 18 bytes, the file has {len(raw)}")
    (idlen, cmtype, itype, cmfirst, cmlen, cmsize, _, _, width, height, bits,
     attr) = HEADER.unpack_from(raw)
    base = itype & ~8
    if base not in (1, 2, 3) or itype not in (1, 2, 3, 9, 10, 11):
        raise CorruptFileError(path, f"TGA image type {itype} is not a colour-mapped, true-colour or grey image")
    if width == 0 or height == 0:
        raise CorruptFileError(path, f"TGA image has no pixels ({width}x{height})")
    if bits not in (8, 15, 16, 24, 32) or (base == 1 and bits not in (8, 15, 16)) \
            or (base == 3 and bits not in (8, 16)):
        raise CorruptFileError(path, f"TGA image type {itype} cannot have {bits} bits per pixel")
    pos = HEADER.size + idlen
    palette = None
    if cmtype:
        if cmsize not in (15, 16, 24, 32):
            raise CorruptFileError(path, f"TGA colour map entries of {cmsize} bits")
        esize = (cmsize + 7) // 8
        end = pos + cmlen * esize
        if end > len(raw):
            raise CorruptFileError(path, "TGA colour map runs past the end of the file")
        entries = np.frombuffer(raw, np.uint8, cmlen * esize, pos).reshape(cmlen, esize)
        # colour maps give RGB, also 32-bit ones: OpenImageIO drops their fourth byte too
        palette = _unpack_16(entries) if esize == 2 else entries[:, 2::-1]
        pos = end
    elif base == 1:
        raise CorruptFileError(path, "colour-mapped TGA without a colour map")
    bpp = (bits + 7) // 8
    npix = width * height
    if itype & 8:
        if npix > (len(raw) - pos) * 128:
            raise CorruptFileError(path, f"TGA size {width}x{height} does not fit the {len(raw)}-byte file")
        # a run packet repeats one pixel 128 times in 1 + bpp bytes
        check_pixels(path, width, height, bpp, 1, len(raw) - pos, ratio=128 * bpp / (1 + bpp),
                     what="TGA pixel data")
        flat = np.zeros((npix, bpp), np.uint8)
        status, end = _rle.tga_decode_rle(np.frombuffer(raw, np.uint8), pos, flat)
        if status != _rle.OK:
            raise CorruptFileError(path, f"TGA pixel data of {width}x{height} runs past the end of the file")
    else:
        end = pos + npix * bpp
        if end > len(raw):
            raise CorruptFileError(path, f"TGA pixel data of {width}x{height} runs past the end of the file")
        flat = np.frombuffer(raw, np.uint8, npix * bpp, pos).reshape(npix, bpp)
    tail = raw[end:]
    if tail and len(tail) < FOOTER_BYTES and not tail.endswith(FOOTER_SIGNATURE):
        raise CorruptFileError(path, f"TGA file ends inside its footer ({len(tail)} of {FOOTER_BYTES} bytes)")
    px = flat.reshape(height, width, bpp)
    if base == 1:
        idx = px[..., 0].astype(np.intp) if bpp == 1 else (px[..., 0] | (px[..., 1].astype(np.intp) << 8))
        idx = idx - cmfirst
        if idx.size and (idx.min() < 0 or idx.max() >= len(palette)):
            raise CorruptFileError(path, "TGA colour index outside the colour map")
        px = palette[idx]
    elif base == 2:
        px = _unpack_16(px) if bpp == 2 else px[..., [2, 1, 0]] if bpp == 3 else px[..., [2, 1, 0, 3]]
    if attr & 0x20 == 0:                 # origin at the bottom: rows are stored bottom-up
        px = px[::-1]
    if attr & 0x10:                      # origin at the right
        px = px[:, ::-1]
    info = {"format": "tga", "image_type": itype, "bits": bits, "alpha_bits": attr & 15,
            "origin": ("top" if attr & 0x20 else "bottom") + ("-right" if attr & 0x10 else "-left")}
    return np.ascontiguousarray(px, np.uint8), info


def read(path, options):
    """Targa types 1-3 and 9-11: colour maps of 15/16/24/32 bits, 8/15/16/24/32-bit true colour,
    8-bit grey and 16-bit grey+alpha, RLE packets that cross scanlines, every origin. As
    OpenImageIO: colour-mapped pixels are RGB, 32-bit true-colour pixels keep their fourth byte as alpha whatever the attribute bits say,
    15/16-bit pixels are RGB (the attribute bit is not alpha), 5-bit values are scaled to 8 bits,
    grey + alpha becomes RGBA."""
    raw = read_bytes(path)
    px, info = _decode(path, raw)
    c = px.shape[2]
    if c == 2:                           # grey + alpha
        px = px[..., [0, 0, 0, 1]]
        c = 4
    name = {1: "s", 3: "rgb", 4: "rgba"}[c]
    dt = datatype(name)
    return Image([Layer("", dt, np.ascontiguousarray(px), dt.channels)], info=info)


def write(path, image, options):
    comp = PIL_COMPRESSION[options["compression"]]   # io.write fills in the FormatSpec default
    _pillow.write_layer(path, image, "tga", "TGA", compression=comp)


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
