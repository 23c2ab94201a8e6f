"""The shared run-length coders of framebuf/formats/_rle.py: exact packet bytes for small inputs,
round trips of random data, and refusal of damaged packet streams."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framebuf.formats import _rle


def pack(data, mode):
    src = np.asarray(data, np.uint8)
    out = np.empty(_rle.packed_capacity(src.size), np.uint8)
    n = _rle.pack_bytes(src, 0, src.size, out, 0, mode, _rle.new_run_mask(src.size))
    return out[:n].tolist()


def unpack(data, n, mode):
    src = np.asarray(data, np.uint8)
    dst = np.zeros(n, np.uint8)
    pos = _rle.unpack_bytes(src, 0, src.size, dst, 0, n, 1, mode)
    return pos, dst.tolist()


# -- exact packets -------------------------------------------------------------------------------

@pytest.mark.parametrize("mode, expected", [
    (_rle.IFF, [0x83, 5, 0x01, 1, 2]),     # run header 0x80 | (n-1); literal header n-1
    (_rle.RLA, [3, 5, 0xFE, 1, 2]),        # signed: n-1 for runs, -n for literals
    (_rle.HDR, [132, 5, 2, 1, 2]),         # 128+n for runs, n for literals
])
def test_run_then_literal(mode, expected):
    assert pack([5, 5, 5, 5, 1, 2], mode) == expected


def test_short_runs_stay_in_literals():
    assert pack([7, 7, 1, 1, 2], _rle.IFF) == [4, 7, 7, 1, 1, 2]
    assert pack([9], _rle.RLA) == [0xFF, 9]
    assert pack([], _rle.HDR) == []


def test_long_runs_and_literals_are_split():
    assert pack([7] * 200, _rle.IFF) == [0xFF, 7, 0x80 | 71, 7]
    assert pack([7] * 200, _rle.RLA) == [127, 7, 71, 7]
    assert pack([7] * 200, _rle.HDR) == [255, 7, 128 + 73, 7]    # Radiance runs stop at 127
    lit = list(range(130))
    assert pack(lit, _rle.IFF) == [127] + lit[:128] + [1] + lit[128:]
    assert pack(lit, _rle.RLA) == [0x80] + lit[:128] + [0xFE] + lit[128:]
    assert pack(lit, _rle.HDR) == [128] + lit[:128] + [2] + lit[128:]


def test_unpack_rejects_damaged_streams():
    assert unpack([0x83, 5], 4, _rle.IFF) == (2, [5, 5, 5, 5])
    assert unpack([0x83], 4, _rle.IFF)[0] == _rle.TRUNCATED         # run value missing
    assert unpack([0x03, 1, 2], 4, _rle.IFF)[0] == _rle.TRUNCATED   # literal cut short
    assert unpack([0x85, 5], 4, _rle.IFF)[0] == _rle.OVERRUN        # run longer than the plane
    assert unpack([0x01, 5, 6], 4, _rle.IFF)[0] == _rle.TRUNCATED   # stream ends early
    assert unpack([0, 1], 1, _rle.HDR)[0] == _rle.BAD_PACKET        # zero-length literal
    assert unpack([0x80] + [1] * 127, 128, _rle.RLA)[0] == _rle.TRUNCATED


runs_strategy = st.lists(st.tuples(st.integers(0, 255), st.integers(1, 300)), max_size=30).map(
    lambda runs: [v for v, n in runs for _ in range(n)])
bytes_strategy = st.one_of(runs_strategy, st.lists(st.integers(0, 255), max_size=600),
                           st.lists(st.sampled_from([0, 1]), max_size=600))


@settings(max_examples=150, deadline=None)
@given(data=bytes_strategy, mode=st.sampled_from([_rle.IFF, _rle.RLA, _rle.HDR]))
def test_pack_unpack_round_trip(data, mode):
    packed = pack(data, mode)
    assert len(packed) <= _rle.packed_capacity(len(data))
    pos, back = unpack(packed, len(data), mode)
    assert pos == len(packed)
    assert back == data


# -- SGI rows ------------------------------------------------------------------------------------

def sgi_rows(img, bpc):
    data, offs, lens = _rle.sgi_encode_rle(np.ascontiguousarray(img), bpc)
    return data, offs, lens


def test_sgi_row_bytes_8_and_16_bit():
    row = np.array([[[9], [9], [9], [9], [1], [2]]], np.uint8)      # H=1, W=6, C=1
    data, offs, lens = sgi_rows(row, 1)
    assert data.tolist() == [4, 9, 0x82, 1, 2, 0]
    assert offs.tolist() == [0] and lens.tolist() == [6]
    data, _, _ = sgi_rows(row.astype(np.uint16) * 0x101, 2)
    assert data.tolist() == [0, 4, 9, 9, 0, 0x82, 1, 1, 2, 2, 0, 0]


def test_sgi_rows_are_bottom_first_and_channel_major():
    img = np.zeros((2, 3, 2), np.uint8)
    img[0] = 1   # top row
    img[1] = 2   # bottom row
    img[:, :, 1] += 10
    data, offs, lens = sgi_rows(img, 1)
    rows = [data[o:o + n].tolist() for o, n in zip(offs, lens)]
    assert rows == [[3, 2, 0], [3, 1, 0], [3, 12, 0], [3, 11, 0]]


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 5), w=st.integers(1, 300), c=st.integers(1, 4), bpc=st.sampled_from([1, 2]),
       seed=st.integers(0, 2**16), levels=st.sampled_from([2, 4, 65536]))
def test_sgi_round_trip(h, w, c, bpc, seed, levels):
    rng = np.random.default_rng(seed)
    dtype = np.uint8 if bpc == 1 else np.uint16
    img = (rng.integers(0, levels, (h, w, c)) % (256 if bpc == 1 else 65536)).astype(dtype)
    img[:, : w // 2] = img[:, :1]   # long runs
    data, offs, lens = sgi_rows(img, bpc)
    out = np.zeros_like(img)
    assert _rle.sgi_decode_rle(data, offs, lens, h, w, c, bpc, out) == _rle.OK
    np.testing.assert_array_equal(out, img)


def test_sgi_decode_rejects_bad_tables_and_rows():
    img = np.full((1, 4, 1), 7, np.uint8)
    data, offs, lens = sgi_rows(img, 1)
    out = np.zeros_like(img)
    assert _rle.sgi_decode_rle(data, offs + 100, lens, 1, 4, 1, 1, out) == _rle.BAD_OFFSET
    assert _rle.sgi_decode_rle(data[:1], offs, lens * 0 + 1, 1, 4, 1, 1, out) == _rle.TRUNCATED
    bad = np.array([9, 7, 0], np.uint8)   # a run of 9 in a 4-pixel row
    assert _rle.sgi_decode_rle(bad, offs, lens, 1, 4, 1, 1, out) == _rle.OVERRUN


# -- Softimage mixed RLE -------------------------------------------------------------------------

GROUPS = np.array([[0, 3], [3, 1]], np.int64)


def test_pic_long_run_uses_the_u16_count():
    img = np.zeros((1, 300, 4), np.uint8)
    img[..., :] = (10, 20, 30, 255)
    data = _rle.pic_encode(img, GROUPS).tolist()
    assert data == [128, 1, 44, 10, 20, 30, 128, 1, 44, 255]


def test_pic_short_runs_and_literals():
    img = np.array([[[1, 1, 1, 5], [1, 1, 1, 5], [2, 2, 2, 6], [3, 3, 3, 7]]], np.uint8)
    data = _rle.pic_encode(img, GROUPS).tolist()
    # RGB: run of 2 (129), then 2 literal pixels (1); A: 4 literals (a run of 2 is not worth it)
    assert data == [129, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 5, 5, 6, 7]


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 4), w=st.integers(1, 400), seed=st.integers(0, 2**16), levels=st.sampled_from([2, 3, 256]))
def test_pic_round_trip(h, w, seed, levels):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, levels, (h, w, 4)).astype(np.uint8)
    img[:, : w // 2] = img[:, :1]
    data = _rle.pic_encode(img, GROUPS)
    out = np.zeros_like(img)
    status, end = _rle.pic_decode(data, 0, np.array([2, 2]), np.array([[0, 1, 2, -1], [3, -1, -1, -1]]), out)
    assert status == _rle.OK and end == data.size
    np.testing.assert_array_equal(out, img)


def test_pic_decode_rejects_overrun_and_truncation():
    out = np.zeros((1, 4, 4), np.uint8)
    types, chans = np.array([2]), np.array([[0, 1, 2, 3]])
    assert _rle.pic_decode(np.array([128, 0, 9, 1, 2, 3, 4], np.uint8), 0, types, chans, out)[0] == _rle.OVERRUN
    assert _rle.pic_decode(np.array([3, 1, 2, 3], np.uint8), 0, types, chans, out)[0] == _rle.TRUNCATED
    assert _rle.pic_decode(np.array([128, 0, 0, 1, 2, 3, 4], np.uint8), 0, types, chans, out)[0] == _rle.BAD_PACKET


# -- IFF tiles, RLA bodies, Radiance scanlines ---------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 140), w=st.integers(1, 140), nchan=st.sampled_from([1, 3, 4]),
       nbytes=st.sampled_from([1, 2, 4]), seed=st.integers(0, 2**16), compress=st.booleans())
def test_iff_tiles_round_trip(h, w, nchan, nbytes, seed, compress):
    rng = np.random.default_rng(seed)
    pix = rng.integers(0, 3, (h, w, nchan * nbytes)).astype(np.uint8)
    pix[: h // 2] = 9
    data, starts = _rle.iff_encode_tiles(pix, nchan, nbytes, _rle.TAG_RGBA, compress)
    assert starts[0] == 0 and starts[-1] == data.size and np.all(np.diff(starts) % 4 == 0)
    out = np.zeros_like(pix)
    counts = np.zeros(4, np.int64)
    status = _rle.iff_decode_tiles(data, 0, data.size, out, nchan, nbytes, np.zeros((h, 0, 4), np.uint8), counts)
    assert status == _rle.OK
    assert counts[0] == ((w + 63) // 64) * ((h + 63) // 64) and counts[1] == h * w
    np.testing.assert_array_equal(out, pix)


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 6), w=st.integers(1, 300), nbytes=st.sampled_from([1, 2]), naux=st.integers(0, 2),
       seed=st.integers(0, 2**16))
def test_rla_body_round_trip(h, w, nbytes, naux, seed):
    rng = np.random.default_rng(seed)
    chans = rng.integers(0, 3, (h, w, 4 * nbytes)).astype(np.uint8)
    chans[:, : w // 2] = 5
    aux = rng.integers(0, 256, (h, w, 4 * naux)).astype(np.uint8)
    offs, body = _rle.rla_encode_body(chans, nbytes, aux, 0)
    back_c, back_a = np.zeros_like(chans), np.zeros_like(aux)
    assert _rle.rla_decode_body(body, offs, back_c, nbytes, back_a) == _rle.OK
    np.testing.assert_array_equal(back_c, chans)
    np.testing.assert_array_equal(back_a, aux)
    assert np.all(np.diff(offs) > 0)   # scanline 0 (the bottom row) is written first
    back_c[:] = 0
    _rle.rla_decode_body(body, offs[:1], back_c[-1:], nbytes, back_a[-1:])
    np.testing.assert_array_equal(back_c[-1], chans[-1])
    assert _rle.rla_decode_body(body[:-1], offs, back_c, nbytes, back_a) in (_rle.TRUNCATED, _rle.BAD_LENGTH)


@pytest.mark.parametrize("w", [8, 37, 300])
def test_hdr_rle_round_trip_and_row_marker(w):
    rng = np.random.default_rng(w)
    rgbe = rng.integers(0, 4, (3, w, 4)).astype(np.uint8)
    rgbe[:, : w // 2] = (1, 2, 3, 130)
    data = _rle.hdr_encode_rle(rgbe)
    assert data[:4].tolist() == [2, 2, w >> 8, w & 255]
    out = np.zeros_like(rgbe)
    status, pos = _rle.hdr_decode(data, 0, out)
    assert status == _rle.OK and pos == data.size
    np.testing.assert_array_equal(out, rgbe)


def test_hdr_decode_flat_and_old_style_runs():
    flat = np.array([[[1, 2, 3, 128], [4, 5, 6, 129], [7, 8, 9, 130]]], np.uint8)
    out = np.zeros_like(flat)
    assert _rle.hdr_decode(flat.reshape(-1), 0, out)[0] == _rle.OK
    np.testing.assert_array_equal(out, flat)
    old = np.array([9, 8, 7, 130, 1, 1, 1, 2], np.uint8)   # a pixel, then "repeat it twice"
    out = np.zeros((1, 3, 4), np.uint8)
    assert _rle.hdr_decode(old, 0, out)[0] == _rle.OK
    assert out[0, :, 0].tolist() == [9, 9, 9]
    assert _rle.hdr_decode(old[:6], 0, out)[0] == _rle.TRUNCATED
