"""Run-length coders shared by the legacy formats (SGI, Maya IFF, Wavefront RLA/RLB, Softimage PIC,
Radiance HDR), as whole-buffer Numba kernels.

Why every kernel lives here and not next to its format: Numba's on-disk cache (``cache=True``) only
checks the source file of the function it compiled. A kernel in ``sgi.py`` that calls a primitive
from this module would keep a stale inlined copy of the primitive after this file changes. Keeping
the primitives and the per-format whole-image kernels in one file keeps the cache honest. The
format modules hold the headers, the registration and thin Python wrappers.

Conventions of every kernel:

* Encoders take the picture **top row first** (the in-memory order) and flip themselves where the
  file is bottom-up, so the caller never makes a flipped copy.
* Multi-byte samples reach the encoders as ``uint8`` arrays holding each sample's bytes in file
  order (``(H, W, C * B)``, big-endian unless a format says otherwise); one kernel then serves
  8-bit, 16-bit and float data.
* Decoders never trust the file: every read is checked against the end of the buffer and every
  write against the size of the picture; they return a status code (``OK`` or one of the negative
  codes below) instead of raising, and the format module turns it into ``CorruptFileError``.

Byte-packet dialects of :func:`pack_bytes` / :func:`unpack_bytes` (runs and literals are at most
128 bytes long; Radiance runs at most 127):

========  ======================================  =====================================
mode      run of *n* copies of the next byte       *n* literal bytes follow
========  ======================================  =====================================
``IFF``   header ``0x80 | (n - 1)``                header ``n - 1``
``RLA``   signed header ``n - 1`` (0..127)          signed header ``-n`` (-1..-128)
``HDR``   header ``128 + n`` (n = 1..127)           header ``n`` (1..128)
========  ======================================  =====================================
"""

from __future__ import annotations

import numpy as np
from numba import njit

# byte-packet dialects (an integer selects the variant: never pass a jitted function around)
IFF, RLA, HDR = 0, 1, 2

# decoder status codes
OK = 0
TRUNCATED = -1        # the data ends inside a packet or before the last pixel
OVERRUN = -2          # a packet writes past the end of a row, plane or tile
BAD_PACKET = -3       # a header byte the dialect does not allow (e.g. a zero count)
BAD_OFFSET = -4       # an offset or length table entry points outside the file
BAD_TILE = -5         # an IFF tile outside the picture, or a chunk of unexpected size
BAD_LENGTH = -6       # a record length that does not match its contents

STATUS_TEXT = {
    TRUNCATED: "data ends before the last pixel (truncated file)",
    OVERRUN: "a run-length packet writes past the end of its row or tile",
    BAD_PACKET: "invalid run-length packet header",
    BAD_OFFSET: "an offset/length table entry points outside the file",
    BAD_TILE: "a tile lies outside the picture or has an impossible size",
    BAD_LENGTH: "a record length does not match its contents",
}

# a run shorter than this is left inside a literal: a 2-byte run packet saves nothing when it
# splits a literal in two
MIN_RUN = 3


# -- byte packets (IFF, RLA, HDR) --------------------------------------------------------------

@njit(cache=True)
def packed_capacity(n):
    """Worst-case packed size of ``n`` bytes: all literals, one header per 128 bytes."""
    return n + (n + 127) // 128 + 1


@njit(cache=True)
def new_run_mask(n):
    """Scratch space for the run finders, for rows of up to ``n`` elements (whole words)."""
    return np.zeros((n + 7) // 8 * 8 + 8, np.uint8)


@njit(cache=True, inline="always")
def _mark_run_starts(s, n, mask):
    """``mask[i] = 1`` where ``s[i:i + 3]`` are equal (a run of ``MIN_RUN`` can start), else 0.

    One branch-free pass that LLVM vectorises, 16-32 positions per instruction; the finder then
    skips eight positions per load of ``mask``. ``s`` must be a view starting at the row: with an
    offset added to every index LLVM cannot prove the loop safe and runs it a byte at a time
    (measured 15x slower).
    """
    for i in range(n - 2):
        mask[i] = (s[i] == s[i + 1]) & (s[i + 1] == s[i + 2])
    for i in range(max(n - 2, 0), (n + 7) // 8 * 8):
        mask[i] = 0


@njit(cache=True, inline="always")
def _next_run_start(mask, words, k, lim):
    """The first ``i >= k`` below ``lim`` with ``mask[i]`` set, else ``lim``."""
    while k < lim and (k & 7) != 0:
        if mask[k]:
            return k
        k += 1
    while k + 8 <= lim and words[k >> 3] == 0:
        k += 8
    while k < lim:
        if mask[k]:
            return k
        k += 1
    return lim


@njit(cache=True, inline="always")
def _run_end(s, k, n, maxrun):
    """End of the run of equal elements that starts at ``k`` (three long at least), capped at
    ``maxrun`` elements."""
    a = s[k]
    j = k + 3
    stop = min(n, k + maxrun)
    while j < stop and s[j] == a:
        j += 1
    return j


@njit(cache=True, inline="always")
def _copy(src, s, out, o, n):
    """``out[o:o + n] = src[s:s + n]`` as a loop over two local views, which LLVM turns into a
    vector copy; the slice assignment goes through Numba's generic (overlap-safe) copy at a third
    of the speed."""
    dst = out[o:o + n]
    sv = src[s:s + n]
    for t in range(n):
        dst[t] = sv[t]


@njit(cache=True, inline="always")
def _emit_literals(s, lit, end, out, o, mode):
    """Literal packets (at most 128 bytes each) for ``s[lit:end]``; returns the new end of ``out``."""
    while lit < end:
        m = min(128, end - lit)
        if mode == IFF:
            out[o] = m - 1
        elif mode == RLA:
            out[o] = 256 - m
        else:
            out[o] = m
        _copy(s, lit, out, o + 1, m)
        o += 1 + m
        lit += m
    return o


@njit(cache=True)
def pack_bytes(src, s0, n, out, o, mode, mask):
    """Pack ``src[s0:s0+n]`` into ``out[o:]`` in dialect ``mode``; return the new end of ``out``.

    Runs of ``MIN_RUN`` (3) or more equal bytes become run packets, everything else literals.
    ``mask`` is scratch space from :func:`new_run_mask` (one per caller, reused for every row).
    """
    maxrun = 127 if mode == HDR else 128
    s = src[s0:s0 + n]
    _mark_run_starts(s, n, mask)
    words = mask.view(np.uint64)
    lim = n - 2
    lit = 0
    k = _next_run_start(mask, words, 0, lim)
    while k < lim:
        o = _emit_literals(s, lit, k, out, o, mode)
        j = _run_end(s, k, n, maxrun)
        r = j - k
        if mode == IFF:
            out[o] = 0x80 | (r - 1)
        elif mode == RLA:
            out[o] = r - 1
        else:
            out[o] = 128 + r
        out[o + 1] = s[k]
        o += 2
        lit = j
        k = _next_run_start(mask, words, j, lim)
    return _emit_literals(s, lit, n, out, o, mode)


@njit(cache=True)
def unpack_bytes(src, pos, end, dst, d0, n, dstride, mode):
    """Decode exactly ``n`` bytes from ``src[pos:end]`` into ``dst[d0 + k * dstride]``.

    Returns the position after the last packet used, or a negative status code.
    """
    k = 0
    while k < n:
        if pos >= end:
            return TRUNCATED
        h = np.int64(src[pos])
        pos += 1
        if mode == IFF:
            cnt = (h & 0x7F) + 1
            run = (h & 0x80) != 0
        elif mode == RLA:
            if h < 128:
                cnt = h + 1
                run = True
            else:
                cnt = 256 - h
                run = False
        else:
            if h > 128:
                cnt = h - 128
                run = True
            else:
                cnt = h
                run = False
                if cnt == 0:
                    return BAD_PACKET
        if k + cnt > n:
            return OVERRUN
        if run:
            if pos >= end:
                return TRUNCATED
            v = src[pos]
            pos += 1
            for t in range(cnt):
                dst[d0 + (k + t) * dstride] = v
        else:
            if pos + cnt > end:
                return TRUNCATED
            for t in range(cnt):
                dst[d0 + (k + t) * dstride] = src[pos + t]
            pos += cnt
        k += cnt
    return pos


# -- SGI: 1- or 2-byte elements, 7-bit counts, a zero count ends the row ------------------------

@njit(cache=True, inline="always")
def _sgi_literals(row, lit, end, out, o, bpc):
    """Literal packets (at most 127 elements each) for ``row[lit:end]``; returns the new end."""
    while lit < end:
        m = min(127, end - lit)
        if bpc == 1:
            out[o] = 0x80 | m
            _copy(row, lit, out, o + 1, m)
            o += 1 + m
        else:
            src = row[lit:lit + m]
            out[o] = 0
            out[o + 1] = 0x80 | m
            dst = out[o + 2:o + 2 + 2 * m]
            for t in range(m):
                e = np.int64(src[t])
                dst[2 * t] = (e >> 8) & 0xFF
                dst[2 * t + 1] = e & 0xFF
            o += 2 + 2 * m
        lit += m
    return o


@njit(cache=True)
def _sgi_pack_row(row, w, out, o, bpc, mask):
    """One SGI row record: runs of 3 or more equal elements, literals, a zero terminator."""
    _mark_run_starts(row, w, mask)
    words = mask.view(np.uint64)
    lit = 0
    k = _next_run_start(mask, words, 0, w - 2)
    while k < w - 2:
        o = _sgi_literals(row, lit, k, out, o, bpc)
        j = _run_end(row, k, w, 127)
        r = j - k
        e = np.int64(row[k])
        if bpc == 1:
            out[o] = r
            out[o + 1] = e
        else:
            out[o] = 0
            out[o + 1] = r
            out[o + 2] = (e >> 8) & 0xFF
            out[o + 3] = e & 0xFF
        o += 2 * bpc
        lit = j
        k = _next_run_start(mask, words, j, w - 2)
    o = _sgi_literals(row, lit, w, out, o, bpc)
    for t in range(bpc):
        out[o + t] = 0
    return o + bpc


@njit(cache=True)
def sgi_encode_rle(img, bpc):
    """SGI RLE of a whole picture ``img`` (H, W, C) uint8/uint16, top row first.

    Returns (data, offsets, lengths): ``offsets``/``lengths`` (C * H, int64) index
    ``channel * H + row`` with row 0 at the bottom, offsets relative to the start of ``data``.
    """
    h, w, c = img.shape
    row_cap = (w + (w + 126) // 127 + 1) * bpc
    out = np.empty(c * h * row_cap, np.uint8)
    offs = np.empty(c * h, np.int64)
    lens = np.empty(c * h, np.int64)
    row = np.empty(w, img.dtype)
    mask = new_run_mask(w)
    o = 0
    for ch in range(c):
        for y in range(h):
            sy = h - 1 - y
            for x in range(w):
                row[x] = img[sy, x, ch]
            start = o
            o = _sgi_pack_row(row, w, out, o, bpc, mask)
            offs[ch * h + y] = start
            lens[ch * h + y] = o - start
    return out[:o], offs, lens


@njit(cache=True)
def sgi_decode_rle(data, offs, lens, h, w, c, bpc, out):
    """Decode SGI RLE rows into ``out`` (H, W, C), top row first; return a status code.

    ``offs``/``lens`` are the file's tables (absolute offsets into ``data``).
    """
    n = data.shape[0]
    for ch in range(c):
        for y in range(h):
            i = ch * h + y
            pos = offs[i]
            end = pos + lens[i]
            if pos < 0 or lens[i] < 0 or end > n:
                return BAD_OFFSET
            sy = h - 1 - y
            x = 0
            while True:
                if pos + bpc > end:
                    if x == w:
                        break  # a row that fills exactly may omit its terminator
                    return TRUNCATED
                if bpc == 1:
                    e = np.int64(data[pos])
                else:
                    e = (np.int64(data[pos]) << 8) | data[pos + 1]
                pos += bpc
                cnt = e & 0x7F
                if cnt == 0:
                    break
                if x + cnt > w:
                    return OVERRUN
                if e & 0x80:
                    if pos + cnt * bpc > end:
                        return TRUNCATED
                    for k in range(cnt):
                        if bpc == 1:
                            out[sy, x + k, ch] = data[pos]
                        else:
                            out[sy, x + k, ch] = (np.int64(data[pos]) << 8) | data[pos + 1]
                        pos += bpc
                else:
                    if pos + bpc > end:
                        return TRUNCATED
                    if bpc == 1:
                        v = np.int64(data[pos])
                    else:
                        v = (np.int64(data[pos]) << 8) | data[pos + 1]
                    pos += bpc
                    for k in range(cnt):
                        out[sy, x + k, ch] = v
                x += cnt
            if x != w:
                return TRUNCATED
    return OK


# -- Maya IFF: 64x64 tiles, tile row 0 at the bottom, per-tile RLE of byte planes -----------------

IFF_TILE = 64
TAG_RGBA = 0
TAG_ZBUF = 1


@njit(cache=True)
def iff_encode_tiles(pix, nchan, nbytes, tag, compress):
    """All tile chunks of one IFF layer.

    ``pix`` (H, W, nchan * nbytes) uint8, top row first, each sample's bytes big-endian. Chunk:
    tag, u32 size, u16 x0 y0 x1 y1, data, zero padding to 4. The data is RLE (byte planes, most
    significant byte planes first, channels in reverse order) when that is smaller than raw
    (pixels interleaved, channels in reverse order), else raw. Returns (chunk bytes, starts):
    tile ``i`` is ``bytes[starts[i]:starts[i + 1]]``, so a caller can interleave two layers.
    """
    h, w, nb = pix.shape
    ntx = (w + IFF_TILE - 1) // IFF_TILE
    nty = (h + IFF_TILE - 1) // IFF_TILE
    out = np.empty(ntx * nty * 20 + h * w * nb, np.uint8)
    plane = np.empty(IFF_TILE * IFF_TILE, np.uint8)
    comp = np.empty(nb * packed_capacity(IFF_TILE * IFF_TILE), np.uint8)
    mask = new_run_mask(IFF_TILE * IFF_TILE)
    starts = np.empty(ntx * nty + 1, np.int64)
    o = 0
    for ty in range(nty):
        y0 = ty * IFF_TILE
        y1 = min(y0 + IFF_TILE, h) - 1
        for tx in range(ntx):
            x0 = tx * IFF_TILE
            x1 = min(x0 + IFF_TILE, w) - 1
            starts[ty * ntx + tx] = o
            tw = x1 - x0 + 1
            th = y1 - y0 + 1
            raw = tw * th * nb
            co = raw
            if compress:
                co = 0
                for k in range(nbytes):
                    for c in range(nchan - 1, -1, -1):
                        ch = c * nbytes + k
                        i = 0
                        for yy in range(y0, y1 + 1):
                            sy = h - 1 - yy
                            for xx in range(x0, x1 + 1):
                                plane[i] = pix[sy, xx, ch]
                                i += 1
                        co = pack_bytes(plane, 0, tw * th, comp, co, IFF, mask)
                        if co >= raw:
                            break
                    if co >= raw:
                        break
            if tag == TAG_RGBA:
                out[o] = 82; out[o + 1] = 71; out[o + 2] = 66; out[o + 3] = 65   # "RGBA"
            else:
                out[o] = 90; out[o + 1] = 66; out[o + 2] = 85; out[o + 3] = 70   # "ZBUF"
            size = (co if co < raw else raw) + 8
            out[o + 4] = (size >> 24) & 0xFF
            out[o + 5] = (size >> 16) & 0xFF
            out[o + 6] = (size >> 8) & 0xFF
            out[o + 7] = size & 0xFF
            out[o + 8] = x0 >> 8; out[o + 9] = x0 & 0xFF
            out[o + 10] = y0 >> 8; out[o + 11] = y0 & 0xFF
            out[o + 12] = x1 >> 8; out[o + 13] = x1 & 0xFF
            out[o + 14] = y1 >> 8; out[o + 15] = y1 & 0xFF
            o += 16
            if co < raw:
                _copy(comp, 0, out, o, co)
                o += co
            else:
                for yy in range(y0, y1 + 1):
                    sy = h - 1 - yy
                    for xx in range(x0, x1 + 1):
                        for cc in range(nchan):
                            base = (nchan - 1 - cc) * nbytes
                            for k in range(nbytes):
                                out[o + k] = pix[sy, xx, base + k]
                            o += nbytes
            while (size & 3) != 0:
                out[o] = 0
                o += 1
                size += 1
    starts[ntx * nty] = o
    return out[:o], starts


@njit(cache=True)
def iff_decode_tiles(data, pos, end, colour, cchan, cbytes, zbuf, counts):
    """Decode the tile chunks in ``data[pos:end]`` (the inside of FOR4 TBMP).

    ``colour`` (H, W, cchan * cbytes) and ``zbuf`` (H, W, 4) uint8 receive big-endian sample bytes,
    top row first; a layer with ``cchan == 0`` (or a zbuf of width 0) is not expected in the file.
    ``counts`` (4,) int64 receives: colour tiles, colour pixels, z tiles, z pixels. Other chunks
    are skipped. Returns a status code.
    """
    h = colour.shape[0]
    w = colour.shape[1]
    plane = np.empty(IFF_TILE * IFF_TILE, np.uint8)
    while pos + 8 <= end:
        t0 = data[pos]; t1 = data[pos + 1]; t2 = data[pos + 2]; t3 = data[pos + 3]
        size = ((np.int64(data[pos + 4]) << 24) | (np.int64(data[pos + 5]) << 16)
                | (np.int64(data[pos + 6]) << 8) | np.int64(data[pos + 7]))
        body = pos + 8
        if body + size > end:
            return TRUNCATED
        is_rgba = t0 == 82 and t1 == 71 and t2 == 66 and t3 == 65
        is_zbuf = t0 == 90 and t1 == 66 and t2 == 85 and t3 == 70
        if is_rgba or is_zbuf:
            if is_rgba:
                nchan = cchan
                nbytes = cbytes
                target = colour
            else:
                nchan = 1
                nbytes = 4
                target = zbuf
            if nchan == 0 or target.shape[1] == 0 or size < 8:
                return BAD_TILE
            x0 = (np.int64(data[body]) << 8) | data[body + 1]
            y0 = (np.int64(data[body + 2]) << 8) | data[body + 3]
            x1 = (np.int64(data[body + 4]) << 8) | data[body + 5]
            y1 = (np.int64(data[body + 6]) << 8) | data[body + 7]
            if x0 > x1 or y0 > y1 or x1 >= w or y1 >= h:
                return BAD_TILE
            tw = x1 - x0 + 1
            th = y1 - y0 + 1
            if tw > IFF_TILE or th > IFF_TILE:
                return BAD_TILE
            nb = nchan * nbytes
            raw = tw * th * nb
            p = body + 8
            dend = body + size
            if size - 8 >= raw:
                for yy in range(y0, y1 + 1):
                    sy = h - 1 - yy
                    for xx in range(x0, x1 + 1):
                        for c in range(nchan - 1, -1, -1):
                            for k in range(nbytes):
                                target[sy, xx, c * nbytes + k] = data[p]
                                p += 1
            else:
                for k in range(nbytes):
                    for c in range(nchan - 1, -1, -1):
                        p = unpack_bytes(data, p, dend, plane, 0, tw * th, 1, IFF)
                        if p < 0:
                            return p
                        ch = c * nbytes + k
                        i = 0
                        for yy in range(y0, y1 + 1):
                            sy = h - 1 - yy
                            for xx in range(x0, x1 + 1):
                                target[sy, xx, ch] = plane[i]
                                i += 1
            if is_rgba:
                counts[0] += 1
                counts[1] += tw * th
            else:
                counts[2] += 1
                counts[3] += tw * th
        pos = body + ((size + 3) & ~3)
    return OK


# -- Wavefront RLA/RLB body: bottom-up scanline offset table, per-channel records ---------------

@njit(cache=True)
def rla_encode_body(chans, nbytes, aux, base):
    """Encode the scanline records of an RLA/RLB body.

    ``chans`` (H, W, C * nbytes) uint8: the colour then matte channels, each sample's bytes
    big-endian, top row first; each channel becomes one record, u16 BE length then the RLA byte
    packets of its byte planes (most significant plane first). ``aux`` (H, W, A * 4) uint8: float
    auxiliary channels, each stored raw (u16 length W * 4, then the 4-byte samples as given).
    ``base`` is the file offset of the first record. Returns (offsets (H,) int64 with scanline 0
    at the bottom, body bytes), or (offsets filled with -1, empty) if a record exceeds 65535 bytes.
    """
    h = chans.shape[0]
    w = chans.shape[1]
    c = chans.shape[2] // nbytes
    a = aux.shape[2] // 4
    rec_cap = 2 + nbytes * packed_capacity(w)
    out = np.empty(h * (c * rec_cap + a * (2 + 4 * w)), np.uint8)
    offs = np.empty(h, np.int64)
    plane = np.empty(w, np.uint8)
    mask = new_run_mask(w)
    o = 0
    for fy in range(h):
        sy = h - 1 - fy
        offs[fy] = base + o
        for ch in range(c):
            lenpos = o
            o += 2
            for k in range(nbytes):
                for x in range(w):
                    plane[x] = chans[sy, x, ch * nbytes + k]
                o = pack_bytes(plane, 0, w, out, o, RLA, mask)
            n = o - lenpos - 2
            if n > 0xFFFF:
                offs[:] = -1
                return offs, out[:0]
            out[lenpos] = n >> 8
            out[lenpos + 1] = n & 0xFF
        for ax in range(a):
            n = 4 * w
            if n > 0xFFFF:
                offs[:] = -1
                return offs, out[:0]
            out[o] = n >> 8
            out[o + 1] = n & 0xFF
            o += 2
            for x in range(w):
                for k in range(4):
                    out[o] = aux[sy, x, ax * 4 + k]
                    o += 1
    return offs, out[:o]


@njit(cache=True)
def rla_decode_body(data, offs, chans, nbytes, aux):
    """Decode RLA/RLB scanline records into ``chans`` (H, W, C * nbytes) and ``aux``
    (H, W, A * 4), both uint8, top row first; ``offs`` are the absolute scanline offsets (scanline
    0 at the bottom). Returns a status code."""
    n = data.shape[0]
    h = chans.shape[0]
    w = chans.shape[1]
    c = chans.shape[2] // nbytes
    a = aux.shape[2] // 4
    plane = np.empty(w, np.uint8)
    for fy in range(h):
        sy = h - 1 - fy
        pos = offs[fy]
        if pos < 0 or pos > n:
            return BAD_OFFSET
        for ch in range(c):
            if pos + 2 > n:
                return TRUNCATED
            length = (np.int64(data[pos]) << 8) | data[pos + 1]
            pos += 2
            end = pos + length
            if end > n:
                return TRUNCATED
            p = pos
            for k in range(nbytes):
                p = unpack_bytes(data, p, end, plane, 0, w, 1, RLA)
                if p < 0:
                    return p
                for x in range(w):
                    chans[sy, x, ch * nbytes + k] = plane[x]
            pos = end
        for ax in range(a):
            if pos + 2 > n:
                return TRUNCATED
            length = (np.int64(data[pos]) << 8) | data[pos + 1]
            pos += 2
            if length != 4 * w:
                return BAD_LENGTH
            if pos + length > n:
                return TRUNCATED
            for x in range(w):
                for k in range(4):
                    aux[sy, x, ax * 4 + k] = data[pos]
                    pos += 1
    return OK


# -- Softimage PIC: mixed RLE of whole pixels (one packet's channels), top row first -------------

@njit(cache=True)
def _pic_same(img, y, a, b, c0, nc):
    for k in range(nc):
        if img[y, a, c0 + k] != img[y, b, c0 + k]:
            return False
    return True


@njit(cache=True)
def _pic_pack_row(img, y, c0, nc, out, o):
    """Mixed RLE of channels ``c0 .. c0+nc-1`` of row ``y``."""
    w = img.shape[1]
    minrun = 2 if nc > 1 else MIN_RUN
    lit = 0
    i = 0
    while i < w:
        j = i + 1
        lim = min(w, i + 65535)
        while j < lim and _pic_same(img, y, i, j, c0, nc):
            j += 1
        r = j - i
        if r >= minrun:
            while lit < i:
                m = min(128, i - lit)
                out[o] = m - 1
                o += 1
                for p in range(lit, lit + m):
                    for k in range(nc):
                        out[o] = img[y, p, c0 + k]
                        o += 1
                lit += m
            if r <= 128:
                out[o] = r + 127
                o += 1
            else:
                out[o] = 128
                out[o + 1] = r >> 8
                out[o + 2] = r & 0xFF
                o += 3
            for k in range(nc):
                out[o] = img[y, i, c0 + k]
                o += 1
            i = j
            lit = j
        else:
            i = j
    while lit < w:
        m = min(128, w - lit)
        out[o] = m - 1
        o += 1
        for p in range(lit, lit + m):
            for k in range(nc):
                out[o] = img[y, p, c0 + k]
                o += 1
        lit += m
    return o


@njit(cache=True)
def pic_encode(img, groups):
    """Softimage mixed RLE of ``img`` (H, W, C) uint8, top row first.

    ``groups`` (P, 2) int64: first channel and channel count of each packet, in header order
    (RGBA files: RGB then A). Returns the pixel data bytes.
    """
    h, w, c = img.shape
    cap = 0
    for g in range(groups.shape[0]):
        cap += w * groups[g, 1] + (w + 127) // 128 + 1
    out = np.empty(h * cap, np.uint8)
    o = 0
    for y in range(h):
        for g in range(groups.shape[0]):
            o = _pic_pack_row(img, y, groups[g, 0], groups[g, 1], out, o)
    return out[:o]


@njit(cache=True)
def pic_decode(data, pos, ptype, pchan, out):
    """Decode PIC scanlines (8-bit channels) into ``out`` (H, W, 4), top row first.

    ``ptype`` (P,): 0 raw, 1 pure RLE, 2 mixed RLE; ``pchan`` (P, 4): the output channel of each
    of the packet's channels, -1 after the last. Returns (status, position after the data).
    """
    n = data.shape[0]
    h = out.shape[0]
    w = out.shape[1]
    for y in range(h):
        for g in range(ptype.shape[0]):
            nc = 0
            while nc < 4 and pchan[g, nc] >= 0:
                nc += 1
            t = ptype[g]
            x = 0
            while x < w:
                if t == 0:
                    if pos + nc > n:
                        return TRUNCATED, pos
                    for k in range(nc):
                        out[y, x, pchan[g, k]] = data[pos + k]
                    pos += nc
                    x += 1
                    continue
                if pos >= n:
                    return TRUNCATED, pos
                cnt = np.int64(data[pos])
                pos += 1
                if t == 1:
                    if cnt == 0:
                        return BAD_PACKET, pos
                    run = True
                elif cnt < 128:
                    cnt += 1
                    run = False
                elif cnt == 128:
                    if pos + 2 > n:
                        return TRUNCATED, pos
                    cnt = (np.int64(data[pos]) << 8) | data[pos + 1]
                    pos += 2
                    if cnt == 0:
                        return BAD_PACKET, pos
                    run = True
                else:
                    cnt -= 127
                    run = True
                if x + cnt > w:
                    return OVERRUN, pos
                if run:
                    if pos + nc > n:
                        return TRUNCATED, pos
                    for p in range(x, x + cnt):
                        for k in range(nc):
                            out[y, p, pchan[g, k]] = data[pos + k]
                    pos += nc
                else:
                    if pos + cnt * nc > n:
                        return TRUNCATED, pos
                    for p in range(x, x + cnt):
                        for k in range(nc):
                            out[y, p, pchan[g, k]] = data[pos]
                            pos += 1
                x += cnt
    return OK, pos


# -- Radiance HDR: new-style RLE scanlines (planar R, G, B, E) or flat RGBE pixels ---------------

@njit(cache=True)
def hdr_encode_rle(rgbe):
    """New-style RLE of ``rgbe`` (H, W, 4) uint8, top row first; needs 8 <= W <= 32767."""
    h, w, _ = rgbe.shape
    out = np.empty(h * (4 + 4 * packed_capacity(w)), np.uint8)
    words = np.ascontiguousarray(rgbe).reshape(h * w * 4).view(np.uint32)
    # the row's four planes side by side, filled in one pass over its pixels read as one
    # little-endian word each (R in the low byte: every platform Numba
    # runs on is little-endian); byte-wise loads and four strided passes, one
    # per plane, were each slower
    planes = np.empty(4 * w, np.uint8)
    mask = new_run_mask(w)
    o = 0
    for y in range(h):
        out[o] = 2
        out[o + 1] = 2
        out[o + 2] = w >> 8
        out[o + 3] = w & 0xFF
        o += 4
        px = words[y * w:(y + 1) * w]
        for x in range(w):
            v = px[x]
            planes[x] = v & 0xFF
            planes[w + x] = (v >> 8) & 0xFF
            planes[2 * w + x] = (v >> 16) & 0xFF
            planes[3 * w + x] = v >> 24
        for c in range(4):
            o = pack_bytes(planes, c * w, w, out, o, HDR, mask)
    return out[:o]


@njit(cache=True)
def hdr_decode(data, pos, out):
    """Decode Radiance scanlines into ``out`` (H, W, 4), top row first: new-style RLE rows,
    flat rows and old-style run pixels (1, 1, 1, n). Returns (status, position)."""
    n = data.shape[0]
    h = out.shape[0]
    w = out.shape[1]
    flat = out.reshape(h * w * 4)
    for y in range(h):
        if (8 <= w <= 0x7FFF and pos + 4 <= n and data[pos] == 2 and data[pos + 1] == 2
                and (data[pos + 2] & 0x80) == 0):
            if ((np.int64(data[pos + 2]) << 8) | data[pos + 3]) != w:
                return BAD_LENGTH, pos
            pos += 4
            for c in range(4):
                pos = unpack_bytes(data, pos, n, flat, y * w * 4 + c, w, 4, HDR)
                if pos < 0:
                    return pos, 0
            continue
        x = 0
        shift = 0
        while x < w:
            if pos + 4 > n:
                return TRUNCATED, pos
            r = data[pos]; g = data[pos + 1]; b = data[pos + 2]; e = data[pos + 3]
            pos += 4
            if r == 1 and g == 1 and b == 1:
                # old-style run: repeat the previous pixel e << shift times
                if x == 0:
                    return BAD_PACKET, pos
                cnt = np.int64(e) << shift
                if x + cnt > w:
                    return OVERRUN, pos
                for k in range(cnt):
                    for c in range(4):
                        out[y, x + k, c] = out[y, x - 1, c]
                x += cnt
                shift += 8
                if shift > 24:
                    return BAD_PACKET, pos
            else:
                out[y, x, 0] = r
                out[y, x, 1] = g
                out[y, x, 2] = b
                out[y, x, 3] = e
                x += 1
                shift = 0
    return OK, pos


@njit(cache=True)
def tga_decode_rle(data, pos, out):
    """Targa RLE packets into ``out`` (pixels x bytes per pixel), packets allowed to cross
    scanlines (the TGA 2.0 spec forbids it, the conformance suite and many writers do it):
    header bit 7 set = one pixel repeated (h & 127) + 1 times, else (h & 127) + 1 literal pixels.
    Returns (status, position after the last packet)."""
    n = data.shape[0]
    npix = out.shape[0]
    bpp = out.shape[1]
    done = 0
    while done < npix:
        if pos >= n:
            return TRUNCATED, pos
        head = data[pos]
        pos += 1
        count = (head & 0x7F) + 1
        if done + count > npix:
            count = npix - done          # a last packet longer than the picture: keep what fits
        if head & 0x80:
            if pos + bpp > n:
                return TRUNCATED, pos
            for k in range(count):
                for b in range(bpp):
                    out[done + k, b] = data[pos + b]
            pos += bpp
        else:
            if pos + count * bpp > n:
                return TRUNCATED, pos
            for k in range(count):
                for b in range(bpp):
                    out[done + k, b] = data[pos + k * bpp + b]
            pos += count * bpp
        done += count
    return OK, pos
