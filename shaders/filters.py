"""Post-filters: box, triangle, gauss, mitchell, lanczos, applied to a whole colour buffer.

Every filter is separable: a 1-D kernel along x, then the same kernel along y. The taps sit at
whole-pixel offsets ``d = -R .. R`` (``|d| <= radius`` for box, ``|d| < radius`` for the others,
whose profiles are 0 at the radius), weighted by the filter's profile at
``d`` (the same profiles as the pixel filters of ``framebuf.resolve``, ``u = |d| / radius``):

========== ============================================== ===============
filter     weight                                         default radius
========== ============================================== ===============
box        1 for ``|d| <= radius``                        1
triangle   ``1 - u``                                      2
gauss      ``exp(-4.5 u^2) - exp(-4.5)``                   2
mitchell   Mitchell-Netravali, B = C = 1/3, ``t = 2u``     2
lanczos    ``sinc(2u) sinc(u)`` (Lanczos-2 over the radius)   4
========== ============================================== ===============

box is symmetric here, unlike the half-open box of the pixel filter: a post-filter tap is a whole
pixel. The tapered filters are zero at ``|d| = radius``, so a radius of 1 or less is the identity
(box: below 1). Lanczos is stretched so its two lobes span the radius: a Lanczos kernel at its
natural scale is an *interpolating* kernel, zero at every whole-pixel offset, i.e. the identity on
pixels; radius 2 is therefore the identity too, and radius 4 a low-pass at half the pixel
frequency. The kernel is normalised to sum 1.

**Borders**: taps that fall outside the image are dropped and the remaining weights renormalised
to sum 1 (equivalently: the filtered image divided by the filtered all-ones image, with zero
padding). A constant image stays exactly constant up to the border, and nothing from outside the
picture (black, a mirror image) leaks in.

Only colour, scalar and coverage buffers are filtered; depth, normals, motion, labels, UV and bit
masks are refused with a ShaderError that says why (blending them invents values).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from framebuf.errors import ShaderError
from framebuf.hookspecs import hookimpl
from framebuf.shading import PRIMARY, Param, output_shader

from ._common import COLOUR_KINDS, f32, require_kind, same_size, writable_f32

FILTERABLE = COLOUR_KINDS + ("scalar", "coverage")


def _sinc(t: np.ndarray) -> np.ndarray:
    return np.sinc(t)  # numpy's sinc is sin(pi t) / (pi t)


def _mitchell(t: np.ndarray) -> np.ndarray:
    b = c = 1.0 / 3.0
    near = ((12 - 9 * b - 6 * c) * t**3 + (-18 + 12 * b + 6 * c) * t**2 + (6 - 2 * b)) / 6
    far = ((-b - 6 * c) * t**3 + (6 * b + 30 * c) * t**2 + (-12 * b - 48 * c) * t + (8 * b + 24 * c)) / 6
    return np.where(t > 1, far, near)


#: name -> (profile of (d, radius) for |d| < radius, default radius). Table-driven: a new filter
#: is one row.
PROFILES = {
    "box": (lambda d, r: np.ones_like(d), 1.0),
    "triangle": (lambda d, r: 1.0 - np.abs(d) / r, 2.0),
    "gauss": (lambda d, r: np.exp(-4.5 * (d / r) ** 2) - math.exp(-4.5), 2.0),
    "mitchell": (lambda d, r: _mitchell(2.0 * np.abs(d) / r), 2.0),
    "lanczos": (lambda d, r: _sinc(2.0 * d / r) * _sinc(d / r), 4.0),
}


def kernel_weights(name: str, radius: float) -> np.ndarray:
    """The normalised 1-D taps (float64, length 2R+1) of filter ``name`` at ``radius``."""
    profile, _ = PROFILES[name]
    # box includes |d| = radius; the tapered profiles are 0 there, so that tap is not kept
    big_r = int(math.floor(radius)) if name == "box" else int(math.ceil(radius)) - 1
    big_r = max(big_r, 0)
    d = np.arange(-big_r, big_r + 1, dtype=np.float64)
    w = profile(d, float(radius)) if big_r > 0 else np.ones(1)
    s = w.sum()
    if not s > 0:
        raise ShaderError(f"filter {name!r} at radius {radius} has no positive weight")
    return w / s


@njit(cache=True, inline="always")
def _x_row(row, w, comps, o):
    """One row along x, the row flattened to W*C: interior pixels as contiguous multiply-adds
    over the whole row (vectorisable), the R border pixels on each side renormalised."""
    width = row.shape[0] // comps
    taps = w.shape[0]
    r = (taps - 1) // 2
    lo = min(r, width)
    hi = max(width - r, lo)
    # slices, so every index runs from 0 and LLVM can vectorise (no negative-index wrap)
    inner = o[lo * comps: hi * comps]
    n_inner = inner.shape[0]
    for j in range(n_inner):
        inner[j] = 0.0
    for k in range(taps):
        wk = w[k]
        seg = row[(lo + k - r) * comps: (hi + k - r) * comps]
        for j in range(n_inner):
            inner[j] += wk * seg[j]
    for x in range(lo):
        _border_pixel(row, w, comps, width, r, x, o)
    for x in range(hi, width):
        _border_pixel(row, w, comps, width, r, x, o)


@njit(cache=True)
def _border_pixel(row, w, comps, width, r, x, o):
    # a plain call: border pixels are few, and Numba-inlining this twice into _x_row cost more
    # compile time than the call costs at run time
    norm = 0.0
    for k in range(w.shape[0]):
        xx = x + k - r
        if 0 <= xx < width:
            norm += w[k]
    for ch in range(comps):
        s = 0.0
        for k in range(w.shape[0]):
            xx = x + k - r
            if 0 <= xx < width:
                s += w[k] * row[xx * comps + ch]
        o[x * comps + ch] = s / norm


@njit(cache=True)
def _filter_rows(src, w, comps, out):
    """Both passes, streaming: rows filtered along x go into a ring of 2R+1 rows (a few hundred KB,
    cache-resident), and each output row is the weighted sum of the ring rows it needs (border
    rows renormalised over the in-image taps). The image is read once and written once, with no
    full-size temporary; ``out`` may be ``src``, because source row ``y`` has been consumed by the
    x pass before output row ``y`` is written.
    """
    height, n = src.shape
    taps = w.shape[0]
    r = (taps - 1) // 2
    ring = np.empty((taps, n), np.float32)
    next_row = 0
    for y in range(height):
        last = min(height - 1, y + r)
        while next_row <= last:
            _x_row(src[next_row], w, comps, ring[next_row % taps])
            next_row += 1
        k0 = max(0, r - y)
        k1 = min(taps, height - y + r)
        norm = 0.0
        for k in range(k0, k1):
            norm += w[k]
        o = out[y]
        for j in range(n):
            o[j] = 0.0
        for k in range(k0, k1):
            wk = np.float32(w[k] / norm)
            srow = ring[(y + k - r) % taps]
            for j in range(n):
                o[j] += wk * srow[j]


def separable_filter(pixels: np.ndarray, weights: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Filter an (H, W, C) float32 array with ``weights`` along x then y (border: renormalised).

    ``out`` may be ``pixels`` itself (in place); it must be C-contiguous float32.
    """
    a = np.ascontiguousarray(pixels, dtype=np.float32)
    h, wd, c = a.shape
    if out is None:
        out = np.empty_like(a)
    _filter_rows(a.reshape(h, wd * c), np.ascontiguousarray(weights, dtype=np.float32), c,
                 out.reshape(h, wd * c))
    return out


def _make(name: str):
    _, default_radius = PROFILES[name]

    @output_shader(
        name,
        params=[
            Param("src", "buffer", PRIMARY, doc="colour, scalar or coverage buffer to filter"),
            Param("dst", "buffer", None, doc="output buffer (default: in place)"),
            Param("radius", "scalar", default_radius, doc="filter radius in pixels"),
        ],
        reads=["src"], writes=["dst"], creates={"dst": "src"},
        doc=f"{name} post-filter (separable; border taps renormalised)",
    )
    def shader(ctx, src, dst, radius):
        if not radius > 0:
            raise ShaderError(f"shader {ctx.shader!r}: radius must be positive, got {radius}")
        require_kind(ctx, src, FILTERABLE, "src", "a post-filter")
        require_kind(ctx, dst, FILTERABLE, "dst", "a post-filter")
        same_size(ctx, src, dst)
        out, direct = writable_f32(dst)
        separable_filter(f32(src), kernel_weights(name, radius), out)
        if not direct:
            dst.data = out

    return shader


box = _make("box")
triangle = _make("triangle")
gauss = _make("gauss")
mitchell = _make("mitchell")
lanczos = _make("lanczos")


@hookimpl
def framebuf_output_shaders():
    return [box.spec, triangle.spec, gauss.spec, mitchell.spec, lanczos.spec]
