"""JPEG (``jpg``): baseline 8-bit RGB JFIF through Pillow (libjpeg-turbo).

Quality 1-100, default 75 as mental ray's (``quality 0`` also means the default, reference 2.1 and
6.14); chroma subsampling 4:2:0, libjpeg's default, unless ``subsampling`` says otherwise.
"""

from __future__ import annotations

from ..errors import UnsupportedOptionError
from ..hookspecs import hookimpl
from . import _pillow
from .base import FormatSpec

DEFAULT_QUALITY = 75
SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


def _quality(options) -> int:
    q = options.get("quality")
    if q in (None, 0, "0"):
        return DEFAULT_QUALITY
    try:
        q = int(q)
    except (TypeError, ValueError):
        q = -1
    if not 1 <= q <= 100:
        raise UnsupportedOptionError(f"jpg quality must be 1-100 (0 = default {DEFAULT_QUALITY}), "
                                     f"not {options.get('quality')!r}")
    return q


def write(path, image, options):
    sub = options.get("subsampling", "4:2:0")
    if sub not in SUBSAMPLING:
        raise UnsupportedOptionError(f"jpg subsampling must be one of {', '.join(SUBSAMPLING)}, not {sub!r}")
    _pillow.write_layer(path, image, "jpg", "JPEG", quality=_quality(options),
                        subsampling=SUBSAMPLING[sub])


def read(path, options):
    return _pillow.read_file(path, "jpg", ("JPEG",), keep_alpha=False)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="jpg",
        description="JPEG JFIF picture, 8-bit RGB, baseline sequential",
        extensions=("jpg", "jpeg"),
        datatypes=("rgb",),
        default_datatype="rgb",
        writer=write,
        reader=read,
        options={"quality": "1-100, 0 = default 75",
                 "subsampling": "chroma subsampling 4:4:4, 4:2:2 or 4:2:0 (default)"},
        max_width=65500,     # libjpeg's JPEG_MAX_DIMENSION
        max_height=65500,
        sniff=lambda head: head[:3] == b"\xff\xd8\xff",
        notes="Pillow/libjpeg-turbo, baseline; quality default 75 as mental ray; 4:2:0 chroma.",
    )]
