"""The post-filter kernels: profiles, 1-D taps and the separable whole-buffer filter.

Core code, so that ``framebuf.shading.blur`` and the ``shaders.filters`` output shaders (which keep
only the shader declarations) both import from here and neither imports the other. The
profiles, tap rule and border rule are described in ``shaders/filters.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .errors import ShaderError


def _sinc(t: np.ndarray) -> np.ndarray:
    return np.sinc(t)  # numpy's sinc is sin(pi t) / (pi t)


def _pixel_filter_profile(name: str):
    """The pixel filter's own 1-D profile (resolve/filters.py ``filter_1d``), for the taps of the
    post-filter of the same name: the triangle, Gauss and Mitchell curves are one definition.
    Box and Lanczos keep their own rows below: the post-filter box includes |d| = radius (a
    blur of radius 1 is 3 taps), and the post-filter Lanczos spans its radius with two lobes
    (``sinc(2d/r) sinc(d/r)``), where the pixel filter has one lobe per pixel."""
    def profile(d, r):
        from .resolve.filters import FILTER_CODES, evaluate_many

        # evaluate_many is the 2-D product of an x and a y profile: at y = 0 the y factor is a
        # constant, which kernel_weights' normalisation takes out
        return evaluate_many(FILTER_CODES[name], r, r, np.ascontiguousarray(d, np.float64),
                             np.zeros(len(d)))
    return profile


#: name -> (profile of (d, radius) for |d| < radius, default radius). Table-driven: a new filter
#: is one row.
PROFILES = {
    "box": (lambda d, r: np.ones_like(d), 1.0),
    "triangle": (_pixel_filter_profile("triangle"), 2.0),
    "gauss": (_pixel_filter_profile("gauss"), 2.0),
    "mitchell": (_pixel_filter_profile("mitchell"), 2.0),
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
