"""Shared glue for the formats Pillow writes and reads (png, jpg, bmp, ppm, tga).

Not a plugin (the leading underscore keeps the plugin manager away): the format modules call
:func:`write_layer` and :func:`read_file` with their own Pillow format name and options.
"""

from __future__ import annotations

import warnings

import numpy as np
from PIL import Image as PILImage

from ..datatypes import datatype
from ..errors import CorruptFileError, FramebufError, UnsupportedDataTypeError
from ..limits import check_allocation
from .base import Image, Layer

#: EXIF tag of the picture's orientation (1 = upright ... 8), reported as the ``Orientation`` attribute
EXIF_ORIENTATION = 0x0112

#: Pillow mode of each 8-bit data type we hand to Pillow.
MODES = {"rgb": "RGB", "rgba": "RGBA"}

#: single-channel grey modes Pillow reads, as (data type, sample dtype): grey files written by
#: others (8-bit masks, 16-bit label maps) are read as intensity buffers at their own depth.
GREY_MODES = {"L": ("s", np.uint8), "I;16": ("s_16", np.uint16), "I;16B": ("s_16", np.uint16),
              "I;16L": ("s_16", np.uint16), "I": ("s_16", np.uint16)}


def only_layer(image: Image, fmt: str) -> Layer:
    if len(image.layers) != 1:
        raise FramebufError(f"format {fmt!r} holds one buffer per file, got {len(image.layers)}")
    return image.layers[0]


def to_pil(layer: Layer, fmt: str) -> PILImage.Image:
    mode = MODES.get(layer.datatype.name)
    if mode is None:
        raise UnsupportedDataTypeError(fmt, layer.datatype.name, list(MODES))
    px = np.ascontiguousarray(layer.pixels, np.uint8)
    # frombuffer shares the numpy memory: no copy before the encoder runs
    return PILImage.frombuffer(mode, (px.shape[1], px.shape[0]), px, "raw", mode, 0, 1)


def write_layer(path: str, image: Image, fmt: str, pil_format: str, **save_args) -> None:
    layer = only_layer(image, fmt)
    to_pil(layer, fmt).save(path, format=pil_format, **save_args)


def read_file(path: str, fmt: str, pil_formats: tuple[str, ...], keep_alpha: bool = True) -> Image:
    """Decode with Pillow into one 8-bit ``rgb`` or ``rgba`` layer; anything Pillow raises (OSError,
    SyntaxError for a bad PNG chunk, DecompressionBombError, struct errors ...) becomes a
    CorruptFileError naming the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(path, formats=list(pil_formats)) as im:
                # open() read the header only: the budget is checked before the decoder allocates
                width, height = im.size
                check_allocation(width * height * len(im.getbands()) * 4,
                                 f"{path}: a {width}x{height} {fmt} image")
                im.load()
                info = {"mode": im.mode, "format": fmt}
                attrs = {}
                orientation = im.getexif().get(EXIF_ORIENTATION)
                if isinstance(orientation, int) and 1 <= orientation <= 8:
                    # reported, not applied: OpenImageIO does the same, and a reader that rotated
                    # would change the size a render's other passes are matched against
                    attrs["Orientation"] = orientation
                for key in ("dpi", "compression", "progressive"):
                    if key in im.info:
                        info[key] = im.info[key]
                has_alpha = keep_alpha and ("A" in im.getbands() or "transparency" in im.info)
                if im.mode in GREY_MODES and not has_alpha:
                    # one grey channel (a 16-bit label map, a mask): keep it one channel at its
                    # own depth instead of widening it to 8-bit RGB
                    mode, sample = GREY_MODES[im.mode]
                    px = np.asarray(im)
                    if sample == np.uint16 and px.size and (px.min() < 0 or px.max() > 65535):
                        raise CorruptFileError(path, f"{fmt} grey samples outside 16 bits")
                    px = px.astype(sample)[:, :, None]
                else:
                    mode = "RGBA" if has_alpha else "RGB"
                    if im.mode != mode:
                        im = im.convert(mode)
                    px = np.asarray(im, dtype=np.uint8)
    except PILImage.UnidentifiedImageError:
        raise CorruptFileError(path, f"not a {fmt} file (bad signature or header)") from None
    except (FramebufError, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds on bad data
        reason = str(exc) or type(exc).__name__
        raise CorruptFileError(path, f"cannot decode {fmt} data: {reason}") from None
    if px.ndim != 3 or px.shape[0] == 0 or px.shape[1] == 0:
        raise CorruptFileError(path, f"{fmt} image has no pixels")
    dt = datatype({"RGBA": "rgba", "RGB": "rgb"}.get(mode, mode))
    return Image([Layer("", dt, np.ascontiguousarray(px), dt.channels)], attributes=attrs, info=info)
