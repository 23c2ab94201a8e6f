"""The ranked-coverage rule (Cryptomatte ranking) against brute force over the same samples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framebuf.errors import BufferMismatchError, UnsupportedOptionError
from framebuf.resolve import Filter, Resolver, SampleBatch


def ranked(width, height, options, *batches):
    r = Resolver(width, height, {"rk": dict({"kind": "ranked", "source": "tag"}, **options)})
    for b in batches:
        r.add(b)
    out = r.resolve()["rk"]
    return out[..., 0::2].view(np.uint32), out[..., 1::2]


def brute_force(x, y, ids, width, height, filt, k):
    """Coverage per pixel by the specification's rule written out: every sample's clipped filter
    weight at every pixel centre, summed per nonzero id over the sum of all weights."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    out_ids = np.zeros((height, width, k), np.uint32)
    out_cov = np.zeros((height, width, k), np.float64)
    for j in range(height):
        for i in range(width):
            w = np.maximum(filt.evaluate(x - (i + 0.5), y - (j + 0.5)), 0.0)
            total = w.sum()
            if total <= 0:
                continue
            per = {}
            for t, wt in zip(ids, w):
                if t != 0 and wt > 0:
                    per[int(t)] = per.get(int(t), 0.0) + wt
            best = sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
            for r, (t, wt) in enumerate(best):
                out_ids[j, i, r] = t
                out_cov[j, i, r] = wt / total
    return out_ids, out_cov


def test_box_pixel_by_hand():
    x = np.array([0.2, 0.3, 0.6, 0.7, 1.5, 1.6], np.float32)
    y = np.full(6, 0.5, np.float32)
    tag = np.array([3, 2, 2, 0, 5, 1], np.uint32)
    ids, cov = ranked(2, 1, {"ranks": 3}, SampleBatch(x=x, y=y, tag=tag))
    # pixel 0: id 2 twice, id 3 once, background once (counts in the total, never ranked)
    np.testing.assert_array_equal(ids[0, 0], [2, 3, 0])
    np.testing.assert_array_equal(cov[0, 0], np.float32([0.5, 0.25, 0.0]))
    # pixel 1: ids 5 and 1 tie at 0.5: the smaller id first
    np.testing.assert_array_equal(ids[0, 1], [1, 5, 0])
    np.testing.assert_array_equal(cov[0, 1], np.float32([0.5, 0.5, 0.0]))


def test_result_layout_is_the_cryptomatte_rank_order():
    x, y = np.array([0.5, 0.5, 0.5], np.float32), np.array([0.5, 0.5, 0.5], np.float32)
    r = Resolver(1, 1, {"rk": {"kind": "ranked", "source": "tag", "ranks": 2}})
    r.add(SampleBatch(x=x, y=y, tag=np.array([7, 7, 9], np.uint32)))
    out = r.resolve()["rk"]
    assert out.shape == (1, 1, 4) and out.dtype == np.float32
    bits = out.view(np.uint32)[0, 0]
    assert bits[0] == 7 and bits[2] == 9
    assert out[0, 0, 1] == np.float32(2 / 3) and out[0, 0, 3] == np.float32(1 / 3)


def random_samples(rng, n, width, height, nids=5):
    x = rng.uniform(-1.0, width + 1.0, n).astype(np.float32)
    y = rng.uniform(-1.0, height + 1.0, n).astype(np.float32)
    tag = rng.integers(0, nids, n).astype(np.uint32)
    return dict(x=x, y=y, tag=tag)


FILTERS = [Filter("box"), Filter("box", 2), Filter("triangle"), Filter("gauss"),
           Filter("gauss", 2, 3), Filter("mitchell"), Filter("lanczos", 3)]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 120), f=st.sampled_from(FILTERS),
       k=st.integers(1, 4))
def test_ranked_equals_brute_force(seed, n, f, k):
    rng = np.random.default_rng(seed)
    s = random_samples(rng, n, 4, 3)
    ids, cov = ranked(4, 3, {"ranks": k, "filter": f, "slots": 8}, SampleBatch(**s))
    ref_ids, ref_cov = brute_force(s["x"], s["y"], s["tag"], 4, 3, f, k)
    # every pixel some sample reached must match; empty pixels copy a neighbour (resolver rule)
    reached = np.zeros((3, 4), bool)
    for j in range(3):
        for i in range(4):
            reached[j, i] = np.any(f.evaluate(s["x"] - (i + 0.5), s["y"] - (j + 0.5)) > 0)
    np.testing.assert_allclose(cov[reached], ref_cov[reached], atol=1e-6)
    # ids agree except where two coverages are (nearly) tied, where float rounding may order
    close = np.zeros_like(ref_cov, bool)
    close[..., 1:] |= np.abs(np.diff(ref_cov, axis=-1)) < 1e-9
    close[..., :-1] |= close[..., 1:]
    same = (ids == ref_ids) | close
    assert same[reached].all()
    assert np.all(cov.sum(axis=-1) <= 1 + 1e-6) and np.all(cov >= 0)
    assert np.all(np.diff(cov, axis=-1) <= 1e-7)       # sorted, largest first


def test_negative_lobes_are_cut():
    # one sample of id 1 in the pixel, one of id 2 at a distance where Mitchell is negative
    f = Filter("mitchell")            # radius 2; negative for 1 < |d| < 2 (t = |d| in [1, 2))
    x = np.array([0.5, 2.0], np.float32)
    y = np.array([0.5, 0.5], np.float32)
    assert f.evaluate(1.5, 0.0) < 0
    ids, cov = ranked(1, 1, {"ranks": 2, "filter": f}, SampleBatch(x=x, y=y,
                                                                tag=np.array([1, 2], np.uint32)))
    np.testing.assert_array_equal(ids[0, 0], [1, 0])
    assert cov[0, 0, 0] == 1.0 and cov[0, 0, 1] == 0.0


def _slot_reference(tags, slots, k):
    """The documented overflow rule with weight 1 per sample."""
    table = []   # [id, weight]
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
                low = min(range(slots), key=lambda i: (table[i][1], i))
                if table[low][1] < 1:
                    table[low] = [t, 1]
    best = sorted(table, key=lambda s: (-s[1], s[0]))[:k]
    ids = [t for t, _ in best] + [0] * (k - len(best))
    cov = [np.float32(c / len(tags)) for _, c in best] + [0] * (k - len(best))
    return ids, cov


@settings(max_examples=40, deadline=None)
@given(tags=st.lists(st.integers(0, 9), min_size=1, max_size=40), slots=st.sampled_from([2, 3, 6]),
       dense=st.booleans())
def test_more_ids_than_slots_follow_the_documented_rule(tags, slots, dense):
    t = np.array(tags, np.uint32)
    k = min(2, slots)
    if dense:
        batch = SampleBatch.dense(0, 0, 1, 1, len(tags), tag=t)
    else:
        batch = SampleBatch(x=np.full(len(tags), 0.5), y=np.full(len(tags), 0.5), tag=t)
    ids, cov = ranked(1, 1, {"ranks": k, "slots": slots}, batch)
    want_ids, want_cov = _slot_reference(tags, slots, k)
    np.testing.assert_array_equal(ids[0, 0], want_ids)
    np.testing.assert_array_equal(cov[0, 0], np.float32(want_cov))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), x0=st.integers(-2, 3), y0=st.integers(-2, 3),
       bw=st.integers(0, 5), bh=st.integers(0, 4), spp=st.integers(1, 6), batches=st.integers(1, 3),
       slots=st.sampled_from([2, 4, 12]))
def test_dense_general_and_single_sample_batches_give_the_same_bits(seed, x0, y0, bw, bh, spp,
                                                                     batches, slots):
    rng = np.random.default_rng(seed)
    opts = {"kind": "ranked", "source": "tag", "ranks": 2, "slots": slots}
    general, dense, single = (Resolver(5, 4, {"rk": opts}) for _ in range(3))
    for _ in range(batches):
        pix = np.repeat(np.arange(bw * bh), spp)
        n = pix.size
        x = (x0 + pix % bw + rng.uniform(0, 0.99, n)).astype(np.float32)
        y = (y0 + pix // bw + rng.uniform(0, 0.99, n)).astype(np.float32)
        tag = rng.integers(0, 7, n).astype(np.uint32)
        general.add(SampleBatch(x=x, y=y, tag=tag))
        dense.add(SampleBatch.dense(x0, y0, bw, bh, spp, tag=tag))
        for s in range(n):
            single.add(SampleBatch(x=x[s:s + 1], y=y[s:s + 1], tag=tag[s:s + 1]))
    a, b, c = general.resolve()["rk"], dense.resolve()["rk"], single.resolve()["rk"]
    assert a.tobytes() == b.tobytes() == c.tobytes()


def test_wide_filter_on_a_dense_batch_needs_positions_and_equals_the_general_batch():
    rng = np.random.default_rng(5)
    pix = np.repeat(np.arange(12), 4)
    x = (pix % 4 + rng.uniform(0, 0.99, 48)).astype(np.float32)
    y = (pix // 4 + rng.uniform(0, 0.99, 48)).astype(np.float32)
    tag = rng.integers(0, 4, 48).astype(np.uint32)
    opts = {"filter": Filter("gauss"), "ranks": 3}
    with pytest.raises(BufferMismatchError):
        ranked(4, 3, opts, SampleBatch.dense(0, 0, 4, 3, 4, tag=tag))
    a = ranked(4, 3, opts, SampleBatch.dense(0, 0, 4, 3, 4, x=x, y=y, tag=tag))
    b = ranked(4, 3, opts, SampleBatch(x=x, y=y, tag=tag))
    assert a[0].tobytes() == b[0].tobytes() and a[1].tobytes() == b[1].tobytes()


def test_options_are_checked():
    with pytest.raises(BufferMismatchError):
        Resolver(2, 2, {"rk": {"kind": "ranked", "ranks": 0}})
    with pytest.raises(BufferMismatchError):
        Resolver(2, 2, {"rk": {"kind": "ranked", "ranks": 4, "slots": 3}})
    with pytest.raises(BufferMismatchError):
        Resolver(2, 2, {"rk": {"kind": "ranked", "ranks": 2, "components": 3}})
    with pytest.raises(UnsupportedOptionError):
        Resolver(2, 2, {"tag": {"filter": Filter("gauss")}})
    out = Resolver(2, 2, {"rk": {"kind": "ranked"}}).resolve()["rk"]
    assert out.shape == (2, 2, 12) and not out.any()      # no samples: id 0, coverage 0
