"""Pixel reconstruction filters of mental ray's ``filter`` option (reference section 2.3).

A :class:`Filter` is a small value: a name, a full width and a full height in pixels. Every filter
here is *separable*, ``weight(dx, dy) = f(dx, rx) * f(dy, ry)`` with ``rx, ry`` half the width and
height, and every ``f`` is zero at and beyond its radius. The 1-D profiles, ``d`` in pixels and
``r`` the radius on that axis:

``box``        1 for ``-r <= d < r`` (half-open, so a 1-pixel box is exactly the pixel ``[i, i+1)``).
``triangle``   ``1 - |d| / r``.
``gauss``      ``exp(-4.5 u^2) - exp(-4.5)`` with ``u = |d| / r``. At the default width 3 (``r = 1.5``)
               that is ``exp(-2 d^2) - exp(-4.5)``: mental ray's ``exp(-2 r^2)`` fall-off, shifted
               down so it reaches 0 exactly at the radius instead of being cut off with a step
               (the pbrt-v3 Gaussian construction). Other widths stretch the same curve.
``mitchell``   Mitchell-Netravali with ``B = C = 1/3`` over ``t = 2 |d| / r`` in ``[0, 2)``.
``lanczos``    ``sinc(d) * sinc(d / r)``, ``sinc(t) = sin(pi t) / (pi t)``: a Lanczos window with
               ``a = r``, lobes at whole-pixel distances.
``clip_mitchell`` / ``clip_lanczos``  the same kernels; the resolver clamps each result component
               to the range of the samples that contributed with a nonzero weight.

``blackman_harris``  ``a0 + a1 cos(pi u) + a2 cos(2 pi u) + a3 cos(3 pi u)``, ``u = |d| / r``, with
               the 4-term coefficients 0.35875, 0.48829, 0.14128, 0.01168 (OpenImageIO's
               ``blackman-harris``; not one of mental ray's filters, so it has no grammar letter).

Default sizes: the ``default_size`` column of :data:`FILTERS`. Inside Numba a filter is its integer :attr:`Filter.code` plus the two radii; the kernels
branch on the code (HACKING.md: never pass a jitted function).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from ..errors import UnsupportedOptionError

@dataclass(frozen=True)
class FilterKind:
    """One row of the pixel-filter table: name, integer code of its case in :func:`filter_1d`,
    full default width (= height) in pixels when the scene gives none (mental ray manual, options),
    and its one-letter code in the .mi grammar (case matters; None: no letter)."""

    name: str
    code: int
    default_size: float
    letter: str | None


BOX, TRIANGLE, GAUSS, MITCHELL, LANCZOS, CLIP_MITCHELL, CLIP_LANCZOS, BLACKMAN_HARRIS = range(8)

#: the one table of pixel filters; scenes, the resolver, docs and tests derive from it. A new
#: filter is one row here plus its case in filter_1d (then touch resolve/kernels.py: Numba cache).
FILTERS = (
    FilterKind("box", BOX, 1.0, "b"),
    FilterKind("triangle", TRIANGLE, 2.0, "t"),
    FilterKind("gauss", GAUSS, 3.0, "g"),
    FilterKind("mitchell", MITCHELL, 4.0, "m"),
    FilterKind("lanczos", LANCZOS, 4.0, "l"),
    FilterKind("clip_mitchell", CLIP_MITCHELL, 4.0, "M"),
    FilterKind("clip_lanczos", CLIP_LANCZOS, 4.0, "c"),
    # not in mental ray; OpenImageIO's "blackman-harris", default width 3
    FilterKind("blackman_harris", BLACKMAN_HARRIS, 3.0, None),
)

FILTER_CODES = {f.name: f.code for f in FILTERS}
DEFAULT_SIZES = {f.name: f.default_size for f in FILTERS}
GRAMMAR_LETTERS = {f.letter: f.name for f in FILTERS if f.letter}


class UnknownFilterError(UnsupportedOptionError):
    """A filter name that is not one of mental ray's pixel filters, or a bad filter size."""


def canonical_filter_name(name: str) -> str:
    """``"clip mitchell"``, ``"Clip-Mitchell"`` and ``"clip_mitchell"`` are one filter."""
    text = str(name).strip()
    if text in GRAMMAR_LETTERS:
        return GRAMMAR_LETTERS[text]
    key = "_".join(text.lower().replace("-", " ").replace("_", " ").split())
    if key not in FILTER_CODES:
        raise UnknownFilterError(
            f"unknown pixel filter {name!r}; valid filters: {', '.join(FILTER_CODES)}"
        )
    return key


@dataclass(frozen=True, init=False)
class Filter:
    """A pixel reconstruction filter: ``name`` plus full ``width`` and ``height`` in pixels."""

    name: str
    width: float
    height: float
    code: int = field(compare=False, repr=False)

    def __init__(self, name: str = "box", width: float | None = None, height: float | None = None):
        key = canonical_filter_name(name)
        if width is None:
            width = DEFAULT_SIZES[key]
        if height is None:
            height = width  # the manual: H defaults to W
        for label, size in (("width", width), ("height", height)):
            if not (isinstance(size, (int, float, np.floating, np.integer)) and math.isfinite(size)
                    and size > 0):
                raise UnknownFilterError(f"filter {key}: {label} must be a positive number, not {size!r}")
        object.__setattr__(self, "name", key)
        object.__setattr__(self, "width", float(width))
        object.__setattr__(self, "height", float(height))
        object.__setattr__(self, "code", FILTER_CODES[key])

    @classmethod
    def make(cls, name: str, width: float | None = None, height: float | None = None) -> "Filter":
        return cls(name, width, height)

    @classmethod
    def box(cls, width: float | None = None, height: float | None = None) -> "Filter":
        return cls("box", width, height)

    @classmethod
    def triangle(cls, width: float | None = None, height: float | None = None) -> "Filter":
        return cls("triangle", width, height)

    @classmethod
    def gauss(cls, width: float | None = None, height: float | None = None) -> "Filter":
        return cls("gauss", width, height)

    @classmethod
    def mitchell(cls, width: float | None = None, height: float | None = None) -> "Filter":
        return cls("mitchell", width, height)

    @classmethod
    def lanczos(cls, width: float | None = None, height: float | None = None) -> "Filter":
        return cls("lanczos", width, height)

    @property
    def radius(self) -> tuple[float, float]:
        """Half the width and half the height, in pixels."""
        return (self.width / 2.0, self.height / 2.0)

    @property
    def clips(self) -> bool:
        """True for the clip variants, whose results stay within the contributing samples' range."""
        return self.code in (CLIP_MITCHELL, CLIP_LANCZOS)

    @property
    def is_pixel_box(self) -> bool:
        """A 1x1 box: each sample counts once, for its own pixel (the plain average)."""
        return self.code == BOX and self.width == 1.0 and self.height == 1.0

    def evaluate(self, dx, dy):
        """Weight of a sample at offset ``(dx, dy)`` pixels from a pixel centre; vectorised.

        Scalars in, a float out; arrays in (broadcast together), a float64 array out.
        """
        dx_arr = np.asarray(dx, dtype=np.float64)
        dy_arr = np.asarray(dy, dtype=np.float64)
        dx_b, dy_b = np.broadcast_arrays(dx_arr, dy_arr)
        rx, ry = self.radius
        out = evaluate_many(self.code, rx, ry, np.ascontiguousarray(dx_b).ravel(),
                            np.ascontiguousarray(dy_b).ravel())
        if dx_b.ndim == 0:
            return float(out[0])
        return out.reshape(dx_b.shape)


@njit(cache=True, inline="always")
def _sinc(t):
    if t == 0.0:
        return 1.0
    a = math.pi * t
    return math.sin(a) / a


@njit(cache=True)
def filter_1d(code, d, r):
    """The 1-D profile of filter ``code`` at distance ``d`` for radius ``r`` (module docstring).

    A plain call (LLVM still inlines it where it pays): Numba's inline="always" re-typed every
    filter's case into each caller and made it the largest part of the resolve kernels' compile.
    """
    if code == BOX:
        return 1.0 if (d >= -r and d < r) else 0.0
    ad = abs(d)
    if not ad < r:  # also rejects NaN
        return 0.0
    if code == TRIANGLE:
        return 1.0 - ad / r
    if code == GAUSS:
        u = ad / r
        return math.exp(-4.5 * u * u) - math.exp(-4.5)
    if code == MITCHELL or code == CLIP_MITCHELL:
        t = 2.0 * ad / r
        b = 1.0 / 3.0
        c = 1.0 / 3.0
        if t > 1.0:
            return ((-b - 6.0 * c) * t * t * t + (6.0 * b + 30.0 * c) * t * t
                    + (-12.0 * b - 48.0 * c) * t + (8.0 * b + 24.0 * c)) / 6.0
        return ((12.0 - 9.0 * b - 6.0 * c) * t * t * t + (-18.0 + 12.0 * b + 6.0 * c) * t * t
                + (6.0 - 2.0 * b)) / 6.0
    if code == BLACKMAN_HARRIS:
        # 4-term Blackman-Harris window centred on 0, u in (-1, 1); its value at |u| = 1 is
        # a0 - a1 + a2 - a3 = 6e-5, so cutting it off at the radius is a negligible step
        u = math.pi * ad / r
        return 0.35875 + 0.48829 * math.cos(u) + 0.14128 * math.cos(2.0 * u) + 0.01168 * math.cos(3.0 * u)
    # LANCZOS, CLIP_LANCZOS
    return _sinc(d) * _sinc(d / r)


@njit(cache=True)
def evaluate_many(code, rx, ry, dx, dy):
    out = np.empty(dx.shape[0], np.float64)
    for k in range(dx.shape[0]):
        out[k] = filter_1d(code, dx[k], rx) * filter_1d(code, dy[k], ry)
    return out
