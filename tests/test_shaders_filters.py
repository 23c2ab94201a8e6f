"""Post-filters: hand-computed pixels, scipy.ndimage (test-only reference), borders, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from framebuf import FrameBufferSet
from framebuf.errors import ShaderError
from framebuf.shading import apply_shader
from framebuf.postfilters import PROFILES, kernel_weights

FILTERS = list(PROFILES)


def scipy_reference(img: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Zero padding, then divide by the filtered all-ones image: the renormalised border rule."""
    conv = lambda a: ndimage.convolve1d(ndimage.convolve1d(a, w, axis=1, mode="constant"), w, axis=0, mode="constant")
    num = conv(img.astype(np.float64))
    den = conv(np.ones(img.shape[:2]))
    return num / (den[:, :, None] if img.ndim == 3 else den)


def colour_set(img):
    fbs = FrameBufferSet(img.shape[1], img.shape[0])
    fbs.add("beauty", "rgba_fp", data=img)
    return fbs


@pytest.mark.parametrize("name", FILTERS)
@pytest.mark.parametrize("radius", [1.5, 2.0, 3.7, 5.0])
def test_matches_scipy(name, radius):
    rng = np.random.default_rng(7)
    img = (rng.random((29, 41, 4)) * 4 - 1).astype(np.float32)
    fbs = colour_set(img)
    apply_shader(name, fbs, {"radius": radius, "dst": "out"})
    ref = scipy_reference(img, kernel_weights(name, radius))
    np.testing.assert_allclose(fbs["out"].data, ref, atol=1e-5)
    np.testing.assert_array_equal(fbs["beauty"].data, img)  # dst given: src untouched


@pytest.mark.parametrize("name", FILTERS)
def test_interior_matches_scipy_any_mode_and_constant_stays_constant(name):
    rng = np.random.default_rng(3)
    img = rng.random((40, 40, 4)).astype(np.float32)
    w = kernel_weights(name, 4.0)
    fbs = colour_set(img)
    apply_shader(name, fbs, {"radius": 4.0})
    r = (len(w) - 1) // 2
    ref = ndimage.convolve1d(ndimage.convolve1d(img, w, axis=1, mode="reflect"), w, axis=0, mode="reflect")
    np.testing.assert_allclose(fbs["beauty"].data[r:-r, r:-r], ref[r:-r, r:-r], atol=1e-5)
    flat = colour_set(np.full((9, 11, 4), 0.7, np.float32))
    apply_shader(name, flat, {"radius": 4.0})
    np.testing.assert_allclose(flat["beauty"].data, 0.7, atol=1e-6)


def test_box_by_hand():
    # impulse of 9 at the corner; box radius 1 = 3x3 taps; at the corner only 2x2 taps are inside
    img = np.zeros((4, 5, 4), np.float32)
    img[0, 0, 0] = 9.0
    fbs = colour_set(img)
    apply_shader("box", fbs, {"radius": 1.0})
    out = fbs["beauty"].data[:, :, 0]
    assert out[0, 0] == pytest.approx(9 / 4)      # 2x2 taps in the image
    assert out[0, 1] == pytest.approx(9 / 6)      # 3x2 taps
    assert out[1, 1] == pytest.approx(9 / 9)      # full 3x3
    assert out[2, 2] == 0.0


def test_triangle_weights_by_hand():
    np.testing.assert_allclose(kernel_weights("triangle", 2.0), [0.25, 0.5, 0.25])
    np.testing.assert_allclose(kernel_weights("box", 2.0), [0.2] * 5)
    for name in ("triangle", "gauss", "mitchell", "lanczos"):
        np.testing.assert_array_equal(kernel_weights(name, 1.0), [1.0])  # zero at +-radius: identity
    w = kernel_weights("gauss", 2.0)
    e = np.exp(-4.5 * 0.25) - np.exp(-4.5)
    np.testing.assert_allclose(w, np.array([e, 1 - np.exp(-4.5), e]) / (2 * e + 1 - np.exp(-4.5)))
    assert (kernel_weights("mitchell", 4.0) < 0).any()  # the negative lobes


def test_scalar_view_of_colour_storage_is_filtered_in_place():
    fbs = FrameBufferSet(6, 5)
    rgba = np.zeros((5, 6, 4), np.float32)
    rgba[2, 3, 3] = 1.0
    rgba[:, :, 0] = 0.5
    fbs.add("beauty", "rgba_fp", data=rgba)
    fbs.add("alpha", "a_fp")  # the alpha channel of the same storage
    apply_shader("box", fbs, {"src": "alpha", "radius": 1.0})
    assert fbs["beauty"].data[2, 3, 3] == pytest.approx(1 / 9)
    assert fbs["beauty"].data[1, 2, 3] == pytest.approx(1 / 9)
    np.testing.assert_array_equal(fbs["beauty"].data[:, :, 0], 0.5)  # red untouched


@pytest.mark.parametrize("dtype,why", [("z", "depth"), ("n", "normals"), ("m", "motion"),
                                       ("tag", "labels"), ("bit", "bit mask")])
def test_refuses_non_colour(dtype, why):
    fbs = FrameBufferSet(4, 4)
    fbs.add("beauty", "rgba_fp")
    fbs.add("b", dtype)
    with pytest.raises(ShaderError, match=why):
        apply_shader("gauss", fbs, {"src": "b"})


def test_bad_radius():
    with pytest.raises(ShaderError, match="radius must be positive"):
        apply_shader("gauss", colour_set(np.zeros((3, 3, 4), np.float32)), {"radius": 0.0})


def test_image_smaller_than_kernel():
    img = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    fbs = colour_set(img)
    apply_shader("lanczos", fbs, {"radius": 6.0, "dst": "o"})
    np.testing.assert_allclose(fbs["o"].data, scipy_reference(img, kernel_weights("lanczos", 6.0)), atol=1e-5)
