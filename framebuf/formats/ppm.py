"""PPM (``ppm``): binary P6, 8-bit RGB (maxval 255) through Pillow; no compression."""

from __future__ import annotations

from ..hookspecs import hookimpl
from . import _pillow
from .base import FormatSpec


def write(path, image, options):
    _pillow.write_layer(path, image, "ppm", "PPM")


def read(path, options):
    return _pillow.read_file(path, "ppm", ("PPM",), keep_alpha=False)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="ppm",
        description="Portable pixmap, 8-bit binary P6",
        extensions=("ppm", "pnm"),
        datatypes=("rgb",),
        default_datatype="rgb",
        writer=write,
        reader=read,
        max_width=2**31 - 1,
        max_height=2**31 - 1,
        sniff=lambda head: head[:2] in (b"P6", b"P3") and head[2:3] in (b" ", b"\n", b"\r", b"\t", b"#"),
        notes="P6 with maxval 255 (mental ray writes 8-bit only); the reader also takes P3.",
    )]
