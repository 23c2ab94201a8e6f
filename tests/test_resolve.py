"""The resolver's interpolation rules against hand-computed pixels, order, batches and empty pixels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framebuf.errors import BufferMismatchError, UnsupportedOptionError
from framebuf.resolve import Filter, Resolver, SampleBatch

INF = np.inf
NAN = np.nan

ALL_PLUS = {"rgba": {"filtering": True}, "z": {"filtering": True}, "n": {"filtering": True},
            "m": {"filtering": True}, "tag": {"filtering": True}, "coverage": {}}
ALL_MINUS = {"rgba": {"filtering": False}, "z": {}, "n": {}, "m": {}, "tag": {}, "coverage": {}}


def at(*pixels):
    """Sample positions at the given pixel centres, nudged so several share a pixel."""
    xs = np.array([p[0] + 0.25 + 0.1 * (k % 5) for k, p in enumerate(pixels)], np.float32)
    ys = np.array([p[1] + 0.3 + 0.1 * (k % 4) for k, p in enumerate(pixels)], np.float32)
    return xs, ys


def resolve(width, height, channels, *batches):
    r = Resolver(width, height, channels)
    for b in batches:
        r.add(b)
    return r.resolve()


# ----------------------------------------------------------------------------------- colour rules
def test_plus_rgba_is_the_average_and_minus_rgba_the_last():
    x, y = at((0, 0), (0, 0), (0, 0), (1, 0))
    rgba = np.array([[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 4, 0], [0.5, 0.5, 0.5, 0.5]], np.float32)
    b = SampleBatch(x=x, y=y, rgba=rgba)
    plus = resolve(2, 1, {"rgba": {}}, b)["rgba"]
    assert plus.shape == (1, 2, 4) and plus.dtype == np.float32
    np.testing.assert_allclose(plus[0, 0], [1 / 3, 1 / 3, 4 / 3, 2 / 3], rtol=1e-6)
    np.testing.assert_allclose(plus[0, 1], [0.5] * 4)
    minus = resolve(2, 1, {"rgba": {"filtering": False}}, b)["rgba"]
    np.testing.assert_array_equal(minus[0, 0], [0, 0, 4, 0])


def test_non_finite_colour_samples_are_dropped():
    x, y = at((0, 0), (0, 0), (0, 0), (1, 0))
    rgba = np.array([[1, 1, 1, 1], [NAN, 0, 0, 1], [INF, 0, 0, 1], [NAN, 1, 1, 1]], np.float32)
    b = SampleBatch(x=x, y=y, rgba=rgba)
    for channels in ({"rgba": {}}, {"rgba": {"filtering": False}},
                     {"rgba": {"filter": Filter("gauss")}}):
        out = resolve(2, 1, channels, b)["rgba"]
        assert np.all(np.isfinite(out))
        np.testing.assert_allclose(out[0, 0], [1, 1, 1, 1], rtol=1e-6)
        # pixel 1's only sample is NaN: it is empty and copies pixel 0
        np.testing.assert_allclose(out[0, 1], out[0, 0])


def test_user_colour_buffer_by_kind():
    x, y = at((0, 0), (0, 0))
    diffuse = np.array([[1, 2, 3], [3, 2, 1]], np.float32)
    out = resolve(1, 1, {"diffuse": {"kind": "colour", "components": 3},
                         "dist": {"kind": "depth", "source": "z", "filtering": True}},
                  SampleBatch(x=x, y=y, diffuse=diffuse, z=np.array([1, 3], np.float32)))
    np.testing.assert_allclose(out["diffuse"][0, 0], [2, 2, 2])
    assert out["dist"][0, 0, 0] == 2.0


# ------------------------------------------------------------------------------------------ depth
def test_minus_z_is_the_minimum_and_plus_z_the_finite_average():
    x, y = at((0, 0), (0, 0), (0, 0), (0, 0), (1, 0), (1, 0), (2, 0))
    z = np.array([4, INF, 2, NAN, INF, INF, NAN], np.float32)
    b = SampleBatch(x=x, y=y, z=z)
    minus = resolve(3, 1, {"z": {}}, b)["z"]
    assert minus.shape == (1, 3, 1) and minus.dtype == np.float32
    np.testing.assert_array_equal(minus[0, :, 0], [2, INF, INF])
    plus = resolve(3, 1, {"z": {"filtering": True}}, b)["z"]
    np.testing.assert_array_equal(plus[0, :, 0], [3, INF, INF])


def test_depth_never_goes_through_a_filter():
    with pytest.raises(UnsupportedOptionError):
        Resolver(2, 2, {"z": {"filter": Filter("gauss")}})
    # with a wide colour filter configured, depth still only sees the pixel's own samples
    x, y = at((0, 0), (1, 0))
    out = resolve(2, 1, {"rgba": {"filter": Filter("gauss")}, "z": {"filtering": True}},
                  SampleBatch(x=x, y=y, z=np.array([1, 9], np.float32),
                              rgba=np.ones((2, 4), np.float32)))
    np.testing.assert_array_equal(out["z"][0, :, 0], [1, 9])


# ---------------------------------------------------------------------------------------- vectors
@pytest.mark.parametrize("name", ["n", "m"])
def test_vectors_average_non_null_or_keep_the_last(name):
    x, y = at((0, 0), (0, 0), (0, 0), (0, 0), (1, 0), (1, 0))
    v = np.array([[1, 0, 0], [0, 0, 0], [0, 1, 0], [NAN, 1, 1], [0, 0, 0], [0, 0, 0]], np.float32)
    b = SampleBatch(x=x, y=y, **{name: v})
    plus = resolve(2, 1, {name: {"filtering": True}}, b)[name]
    assert plus.shape == (1, 2, 3)
    np.testing.assert_allclose(plus[0, 0], [0.5, 0.5, 0])      # null and NaN vectors excluded
    np.testing.assert_array_equal(plus[0, 1], [0, 0, 0])       # only null vectors: null
    minus = resolve(2, 1, {name: {}}, b)[name]
    np.testing.assert_array_equal(minus[0, 0], [0, 1, 0])      # the NaN one is skipped
    np.testing.assert_array_equal(minus[0, 1], [0, 0, 0])


# ----------------------------------------------------------------------------------------- labels
def test_tag_max_or_last():
    x, y = at((0, 0), (0, 0), (0, 0), (1, 0))
    tag = np.array([3, 7, 5, 0], np.uint32)
    b = SampleBatch(x=x, y=y, tag=tag)
    plus = resolve(2, 1, {"tag": {"filtering": True}}, b)["tag"]
    assert plus.dtype == np.uint32 and plus.shape == (1, 2, 1)
    np.testing.assert_array_equal(plus[0, :, 0], [7, 0])
    minus = resolve(2, 1, {"tag": {}}, b)["tag"]
    np.testing.assert_array_equal(minus[0, :, 0], [5, 0])


# --------------------------------------------------------------------------------------- coverage
def test_coverage_follows_the_stored_label():
    x, y = at((0, 0), (0, 0), (0, 0), (0, 0), (1, 0), (1, 0))
    tag = np.array([2, 9, 2, 0, 0, 4], np.uint32)
    b = SampleBatch(x=x, y=y, tag=tag)
    last = resolve(2, 1, {"tag": {}, "coverage": {}}, b)
    np.testing.assert_array_equal(last["tag"][0, :, 0], [0, 4])
    np.testing.assert_allclose(last["coverage"][0, :, 0], [0.0, 0.5])   # label 0: no object
    mx = resolve(2, 1, {"tag": {"filtering": True}, "coverage": {}}, b)
    np.testing.assert_array_equal(mx["tag"][0, :, 0], [9, 4])
    np.testing.assert_allclose(mx["coverage"][0, :, 0], [0.25, 0.5])
    tag2 = np.array([2, 9, 0, 2, 4, 4], np.uint32)
    last2 = resolve(2, 1, {"tag": {}, "coverage": {}}, SampleBatch(x=x, y=y, tag=tag2))
    np.testing.assert_allclose(last2["coverage"][0, :, 0], [0.5, 1.0])


def test_coverage_across_batches_and_slot_overflow():
    # one pixel, labels 1..6 then 3 again, over two batches, with 4 slots
    tags = [1, 2, 3, 3, 4, 5, 6, 3]
    x = np.full(len(tags), 0.5, np.float32)
    y = np.full(len(tags), 0.5, np.float32)
    t = np.array(tags, np.uint32)
    r = Resolver(1, 1, {"tag": {}, "coverage": {"slots": 4}})
    r.add(SampleBatch(x=x[:4], y=y[:4], tag=t[:4]))
    r.add(SampleBatch(x=x[4:], y=y[4:], tag=t[4:]))
    out = r.resolve()
    assert out["tag"][0, 0, 0] == 3
    # 3 is never evicted (count 2 beats the singletons), so its count stays exact: 3 of 8
    assert out["coverage"][0, 0, 0] == pytest.approx(3 / 8)
    # with more distinct labels than slots, the last label's count is an upper bound
    r = Resolver(1, 1, {"tag": {}, "coverage": {"slots": 2}})
    r.add(SampleBatch(x=x, y=y, tag=np.array([1, 2, 5, 6, 7, 8, 9, 5], np.uint32)))
    cov = r.resolve()["coverage"][0, 0, 0]
    assert 2 / 8 <= cov <= 2 / 8 + (8 / 2) / 8


# ------------------------------------------------------------------------------------ empty pixels
def test_empty_pixels_copy_the_nearest_sampled_pixel_left_up_right_down():
    # 3x1: the middle pixel is equidistant from both ends and takes the left one
    x = np.array([0.5, 2.5], np.float32)
    y = np.array([0.5, 0.5], np.float32)
    b = SampleBatch(x=x, y=y, z=np.array([1, 2], np.float32), tag=np.array([1, 2], np.uint32))
    out = resolve(3, 1, {"z": {}, "tag": {}}, b)
    np.testing.assert_array_equal(out["z"][0, :, 0], [1, 1, 2])
    np.testing.assert_array_equal(out["tag"][0, :, 0], [1, 1, 2])
    # 1x3: top wins over bottom
    out = resolve(1, 3, {"z": {}}, SampleBatch(x=y, y=x, z=np.array([1, 2], np.float32)))
    np.testing.assert_array_equal(out["z"][:, 0, 0], [1, 1, 2])
    # 3x3 with samples at left-middle (value 1) and top-middle (value 2)
    x = np.array([0.5, 1.5], np.float32)
    y = np.array([1.5, 0.5], np.float32)
    out = resolve(3, 3, {"rgba": {}}, SampleBatch(x=x, y=y, rgba=np.array(
        [[1, 1, 1, 1], [2, 2, 2, 2]], np.float32)))["rgba"][..., 0]
    expected = np.array([[2, 2, 2],     # (0,0): right (top-middle) comes before down (left-middle)
                         [1, 1, 1],     # (1,1): left first; (2,1): left (1,1) before up (2,0)
                         [1, 1, 1]])    # (0,2): up; (1,2): left; (2,2): left of distance-1 pixel
    np.testing.assert_array_equal(out, expected)


def test_empty_pixels_apply_to_every_channel_and_far_distances():
    x, y = np.array([6.5], np.float32), np.array([4.5], np.float32)
    b = SampleBatch(x=x, y=y, rgba=np.array([[1, 2, 3, 4]], np.float32),
                    z=np.array([5], np.float32), n=np.array([[0, 0, 1]], np.float32),
                    m=np.array([[1, 0, 0]], np.float32), tag=np.array([8], np.uint32))
    for channels in (ALL_PLUS, ALL_MINUS):
        out = resolve(8, 6, channels, b)
        np.testing.assert_array_equal(out["rgba"], np.broadcast_to([1, 2, 3, 4], (6, 8, 4)))
        assert np.all(out["z"] == 5) and np.all(out["tag"] == 8) and np.all(out["coverage"] == 1)
        np.testing.assert_array_equal(out["n"], np.broadcast_to([0, 0, 1], (6, 8, 3)))


def test_no_samples_at_all_keeps_nothing_hit_values():
    r = Resolver(4, 3, ALL_PLUS)
    r.add(SampleBatch(x=np.array([-1.0, 9.0]), y=np.array([0.5, 0.5]),
                      rgba=np.ones((2, 4)), z=np.ones(2), tag=np.ones(2, np.uint32)))
    out = r.resolve()
    assert set(out) == set(ALL_PLUS)
    assert np.all(out["rgba"] == 0) and np.all(out["z"] == INF) and np.all(out["tag"] == 0)
    assert np.all(out["n"] == 0) and np.all(out["m"] == 0) and np.all(out["coverage"] == 0)
    assert out["coverage"].dtype == np.float32 and out["tag"].dtype == np.uint32


def test_samples_outside_and_on_edges():
    # x = width exactly is outside; x = 0 exactly is pixel 0; NaN positions are ignored
    x = np.array([0.0, 2.0, NAN, 1.999], np.float32)
    y = np.array([0.0, 0.5, 0.5, 0.0], np.float32)
    z = np.array([1, 0.1, 0.1, 3], np.float32)
    out = resolve(2, 1, {"z": {}}, SampleBatch(x=x, y=y, z=z))
    np.testing.assert_array_equal(out["z"][0, :, 0], [1, 3])


def test_bad_input_is_reported():
    with pytest.raises(BufferMismatchError):
        Resolver(0, 4)
    with pytest.raises(BufferMismatchError):
        SampleBatch(x=np.zeros(3), y=np.zeros(2))
    with pytest.raises(BufferMismatchError):
        SampleBatch(x=np.zeros(3), y=np.zeros(3), rgba=np.zeros((2, 4)))
    r = Resolver(2, 2, {"rgba": {}})
    with pytest.raises(BufferMismatchError):
        r.add(SampleBatch(x=np.zeros(3), y=np.zeros(3), rgba=np.zeros((3, 3))))
    with pytest.raises(BufferMismatchError):
        Resolver(2, 2, {"mystery": {}})


# ------------------------------------------------------------------------- order and batch splits
def random_samples(rng, n, width, height, nulls=True):
    x = rng.uniform(-0.5, width + 0.5, n).astype(np.float32)
    y = rng.uniform(-0.5, height + 0.5, n).astype(np.float32)
    rgba = rng.integers(0, 4, (n, 4)).astype(np.float32)     # small integers: sums are exact
    z = rng.integers(1, 5, n).astype(np.float32)
    z[rng.random(n) < 0.2] = INF
    nv = rng.integers(-1, 2, (n, 3)).astype(np.float32)      # null vectors happen
    mv = rng.integers(-1, 2, (n, 3)).astype(np.float32)
    tag = rng.integers(0, 4, n).astype(np.uint32)
    return dict(x=x, y=y, rgba=rgba, z=z, n=nv, m=mv, tag=tag)


def take(samples, idx):
    return {k: v[idx] for k, v in samples.items()}


ORDER_FREE = {"rgba": {}, "z": {}, "zp": {"kind": "depth", "source": "z", "filtering": True},
              "n": {"filtering": True}, "m": {"filtering": True}, "tag": {"filtering": True},
              "coverage": {}}
LAST_RULES = {"rgba": {"filtering": False}, "n": {}, "m": {}, "tag": {}, "coverage": {}}


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60))
def test_order_free_rules_are_invariant_under_permutation(seed, n):
    rng = np.random.default_rng(seed)
    s = random_samples(rng, n, 4, 3)
    a = resolve(4, 3, ORDER_FREE, SampleBatch(**s))
    b = resolve(4, 3, ORDER_FREE, SampleBatch(**take(s, rng.permutation(n))))
    for name in ORDER_FREE:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-6, err_msg=name)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60))
def test_last_rules_keep_the_last_sample_in_given_order(seed, n):
    rng = np.random.default_rng(seed)
    s = take(random_samples(rng, n, 4, 3), rng.permutation(n))
    out = resolve(4, 3, LAST_RULES, SampleBatch(**s))
    inside = (s["x"] >= 0) & (s["x"] < 4) & (s["y"] >= 0) & (s["y"] < 3)
    pix = np.where(inside, np.floor(s["y"]).astype(int) * 4 + np.floor(s["x"]).astype(int), -1)
    for p in np.unique(pix[pix >= 0]):
        k = np.nonzero(pix == p)[0]
        last = k[-1]
        py, px = divmod(int(p), 4)
        np.testing.assert_array_equal(out["rgba"][py, px], s["rgba"][last])
        np.testing.assert_array_equal(out["n"][py, px], s["n"][last])
        np.testing.assert_array_equal(out["m"][py, px], s["m"][last])
        assert out["tag"][py, px, 0] == s["tag"][last]
        t = s["tag"][last]
        expected = 0.0 if t == 0 else np.count_nonzero(s["tag"][k] == t) / k.size
        assert out["coverage"][py, px, 0] == pytest.approx(expected)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60), cuts=st.lists(st.integers(0, 60),
                                                                           max_size=4))
def test_several_batches_equal_one_batch(seed, n, cuts):
    rng = np.random.default_rng(seed)
    s = random_samples(rng, n, 4, 3)
    kinds = {"rgba": "colour", "n": "vector", "m": "vector", "tag": "label"}
    channels = {**ORDER_FREE, **{f"last_{k}": dict(v, source=k, kind=kinds[k])
                                 for k, v in LAST_RULES.items() if k != "coverage"},
                "coverage_last": {"kind": "coverage", "labels": "last_tag"},
                "clip": {"kind": "colour", "source": "rgba", "filter": Filter("clip_mitchell", 3)}}
    one = resolve(4, 3, channels, SampleBatch(**s))
    bounds = [0, *sorted(min(c, n) for c in cuts), n]
    many = resolve(4, 3, channels, *[SampleBatch(**take(s, slice(a, b)))
                                     for a, b in zip(bounds, bounds[1:])])
    for name in channels:
        np.testing.assert_allclose(one[name], many[name], rtol=1e-6, err_msg=name)


# ------------------------------------------------------------------------------ the dense layout
DENSE_ALL = {**ORDER_FREE, **{f"last_{k}": dict(v, source=k, kind={"rgba": "colour", "n": "vector",
                                                                   "m": "vector", "tag": "label"}[k])
                              for k, v in LAST_RULES.items() if k != "coverage"},
             "coverage_last": {"kind": "coverage", "labels": "last_tag"},
             "rgb": {"kind": "colour", "source": "rgba3", "components": 3},
             "grey": {"kind": "colour", "source": "rgba1", "components": 1, "filtering": False},
             "uv": {"kind": "vector", "source": "uv", "components": 2, "filtering": True},
             "rgb_last": {"kind": "colour", "source": "rgba3", "components": 3, "filtering": False}}


def dense_samples(rng, x0, y0, bw, bh, spp, specials=True):
    """Samples of a bw x bh block at (x0, y0), spp per pixel in pixel order, inside their pixels."""
    pix = np.repeat(np.arange(bw * bh), spp)
    n = pix.size
    x = (x0 + pix % bw + rng.uniform(0, 0.99, n)).astype(np.float32)
    y = (y0 + pix // bw + rng.uniform(0, 0.99, n)).astype(np.float32)
    s = random_samples(rng, n, 1, 1)
    s["x"], s["y"] = x, y
    for key in ("rgba", "n", "z"):   # not small integers: summation order shows in the bits
        s[key] = (s[key] + rng.random(s[key].shape)).astype(np.float32)
    if specials and n:
        for key in ("rgba", "n"):
            a = s[key]
            bad = rng.random(a.shape) < 0.05
            a[bad] = rng.choice(np.array([NAN, INF, -INF], np.float32), bad.sum())
        s["z"][rng.random(n) < 0.05] = NAN
        s["z"][rng.random(n) < 0.02] = -0.0
    s["rgba3"] = s["rgba"][:, :3].copy()
    s["rgba1"] = s["rgba"][:, 0].copy()
    s["uv"] = s["n"][:, :2].copy()
    return s


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), x0=st.integers(-2, 4), y0=st.integers(-2, 3),
       bw=st.integers(0, 5), bh=st.integers(0, 4), spp=st.integers(1, 5), batches=st.integers(1, 3))
def test_dense_batches_are_bit_identical_to_general_batches(seed, x0, y0, bw, bh, spp, batches):
    rng = np.random.default_rng(seed)
    general = Resolver(5, 4, DENSE_ALL)
    dense = Resolver(5, 4, DENSE_ALL)
    for _ in range(batches):   # repeated blocks: state carried across batches must agree too
        s = dense_samples(rng, x0, y0, bw, bh, spp)
        general.add(SampleBatch(**s))
        xy = {"x": s.pop("x"), "y": s.pop("y")}
        dense.add(SampleBatch.dense(x0, y0, bw, bh, spp, **s))
    a, b = general.resolve(), dense.resolve()
    for name in DENSE_ALL:
        assert a[name].tobytes() == b[name].tobytes(), name
    del xy


def test_dense_layout_shapes_positions_and_errors():
    rng = np.random.default_rng(3)
    s = dense_samples(rng, 0, 0, 3, 2, 4, specials=False)
    shaped = {k: v.reshape(2, 3, 4, *v.shape[1:]) for k, v in s.items() if k not in ("x", "y")}
    b = SampleBatch.dense(0, 0, 3, 2, 4, **shaped)
    assert len(b) == 24 and b.layout == (0, 0, 3, 2, 4) and b.x is None
    np.testing.assert_array_equal(b.rgba, s["rgba"])
    one = resolve(3, 2, {"rgba": {}, "tag": {}}, b)
    two = resolve(3, 2, {"rgba": {}, "tag": {}}, SampleBatch(**s))
    for name in one:
        assert one[name].tobytes() == two[name].tobytes()
    # a wide filter spreads samples by position: with x, y it works and equals the general batch
    filt = {"rgba": {"filter": Filter("mitchell")}}
    with pytest.raises(BufferMismatchError):
        resolve(3, 2, filt, b)
    with_xy = SampleBatch.dense(0, 0, 3, 2, 4, x=s["x"], y=s["y"], rgba=s["rgba"])
    np.testing.assert_array_equal(resolve(3, 2, filt, with_xy)["rgba"],
                                  resolve(3, 2, filt, SampleBatch(**s))["rgba"])
    with pytest.raises(BufferMismatchError):
        SampleBatch.dense(0, 0, 3, 2, 4, rgba=s["rgba"][:-1])
    with pytest.raises(BufferMismatchError):
        SampleBatch.dense(0, 0, 3, 2, 0)
    with pytest.raises(BufferMismatchError):
        SampleBatch.dense(0, 0, 3, 2, 4, x=s["x"], rgba=s["rgba"])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 80))
def test_run_folding_equals_per_sample_updates(seed, n):
    """General kernels fold runs of one pixel in locals; a batch of one sample at a time (no
    runs) must give the same bits."""
    rng = np.random.default_rng(seed)
    s = random_samples(rng, n, 3, 2)
    order = np.sort(rng.integers(0, 6, n))     # runs: samples grouped by pixel, then revisited
    s["x"] = (order % 3 + rng.uniform(0, 0.99, n)).astype(np.float32)
    s["y"] = (order // 3 + rng.uniform(0, 0.99, n)).astype(np.float32)
    s = take(s, np.concatenate([np.arange(n // 2, n), np.arange(n // 2)]))
    s["rgba"][rng.random((n, 4)) < 0.05] = NAN
    channels = {k: v for k, v in DENSE_ALL.items() if v.get("source", k) in s}
    one = resolve(3, 2, channels, SampleBatch(**s))
    single = resolve(3, 2, channels, *[SampleBatch(**take(s, slice(k, k + 1))) for k in range(n)])
    for name in channels:
        assert one[name].tobytes() == single[name].tobytes(), name


def _space_saving_coverage(tags, slots):
    """Reference: coverage of the last label by the documented space-saving counts."""
    table = []   # [label, count]
    for t in tags:
        if t == 0:
            continue
        for slot in table:
            if slot[0] == t:
                slot[1] += 1
                break
        else:
            if len(table) < slots:
                table.append([t, 1])
            else:
                low = min(range(slots), key=lambda k: (table[k][1], k))
                table[low] = [t, table[low][1] + 1]
    last = tags[-1]
    if last == 0:
        return 0.0
    return next(c for lab, c in table if lab == last) / len(tags)


@settings(max_examples=40, deadline=None)
@given(tags=st.lists(st.integers(0, 7), min_size=1, max_size=40), slots=st.sampled_from([2, 4, 5]),
       dense=st.booleans())
def test_coverage_last_matches_the_space_saving_reference(tags, slots, dense):
    t = np.array(tags, np.uint32)
    channels = {"tag": {}, "coverage": {"slots": slots}}
    if dense:
        batch = SampleBatch.dense(0, 0, 1, 1, len(tags), tag=t)
    else:
        batch = SampleBatch(x=np.full(len(tags), 0.5), y=np.full(len(tags), 0.5), tag=t)
    cov = resolve(1, 1, channels, batch)["coverage"][0, 0, 0]
    assert cov == np.float32(_space_saving_coverage(tags, slots))
