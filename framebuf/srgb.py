"""The sRGB transfer curve (IEC 61966-2-1), the one definition framebuf uses.

encode: ``12.92 x`` up to 0.0031308, else ``1.055 x^(1/2.4) - 0.055``;
decode: ``x / 12.92`` up to 0.04045, else ``((x + 0.055) / 1.055)^2.4``.

Two forms of each direction, side by side so they cannot drift: a scalar one that Numba kernels
compile (``shaders/colour.py`` wraps it in ``njit``; this module itself imports no Numba, so
``framebuf extract`` starts without it) and a numpy one over arrays. ``tests/test_srgb.py``
checks the two agree."""

from __future__ import annotations

import numpy as np

LINEAR_LIMIT = 0.0031308      # encode: linear segment up to here
ENCODED_LIMIT = 0.04045       # decode: linear segment up to here (= 12.92 * LINEAR_LIMIT, rounded)
SLOPE = 12.92
OFFSET = 0.055
EXPONENT = 2.4


def encode_scalar(a: float) -> float:
    """One non-negative linear value -> sRGB."""
    if a <= LINEAR_LIMIT:
        return SLOPE * a
    return (1.0 + OFFSET) * a ** (1.0 / EXPONENT) - OFFSET


def decode_scalar(a: float) -> float:
    """One non-negative sRGB value -> linear."""
    if a <= ENCODED_LIMIT:
        return a / SLOPE
    return ((a + OFFSET) / (1.0 + OFFSET)) ** EXPONENT


def encode(v: np.ndarray) -> np.ndarray:
    """Non-negative linear values -> sRGB, elementwise (float64)."""
    v = np.asarray(v, np.float64)
    return np.where(v <= LINEAR_LIMIT, v * SLOPE,
                    (1.0 + OFFSET) * np.power(v, 1.0 / EXPONENT) - OFFSET)


def decode(v: np.ndarray) -> np.ndarray:
    """Non-negative sRGB values -> linear, elementwise (float64)."""
    v = np.asarray(v, np.float64)
    return np.where(v <= ENCODED_LIMIT, v / SLOPE,
                    np.power((v + OFFSET) / (1.0 + OFFSET), EXPONENT))
