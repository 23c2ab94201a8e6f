"""Pixel filters: profiles, support, defaults, normalisation and clipping inside the resolver."""

from __future__ import annotations

import numpy as np
import pytest

from framebuf.resolve import Filter, Resolver, SampleBatch, UnknownFilterError
from framebuf.resolve.filters import FILTERS

NAMES = [f.name for f in FILTERS]          # every row of the one table


def jittered(width, height, per_axis, seed=0, margin=0):
    """Stratified jittered sample positions, optionally extending ``margin`` pixels outside."""
    rng = np.random.default_rng(seed)
    n = per_axis
    gx = np.arange(-margin * n, (width + margin) * n)
    gy = np.arange(-margin * n, (height + margin) * n)
    xx, yy = np.meshgrid(gx, gy)
    x = (xx + rng.random(xx.shape)) / n
    y = (yy + rng.random(yy.shape)) / n
    return x.ravel().astype(np.float32), y.ravel().astype(np.float32)


def resolve_colour(filt, x, y, rgba, width=6, height=5):
    r = Resolver(width, height, {"rgba": {"filter": filt}})
    r.add(SampleBatch(x=x, y=y, rgba=rgba))
    return r.resolve()["rgba"]


@pytest.mark.parametrize("name", NAMES)
def test_default_sizes_follow_the_reference(name):
    expected = {"box": 1, "triangle": 2, "gauss": 3, "mitchell": 4, "lanczos": 4,
                "clip_mitchell": 4, "clip_lanczos": 4,
                "blackman_harris": 3}[name]              # OpenImageIO's default width
    f = Filter.make(name)
    assert (f.width, f.height) == (expected, expected)
    assert f.radius == (expected / 2, expected / 2)


def test_names_sizes_and_errors():
    assert Filter.make("clip mitchell") == Filter("clip_mitchell")
    assert Filter("Clip-Lanczos").name == "clip_lanczos"
    assert Filter("M").name == "clip_mitchell" and Filter("m").name == "mitchell"
    assert Filter("gauss", 3).height == 3.0                 # H defaults to W
    assert Filter.make("mitchell", width=4.0, height=2.0).radius == (2.0, 1.0)
    assert Filter.box() == Filter("box", 1, 1)
    with pytest.raises(UnknownFilterError):
        Filter("sinc")
    with pytest.raises(UnknownFilterError):
        Filter("box", 0)


@pytest.mark.parametrize("name", NAMES)
def test_zero_weight_at_and_beyond_radius(name):
    f = Filter.make(name, 3.0, 2.0)
    rx, ry = f.radius
    d = np.linspace(0, 3 * rx, 301)
    wx = f.evaluate(d, 0.0)
    assert np.all(wx[d >= rx] == 0.0)
    assert np.all(f.evaluate(-d[d > rx], 0.0) == 0.0)
    wy = f.evaluate(0.0, np.linspace(ry, 3 * ry, 50))
    assert np.all(wy == 0.0)
    assert f.evaluate(0.0, 0.0) > 0.0
    assert isinstance(f.evaluate(0.1, 0.2), float)
    assert f.evaluate(np.zeros((2, 3)), 0.0).shape == (2, 3)


def test_profiles_hand_values():
    tri = Filter("triangle")                                 # radius 1
    assert tri.evaluate(0.5, 0.0) == pytest.approx(0.5)
    assert tri.evaluate(0.5, 0.5) == pytest.approx(0.25)
    g = Filter("gauss")                                      # radius 1.5: exp(-2 d^2) - exp(-4.5)
    assert g.evaluate(1.0, 0.0) == pytest.approx((np.exp(-2.0) - np.exp(-4.5)) * (1 - np.exp(-4.5)))
    m = Filter("mitchell")                                   # radius 2: t = |d|
    assert m.evaluate(0.0, 0.0) == pytest.approx((16 / 18) ** 2)   # (6 - 2B)/6 with B = 1/3
    assert m.evaluate(1.5, 0.0) < 0.0                        # negative lobe
    lz = Filter("lanczos")                                   # radius 2, whole-pixel zeros
    assert lz.evaluate(1.0, 0.0) == pytest.approx(0.0, abs=1e-12)
    assert lz.evaluate(0.5, 0.0) == pytest.approx((2 / np.pi) * np.sin(np.pi / 4) / (np.pi / 4))
    box = Filter("box", 1)                                   # half-open [-0.5, 0.5)
    assert box.evaluate(-0.5, 0.0) == 1.0 and box.evaluate(0.5, 0.0) == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_constant_image_stays_constant_including_borders(name):
    x, y = jittered(6, 5, 3, seed=1)                         # no samples outside the image
    rgba = np.tile(np.array([[0.25, 0.5, 2.0, 1.0]], np.float32), (x.size, 1))
    out = resolve_colour(Filter.make(name), x, y, rgba)
    np.testing.assert_allclose(out, np.broadcast_to(rgba[0], out.shape), rtol=1e-5)


@pytest.mark.parametrize("name", ["triangle", "gauss", "mitchell", "lanczos"])
def test_border_normalisation_uses_actual_weights(name):
    """A horizontal ramp v = x: at the left border only samples to the right exist, so the
    normalised result is the weighted mean of those samples, computed here by hand."""
    f = Filter.make(name)
    x, y = jittered(6, 5, 2, seed=2)
    rgba = np.stack([x, np.ones_like(x), np.zeros_like(x), np.ones_like(x)], 1).astype(np.float32)
    out = resolve_colour(f, x, y, rgba)
    for (px, py) in [(0, 0), (5, 4), (2, 2)]:
        w = f.evaluate(x - (px + 0.5), y - (py + 0.5))
        expected = np.sum(w * x) / np.sum(w)
        assert out[py, px, 0] == pytest.approx(expected, rel=1e-5, abs=1e-5)
        assert out[py, px, 1] == pytest.approx(1.0, rel=1e-5)


def test_samples_outside_the_image_still_reach_border_pixels():
    f = Filter("triangle")                                   # radius 1
    x = np.array([-0.25, 0.5], np.float32)                   # first sample is outside
    y = np.array([0.5, 0.5], np.float32)
    rgba = np.array([[1, 0, 0, 1], [0, 0, 0, 1]], np.float32)
    out = resolve_colour(f, x, y, rgba, width=2, height=1)
    w_out, w_in = 1 - 0.75, 1.0
    assert out[0, 0, 0] == pytest.approx(w_out / (w_out + w_in))
    # pixel 1's centre is 1.75 and 1.0 from the samples: both at or beyond the radius, so pixel 1
    # received nothing and copies its left neighbour
    assert out[0, 1, 0] == out[0, 0, 0]


@pytest.mark.parametrize("name", ["clip_mitchell", "clip_lanczos"])
def test_clip_variants_stay_within_sample_range(name):
    width, height = 8, 4
    x, y = jittered(width, height, 2, seed=3)
    step = np.where(x < 4, 0.0, 1.0).astype(np.float32)      # a hard edge rings with these lobes
    rgba = np.stack([step, step, step, np.ones_like(step)], 1)
    clipped = resolve_colour(Filter(name), x, y, rgba, width, height)
    unclipped = resolve_colour(Filter(name.replace("clip_", "")), x, y, rgba, width, height)
    assert clipped.min() >= 0.0 and clipped.max() <= 1.0
    assert unclipped.min() < 0.0 or unclipped.max() > 1.0   # the plain kernel does ring here
    inside = (unclipped >= 0) & (unclipped <= 1)
    np.testing.assert_allclose(clipped[inside], unclipped[inside], rtol=1e-6)


def test_clip_uses_only_samples_with_nonzero_weight():
    # a sample far away but inside the footprint of nothing must not widen the range
    f = Filter("clip_mitchell", 2)                           # radius 1
    x = np.array([0.5, 0.6, 3.5], np.float32)
    y = np.full(3, 0.5, np.float32)
    rgba = np.array([[0.2, 0, 0, 1], [0.4, 0, 0, 1], [5.0, 0, 0, 1]], np.float32)
    out = resolve_colour(f, x, y, rgba, width=4, height=1)
    assert 0.2 <= out[0, 0, 0] <= 0.4


def test_negative_weight_sum_falls_back_to_box_average():
    # Lanczos radius 2: samples 1.4 px from a centre weigh less than 0.
    f = Filter("lanczos")
    assert f.evaluate(1.4, 0.0) < 0
    x = np.array([2.9, 2.9, 2.9, 0.5], np.float32)
    y = np.full(4, 0.5, np.float32)
    rgba = np.array([[1, 0, 0, 1]] * 3 + [[0.25, 0, 0, 1]], np.float32)
    w0 = f.evaluate(x - 0.5, 0.0)        # pixel 0: three samples 2.4 px away (outside) + own sample
    assert w0[:3].sum() == 0.0
    w1 = f.evaluate(x - 1.5, 0.0)        # pixel 1: three negative weights + one 1 px away (zero)
    assert w1.sum() < 0
    out = resolve_colour(f, x, y, rgba, width=4, height=1)
    assert out[0, 0, 0] == pytest.approx(0.25)       # normal normalisation, own sample only
    # pixel 1 has no own sample and an unusable (negative) sum: it copies pixel 0
    assert out[0, 1, 0] == pytest.approx(0.25)
    # the same negative neighbours plus an own sample of pixel 1: its weighted mean if that sum
    # is usable, else the box average of the own sample
    x2 = np.append(x, np.float32(1.0))
    rgba2 = np.vstack([rgba, [[0.5, 0, 0, 1]]]).astype(np.float32)
    w = f.evaluate(x2 - 1.5, 0.0)
    out2 = resolve_colour(f, x2, np.full(5, 0.5, np.float32), rgba2, width=4, height=1)
    if w.sum() > 1e-3 * np.abs(w).sum():
        assert out2[0, 1, 0] == pytest.approx(np.sum(w * rgba2[:, 0]) / w.sum(), rel=1e-5)
    else:
        assert out2[0, 1, 0] == pytest.approx(0.5)


def test_box_width_two_averages_neighbours():
    f = Filter("box", 2)                                     # radius 1: centres within [-1, 1)
    x = np.array([0.5, 1.5, 2.5], np.float32)
    y = np.full(3, 0.5, np.float32)
    rgba = np.array([[0, 0, 0, 1], [3, 0, 0, 1], [6, 0, 0, 1]], np.float32)
    out = resolve_colour(f, x, y, rgba, width=3, height=1)
    # pixel i sees samples at dx = -1 (in) and 0 (in); dx = +1 is out (half-open)
    np.testing.assert_allclose(out[0, :, 0], [0.0, 1.5, 4.5])


@pytest.mark.parametrize("w, h", [(3, 3), (5, 5), (7, 3)])
def test_blackman_harris_matches_openimageio_make_kernel(w, h):
    oiio = pytest.importorskip("OpenImageIO")
    ref = oiio.ImageBufAlgo.make_kernel("blackman-harris", w, h).get_pixels(oiio.FLOAT)[:, :, 0]
    dx, dy = np.meshgrid(np.arange(w) - (w - 1) / 2, np.arange(h) - (h - 1) / 2)
    ours = Filter("blackman-harris", w, h).evaluate(dx, dy)
    np.testing.assert_allclose(ours / ours.sum(), ref / ref.sum(), rtol=2e-6, atol=1e-8)


def test_blackman_harris_in_a_resolve():
    # the pixel halfway between two samples 2 px apart weighs both equally; a pixel on one
    # sample is beyond the other's radius (1.5 at the default width 3), so it is that sample
    x2 = np.array([2.5, 4.5], np.float32)
    y2 = np.array([2.5, 2.5], np.float32)
    rgba2 = np.array([[1, 0, 0, 1], [0, 0, 1, 1]], np.float32)
    out2 = resolve_colour(Filter.make("blackman_harris"), x2, y2, rgba2, width=7, height=5)
    f = Filter.make("blackman_harris")
    w_near, w_far = float(f.evaluate(0.0, 0.0)), float(f.evaluate(2.0, 0.0))
    assert w_far == 0.0                        # 2 px is beyond the 1.5 radius
    np.testing.assert_allclose(out2[2, 3], [0.5, 0, 0.5, 1], rtol=1e-6)
    np.testing.assert_allclose(out2[2, 2], [1, 0, 0, 1], rtol=1e-6)
    assert w_near > 0
