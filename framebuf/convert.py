"""Conversions on the way from a full-precision buffer to a file's samples, and back.

The rules are mental ray's (reference section 2.3 and 4), applied in this order for colour:

1. ``premultiply off``: colours are un-premultiplied (RGB / A where A > 0). Ignored with ``colorclip raw``.
2. Only for 8/16-bit targets: ``desaturate on`` pulls an out-of-range colour towards the grey axis
   (keeping its luminance) instead of clamping components one by one; then ``colorclip``:
   ``rgb`` clips RGB to [0,1] then A to [max(R,G,B), 1]; ``alpha`` clips A to [0,1] then RGB to
   [0, A]; ``raw`` clips each component to [0,1] on its own.
3. Only for 8/16-bit targets: ``gamma G`` raises R, G, B and A to 1/G.
4. Only for 8/16-bit targets: ``dither on`` adds uniform noise of one quantisation step before
   rounding (never on float, half or RGBE data).
5. Quantise (round to nearest), or convert to half, or encode RGBE (no alpha), or keep float.

Float and half types keep out-of-range values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .datatypes import DataType, datatype
from .errors import FramebufError, UnsupportedDataTypeError

COLORCLIP_MODES = ("rgb", "alpha", "raw")

# Rec. 709 luminance weights, used by desaturate to keep a colour's brightness.
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


@dataclass(frozen=True)
class ConvertOptions:
    """The options-block settings that affect output (reference 2.3), with mental ray's defaults."""

    colorclip: str = "rgb"
    desaturate: bool = False
    premultiply: bool = True
    gamma: float = 1.0
    dither: bool = False
    dither_seed: int = 0

    def __post_init__(self):
        if self.colorclip not in COLORCLIP_MODES:
            raise FramebufError(
                f"colorclip must be one of {', '.join(COLORCLIP_MODES)}, not {self.colorclip!r}"
            )
        if not self.gamma > 0:
            raise FramebufError(f"gamma must be positive, not {self.gamma!r}")

    FIELDS = ("colorclip", "desaturate", "premultiply", "gamma", "dither", "dither_seed")


def compatible(src: DataType, dst: DataType) -> bool:
    """Whether a buffer of type ``src`` can be written as ``dst`` (a "compatible conversion")."""
    if src.storage == dst.storage:
        return True
    one_float = {"scalar", "depth", "coverage"}
    if src.components == 1 and src.kind in one_float and dst.kind == "scalar":
        return True
    if src.storage in ("normal", "motion") and dst.storage in ("normal", "motion"):
        return True
    if src.kind == "scalar" and dst.kind in ("depth", "coverage"):
        return True
    return False


def _unpremultiply(rgba: np.ndarray) -> np.ndarray:
    out = rgba.copy()
    a = out[..., 3:4]
    np.divide(out[..., :3], a, out=out[..., :3], where=a > 0)
    return out


def _desaturate(rgb: np.ndarray) -> np.ndarray:
    """Move colours whose largest component exceeds 1 towards their grey of equal luminance."""
    rgb = rgb.copy()
    peak = rgb.max(axis=-1, keepdims=True)
    over = peak[..., 0] > 1.0
    if np.any(over):
        c = rgb[over]
        y = np.clip(c @ LUMA, 0.0, None)[:, None]
        p = peak[over]
        # scale the chroma (c - y) so that the largest component lands on 1; a grey brighter than
        # white becomes white.
        t = np.where(p > y, (1.0 - np.minimum(y, 1.0)) / np.maximum(p - y, 1e-12), 0.0)
        rgb[over] = np.minimum(y, 1.0) + (c - y) * t
    return rgb


def _colorclip(rgba: np.ndarray, mode: str) -> np.ndarray:
    out = np.array(rgba, np.float32, copy=True)
    if out.shape[-1] < 4:
        return np.clip(out, 0.0, 1.0)
    rgb, a = out[..., :3], out[..., 3:4]
    if mode == "rgb":
        np.clip(rgb, 0.0, 1.0, out=rgb)
        np.clip(a, rgb.max(axis=-1, keepdims=True), 1.0, out=a)
    elif mode == "alpha":
        np.clip(a, 0.0, 1.0, out=a)
        np.clip(rgb, 0.0, a, out=rgb)
    else:
        np.clip(out, 0.0, 1.0, out=out)
    return out


def rgbe_encode(rgb: np.ndarray) -> np.ndarray:
    """Float RGB (..., 3) to Radiance RGBE bytes (..., 4): mantissas scaled by frexp of the max."""
    rgb = np.asarray(rgb, np.float32)
    v = rgb.max(axis=-1)
    mant, exp = np.frexp(v)
    out = np.zeros(rgb.shape[:-1] + (4,), np.uint8)
    ok = v >= 1e-32
    scale = np.where(ok, mant * 256.0 / np.where(ok, v, 1.0), 0.0)
    out[..., :3] = np.clip(np.floor(rgb * scale[..., None]), 0, 255).astype(np.uint8)
    out[..., 3] = np.where(ok, np.clip(exp + 128, 0, 255), 0).astype(np.uint8)
    return out


def rgbe_decode(rgbe: np.ndarray) -> np.ndarray:
    """RGBE bytes (..., 4) to float RGB (..., 3), using the pixel-centre convention (+0.5)."""
    rgbe = np.asarray(rgbe)
    e = rgbe[..., 3].astype(np.int32)
    f = np.where(e > 0, np.ldexp(1.0, e - (128 + 8)), 0.0).astype(np.float32)
    return ((rgbe[..., :3].astype(np.float32) + 0.5) * f[..., None]).astype(np.float32) * (e > 0)[..., None]


def _quantise(values: np.ndarray, levels: int, dtype, dither: bool, seed: int) -> np.ndarray:
    scaled = values * levels
    if dither:
        rng = np.random.default_rng(seed)
        scaled = scaled + rng.uniform(-0.5, 0.5, size=scaled.shape).astype(np.float32)
    return np.clip(np.rint(scaled), 0, levels).astype(dtype)


def to_file(values: np.ndarray, src: DataType | str, dst: DataType | str,
            options: ConvertOptions | None = None) -> np.ndarray:
    """Convert a buffer's full-precision ``values`` (H, W, C of ``src``) to ``dst`` file samples."""
    src, dst = datatype(src), datatype(dst)
    opts = options or ConvertOptions()
    if not compatible(src, dst):
        raise UnsupportedDataTypeError("(conversion)", dst.name, [src.name])
    v = np.asarray(values)
    if src.storage == "colour" and dst.storage == "colour" and v.shape[-1] == 4:
        rgba = v.astype(np.float32, copy=False)
        if not opts.premultiply and opts.colorclip != "raw":
            rgba = _unpremultiply(rgba)
        if dst.kind == "shared-exponent colour":
            return rgbe_encode(rgba[..., :3])
        if dst.is_quantized:
            if opts.desaturate:
                rgba = np.concatenate([_desaturate(rgba[..., :3]), rgba[..., 3:]], axis=-1)
            rgba = _colorclip(rgba, opts.colorclip)
        v = rgba[..., list(dst.view)]
    elif dst.kind == "shared-exponent colour":
        rgb = v[..., :3] if v.shape[-1] >= 3 else np.repeat(v[..., :1], 3, axis=-1)
        return rgbe_encode(rgb)
    elif dst.is_quantized and dst.sample != "i16":
        v = np.clip(v.astype(np.float32, copy=False), 0.0, 1.0)
    if dst.sample in ("u8", "u16"):
        if dst.kind in ("colour", "scalar") and opts.gamma != 1.0:
            v = np.power(np.clip(v, 0.0, None), 1.0 / opts.gamma)
        levels, dt = (255, np.uint8) if dst.sample == "u8" else (65535, np.uint16)
        return _quantise(v.astype(np.float32, copy=False), levels, dt, opts.dither, opts.dither_seed)
    if dst.sample == "i16":
        return np.rint(np.clip(v, -1.0, 1.0) * 32767).astype(np.int16)
    if dst.sample == "f16":
        return v.astype(np.float16)
    if dst.sample == "f32":
        return np.ascontiguousarray(v, dtype=np.float32)
    if dst.sample == "u32":
        return np.ascontiguousarray(v, dtype=np.uint32)
    if dst.sample == "bit":
        return (v > 0).astype(np.uint8)
    raise UnsupportedDataTypeError("(conversion)", dst.name, [src.name])  # pragma: no cover


def from_file(pixels: np.ndarray, dt: DataType | str) -> np.ndarray:
    """File samples of type ``dt`` back to full precision (float32; uint32 labels; uint8 masks)."""
    dt = datatype(dt)
    p = np.asarray(pixels)
    if dt.sample == "u8":
        return p.astype(np.float32) / 255.0
    if dt.sample == "u16":
        return p.astype(np.float32) / 65535.0
    if dt.sample == "i16":
        return p.astype(np.float32) / 32767.0
    if dt.sample == "rgbe":
        return rgbe_decode(p)
    if dt.sample in ("f16", "f32"):
        return p.astype(np.float32)
    if dt.sample == "u32":
        return p.astype(np.uint32)
    return p.astype(np.uint8)
