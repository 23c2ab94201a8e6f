"""PNG (``png``): 8-bit RGB or RGBA through Pillow.

mental ray's table lists ``rgb`` and ``rgba`` (default ``rgba``, reference section 5) with "RLE"
compression; PNG's only compression is deflate, so that is what ``compression`` offers, and
``compress_level`` sets its effort (0-9). The default is 4, not zlib's customary 6: with Pillow's
zlib-ng, level 4 gave the 2048x2048 render of bench/writers.py a slightly *smaller* file than
level 6 (7.40 MB against 7.43 MB) in under half the time (2.6 s against 6.1 s), and a smaller one
than OpenImageIO's default PNG (7.70 MB). Colour is stored as the buffer holds it: premultiplied
unless ``premultiply off`` (PNG itself defines straight alpha)."""

from __future__ import annotations

from ..errors import CorruptFileError, UnsupportedOptionError
from ..hookspecs import hookimpl
from . import _pillow
from .base import FormatSpec

SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEFAULT_LEVEL = 4
IEND_CHUNK = b"\x00\x00\x00\x00IEND\xaeB`\x82"     # length 0, type, CRC


def _level(options) -> int:
    level = options.get("compress_level", DEFAULT_LEVEL)
    try:
        level = int(level)
    except (TypeError, ValueError):
        level = -1
    if not 0 <= level <= 9:
        raise UnsupportedOptionError(f"png compress_level must be 0-9, not {options.get('compress_level')!r}")
    return level


def write(path, image, options):
    _pillow.write_layer(path, image, "png", "PNG", compress_level=_level(options))


def read(path, options):
    image = _pillow.read_file(path, "png", ("PNG",))
    # Pillow stops after the image data: a file cut after it (or inside the last CRC) would pass
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        fh.seek(max(0, fh.tell() - 4096))
        tail = fh.read()
    if IEND_CHUNK not in tail:
        raise CorruptFileError(path, "PNG file is truncated: no IEND chunk at its end")
    return image


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
        options={"compress_level": "deflate effort 0 (store) to 9, default 4 (measured: as small as 6, twice as fast)"},
        max_width=2**31 - 1,
        max_height=2**31 - 1,
        sniff=lambda head: head.startswith(SIGNATURE),
        notes="mental ray's 'RLE' for png is deflate, PNG's only compression, at level 4 by default "
              "(measured as small as level 6 and twice as fast with Pillow's zlib-ng). Written by Pillow; "
              "colour is stored as the buffer holds it (premultiplied unless premultiply off). "
              "The reader turns grey, palette and 16-bit PNGs into 8-bit rgb/rgba.",
    )]
