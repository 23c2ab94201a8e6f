"""BMP (``bmp``): 24-bit BI_RGB (uncompressed) Windows bitmap through Pillow.

mental ray's table says "rgb, RLE" while its ``shader.h`` says "32-bit uncompressed" (reference
6.10). BMP's RLE exists only for 4- and 8-bit palette images, so a true-colour RGB bitmap is
uncompressed either way; we write 24 bits per pixel because the type is ``rgb`` (no alpha to put in a
fourth byte) and every reader handles it.
"""

from __future__ import annotations

from ..errors import ImageSizeError
from ..hookspecs import hookimpl
from . import _pillow
from .base import FormatSpec

HEADER_BYTES = 54


def write(path, image, options):
    layer = _pillow.only_layer(image, "bmp")
    # the file and pixel-array sizes are u32 fields: refuse before encoding anything
    row = (layer.width * 3 + 3) // 4 * 4
    if HEADER_BYTES + row * layer.height > 2**32 - 1:
        raise ImageSizeError(f"a {layer.width}x{layer.height} bmp would exceed the format's 4 GiB size field")
    _pillow.write_layer(path, image, "bmp", "BMP")


def read(path, options):
    return _pillow.read_file(path, "bmp", ("BMP", "DIB"))


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
