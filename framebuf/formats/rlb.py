"""Wavefront RLB (``rlb``): the older RLA variant - its own 740-byte header, the RLA body
(reference 6.6; header as URT's ``rlb_header.h``, read by URT ``rlatorle -b``).

Header, big-endian (see :data:`HEADER_FIELDS`): window and active window (i16 left, right, bottom,
top each), frame, storage_type, num_chan, num_matte, num_aux, aux_mask; the RLA text fields gamma
through date; aspect[24], aspect_ratio[8], chan[32]; i16 field, filter_type; i32 magic_number,
lut_size, user_space_size, wf_space_size; i16 lut_type, mix_type, encode_type, padding;
space[100]. Where RLA has its revision 0xFFFE, RLB has ``aux_mask``.

Body: exactly RLA's - i32 scanline offsets (scanline 0 = bottom), then per scanline the R, G, B
and matte records (u16 length + signed-count byte RLE). The coder is :mod:`framebuf.formats.rla`'s
(``encode_rla_body`` / ``decode_rla_body``); nothing is duplicated here.

Choices (also in ``notes``):

* Writes 8-bit RGBA (storage_type 0, 3 colour channels, 1 matte, no auxiliary channels), window
  and active window both the whole image, frame 0.
* What mental ray puts in ``magic_number`` and the LUT fields is unknown: we write 0 there and in
  field/filter_type/encode_type, program "framebuf", chan "rgb", the ``description`` attribute in
  desc; gamma, chromaticities and date stay empty rather than claim values we do not know.
* RLB has no magic number (and its aux_mask, where RLA keeps 0xFFFE, is normally 0), so there is
  no ``sniff``: the ``.rlb`` extension or ``filetype="rlb"`` selects it.
* The reader takes 8-bit files with 1 or 3 colour channels and 0 or 1 matte; auxiliary channels
  (whose RLB encoding nobody documents) are refused as unsupported.
"""

from __future__ import annotations

import struct

import numpy as np

from ..datatypes import datatype
from ..errors import CorruptFileError, FramebufError
from ..hookspecs import hookimpl
from .base import FormatSpec, Image, Layer
from ._files import check_pixels, pack_named, read_bytes, unpack_named
from .rla import decode_rla_body, encode_rla_body

#: (name, struct code) of the 740-byte RLB header, in file order.
HEADER_FIELDS = (
    ("WindowLeft", "h"), ("WindowRight", "h"), ("WindowBottom", "h"), ("WindowTop", "h"),
    ("ActiveLeft", "h"), ("ActiveRight", "h"), ("ActiveBottom", "h"), ("ActiveTop", "h"),
    ("Frame", "h"), ("StorageType", "h"), ("NumChan", "h"), ("NumMatte", "h"), ("NumAux", "h"),
    ("AuxMask", "h"),
    ("Gamma", "16s"), ("RedPri", "24s"), ("GreenPri", "24s"), ("BluePri", "24s"),
    ("WhitePt", "24s"), ("JobNum", "i"), ("Name", "128s"), ("Desc", "128s"), ("Program", "64s"),
    ("Machine", "32s"), ("User", "32s"), ("Date", "20s"),
    ("Aspect", "24s"), ("AspectRatio", "8s"), ("Chan", "32s"), ("Field", "h"),
    ("FilterType", "h"), ("MagicNumber", "i"), ("LutSize", "i"), ("UserSpaceSize", "i"),
    ("WfSpaceSize", "i"), ("LutType", "h"), ("MixType", "h"), ("EncodeType", "h"),
    ("Padding", "h"), ("Space", "100s"),
)
HEADER = struct.Struct(">" + "".join(code for _n, code in HEADER_FIELDS))
HEADER_SIZE = HEADER.size  # 740, as RLA's
STORAGE_BYTE = 0
MAX_SIDE = 32767  # i16 window fields


def pack_header(**fields) -> bytes:
    """The 740-byte header; fields not named are 0 or empty text."""
    return pack_named(HEADER_FIELDS, HEADER, "RLB", **fields)


def unpack_header(data: bytes) -> dict:
    """Header fields by name; text fields decoded up to their first NUL."""
    return unpack_named(HEADER_FIELDS, HEADER, data)


def _write(path: str, image: Image, options: dict) -> None:
    layer = image.layers[0]
    if layer.datatype.name != "rgba" or layer.pixels.shape[2] != 4:
        raise FramebufError(f"rlb stores 8-bit rgba, got {layer.datatype.name}")
    h, w = layer.height, layer.width
    head = pack_header(
        WindowRight=w - 1, WindowTop=h - 1, ActiveRight=w - 1, ActiveTop=h - 1,
        StorageType=STORAGE_BYTE, NumChan=3, NumMatte=1, NumAux=0,
        Desc=str(image.attributes.get("description", "")), Program="framebuf", Chan="rgb",
    )
    body = encode_rla_body(np.ascontiguousarray(layer.pixels, np.uint8), None, HEADER_SIZE)
    with open(path, "wb") as fh:
        fh.write(head)
        fh.write(body)


def _read(path: str, options: dict) -> Image:
    data = read_bytes(path, HEADER_SIZE, "RLB")
    hd = unpack_header(data)
    w = hd["ActiveRight"] - hd["ActiveLeft"] + 1
    h = hd["ActiveTop"] - hd["ActiveBottom"] + 1
    if w <= 0 or h <= 0:
        raise CorruptFileError(path, f"active window gives an image of {w}x{h} pixels")
    nc, nm, na = hd["NumChan"], hd["NumMatte"], hd["NumAux"]
    if nc not in (1, 3) or nm not in (0, 1):
        raise CorruptFileError(path, f"unsupported channel counts: {nc} colour, {nm} matte")
    if na:
        raise CorruptFileError(path, f"{na} auxiliary channels: RLB auxiliary data is not supported")
    if hd["StorageType"] != STORAGE_BYTE:
        raise CorruptFileError(path, f"storage type {hd['StorageType']}: only 8-bit (0) is supported")
    # every record is a u16 length plus at least one 2-byte run packet per 128 samples: refuse a
    # size the file cannot hold before allocating the picture
    least = HEADER_SIZE + 4 * h + h * (nc + nm) * (2 + 2 * -(-w // 128))
    if len(data) < least:
        raise CorruptFileError(path, f"{len(data)} bytes cannot hold {w}x{h} pixels (truncated)")
    check_pixels(path, w, h, nc + nm, 1, len(data), ratio=64, what="RLB scanline data")
    chans, _aux = decode_rla_body(data, HEADER_SIZE, w, h, nc + nm, 1, 0, path)
    if nc == 1:
        chans = np.concatenate([np.repeat(chans[:, :, :1], 3, axis=2), chans[:, :, 1:]], axis=2)
    dt = datatype("rgba" if nm else "rgb")
    attrs = {"description": hd["Desc"]} if hd["Desc"] else {}
    return Image([Layer("", dt, np.ascontiguousarray(chans), dt.channels)], attributes=attrs,
                 info={"colour_channels": nc, "matte_channels": nm, "program": hd["Program"],
                       "magic_number": hd["MagicNumber"]})


NOTES = (
    "740-byte big-endian RLB header (URT rlb_header.h: aux_mask where RLA has its revision, then "
    "field, filter_type, magic_number, LUT and space fields), then the RLA body (bottom-up offset "
    "table, R G B matte records of u16 length + signed-count RLE), coded by rla.py. Writes 8-bit "
    "rgba; magic_number, LUT, field, filter and encode fields are written 0 because mental ray's "
    "values are unknown. No magic number, so no sniff: use the .rlb extension or filetype rlb."
)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="rlb",
        description="Wavefront RLB (older RLA header), RLE 8-bit RGBA",
        extensions=("rlb",),
        datatypes=("rgba",),
        default_datatype="rgba",
        compressions=("rle",),
        default_compression="rle",
        writer=_write,
        reader=_read,
        max_width=MAX_SIDE,
        max_height=MAX_SIDE,
        notes=NOTES,
    )]
