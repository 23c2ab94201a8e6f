"""Numba kernels of the EXR decoder (:mod:`framebuf.formats._exrfile`), in a module of their own
so that reading a ZIP/ZIPS/NONE scanline file -- the numpy path -- never imports Numba (about
0.5 s of a process's start-up, plus loading the cached kernels): they serve RLE and tiled parts,
and the half -> float32 conversion while decoding."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _rle_decode(src, dst):
    """OpenEXR RLE: a signed count byte; negative = that many literal bytes, else count+1 repeats."""
    i = 0
    o = 0
    n = src.shape[0]
    m = dst.shape[0]
    while i < n:
        c = np.int8(src[i])
        i += 1
        if c < 0:
            k = -np.int64(c)
            if i + k > n or o + k > m:
                return -1
            for j in range(k):
                dst[o + j] = src[i + j]
            i += k
            o += k
        else:
            k = np.int64(c) + 1
            if i >= n or o + k > m:
                return -1
            v = src[i]
            i += 1
            for j in range(k):
                dst[o + j] = v
            o += k
    return o


@njit(cache=True, nogil=True)
def _unpredict(src, dst):
    """ZIP's predictor undone and its byte split joined, in one pass (the deep reader, a call
    per chunk instead of five numpy steps): byte i of the running sum is ``t[i]`` minus 128 per
    step (``^ 0x80`` on odd i), and the first half of ``t`` holds the even bytes of ``dst``."""
    n = src.shape[0]
    half = (n + 1) // 2
    acc = 0
    for i in range(half):
        acc = (acc + src[i]) & 255
        dst[2 * i] = acc ^ ((i & 1) << 7)
    for i in range(half, n):
        acc = (acc + src[i]) & 255
        dst[2 * (i - half) + 1] = acc ^ ((i & 1) << 7)


@njit(cache=True, nogil=True)
def _deep_place(raw, offsets, cx, cy, cw, cn, w, rows, kinds, fbits, ubits, lut):
    """One deep chunk's sample data (``raw``, unpacked: line by line, every channel in turn,
    every sample of the line's pixels) into its rows: channel c goes to row ``rows[c]`` of the
    float bits (kind 1 half, through ``lut``; kind 2 float) or of the uints (kind 0). The
    caller checked the data size against the counts. Returns the bytes used."""
    pos = 0
    for j in range(cn):
        p = (cy + j) * w + cx
        a, n = offsets[p], offsets[p + cw] - offsets[p]
        for c in range(rows.shape[0]):
            r, k = rows[c], kinds[c]
            if k == 1:
                for i in range(n):
                    fbits[r, a + i] = lut[raw[pos + 2 * i] | (np.int64(raw[pos + 2 * i + 1]) << 8)]
                pos += 2 * n
                continue
            for i in range(n):
                q = pos + 4 * i
                v = (np.uint32(raw[q]) | (np.uint32(raw[q + 1]) << 8)
                     | (np.uint32(raw[q + 2]) << 16) | (np.uint32(raw[q + 3]) << 24))
                if k == 2:
                    fbits[r, a + i] = v
                else:
                    ubits[r, a + i] = v
            pos += 4 * n
    return pos


@njit(cache=True, inline="always")
def _spread(x):
    """The low four bytes of ``x`` moved to the low byte of four 16-bit lanes."""
    x = x & np.uint64(0xFFFFFFFF)
    x = (x | (x << np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    return (x | (x << np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)


@njit(cache=True, inline="always")
def _byte_add(a, b):
    """Eight independent byte additions mod 256 in one uint64 (no carry between bytes)."""
    low = np.uint64(0x7F7F7F7F7F7F7F7F)
    return ((a & low) + (b & low)) ^ ((a ^ b) & np.uint64(0x8080808080808080))


@njit(cache=True, inline="always")
def _byte_prefix(x, carry):
    """Running byte sums mod 256 of the eight bytes of ``x`` (three shifted additions), each
    plus the previous word's last sum (``carry``, in every byte)."""
    x = _byte_add(x, x << np.uint64(8))
    x = _byte_add(x, x << np.uint64(16))
    x = _byte_add(x, x << np.uint64(32))
    return _byte_add(x, carry)


@njit(cache=True, nogil=True, inline="never")
def _bytesum(src, p, m):
    """Sum of ``src[p: p + m]``. A function of its own over a slice, counted from 0: written
    inline as ``src[p + i]`` the loop is not vectorised (a possibly negative index) and this
    sum, which every unwanted channel's bytes go through, cost 25 ms per 32 MB instead of 4."""
    v = src[p: p + m]
    s = np.uint64(0)
    for i in range(m):
        s += v[i]
    return np.int64(s)


@njit(cache=True, nogil=True)
def _zip_chunk(src, s0, n, x0, y0, lines, w, ch_size, ch_slot, out_off, out_stride, out_size,
               conv, out16, out32, out64, lut):
    """One predicted, byte-split chunk (``src[s0: s0 + n]``) into the wanted channels' output
    (see :func:`_scatter` for the layout and the method).

    A call per chunk, not per channel line: every array handed to a Numba function costs a
    reference-count pair per call, which per line made tiled reads (64-pixel lines) a quarter
    slower; so the line loop and its SWAR step stay together here.
    """
    ones = np.uint64(0x0101010101010101)
    flip = np.uint64(0x8080808080808080)  # d - 128 == d ^ 0x80 (mod 256), in every byte
    half = n >> 1
    p = s0
    q = s0 + half
    acc1 = np.int64(128)              # t[-1] = 128 makes t[0] = d[0]
    acc2 = (128 + 128 * half + _bytesum(src, s0, half)) & 255
    for l in range(lines):
        y = y0 + l
        for c in range(ch_size.shape[0]):
            m = (w * ch_size[c]) >> 1
            slot = ch_slot[c]
            if slot < 0:
                acc1 = (acc1 + _bytesum(src, p, m) + 128 * m) & 255
                acc2 = (acc2 + _bytesum(src, q, m) + 128 * m) & 255
                p += m
                q += m
                continue
            o = out_off[slot] + y * out_stride[slot] + x0 * out_size[slot]
            cv = conv[slot]
            o = (o >> 2) if cv else (o >> 1)
            # eight pairs at a time: SWAR prefix sums of both halves, then the pairs
            # interleaved by spreading each word's bytes to 16-bit lanes
            nw = m >> 3
            w1 = src[p: p + 8 * nw].view(np.uint64)
            w2 = src[q: q + 8 * nw].view(np.uint64)
            c1 = np.uint64(acc1) * ones
            c2 = np.uint64(acc2) * ones
            for j in range(nw):
                x = _byte_prefix(w1[j] ^ flip, c1)
                c1 = (x >> np.uint64(56)) * ones
                z = _byte_prefix(w2[j] ^ flip, c2)
                c2 = (z >> np.uint64(56)) * ones
                a = _spread(x) | (_spread(z) << np.uint64(8))
                b = _spread(x >> np.uint64(32)) | (_spread(z >> np.uint64(32)) << np.uint64(8))
                base = o + 8 * j
                if cv:
                    for e in range(4):
                        sh = np.uint64(16 * e)
                        out32[base + e] = lut[(a >> sh) & np.uint64(0xFFFF)]
                        out32[base + 4 + e] = lut[(b >> sh) & np.uint64(0xFFFF)]
                elif base & 3 == 0:
                    out64[base >> 2] = a
                    out64[(base >> 2) + 1] = b
                else:
                    for e in range(4):
                        sh = np.uint64(16 * e)
                        out16[base + e] = np.uint16((a >> sh) & np.uint64(0xFFFF))
                        out16[base + 4 + e] = np.uint16((b >> sh) & np.uint64(0xFFFF))
            acc1 = np.int64(c1 & np.uint64(255))
            acc2 = np.int64(c2 & np.uint64(255))
            for i in range(8 * nw, m):
                acc1 = (acc1 + src[p + i] + 128) & 255
                acc2 = (acc2 + src[q + i] + 128) & 255
                if cv:
                    out32[o + i] = lut[acc1 | (acc2 << 8)]
                else:
                    out16[o + i] = np.uint16(acc1 | (acc2 << 8))
            p += m
            q += m


@njit(cache=True, nogil=True)
def _copy_raw_chunk(src, p, x0, y0, lines, w, ch_size, ch_slot, out_off, out_stride, out_size,
                    conv, out, out32, lut):
    """The wanted channels of an uncompressed chunk (lines of every channel in turn from
    ``src[p:]``) into ``out``; half samples to float32 through ``lut`` where ``conv``."""
    for l in range(lines):
        y = y0 + l
        for c in range(ch_size.shape[0]):
            m = w * ch_size[c]
            slot = ch_slot[c]
            if slot >= 0:
                o = out_off[slot] + y * out_stride[slot] + x0 * out_size[slot]
                if conv[slot]:
                    o >>= 2
                    for i in range(m >> 1):
                        out32[o + i] = lut[np.int64(src[p + 2 * i]) | (np.int64(src[p + 2 * i + 1]) << 8)]
                else:
                    out[o: o + m] = src[p: p + m]
            p += m


@njit(cache=True, nogil=True)
def _scatter(buf, starts, lengths, kinds, xs, ys, widths, nlines, ch_size, ch_slot, out_off,
             out_stride, out_size, conv, out, rle_tmp, lut):
    """Decode every chunk and copy the selected channels into ``out``.

    ``buf[starts[k]: starts[k] + lengths[k]]`` holds chunk k: raw (kind 0), inflated but still
    predicted and byte-split (kind 1, ZIP/ZIPS), or RLE-encoded (kind 2). A chunk covers pixels
    ``xs[k] .. xs[k] + widths[k]`` of lines ``ys[k] .. ys[k] + nlines[k]``; each line holds every
    channel in turn (``ch_size`` bytes per sample). Channel c goes to output slot ``ch_slot[c]``
    (-1: not wanted), at ``out_off[slot] + y * out_stride[slot] + x * out_size[slot]``; with
    ``conv[slot]`` half samples become float32 through ``lut``. Returns -1 on inconsistent data.

    ZIP's predictor is a running byte sum over the chunk whose bytes were split in two halves
    (even bytes first, odd bytes second). Sample sizes are 2 or 4, so the wanted bytes come in
    pairs (t[i], t[half + i]): one pass keeps two running sums, one per half, and writes pairs as
    it goes (:func:`_zip_chunk`) -- no scratch buffer, no second pass. Unwanted channels
    only advance the sums (a plain byte sum, which vectorises). The second sum starts after the
    whole first half, which is one more byte sum.
    """
    out16 = out.view(np.uint16)
    out32 = out.view(np.uint32)
    out64 = out.view(np.uint64)
    nch = ch_size.shape[0]
    bpp = 0
    for c in range(nch):
        bpp += ch_size[c]
    for k in range(starts.shape[0]):
        w = widths[k]
        n = w * bpp * nlines[k]
        kind = kinds[k]
        src = buf
        s0 = starts[k]
        if kind == 2:  # RLE: decoded into scratch, then predicted and split like ZIP
            got = _rle_decode(buf[s0: s0 + lengths[k]], rle_tmp[:n])
            if got != n:
                return -1
            src = rle_tmp
            s0 = 0
            kind = 1
        elif lengths[k] != n:
            return -1
        if kind != 1:
            _copy_raw_chunk(src, s0, xs[k], ys[k], nlines[k], w, ch_size, ch_slot, out_off,
                            out_stride, out_size, conv, out, out32, lut)
            continue
        _zip_chunk(src, s0, n, xs[k], ys[k], nlines[k], w, ch_size, ch_slot, out_off,
                   out_stride, out_size, conv, out16, out32, out64, lut)
    return 0
