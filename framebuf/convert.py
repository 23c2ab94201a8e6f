"""Conversions on the way from a full-precision buffer to a file's samples, and back.

The rules are mental ray's (reference sections 2.3 and 4). For a colour target they apply in this
order:

1. Only for 8/16-bit targets: ``desaturate on`` moves an out-of-range colour along the line to its
   grey of equal (Rec. 709) luminance until every component is in [0, 1], instead of clamping the
   components one by one; a grey brighter than white becomes white, darker than black black.
2. Only for 8/16-bit targets, ``colorclip``: ``rgb`` clips RGB to [0, 1], then A to
   [max(R, G, B), 1]; ``alpha`` clips A to [0, 1], then RGB to [0, A]; ``raw`` clips each component
   to [0, 1] on its own.
3. ``premultiply off``: colours are un-premultiplied (RGB / A where A > 0), for every target.
   Ignored with ``colorclip raw``, which forces premultiplied output. The reference does not state
   the order of clipping and un-premultiplying; clipping first, on the premultiplied colour the
   renderer produced, is the order in which both the ``rgb`` rule (A >= max(R, G, B)) and the
   ``alpha`` rule (RGB <= A) do their evident job: the un-premultiplied colour stays in [0, 1].
4. Only for 8/16-bit targets: ``gamma G`` raises R, G, B **and A** to 1/G.
5. Only for 8/16-bit targets: ``dither on`` adds uniform noise one quantisation step wide
   (+-0.5 step) before rounding. Never on float, half or RGBE data.
6. Quantise (round to nearest, ties up; NaN becomes 0), or round to half (IEEE round-to-nearest-
   even; beyond 65504 becomes inf, as OpenEXR's own conversion does), or encode RGBE (Radiance's
   frexp rule; no alpha), or keep float32.

Float and half targets keep out-of-range values (and get the un-premultiply of rule 3).

Sources with fewer components than their storage (a user ``rgb_fp`` buffer, a user ``a`` buffer)
are first widened to RGBA: RGB gets A = 1 (opaque), a scalar v becomes (v, v, v, v), so writing it
as ``a`` gives v back and writing it as ``rgba`` gives a grey image of coverage v.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

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

    @property
    def premultiplied_output(self) -> bool:
        """Whether colour in the file is premultiplied by alpha (raw forces it on)."""
        return self.premultiply or self.colorclip == "raw"

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


# -- the colour rules, each a small function tested on its own ------------------------------------

def widen_to_rgba(values: np.ndarray) -> np.ndarray:
    """1, 3 or 4 colour components to RGBA float32 (see the module docstring for the rule)."""
    v = np.asarray(values, np.float32)
    c = v.shape[-1]
    if c == 4:
        return v
    if c == 3:
        return np.concatenate([v, np.ones(v.shape[:-1] + (1,), np.float32)], axis=-1)
    if c == 1:
        return np.repeat(v, 4, axis=-1)
    raise FramebufError(f"a colour buffer has 1, 3 or 4 components, not {c}")


def unpremultiply(rgba: np.ndarray) -> np.ndarray:
    out = np.array(rgba, np.float32, copy=True)
    a = out[..., 3:4]
    np.divide(out[..., :3], a, out=out[..., :3], where=a > 0)
    return out


def desaturate(rgb: np.ndarray) -> np.ndarray:
    """Move each out-of-range colour towards its grey of equal luminance until it fits [0, 1]."""
    rgb = np.array(rgb, np.float32, copy=True)
    hi = rgb.max(axis=-1)
    lo = rgb.min(axis=-1)
    out_of_range = (hi > 1.0) | (lo < 0.0)
    if np.any(out_of_range):
        c = rgb[out_of_range].astype(np.float64)
        y = np.clip(c @ LUMA.astype(np.float64), 0.0, 1.0)[:, None]
        h = c.max(axis=-1, keepdims=True)
        lo_ = c.min(axis=-1, keepdims=True)
        # largest t in [0, 1] with y + (c - y) t inside [0, 1] for every component
        with np.errstate(divide="ignore", invalid="ignore"):
            t_hi = np.where(h > 1.0, (1.0 - y) / (h - y), 1.0)
            t_lo = np.where(lo_ < 0.0, y / (y - lo_), 1.0)
        t = np.clip(np.nan_to_num(np.minimum(t_hi, t_lo), nan=0.0), 0.0, 1.0)
        rgb[out_of_range] = np.clip(y + (c - y) * t, 0.0, 1.0)
    return rgb


def colorclip(rgba: np.ndarray, mode: str) -> np.ndarray:
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


@njit(cache=True)
def _rgbe_encode_kernel(flat, ncomp, scales, out):
    """The rule of :func:`rgbe_encode_reference` in one pass over float32 pixels (``flat`` holds
    ``ncomp`` floats per pixel, ``out`` 4 bytes per pixel).

    The exponent of the largest component is read from the bits of the maximum itself (stored
    into a one-element float32 array viewed as uint32) instead of calling frexp or picking which
    component was largest: that pick was a branch the noise of a render mispredicts, and removing
    it halved the kernel's time. The scale m * 256 / v is exactly the power of two 2**(8 - e)
    (v = m * 2**e), so component * scale is exact in float32 and truncation is floor.
    """
    cell = np.empty(1, np.float32)
    cell_bits = cell.view(np.uint32)
    for i in range(out.shape[0] // 4):
        p = i * ncomp
        q = i * 4
        r = flat[p]
        g = flat[p + 1]
        b = flat[p + 2]
        r = r if r > 0 else np.float32(0.0)   # NaN and negatives -> 0
        g = g if g > 0 else np.float32(0.0)
        b = b if b > 0 else np.float32(0.0)
        v = max(r, max(g, b))
        if v < 1e-32:
            out[q] = 0
            out[q + 1] = 0
            out[q + 2] = 0
            out[q + 3] = 0
            continue
        cell[0] = v
        biased = (cell_bits[0] >> 23) & 255
        if biased >= 254:  # inf (255), or e + 128 beyond a byte (254): the largest value
            out[q] = 255
            out[q + 1] = 255
            out[q + 2] = 255
            out[q + 3] = 255
            continue
        scale = scales[biased]              # 2**(8 - e), from a table: ldexp is a libm call
        out[q] = np.uint8(int(r * scale))   # < 256: component <= v and v * scale = 256 * m
        out[q + 1] = np.uint8(int(g * scale))
        out[q + 2] = np.uint8(int(b * scale))
        out[q + 3] = np.uint8(biased + 2)   # e + 128 with e = biased - 126


# 2**(8 - e) for every float32 biased exponent E (e = E - 126); entries outside float32's range
# are never used (values below 1e-32 and above RGBE's range are handled before the lookup)
_RGBE_SCALES = np.array([2.0 ** min(max(134 - biased, -149), 127) for biased in range(256)],
                        np.float32)


def rgbe_encode(rgb: np.ndarray) -> np.ndarray:
    """Float RGB (..., 3) to Radiance RGBE bytes (..., 4), by the rule of
    :func:`rgbe_encode_reference` in one Numba pass (numpy's version is about 10x slower, which made
    RGBE conversion cost more than OpenImageIO's whole HDR write). Components after the third
    (an RGBA array's alpha) are ignored, so callers need not copy out an RGB view."""
    rgb = np.asarray(rgb)
    # frame buffers are float32; other input is rounded to float32 first (RGBE keeps 8 bits of
    # mantissa, so this changes a result only when a value sits on a rounding boundary)
    ncomp = rgb.shape[-1]
    flat = np.ascontiguousarray(rgb, dtype=np.float32).reshape(-1)
    out = np.empty(flat.shape[0] // ncomp * 4, np.uint8)
    _rgbe_encode_kernel(flat, ncomp, _RGBE_SCALES, out)
    return out.reshape(rgb.shape[:-1] + (4,))


def rgbe_encode_reference(rgb: np.ndarray) -> np.ndarray:
    """Float RGB (..., 3) to Radiance RGBE bytes (..., 4) in numpy (the definition; tests compare
    the kernel with it).

    Radiance's rule: with v = max(R, G, B) = m * 2**e (frexp, 0.5 <= m < 1), each mantissa byte is
    floor(component * 256 * m / v) and the exponent byte e + 128; v < 1e-32 (and negative colours)
    give four zero bytes. Negative components are clipped to 0, exponents to the byte range.
    """
    rgb = np.maximum(np.nan_to_num(np.asarray(rgb, np.float64), nan=0.0), 0.0)
    v = rgb.max(axis=-1)
    mant, exp = np.frexp(v)
    out = np.zeros(rgb.shape[:-1] + (4,), np.uint8)
    ok = (v >= 1e-32) & np.isfinite(v) & (exp + 128 <= 255)
    big = np.isinf(v) | (exp + 128 > 255)        # beyond RGBE's range: the largest encodable value
    scale = np.where(ok, mant * 256.0 / np.where(ok, v, 1.0), 0.0)
    out[..., :3] = np.clip(np.floor(rgb * scale[..., None]), 0, 255).astype(np.uint8)
    out[..., 3] = np.where(ok, exp + 128, 0).astype(np.uint8)
    out[big] = 255
    return out


def rgbe_decode(rgbe: np.ndarray) -> np.ndarray:
    """RGBE bytes (..., 4) to float RGB (..., 3): (byte + 0.5) * 2**(E - 136), Radiance's
    centre-of-interval rule; exponent byte 0 means black."""
    rgbe = np.asarray(rgbe)
    e = rgbe[..., 3].astype(np.int32)
    f = np.where(e > 0, np.ldexp(1.0, e - (128 + 8)), 0.0)
    return ((rgbe[..., :3].astype(np.float64) + 0.5) * f[..., None]).astype(np.float32)


@njit(cache=True)
def _quantise_kernel(src, levels, out):
    """Round src * levels to the nearest integer in [0, levels]; NaN becomes 0. One pass, no
    temporaries: the hot path of every 8/16-bit writer."""
    flat_in = src.reshape(-1)
    flat_out = out.reshape(-1)
    for i in range(flat_in.size):
        x = flat_in[i] * levels
        if x >= levels:
            flat_out[i] = levels
        elif x > 0.0:
            flat_out[i] = np.int64(x + 0.5)     # x >= 0, so floor(x + 0.5) = round half up
        else:
            flat_out[i] = 0                     # also NaN


def quantise(values: np.ndarray, levels: int, dtype, dither: bool = False, seed: int = 0) -> np.ndarray:
    """Float [0, 1] data to integers 0..levels (round to nearest, ties up), optionally dithered."""
    v = np.ascontiguousarray(values, np.float32)
    if dither:
        rng = np.random.default_rng(seed)
        v = v + rng.uniform(-0.5, 0.5, size=v.shape).astype(np.float32) / np.float32(levels)
    out = np.empty(v.shape, dtype)
    _quantise_kernel(v, np.float32(levels), out)
    return out


def _colour_rules(rgba: np.ndarray, dst: DataType, opts: ConvertOptions) -> np.ndarray:
    """Rules 1-4 on RGBA float data for a colour target, in numpy; returns RGBA float32.

    The reference implementation: :func:`_colour_kernel` does the same in one pass for the
    writers, and the tests hold the two to each other."""
    rgba = np.nan_to_num(np.asarray(rgba, np.float32), nan=0.0, posinf=np.inf, neginf=-np.inf)
    if not dst.is_quantized:
        return rgba if opts.premultiplied_output else unpremultiply(rgba)
    if opts.desaturate:
        rgba = np.concatenate([desaturate(rgba[..., :3]), rgba[..., 3:]], axis=-1)
    rgba = colorclip(rgba, opts.colorclip)
    if not opts.premultiplied_output:
        rgba = unpremultiply(rgba)
    if opts.gamma != 1.0:
        rgba = np.power(rgba, np.float32(1.0 / opts.gamma))
    return rgba


CLIP_CODES = {"rgb": 0, "alpha": 1, "raw": 2}


@njit(cache=True)
def _colour_kernel(src, view, clip_mode, unpremult, desat, inv_gamma, levels, noise, out):
    """Rules 1-6 for an 8/16-bit colour target in one pass per pixel, without temporaries.

    src (n, c) float32 with c = 1 (scalar: v -> v, v, v, v), 3 (A = 1) or 4; view: the RGBA
    indices the target keeps; noise (n, len(view)) in quantisation steps, or (0, 0) for none;
    out (n, len(view)) integers 0..levels. Arithmetic mirrors the numpy reference in float32.
    """
    n, c = src.shape
    k = view.shape[0]
    use_noise = noise.shape[0] == n
    one = np.float32(1.0)
    zero = np.float32(0.0)
    for i in range(n):
        if c == 4:
            r, g, b, a = src[i, 0], src[i, 1], src[i, 2], src[i, 3]
        elif c == 3:
            r, g, b, a = src[i, 0], src[i, 1], src[i, 2], one
        else:
            r = g = b = a = src[i, 0]
        if r != r:                  # NaN -> 0
            r = zero
        if g != g:
            g = zero
        if b != b:
            b = zero
        if a != a:
            a = zero
        if desat:
            hi = max(r, max(g, b))
            lo = min(r, min(g, b))
            if hi > one or lo < zero:
                rr, gg, bb = np.float64(r), np.float64(g), np.float64(b)
                y = 0.2126 * rr + 0.7152 * gg + 0.0722 * bb
                y = min(max(y, 0.0), 1.0)
                t = 1.0
                if hi > one and hi > y:
                    t = min(t, (1.0 - y) / (np.float64(hi) - y))
                if lo < zero and y > lo:
                    t = min(t, y / (y - np.float64(lo)))
                t = min(max(t, 0.0), 1.0)
                r = np.float32(min(max(y + (rr - y) * t, 0.0), 1.0))
                g = np.float32(min(max(y + (gg - y) * t, 0.0), 1.0))
                b = np.float32(min(max(y + (bb - y) * t, 0.0), 1.0))
        if clip_mode == 0:          # rgb: RGB to [0, 1], then A to [max(R, G, B), 1]
            r = min(max(r, zero), one)
            g = min(max(g, zero), one)
            b = min(max(b, zero), one)
            a = min(max(a, max(r, max(g, b))), one)
        elif clip_mode == 1:        # alpha: A to [0, 1], then RGB to [0, A]
            a = min(max(a, zero), one)
            r = min(max(r, zero), a)
            g = min(max(g, zero), a)
            b = min(max(b, zero), a)
        else:                       # raw: each on its own
            r = min(max(r, zero), one)
            g = min(max(g, zero), one)
            b = min(max(b, zero), one)
            a = min(max(a, zero), one)
        if unpremult and a > zero:  # after the clip: the un-premultiplied colour stays in [0, 1]
            r = r / a
            g = g / a
            b = b / a
        for j in range(k):
            comp = view[j]
            x = r if comp == 0 else (g if comp == 1 else (b if comp == 2 else a))
            if inv_gamma != one:
                x = x ** inv_gamma
            x = x * levels
            if use_noise:
                x = x + noise[i, j]
            if x >= levels:
                out[i, j] = levels
            elif x > zero:
                out[i, j] = np.int64(x + np.float32(0.5))
            else:
                out[i, j] = 0


@njit(cache=True)
def _clip_pixel(src, p, clip_mode):
    """One RGBA pixel of flat ``src`` at ``p``, NaN to 0 and clipped by ``clip_mode``.

    The three clip modes are one expression with selects (the colour's ceiling is alpha's clip in
    mode 1, else 1; alpha is raised to the colour's maximum in mode 0, else clipped): a branch per
    mode inside the loop kept LLVM from vectorising it and cost 4x. A plain call, which LLVM
    inlines: Numba's own inlining (inline="always") doubled the kernels' compile time.
    """
    zero = np.float32(0.0)
    one = np.float32(1.0)
    r = src[p]
    g = src[p + 1]
    b = src[p + 2]
    a = src[p + 3]
    r = r if r == r else zero
    g = g if g == g else zero
    b = b if b == b else zero
    a = a if a == a else zero
    ac = min(max(a, zero), one)
    top = ac if clip_mode == 1 else one
    r = min(max(r, zero), top)
    g = min(max(g, zero), top)
    b = min(max(b, zero), top)
    a = min(max(a, max(r, max(g, b))), one) if clip_mode == 0 else ac
    return r, g, b, a


# The writers' hot path: colorclip and quantise RGBA with every other option at its default.
# ``src`` is the flat float32 RGBA samples, ``out`` the flat output samples. Same arithmetic as
# _colour_kernel, with the option branches gone so the loop stays in registers (about 6x
# faster). One kernel per output layout, chosen in Python: a layout branch inside the loop
# stopped vectorisation (4x), and separate kernels compile only the layouts a process writes.

@njit(cache=True)
def _quantise_rgba(src, clip_mode, levels, out):
    half = np.float32(0.5)
    for i in range(src.shape[0] // 4):
        r, g, b, a = _clip_pixel(src, 4 * i, clip_mode)
        out[4 * i] = np.int32(r * levels + half)
        out[4 * i + 1] = np.int32(g * levels + half)
        out[4 * i + 2] = np.int32(b * levels + half)
        out[4 * i + 3] = np.int32(a * levels + half)


@njit(cache=True)
def _quantise_rgb(src, clip_mode, levels, out):
    half = np.float32(0.5)
    for i in range(src.shape[0] // 4):
        r, g, b, a = _clip_pixel(src, 4 * i, clip_mode)
        out[3 * i] = np.int32(r * levels + half)
        out[3 * i + 1] = np.int32(g * levels + half)
        out[3 * i + 2] = np.int32(b * levels + half)


@njit(cache=True)
def _quantise_alpha(src, clip_mode, levels, out):
    half = np.float32(0.5)
    for i in range(src.shape[0] // 4):
        r, g, b, a = _clip_pixel(src, 4 * i, clip_mode)
        out[i] = np.int32(a * levels + half)


@njit(cache=True)
def _half_bits_kernel(bits, out):
    """float32 bit patterns to IEEE half bit patterns, round to nearest even: numpy's
    npy_floatbits_to_halfbits, in one pass (numpy's own astype(float16) is several times slower)."""
    flat_in = bits.reshape(-1)
    flat_out = out.reshape(-1)
    for i in range(flat_in.size):
        f = np.uint32(flat_in[i])
        h_sgn = (f & np.uint32(0x80000000)) >> np.uint32(16)
        f_exp = f & np.uint32(0x7F800000)
        if f_exp >= np.uint32(0x47800000):              # overflow, inf, NaN
            f_sig = f & np.uint32(0x007FFFFF)
            if f_exp == np.uint32(0x7F800000) and f_sig != 0:
                ret = np.uint32(0x7C00) + (f_sig >> np.uint32(13))
                if ret == np.uint32(0x7C00):
                    ret += np.uint32(1)
                flat_out[i] = h_sgn + ret
            else:
                flat_out[i] = h_sgn + np.uint32(0x7C00)
        elif f_exp <= np.uint32(0x38000000):            # subnormal half or zero
            if f_exp < np.uint32(0x33000000):
                flat_out[i] = h_sgn
            else:
                e = f_exp >> np.uint32(23)
                f_sig = np.uint32(0x00800000) + (f & np.uint32(0x007FFFFF))
                f_sig = f_sig >> (np.uint32(113) - e)
                if (f_sig & np.uint32(0x3FFF)) != np.uint32(0x1000) or (f & np.uint32(0x7FF)) != 0:
                    f_sig += np.uint32(0x1000)
                flat_out[i] = h_sgn + (f_sig >> np.uint32(13))
        else:
            h_exp = (f_exp - np.uint32(0x38000000)) >> np.uint32(13)
            f_sig = f & np.uint32(0x007FFFFF)
            if (f_sig & np.uint32(0x3FFF)) != np.uint32(0x1000):
                f_sig += np.uint32(0x1000)
            flat_out[i] = h_sgn + h_exp + (f_sig >> np.uint32(13))


def to_half(values: np.ndarray) -> np.ndarray:
    """float32 data to float16, bit-identical to ``astype(np.float16)`` (round to nearest even,
    overflow to inf, NaN kept), several times faster."""
    v = np.ascontiguousarray(values, np.float32)
    out = np.empty(v.shape, np.uint16)
    _half_bits_kernel(v.view(np.uint32), out)
    return out.view(np.float16)


#: output view (RGBA component indices) -> its quantise kernel
LAYOUTS = {(0, 1, 2, 3): _quantise_rgba, (0, 1, 2): _quantise_rgb, (3,): _quantise_alpha}


def _quantise_colour(v: np.ndarray, dst: DataType, opts: ConvertOptions) -> np.ndarray:
    levels, dtype = (255, np.uint8) if dst.sample == "u8" else (65535, np.uint16)
    h, w, c = v.shape
    src = np.ascontiguousarray(v, np.float32).reshape(h * w, c)
    view = np.asarray(dst.view, np.int64)
    noise = np.zeros((0, 0), np.float32)
    if opts.dither:
        noise = np.random.default_rng(opts.dither_seed).uniform(
            -0.5, 0.5, size=(h * w, len(view))).astype(np.float32)
    out = np.empty((h * w, len(view)), dtype)
    simple = (c == 4 and opts.premultiplied_output and not opts.desaturate and opts.gamma == 1.0
              and not opts.dither and dst.view in LAYOUTS)
    if simple:
        LAYOUTS[dst.view](src.reshape(-1), CLIP_CODES[opts.colorclip], np.float32(levels),
                          out.reshape(-1))
        return out.reshape(h, w, len(view))
    _colour_kernel(src, view, CLIP_CODES[opts.colorclip], not opts.premultiplied_output,
                   bool(opts.desaturate), np.float32(1.0 / opts.gamma), np.float32(levels), noise, out)
    return out.reshape(h, w, len(view))


def to_file(values: np.ndarray, src: DataType | str, dst: DataType | str,
            options: ConvertOptions | None = None) -> np.ndarray:
    """Convert full-precision ``values`` of a ``src`` buffer to ``dst`` file samples (H, W, C).

    ``values`` holds either the components ``src`` sees or its whole colour storage (RGBA).
    """
    src, dst = datatype(src), datatype(dst)
    opts = options or ConvertOptions()
    if not compatible(src, dst):
        raise UnsupportedDataTypeError("(conversion)", dst.name, [src.name])
    v = np.asarray(values)
    if v.ndim == 2:
        v = v[:, :, None]
    if dst.storage == "colour" and v.shape[-1] in (1, 3, 4):
        if dst.is_quantized:
            return _quantise_colour(v, dst, opts)
        rgba = widen_to_rgba(v)
        if not opts.premultiplied_output:
            rgba = unpremultiply(rgba)
        if dst.kind == "shared-exponent colour":
            return rgbe_encode(rgba)  # reads R, G, B of the RGBA array without a copy
        v = rgba if dst.view == (0, 1, 2, 3) else rgba[..., list(dst.view)]
    if dst.sample in ("u8", "u16"):
        levels, dt = (255, np.uint8) if dst.sample == "u8" else (65535, np.uint16)
        return quantise(v, levels, dt, opts.dither, opts.dither_seed)
    if dst.sample == "i16":
        return np.rint(np.clip(np.nan_to_num(v), -1.0, 1.0) * 32767).astype(np.int16)
    if dst.sample == "f16":
        return to_half(v)
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
        return p.astype(np.float32) / np.float32(255.0)
    if dt.sample == "u16":
        return p.astype(np.float32) / np.float32(65535.0)
    if dt.sample == "i16":
        return p.astype(np.float32) / np.float32(32767.0)
    if dt.sample == "rgbe":
        return rgbe_decode(p)
    if dt.sample in ("f16", "f32"):
        return p.astype(np.float32)
    if dt.sample == "u32":
        return p.astype(np.uint32)
    return p.astype(np.uint8)
