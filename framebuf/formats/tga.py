"""Targa (``tga``): 32-bit BGRA true colour through Pillow, run-length encoded by default.

Image type 10 (RLE true colour) is written unless ``compression none`` asks for type 2: mental
ray's ``shader.h`` calls its variant "compressed RGBA Targa" while its manual's table shows "-"
(reference 6.10), and RLE is never larger than raw by more than 1/128 and much smaller on flat
render backgrounds. The attribute byte says 8 alpha bits; rows are stored bottom-up (Pillow's
default origin), which every reader honours.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from . import _pillow
from .base import FormatSpec

PIL_COMPRESSION = {"rle": "tga_rle", "none": None}


def write(path, image, options):
    comp = PIL_COMPRESSION[options.get("compression") or "rle"]
    _pillow.write_layer(path, image, "tga", "TGA", compression=comp)


def read(path, options):
    return _pillow.read_file(path, "tga", ("TGA",))


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
