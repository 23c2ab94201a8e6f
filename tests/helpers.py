"""Shared test helpers, a plain module the test files import (``from helpers import ...``):
the independent reader (OpenImageIO), a test image generator, a one-buffer set."""

from __future__ import annotations

import numpy as np
import pytest

import framebuf

try:  # the independent reader; a test extra, but every format test relies on it
    import OpenImageIO as oiio
except ImportError:  # pragma: no cover - the test extra installs it
    oiio = None


def oiio_read(path, dtype: str = "float", subimage: int = 0, unassociated: bool = True):
    """Read a file with OpenImageIO and return (pixels[h, w, c], spec).

    ``dtype`` is an OIIO type name ("uint8", "uint16", "half", "float", "uint32"). Alpha is left
    unassociated so PNG/TGA values come back as written, not premultiplied.
    """
    if oiio is None:
        pytest.skip("OpenImageIO is not installed")
    config = oiio.ImageSpec()
    if unassociated:
        config.attribute("oiio:UnassociatedAlpha", 1)
    inp = oiio.ImageInput.open(str(path), config)
    if inp is None:
        raise AssertionError(f"OpenImageIO cannot open {path}: {oiio.geterror()}")
    try:
        if subimage:
            inp.seek_subimage(subimage, 0)
        spec = inp.spec()
        pixels = inp.read_image(0, spec.nchannels, dtype)
        if pixels is None:
            raise AssertionError(f"OpenImageIO cannot read {path}: {inp.geterror()}")
        pixels = np.asarray(pixels)
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        return pixels, spec
    finally:
        inp.close()


def make_test_image(height: int = 37, width: int = 300, channels: int = 4, seed: int = 1) -> np.ndarray:
    """A float32 image with flat areas, a gradient, a run longer than 128 pixels, noise and values
    outside [0, 1] (for float formats), top row first."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, channels), np.float32)
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    for c in range(channels):
        img[:, :, c] = (x[None, :] * (c + 1) / channels + y * 0.25) % 1.0
    img[: height // 3, :200, :] = 0.5                     # flat run longer than 128 pixels
    img[height // 3: height // 2, :, :] = rng.random((height // 2 - height // 3, width, channels))
    img[-2:, -20:, : min(3, channels)] = 3.5               # out of range (survives in float types)
    img[-1, :5, : min(3, channels)] = -0.25
    return img


def buffer(dtype: str, data: np.ndarray):
    """A user buffer ``b`` of ``dtype`` holding ``data`` (converted to the type's array dtype)."""
    fbs = framebuf.FrameBufferSet(data.shape[1], data.shape[0])
    return fbs.add("b", dtype, user=True, data=np.asarray(data).astype(framebuf.datatype(dtype).dtype))
