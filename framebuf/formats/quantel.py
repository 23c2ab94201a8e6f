"""Abekas/Quantel YUV (``qntpal`` 720x576, ``qntntsc`` 720x486), reference 6.10.

Layout (netpbm's description of the Abekas file, which ``yuvtoppm`` reads): no header; rows top
first; each pair of horizontally adjacent pixels is 4 bytes ``Cb, Y0, Cr, Y1`` (UYVY 4:2:2); the
file is exactly 2 bytes per pixel. Values are studio-range ITU-R BT.601: Y in 16..235, Cb/Cr in
16..240 around 128.

Choices (also in ``notes``):

* Chroma of a pixel pair is computed from the mean of the two pixels' RGB (a 2-tap box filter);
  reading gives both pixels of a pair the pair's chroma (no interpolation).
* RGB <-> YCbCr uses the BT.601 matrix on the 8-bit gamma-encoded values, rounded to nearest.
* Size: these formats hold one resolution only (``fixed_size``). Another size is refused by the
  dispatcher unless ``fit=True``; then the image is scaled **uniformly** (aspect ratio of the pixel
  grid kept, square pixels assumed) with a separable triangle (bilinear) filter, widened to the
  scale factor when shrinking so it averages instead of skipping pixels, and centred on black
  (Y 16, Cb = Cr = 128): letterbox or pillarbox bars fill the rest.
* The reader identifies PAL or NTSC from the file size (the only thing the file tells), so either
  keyword reads either file; any other size is refused as corrupt.
"""

from __future__ import annotations

import numpy as np

from ..datatypes import datatype
from ..errors import CorruptFileError, FramebufError
from ..hookspecs import hookimpl
from .base import FormatSpec, Image, Layer, on_off_option
from ._files import read_bytes

#: keyword -> (width, height)
SIZES = {"qntpal": (720, 576), "qntntsc": (720, 486)}

# BT.601 studio range, for R'G'B' in [0, 1]: offsets and matrix rows for Y, Cb, Cr
_OFFSET = np.array([16.0, 128.0, 128.0])
_RGB_TO_YCC = np.array([
    [65.481, 128.553, 24.966],
    [-37.797, -74.203, 112.0],
    [112.0, -93.786, -18.214],
])
_YCC_TO_RGB = np.linalg.inv(_RGB_TO_YCC)

BLACK_UYVY = np.array([128, 16, 128, 16], np.uint8)


# -- resampling for fit=True --------------------------------------------------------------------

def _weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) triangle-filter weights mapping pixel centres; support widened when shrinking."""
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale - 0.5
    x = np.arange(n_in)
    w = np.maximum(0.0, 1.0 - np.abs(x[None, :] - centres[:, None]) / support)
    w /= w.sum(axis=1, keepdims=True)
    return w


def fit_into(rgb: np.ndarray, width: int, height: int) -> tuple[np.ndarray, int, int]:
    """Scale ``rgb`` (H, W, 3 uint8) uniformly to fit width x height; return (scaled, x0, y0)."""
    h, w = rgb.shape[:2]
    scale = min(width / w, height / h)
    nw = max(1, min(width, int(round(w * scale))))
    nh = max(1, min(height, int(round(h * scale))))
    wy, wx = _weights(h, nh), _weights(w, nw)
    f = rgb.astype(np.float64)
    out = (wy @ f.reshape(h, -1)).reshape(nh, w, 3)  # rows
    out = wx @ out                                    # columns, broadcast over rows
    scaled = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return scaled, (width - nw) // 2, (height - nh) // 2


# -- colour conversion ----------------------------------------------------------------------------

def rgb_to_uyvy(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 R'G'B', W even -> (H, W // 2, 4) uint8 Cb, Y0, Cr, Y1."""
    f = rgb.astype(np.float64) / 255.0
    y = f @ _RGB_TO_YCC[0] + _OFFSET[0]
    pair = 0.5 * (f[:, 0::2] + f[:, 1::2])
    cb = pair @ _RGB_TO_YCC[1] + _OFFSET[1]
    cr = pair @ _RGB_TO_YCC[2] + _OFFSET[2]
    out = np.stack([cb, y[:, 0::2], cr, y[:, 1::2]], axis=-1)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def uyvy_to_rgb(uyvy: np.ndarray) -> np.ndarray:
    """(H, W // 2, 4) uint8 Cb, Y0, Cr, Y1 -> (H, W, 3) uint8 R'G'B'."""
    q = uyvy.astype(np.float64)
    h, pairs = q.shape[:2]
    ycc = np.empty((h, pairs * 2, 3))
    ycc[:, 0::2, 0], ycc[:, 1::2, 0] = q[..., 1], q[..., 3]
    ycc[:, :, 1] = np.repeat(q[..., 0], 2, axis=1)
    ycc[:, :, 2] = np.repeat(q[..., 2], 2, axis=1)
    rgb = (ycc - _OFFSET) @ _YCC_TO_RGB.T
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


# -- writer and reader ---------------------------------------------------------------------------

def _writer(fmt: str):
    width, height = SIZES[fmt]

    def write(path: str, image: Image, options: dict) -> None:
        layer = image.layers[0]
        rgb = np.asarray(layer.pixels, np.uint8)
        if rgb.shape[2] != 3:
            raise FramebufError(f"{fmt} stores RGB, got {rgb.shape[2]} components")
        if rgb.shape[:2] == (height, width):
            uyvy = rgb_to_uyvy(rgb)
        elif options.get("fit"):
            scaled, x0, y0 = fit_into(rgb, width, height)
            # black frame, then the scaled picture; x0 and the picture width are made even so
            # no chroma pair straddles the picture's edge
            uyvy = np.broadcast_to(BLACK_UYVY, (height, width // 2, 4)).copy()
            x0 -= x0 % 2
            pw = scaled.shape[1] + scaled.shape[1] % 2
            padded = np.zeros((scaled.shape[0], pw, 3), np.uint8)
            padded[:, :scaled.shape[1]] = scaled
            uyvy[y0:y0 + scaled.shape[0], x0 // 2:(x0 + pw) // 2] = rgb_to_uyvy(padded)
        else:  # the dispatcher refuses this already; kept for direct callers
            raise FramebufError(
                f"{fmt} stores exactly {width}x{height} pixels, the image is "
                f"{rgb.shape[1]}x{rgb.shape[0]}; pass fit=True to scale it")
        with open(path, "wb") as fh:
            fh.write(np.ascontiguousarray(uyvy).tobytes())

    return write


def _read(path: str, options: dict) -> Image:
    data = read_bytes(path)
    for fmt, (w, h) in SIZES.items():
        if len(data) == 2 * w * h:
            break
    else:
        expected = " or ".join(f"{2 * w * h} ({k} {w}x{h})" for k, (w, h) in SIZES.items())
        raise CorruptFileError(path, f"{len(data)} bytes; a Quantel YUV file has {expected}")
    uyvy = np.frombuffer(data, np.uint8).reshape(h, w // 2, 4)
    dt = datatype("rgb")
    return Image([Layer("", dt, uyvy_to_rgb(uyvy), dt.channels)], info={"format": fmt})


NOTES = (
    "No header; UYVY 4:2:2 (Cb, Y0, Cr, Y1 per pixel pair), studio-range BT.601, rows top first; "
    "pair chroma from the mean RGB of the pair. Other sizes are refused unless fit=True, which "
    "scales uniformly (square pixels assumed) with a triangle filter widened when shrinking and "
    "centres the result on black (letterbox/pillarbox). The reader tells PAL from NTSC by file size."
)


@hookimpl
def framebuf_formats():
    return [
        FormatSpec(
            name=fmt,
            description=f"Abekas/Quantel YUV 4:2:2, {'PAL' if fmt == 'qntpal' else 'NTSC'} ({w}x{h})",
            extensions=(fmt,),
            datatypes=("rgb",),
            default_datatype="rgb",
            writer=_writer(fmt),
            reader=_read,
            options={"fit": on_off_option("scale another size uniformly to fit, centred on black "
                                          "(letterbox)")},
            fixed_size=(w, h),
            notes=NOTES,
        )
        for fmt, (w, h) in SIZES.items()
    ]
