"""SGI image (``rgb``): 8- or 16-bit RGB(A), run-length encoded or verbatim (reference 6.4).

Layout::

    512-byte header, big-endian: u16 magic 474, u8 storage (0 verbatim, 1 RLE), u8 bytes per
    channel (1, 2), u16 dimension (3), u16 xsize, ysize, zsize (channels), i32 pixmin, pixmax,
    4 bytes unused, char name[80], i32 colormap (0), 404 bytes of zeros
    verbatim: planar, channel by channel (R, G, B, A), rows bottom first
    RLE:      u32 offsets[zsize * ysize], u32 lengths[zsize * ysize] (index channel * ysize + row,
              row 0 at the bottom), then the row records; elements are 1 or 2 bytes (bpc), a
              count element c: c & 0x7F == 0 ends the row, c & 0x80 copies c & 0x7F literals,
              else the next element repeats c times

Choices (also in ``notes``):

* ``rgba`` (default), ``rgb``, ``rgba_16`` and ``rgb_16``; 16-bit files use 2-byte elements for
  the counts as well (pixmax 65535). Pillow only writes 8-bit verbatim, so the encoder is ours.
* Compression ``rle`` (default) or ``none`` (SGI "verbatim").
* Runs shorter than 3 elements stay inside literal packets; every row record ends with a zero
  count element; rows are never shared between table entries.
* The 80-byte image name holds the ``description`` attribute (truncated to 79 bytes).
* The reader also takes 1-channel (grey, returned as one ``s`` / ``s_16`` channel, as PNG, TGA
  and TIFF grey) and 2-channel (grey + alpha,
  returned as ``rgba``) files; colour-mapped files are refused.
"""

from __future__ import annotations

import struct

import numpy as np

from ..datatypes import datatype
from ..errors import CorruptFileError, ImageSizeError
from ..hookspecs import hookimpl
from . import _rle
from .base import FormatSpec, Image, Layer
from ._files import check_pixels, read_bytes

MAGIC = 474
# magic, storage, bpc, dimension, xsize, ysize, zsize, pixmin, pixmax, dummy, name, colormap
HEADER = struct.Struct(">HBBHHHHii4s80si")
HEADER_SIZE = 512
PLAUSIBLE_RATIO = 1024  # largest decoded/encoded size ratio believed before allocating


def sniff(head: bytes) -> bool:
    return (len(head) >= 4 and struct.unpack_from(">H", head)[0] == MAGIC
            and head[2] in (0, 1) and head[3] in (1, 2))


def pack_header(width: int, height: int, channels: int, bpc: int, rle: bool, name: bytes = b"") -> bytes:
    head = HEADER.pack(MAGIC, 1 if rle else 0, bpc, 3, width, height, channels,
                       0, 255 if bpc == 1 else 65535, b"", name[:79], 0)
    return head + bytes(HEADER_SIZE - len(head))


def encode_chunks(pixels: np.ndarray, rle: bool = True) -> list[np.ndarray]:
    """The pixel data (after the header) of a picture (H, W, C) uint8/uint16, top row first, as
    arrays to write one after the other (joining them into bytes copied the frame twice)."""
    h, w, c = pixels.shape
    bpc = pixels.dtype.itemsize
    if not rle:
        return [np.ascontiguousarray(pixels[::-1].transpose(2, 0, 1), dtype=f">u{bpc}")]
    data, offs, lens = _rle.sgi_encode_rle(pixels, bpc)
    start = HEADER_SIZE + 8 * c * h
    if start + data.shape[0] >= 1 << 32:
        raise ImageSizeError(f"SGI RLE data of {data.shape[0]} bytes does not fit 32-bit offsets")
    return [np.concatenate([offs + start, lens]).astype(">u4"), data]


def encode(pixels: np.ndarray, rle: bool = True) -> bytes:
    """The pixel data (after the header) of a picture (H, W, C) uint8/uint16, top row first."""
    return b"".join(chunk.tobytes() for chunk in encode_chunks(pixels, rle))


def _write(path: str, image: Image, options: dict) -> None:
    layer = image.layers[0]
    pixels = np.ascontiguousarray(layer.pixels, dtype=layer.datatype.file_dtype)
    h, w, c = pixels.shape
    rle = options["compression"] == "rle"    # io.write fills in the FormatSpec default
    name = str(image.attributes.get("description", "")).encode("latin-1", "replace")
    chunks = encode_chunks(pixels, rle)
    with open(path, "wb") as fh:
        fh.write(pack_header(w, h, c, pixels.dtype.itemsize, rle, name))
        for chunk in chunks:
            fh.write(chunk)


def _read(path: str, options: dict) -> Image:
    data = read_bytes(path, HEADER_SIZE, "SGI")
    (magic, storage, bpc, dim, w, h, c, _pmin, _pmax, _dummy, name, cmap) = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise CorruptFileError(path, f"bad SGI magic number {magic}, expected {MAGIC}")
    if storage not in (0, 1) or bpc not in (1, 2):
        raise CorruptFileError(path, f"storage {storage} / bytes per channel {bpc} not valid for SGI")
    if dim == 1:
        h, c = 1, 1
    elif dim == 2:
        c = 1
    elif dim != 3:
        raise CorruptFileError(path, f"dimension {dim}; SGI has 1, 2 or 3")
    if cmap != 0:
        raise CorruptFileError(path, f"colour-mapped SGI files (colormap {cmap}) are not supported")
    if w == 0 or h == 0 or c not in (1, 2, 3, 4):
        raise CorruptFileError(path, f"image size {w}x{h} with {c} channels is not supported")
    if storage == 1 and h * w * c * bpc > PLAUSIBLE_RATIO * len(data) + (1 << 24):
        # RLE without shared rows packs at most 63.5:1; far beyond that the header is damaged
        raise CorruptFileError(path, f"image size {w}x{h}x{c} is implausible for a {len(data)}-byte file")
    dtype = np.uint8 if bpc == 1 else np.dtype(">u2")
    buf = np.frombuffer(data, np.uint8)
    if storage == 0:
        need = HEADER_SIZE + c * h * w * bpc
        if len(data) < need:
            raise CorruptFileError(path, f"verbatim data is {len(data) - HEADER_SIZE} bytes, "
                                         f"needs {need - HEADER_SIZE} (truncated file)")
        planes = np.frombuffer(data, dtype, count=c * h * w, offset=HEADER_SIZE).reshape(c, h, w)
        pixels = np.ascontiguousarray(planes.transpose(1, 2, 0)[::-1], dtype=np.uint8 if bpc == 1 else np.uint16)
    else:
        tables_end = HEADER_SIZE + 8 * c * h
        if len(data) < tables_end:
            raise CorruptFileError(path, "file ends inside the RLE offset/length tables (truncated)")
        tables = np.frombuffer(data, ">u4", count=2 * c * h, offset=HEADER_SIZE).astype(np.int64)
        check_pixels(path, w, h, c, bpc, len(data) - HEADER_SIZE, ratio=PLAUSIBLE_RATIO,
                     what="SGI RLE data")
        pixels = np.zeros((h, w, c), np.uint8 if bpc == 1 else np.uint16)
        status = _rle.sgi_decode_rle(buf, tables[: c * h], tables[c * h:], h, w, c, bpc, pixels)
        if status != _rle.OK:
            raise CorruptFileError(path, _rle.STATUS_TEXT[status])
    if c == 2:
        pixels = np.concatenate([np.repeat(pixels[:, :, :1], 3, axis=2), pixels[:, :, 1:]], axis=2)
    nchan = pixels.shape[2]
    dt = datatype({1: "s", 3: "rgb", 4: "rgba"}[nchan] + ("_16" if bpc == 2 else ""))
    attrs = {}
    text = name.split(b"\0", 1)[0].decode("latin-1")
    if text:
        attrs["description"] = text
    return Image([Layer("", dt, pixels, dt.channels)], attributes=attrs,
                 info={"compression": "rle" if storage else "none", "bytes_per_channel": bpc,
                       "channels_in_file": c})


NOTES = (
    "512-byte big-endian header (magic 474), planar R G B A, rows bottom first. Compression rle "
    "(default: offset and length tables, 7-bit counts, runs of 3 or more, a zero count ends each "
    "row) or none (verbatim). 8-bit (rgba, rgb) and 16-bit (rgba_16, rgb_16) with 2-byte count "
    "elements, pixmax 255/65535. The name field holds the description attribute. The reader also "
    "accepts grey (as s / s_16) and grey+alpha (as rgba) files, not colour-mapped ones."
)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="rgb",
        description="SGI image, 8/16-bit RGB(A), RLE or verbatim",
        extensions=("rgb", "sgi", "bw"),
        datatypes=("rgba", "rgb", "rgba_16", "rgb_16"),
        default_datatype="rgba",
        compressions=("rle", "none"),
        default_compression="rle",
        writer=_write,
        reader=_read,
        max_width=65535,
        max_height=65535,
        sniff=sniff,
        notes=NOTES,
    )]
