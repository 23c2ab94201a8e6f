"""Softimage PIC (``pic``): 8-bit RGBA with mixed run-length encoding (reference 6.1).

Layout (big-endian)::

    104-byte header: u32 magic 0x5380F634, f32 version, char comment[80], "PICT",
                     u16 width, u16 height, f32 pixel aspect ratio, u16 fields, u16 pad 0
    channel packets, 4 bytes each: u8 chained, u8 bits (8), u8 type (2 = mixed RLE),
                     u8 channels (R 0x80, G 0x40, B 0x20, A 0x10); here RGB (0xE0) chained to A
    scanlines, top row first; per scanline one record per packet, in packet order:
        count c < 128: c + 1 literal pixels follow
        count 128:     u16 n, then one pixel repeated n times (the long run)
        count c > 128: one pixel repeated c - 127 times

Choices (also in ``notes``):

* Option ``field``: ``none`` (default) -> fields word 0, ``odd`` -> 1, ``even`` -> 2,
  ``full`` -> 3, following the header's own codes (0 none, 1 odd, 2 even, 3 full frame). mental
  ray passes even/odd as 1/2 in its own parameter; mapping them onto the header's 2/1 is our
  reading, the reference marks it as inferred.
* Option ``aspect``: the pixel aspect ratio (width / height of a pixel) written to the header,
  default 1.0.
* Version field 3.71, comment from the ``description`` attribute (79 bytes at most).
* Runs: 2 or more equal RGB pixels (3 or more alpha values) become run packets, runs of 129 to
  65535 pixels use the u16 long count, literals hold at most 128 pixels; runs stop at the row end.
* The reader takes raw, pure-RLE and mixed-RLE packets of 8-bit channels in any grouping and
  returns ``rgba`` (``rgb`` when the file has no alpha packet).
"""

from __future__ import annotations

import struct

import numpy as np

from ..datatypes import datatype
from ..errors import CorruptFileError, UnsupportedFeatureError
from ..hookspecs import hookimpl
from . import _rle
from .base import FormatSpec, Image, Layer, choice_option, number_option
from ._files import check_pixels, read_bytes

MAGIC = 0x5380F634
HEADER = struct.Struct(">If80s4sHHfHH")  # magic, version, comment, PICT, w, h, ratio, fields, pad
PACKET = struct.Struct(">BBBB")          # chained, bits, type, channels
VERSION = 3.71
FIELDS = {"none": 0, "odd": 1, "even": 2, "full": 3}
FIELD_NAMES = {v: k for k, v in FIELDS.items()}
CHANNEL_BITS = ((0x80, 0), (0x40, 1), (0x20, 2), (0x10, 3))  # mask bit -> R G B A index
RAW, PURE_RLE, MIXED_RLE = 0, 1, 2


def sniff(head: bytes) -> bool:
    return len(head) >= 4 and struct.unpack_from(">I", head)[0] == MAGIC


def pack_header(width: int, height: int, field: str = "none", aspect: float = 1.0,
                comment: bytes = b"") -> bytes:
    return HEADER.pack(MAGIC, VERSION, comment[:79], b"PICT", width, height, aspect, FIELDS[field], 0)


def encode(pixels: np.ndarray) -> bytes:
    """Packets and scanlines of an (H, W, 4) uint8 picture: RGB chained to A, both mixed RLE."""
    groups = np.array([[0, 3], [3, 1]], np.int64)
    packets = PACKET.pack(1, 8, MIXED_RLE, 0xE0) + PACKET.pack(0, 8, MIXED_RLE, 0x10)
    return packets + _rle.pic_encode(np.ascontiguousarray(pixels, np.uint8), groups).tobytes()


def _write(path: str, image: Image, options: dict) -> None:
    layer = image.layers[0]
    field, aspect = options.get("field", "none"), options.get("aspect", 1.0)   # typed by io.write
    comment = str(image.attributes.get("description", "")).encode("latin-1", "replace")
    data = pack_header(layer.width, layer.height, field, aspect, comment) + encode(layer.pixels)
    with open(path, "wb") as fh:
        fh.write(data)


def _read(path: str, options: dict) -> Image:
    data = read_bytes(path, HEADER.size, "PIC")
    magic, version, comment, pict, w, h, aspect, fields, _pad = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise CorruptFileError(path, f"bad Softimage PIC magic {magic:#010x}")
    if w == 0 or h == 0:
        raise CorruptFileError(path, f"empty image size {w}x{h}")
    pos = HEADER.size
    types, chans = [], []
    seen = 0
    while True:
        if pos + PACKET.size > len(data):
            raise CorruptFileError(path, "file ends inside the channel packets (truncated)")
        chained, bits, ptype, mask = PACKET.unpack_from(data, pos)
        pos += PACKET.size
        if bits != 8:
            raise UnsupportedFeatureError(path, f"Softimage PIC {bits}-bit channel packets (only 8-bit)")
        if ptype & 3 not in (RAW, PURE_RLE, MIXED_RLE):
            raise CorruptFileError(path, f"unknown packet compression type {ptype}")
        idx = [i for bit, i in CHANNEL_BITS if mask & bit]
        if not idx or mask & 0x0F or seen & mask:
            raise CorruptFileError(path, f"channel packet mask {mask:#04x} is empty, invalid or repeats a channel")
        seen |= mask
        types.append(ptype & 3)
        chans.append(idx + [-1] * (4 - len(idx)))
        if not chained:
            break
        if len(types) >= 4:
            raise CorruptFileError(path, "more than four chained channel packets")
    # the fewest bytes a scanline can take with these packets; less data means a damaged file
    min_row = 0
    for t, idx in zip(types, chans):
        nc = sum(i >= 0 for i in idx)
        min_row += (w * nc if t == RAW else -(-w // 255) * (1 + nc) if t == PURE_RLE
                    else -(-w // 65535) * (1 + nc))
    if h * min_row > len(data) - pos:
        raise CorruptFileError(path, f"{len(data) - pos} bytes of pixel data cannot hold {h} scanlines "
                                     f"of {w} pixels (truncated or damaged header)")
    # mixed RLE repeats one pixel up to 65535 times in 3 + channels bytes
    check_pixels(path, w, h, 4, 1, len(data) - pos, ratio=65535 / 4, what="PIC pixel data")
    pixels = np.zeros((h, w, 4), np.uint8)
    status, _end = _rle.pic_decode(np.frombuffer(data, np.uint8), pos, np.array(types, np.int64),
                                   np.array(chans, np.int64), pixels)
    if status != _rle.OK:
        raise CorruptFileError(path, _rle.STATUS_TEXT[status])
    has_alpha = bool(seen & 0x10)
    dt = datatype("rgba" if has_alpha else "rgb")
    if not has_alpha:
        pixels = np.ascontiguousarray(pixels[:, :, :3])
    attrs = {}
    text = comment.split(b"\0", 1)[0].decode("latin-1")
    if text:
        attrs["description"] = text
    return Image([Layer("", dt, pixels, dt.channels)], attributes=attrs,
                 info={"field": FIELD_NAMES.get(fields, str(fields)), "aspect": aspect,
                       "version": round(version, 4),
                       "packets": ",".join(("raw", "rle", "mixed-rle")[t] for t in types)})


NOTES = (
    "104-byte header (magic 0x5380F634, version 3.71, comment = description attribute, 'PICT', "
    "u16 width/height, f32 pixel aspect = option aspect, u16 fields), RGB packet chained to A "
    "packet, both mixed RLE, scanlines top first, runs of 129..65535 pixels with the u16 long "
    "count. Option field: none=0 (default), odd=1, even=2, full=3, the header's own codes; "
    "mapping mental ray's even/odd onto 2/1 is inferred."
)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="pic",
        description="Softimage PIC, mixed RLE 8-bit RGBA",
        extensions=("pic",),
        datatypes=("rgba",),
        default_datatype="rgba",
        compressions=("rle",),
        default_compression="rle",
        options={"field": choice_option("field rendering flag: none (default), odd, even or full",
                                        FIELDS),
                 "aspect": number_option("pixel aspect ratio written to the header (default 1.0)",
                                         0, above=True, allowed="a positive number")},
        writer=_write,
        reader=_read,
        max_width=0xFFFF,
        max_height=0xFFFF,
        sniff=sniff,
        notes=NOTES,
    )]
