"""JPEG (``jpg``): baseline 8-bit RGB JFIF through Pillow (libjpeg-turbo).

Quality 1-100, default 75 as mental ray's (``quality 0`` also means the default, reference 2.1 and
6.14); chroma subsampling 4:2:0, libjpeg's default, unless ``subsampling`` says otherwise.
"""

from __future__ import annotations

import os

from ..hookspecs import hookimpl
from ..limits import check_declared
from . import _pillow
from .base import FormatSpec, choice_option, int_option

DEFAULT_QUALITY = 75
SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


def write(path, image, options):
    # io.write has parsed the options through their rows: quality an int 0-100 (0 = default)
    _pillow.write_layer(path, image, "jpg", "JPEG", quality=options.get("quality") or DEFAULT_QUALITY,
                        subsampling=SUBSAMPLING[options.get("subsampling", "4:2:0")])


#: decoded bytes per stored byte a sequential Huffman JPEG can reach at best: each 8x8 block costs
#: at least a 1-bit DC code and a 1-bit end-of-block, so a 4:1 sub-sampled MCU (32x32 pixels in
#: 18 blocks, 36 bits) holds about 680 bytes per byte; progressive files (EOB runs) are not bounded
BASELINE_RATIO = 1024
_SEQUENTIAL = {0xC0, 0xC1}


def _check_frame(path, data: bytes, size: int) -> None:
    """libjpeg fills the MCUs a short scan does not reach with grey and only warns: refuse a
    sequential frame declaring more pixels than the file could hold."""
    pos = 2
    while pos + 9 < len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if marker in _SEQUENTIAL:
            height = int.from_bytes(data[pos + 5:pos + 7], "big")
            width = int.from_bytes(data[pos + 7:pos + 9], "big")
            comps = data[pos + 9] if pos + 9 < len(data) else 1
            check_declared(path, width * height * comps // BASELINE_RATIO, size,
                           f"JPEG samples ({width}x{height}, {comps} components)")
            return
        if 0xC2 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) or marker == 0xDA:
            return
        pos += 2 + length


def read(path, options):
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
        size = os.path.getsize(path)
    except OSError:
        head, size = b"", 0
    if head[:2] == b"\xff\xd8":
        _check_frame(path, head, size)
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
        options={"quality": int_option("1-100, 0 = default 75", 0, 100,
                                       allowed=f"1-100 (0 = default {DEFAULT_QUALITY})"),
                 "subsampling": choice_option("chroma subsampling 4:4:4, 4:2:2 or 4:2:0 (default)",
                                              SUBSAMPLING)},
        max_width=65500,     # libjpeg's JPEG_MAX_DIMENSION
        max_height=65500,
        sniff=lambda head: head[:3] == b"\xff\xd8\xff",
        notes="Pillow/libjpeg-turbo, baseline; quality default 75 as mental ray; 4:2:0 chroma.",
    )]
