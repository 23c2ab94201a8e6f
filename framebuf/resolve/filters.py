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

Default sizes (full width = full height, pixels): box 1, triangle 2, gauss 3, mitchell 4,
lanczos 4. Inside Numba a filter is its integer :attr:`Filter.code` plus the two radii; the kernels
branch on the code (HACKING.md: never pass a jitted function).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from ..errors import UnsupportedOptionError

BOX, TRIANGLE, GAUSS, MITCHELL, LANCZOS, CLIP_MITCHELL, CLIP_LANCZOS = range(7)

FILTER_CODES = {
    "box": BOX,
    "triangle": TRIANGLE,
    "gauss": GAUSS,
    "mitchell": MITCHELL,
    "lanczos": LANCZOS,
    "clip_mitchell": CLIP_MITCHELL,
    "clip_lanczos": CLIP_LANCZOS,
}

#: full filter width (= height) in pixels when the scene gives none (mental ray manual, options).
DEFAULT_SIZES = {
    "box": 1.0, "triangle": 2.0, "gauss": 3.0, "mitchell": 4.0, "lanczos": 4.0,
    "clip_mitchell": 4.0, "clip_lanczos": 4.0,
}

#: the one-letter codes of the .mi grammar (``M`` clip mitchell, ``c`` clip lanczos); case matters.
GRAMMAR_LETTERS = {"b": "box", "t": "triangle", "g": "gauss", "m": "mitchell", "l": "lanczos",
                   "M": "clip_mitchell", "c": "clip_lanczos"}


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
    # LANCZOS, CLIP_LANCZOS
    return _sinc(d) * _sinc(d / r)


@njit(cache=True)
def evaluate_many(code, rx, ry, dx, dy):
    out = np.empty(dx.shape[0], np.float64)
    for k in range(dx.shape[0]):
        out[k] = filter_1d(code, dx[k], rx) * filter_1d(code, dy[k], ry)
    return out
