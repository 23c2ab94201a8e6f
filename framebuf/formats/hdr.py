"""Radiance HDR (``hdr``): shared-exponent RGBE pixels, new-style run-length scanlines
(reference 6.7).

Layout::

    "#?RADIANCE\\n", header lines ("FORMAT=32-bit_rle_rgbe", "EXPOSURE=...", "SOFTWARE=..."),
    an empty line, the resolution line "-Y <height> +X <width>\\n" (top row first, left to right)
    per scanline, when 8 <= width <= 32767 and compression is rle:
        2, 2, width >> 8, width & 255, then the R, G, B and E planes one after the other, each as
        packets: byte b > 128 repeats the next byte b - 128 times, else b literal bytes follow
    otherwise: flat rows of 4-byte R G B E pixels

Choices (also in ``notes``):

* Compression ``rle`` (default; the only way Radiance itself writes) or ``none`` (flat rows).
  Widths outside 8..32767 always get flat rows: the RLE row marker cannot describe them.
* ``EXPOSURE`` is written from the ``exposure`` attribute (default 1.0); the pixels are not
  scaled by it. The reader multiplies repeated EXPOSURE lines (Radiance's rule) into the
  ``exposure`` attribute and leaves the pixels alone.
* Runs shorter than 3 bytes stay inside literals; runs hold at most 127 bytes, literals 128.
* The reader takes all eight resolution lines (``-Y H +X W`` ... ``+X W -Y H``, any spacing) and
  turns the picture upright on read: the resolution line is the raster's scan order, as TGA's
  origin bits and BMP's sign of the height are, so the buffer's row 0 is the picture's top row
  (HACKING.md). The line read is kept in ``info["orientation"]``; no ``Orientation`` attribute
  is set because nothing is left to rotate. (OpenImageIO instead returns the scanlines in file
  order and reports the EXIF ``Orientation`` 1-8 it implies.) New-style RLE, flat and old-style
  run (1, 1, 1, n) pixels are read; a file without the ``#?RADIANCE`` / ``#?RGBE`` line (and no
  other ``#?`` line) is still read when its header has a ``FORMAT=32-bit_rle_rgbe`` line. XYZE is refused.
"""

from __future__ import annotations

import re

import numpy as np

from ..datatypes import datatype
from ..errors import CorruptFileError, UnsupportedOptionError
from ..hookspecs import hookimpl
from . import _rle
from .base import FormatSpec, Image, Layer
from ._files import check_pixels, read_bytes

MAX_HEADER = 1 << 16  # a text header longer than this is taken as corrupt, not searched forever
_RES = re.compile(rb"^([-+])([XY])[ \t]*(\d+)[ \t]+([-+])([XY])[ \t]*(\d+)$")

#: resolution line (slow axis, fast axis) -> how the decoded scanlines (one per slow step) become
#: the upright picture: (transpose, flip rows, flip columns) applied in that order
ORIENTATIONS = {
    (b"-Y", b"+X"): (False, False, False),
    (b"-Y", b"-X"): (False, False, True),
    (b"+Y", b"-X"): (False, True, True),
    (b"+Y", b"+X"): (False, True, False),
    (b"+X", b"+Y"): (True, True, False),
    (b"-X", b"+Y"): (True, True, True),
    (b"-X", b"-Y"): (True, False, True),
    (b"+X", b"-Y"): (True, False, False),
}


def sniff(head: bytes) -> bool:
    return head.startswith(b"#?RADIANCE") or head.startswith(b"#?RGBE")


def pack_header(width: int, height: int, exposure: float = 1.0) -> bytes:
    return (b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n"
            + f"EXPOSURE={exposure:.6g}\nSOFTWARE=framebuf\n\n-Y {height} +X {width}\n".encode("ascii"))


def encode_array(rgbe: np.ndarray, rle: bool = True) -> np.ndarray:
    """Scanlines of an (H, W, 4) uint8 RGBE picture, top row first, as a uint8 array (written
    as it is: a bytes copy of a frame costs a tenth of the encode)."""
    rgbe = np.ascontiguousarray(rgbe, np.uint8)
    w = rgbe.shape[1]
    if rle and 8 <= w <= 0x7FFF:
        return _rle.hdr_encode_rle(rgbe)
    return rgbe.reshape(-1)


def _write(path: str, image: Image, options: dict) -> None:
    layer = image.layers[0]
    try:
        exposure = float(image.attributes.get("exposure", 1.0))
    except (TypeError, ValueError):
        raise UnsupportedOptionError(f"hdr attribute exposure must be a number, not "
                                     f"{image.attributes.get('exposure')!r}") from None
    rle = options["compression"] == "rle"    # io.write fills in the FormatSpec default
    body = encode_array(layer.pixels, rle)
    with open(path, "wb") as fh:
        fh.write(pack_header(layer.width, layer.height, exposure))
        fh.write(body)


def _read(path: str, options: dict) -> Image:
    data = read_bytes(path)
    blank = data.find(b"\n\n", 0, MAX_HEADER)
    magic = sniff(data[:10])
    # no magic line is tolerated (OpenImageIO reads such files) but another "#?" program type is not
    if not magic and (data.startswith(b"#?") or blank < 0
                      or b"\nFORMAT=32-bit_rle_rgbe" not in b"\n" + data[:blank]):
        raise CorruptFileError(path, "not a Radiance file (no '#?RADIANCE' line and no FORMAT line)")
    if blank < 0:
        raise CorruptFileError(path, "no end of the text header (truncated or not Radiance)")
    exposure = 1.0
    for line in data[:blank].split(b"\n")[1 if magic else 0:]:
        if line.startswith(b"FORMAT="):
            fmt = line[7:].strip()
            if fmt != b"32-bit_rle_rgbe":
                raise CorruptFileError(path, f"pixel format {fmt.decode('latin-1')!r} is not supported (only RGBE)")
        elif line.startswith(b"EXPOSURE="):
            try:
                exposure *= float(line[9:])
            except ValueError:
                raise CorruptFileError(path, f"bad EXPOSURE line {line.decode('latin-1')!r}") from None
    eol = data.find(b"\n", blank + 2, blank + 2 + 64)
    if eol < 0:
        raise CorruptFileError(path, "no resolution line after the header (truncated)")
    m = _RES.match(data[blank + 2:eol].strip())
    axes = (m.group(1) + m.group(2), m.group(4) + m.group(5)) if m else None
    if axes not in ORIENTATIONS:
        raise CorruptFileError(path, f"bad resolution line {data[blank + 2:eol]!r}; expected e.g. -Y H +X W")
    h, w = int(m.group(3)), int(m.group(6))      # scanlines, pixels per scanline
    if h == 0 or w == 0 or h * w > (len(data) - eol) * 128 + 128:
        # an RLE byte describes at most 127 pixels of a plane; more is impossible, not just large
        raise CorruptFileError(path, f"image size {w}x{h} does not fit the {len(data)}-byte file")
    check_pixels(path, w, h, 4, 1, len(data) - eol, ratio=127, what="RGBE pixel data")
    pixels = np.zeros((h, w, 4), np.uint8)
    status, _pos = _rle.hdr_decode(np.frombuffer(data, np.uint8), eol + 1, pixels)
    if status != _rle.OK:
        raise CorruptFileError(path, _rle.STATUS_TEXT[status])
    transpose, flip_rows, flip_columns = ORIENTATIONS[axes]
    if transpose:
        pixels = pixels.transpose(1, 0, 2)
    if flip_rows:
        pixels = pixels[::-1]
    if flip_columns:
        pixels = pixels[:, ::-1]
    pixels = np.ascontiguousarray(pixels)
    dt = datatype("rgbe")
    attrs = {"exposure": exposure} if exposure != 1.0 else {}
    return Image([Layer("", dt, pixels, dt.channels)], attributes=attrs,
                 info={"exposure": exposure, "orientation": b" ".join(axes).decode()})


NOTES = (
    "Text header '#?RADIANCE', FORMAT=32-bit_rle_rgbe, EXPOSURE from the exposure attribute "
    "(default 1, pixels not scaled), '-Y H +X W' (top row first). Compression rle (default): "
    "new-style RLE scanlines (2 2 W>>8 W&255, planar R G B E); none, or widths outside 8..32767: "
    "flat 4-byte pixels. The reader takes all eight resolution-line orientations (any spacing) and turns the picture "
    "upright, old-style run pixels, and headers without the '#?RADIANCE' line."
)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="hdr",
        description="Radiance RGBE, new-style RLE scanlines",
        extensions=("hdr", "rgbe"),
        datatypes=("rgbe",),
        default_datatype="rgbe",
        compressions=("rle", "none"),
        default_compression="rle",
        writer=_write,
        reader=_read,
        max_width=(1 << 31) - 1,
        max_height=(1 << 31) - 1,
        sniff=sniff,
        notes=NOTES,
    )]
