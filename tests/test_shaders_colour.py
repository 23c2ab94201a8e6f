"""gamma, srgb_encode/decode, exposure against hand-computed pixels."""

from __future__ import annotations

import numpy as np
import pytest

from framebuf import FrameBufferSet
from framebuf.errors import ShaderError
from framebuf.shading import apply_shader


def one(px, dtype="rgba_fp"):
    fbs = FrameBufferSet(len(px), 1)
    fbs.add("beauty", dtype, data=np.array([px], np.float32))
    return fbs


def test_srgb_encode_by_hand():
    fbs = one([[0.0, 0.002, 0.5, 1.0], [1.0, 0.18, -0.5, 1.0]])
    apply_shader("srgb_encode", fbs, {})
    out = fbs["beauty"].data[0]
    np.testing.assert_allclose(out[0, :3], [0.0, 0.002 * 12.92, 1.055 * 0.5 ** (1 / 2.4) - 0.055], rtol=1e-6)
    np.testing.assert_allclose(out[1, :3], [1.0, 1.055 * 0.18 ** (1 / 2.4) - 0.055,
                                            -(1.055 * 0.5 ** (1 / 2.4) - 0.055)], rtol=1e-6)
    assert out[0, 3] == 1.0


def test_srgb_roundtrip_and_premultiplied():
    rng = np.random.default_rng(1)
    px = rng.random((1, 50, 4)).astype(np.float32)
    fbs = FrameBufferSet(50, 1)
    fbs.add("beauty", "rgba_fp", data=px)
    apply_shader("srgb_encode", fbs, {})
    apply_shader("srgb_decode", fbs, {})
    np.testing.assert_allclose(fbs["beauty"].data, px, atol=2e-6)
    # premultiplied: (0.25, a=0.5) is colour 0.5 at half coverage -> encode(0.5) * 0.5
    fbs = one([[0.25, 0.25, 0.25, 0.5]])
    apply_shader("srgb_encode", fbs, {})
    assert fbs["beauty"].data[0, 0, 0] == pytest.approx((1.055 * 0.5 ** (1 / 2.4) - 0.055) * 0.5, rel=1e-6)
    fbs = one([[0.25, 0.25, 0.25, 0.5]])
    apply_shader("srgb_encode", fbs, {"premultiplied": False})
    assert fbs["beauty"].data[0, 0, 0] == pytest.approx(1.055 * 0.25 ** (1 / 2.4) - 0.055, rel=1e-6)


def test_gamma_and_inverse():
    fbs = one([[0.25, 0.5, 1.0, 1.0]])
    apply_shader("gamma", fbs, {"gamma": 2.0, "dst": "g"})
    np.testing.assert_allclose(fbs["g"].data[0, 0], [0.5, 0.5 ** 0.5, 1.0, 1.0], rtol=1e-6)
    apply_shader("gamma", fbs, {"gamma": 2.0, "inverse": True})
    np.testing.assert_allclose(fbs["beauty"].data[0, 0], [0.0625, 0.25, 1.0, 1.0], rtol=1e-6)
    with pytest.raises(ShaderError, match="gamma must be positive"):
        apply_shader("gamma", fbs, {"gamma": 0.0})


def test_exposure_rgb_only_buffer():
    fbs = one([[0.25, 0.5, 1.0]], dtype="rgb_fp")
    apply_shader("exposure", fbs, {"stops": 2.0})
    np.testing.assert_allclose(fbs["beauty"].data[0, 0], [1.0, 2.0, 4.0])
    assert fbs["beauty"].storage[0, 0, 3] == 0.0  # the alpha of the shared storage is untouched


def test_refuses_depth():
    fbs = one([[1, 1, 1, 1]])
    fbs.add("z", "z")
    with pytest.raises(ShaderError, match="depth"):
        apply_shader("exposure", fbs, {"src": "z"})
