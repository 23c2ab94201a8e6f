"""Softimage Zpic (``Zpic``): a raw depth map that belongs to a PIC image (reference 6.2).

Layout: no header at all, one big-endian float32 per pixel, rows **top row first** (the row order
is not documented; we assume it matches the companion PIC, which is top-first). The file alone does
not know its width and height: those come from the PIC rendered with it.

Choices (also in ``notes``):

* Depth convention: Softimage stores 0 where nothing was hit, memory uses ``+inf``. We convert at
  this edge: ``+inf`` -> 0 on write, 0 -> ``+inf`` on read. Other values are written as they are
  (positive distance from the camera); the sign Softimage used is unknown.
* mental ray only writes Zpic. We also read it; the size comes, in this order, from the read
  options ``width`` / ``height`` (one of them is enough when the other divides the pixel count),
  or from the header of a sibling PIC file with the same stem (``shot.Zpic`` -> ``shot.pic``).
  Without either the reader refuses the file with a message saying so.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ..datatypes import datatype
from ..errors import CorruptFileError, FramebufError
from ..hookspecs import hookimpl
from ..limits import check_allocation
from .base import FormatSpec, Image, Layer, int_option
from ._files import read_bytes

FILE_DTYPE = np.dtype(">f4")

# Softimage PIC header fields we need: magic at 0, width/height (u16 BE) at 92/94 (reference 6.1)
PIC_MAGIC = 0x5380F634
PIC_HEADER_SIZE = 104
PIC_SIZE = struct.Struct(">HH")
PIC_SIZE_OFFSET = 92

COMPANION_SUFFIXES = (".pic", ".PIC", ".Pic")


def _write(path: str, image: Image, options: dict) -> None:
    layer = image.layers[0]
    if layer.pixels.shape[2] != 1:
        raise FramebufError(f"Zpic stores one depth value per pixel, got {layer.pixels.shape[2]} components")
    z = np.asarray(layer.pixels, np.float32)
    z = np.where(np.isposinf(z), np.float32(0.0), z)  # nothing hit: +inf in memory, 0 in the file
    with open(path, "wb") as fh:
        fh.write(np.ascontiguousarray(z, FILE_DTYPE).tobytes())


def companion_pic_size(path) -> tuple[int, int] | None:
    """(width, height) from the header of the PIC next to a Zpic, or None when there is none."""
    p = Path(path)
    for suffix in COMPANION_SUFFIXES:
        pic = p.with_suffix(suffix)
        if pic == p or not pic.is_file():
            continue
        with open(pic, "rb") as fh:
            head = fh.read(PIC_HEADER_SIZE)
        if len(head) < PIC_HEADER_SIZE or struct.unpack_from(">I", head)[0] != PIC_MAGIC:
            continue
        return PIC_SIZE.unpack_from(head, PIC_SIZE_OFFSET)
    return None


def _size(path: str, count: int, options: dict) -> tuple[int, int, str]:
    w, h = options.get("width"), options.get("height")     # positive ints, typed by io.read_image
    if w and h:
        return w, h, "options"
    if w or h:
        known = w or h
        if count % known:
            raise CorruptFileError(
                path, f"{count} depth values do not fill whole rows of {known} pixels")
        return (w, count // w, "options") if w else (count // h, h, "options")
    size = companion_pic_size(path)
    if size is not None:
        return size[0], size[1], "companion pic"
    raise FramebufError(
        f"{path}: a Zpic file has no header; give its size with the read options width and height "
        f"(framebuf.read(path, width=W, height=H)) or put the PIC it belongs to beside it "
        f"({Path(path).with_suffix('.pic').name})"
    )


def _read(path: str, options: dict) -> Image:
    data = read_bytes(path)
    if len(data) % FILE_DTYPE.itemsize:
        raise CorruptFileError(path, f"{len(data)} bytes is not a whole number of float32 values")
    count = len(data) // FILE_DTYPE.itemsize
    w, h, source = _size(path, count, options)
    if w * h != count:
        raise CorruptFileError(
            path, f"{count} depth values, but the size from the {source} is {w}x{h} = {w * h}")
    check_allocation(count * 4, f"{path}: a {w}x{h} depth image")
    z = np.frombuffer(data, FILE_DTYPE).astype(np.float32).reshape(h, w, 1)
    z[z == 0] = np.inf  # 0 in the file: nothing hit
    dt = datatype("z")
    return Image([Layer("", dt, z, dt.channels)], info={"size_from": source})


NOTES = (
    "No header: big-endian float32 per pixel, rows top first (assumed, as PIC). 0 in the file means "
    "nothing hit: +inf is written as 0 and 0 read as +inf. Reading (mental ray only writes Zpic) "
    "takes the size from the read options width/height, else from the sibling PIC with the same "
    "stem (shot.Zpic -> shot.pic); without either the file is refused."
)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="Zpic",
        read_options={"width": int_option("pixels per row (a Zpic has no header; default from the "
                                          "companion PIC)", 1, allowed="a positive whole number"),
                      "height": int_option("rows (default from the companion PIC, else the file "
                                           "size / width)", 1, allowed="a positive whole number")},
        description="Softimage depth map (raw float32, size from the companion PIC)",
        extensions=("zpic",),
        datatypes=("z",),
        default_datatype="z",
        writer=_write,
        reader=_read,
        notes=NOTES,
    )]
