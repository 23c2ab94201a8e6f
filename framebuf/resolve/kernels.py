"""Numba kernels of the sample resolve: one whole-batch loop per rule, one finishing pass per rule.

Each ``accumulate_*`` kernel walks a batch once, in the order given, and folds every sample into
per-pixel state arrays that the caller owns (flat, pixel index ``p = y * width + x``). Walking in
order and writing in place is what makes the "last sample" rules right across batches. None of them
is parallel: "last" needs order, and on this 2-core machine the scattered kernels are bound by memory
latency, not by arithmetic (see bench/resolve.py).

A sample belongs to pixel ``(floor(x), floor(y))``; samples outside ``[0, width) x [0, height)`` or
with a NaN coordinate are skipped, except that the filtered-colour kernel lets a sample reach every
pixel whose centre lies within the filter radius.

Two layouts, one arithmetic
    *General* kernels (``accumulate_*``) take x, y per sample. They detect runs of consecutive
    samples of one pixel: the pixel's state is loaded into locals when the pixel changes, folded
    sample by sample, and stored once when it changes again. In pixel order that is one load and one
    store per pixel; in random order (runs of one) it is the plain scattered update. "Last" rules
    find the run's end first and scan back from it for the last usable sample, so in pixel order
    they read one value per pixel, not one per sample.

    *Dense* kernels (``dense_*``) take a block of ``bw x bh`` pixels starting at ``(bx0, by0)`` with
    ``spp`` samples per pixel in pixel order (``SampleBatch.dense``); they read no coordinates. For
    every pixel they perform exactly the operations of the general kernel on a run of ``spp``
    samples, in the same order, so the results are bit-identical (tests/test_resolve.py).

Numba's cache checks only this file's timestamp: ``filters.filter_1d`` is compiled into the
filtered kernel, so after editing filters.py touch this file (or delete the ``.nbi``/``.nbc`` files in
``__pycache__``), or the old profile stays cached.

Component counts 4, 3 and 1 get their own code paths with the state in scalar locals (the generic
path keeps the state in memory); the finiteness test of a colour sample is one compare of
``sum(v_c - v_c)`` against 0 (NaN for any non-finite component), not one branch per component.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .filters import filter_1d

# What a "last"/"average" kernel skips: any non-finite component (colour) or only NaN (vectors).
SKIP_NONFINITE, SKIP_NAN = 0, 1


@njit(cache=True, inline="always")
def _pixel(fx, fy, width, height):
    """Flat pixel index of a sample, -1 outside the image (NaN compares false, so it is outside)."""
    if fx >= 0.0 and fx < width and fy >= 0.0 and fy < height:
        ix = int(fx)
        iy = int(fy)
        # float rounding near the far edge can give width/height itself; keep it inside
        if ix >= width:
            ix = width - 1
        if iy >= height:
            iy = height - 1
        return iy * width + ix
    return -1


@njit(cache=True, inline="always")
def _usable(values, s, mode):
    ok = True
    if mode == SKIP_NONFINITE:
        t = values[s, 0] - values[s, 0]
        for c in range(1, values.shape[1]):
            t += values[s, c] - values[s, c]
        ok = t == 0.0
    else:
        for c in range(values.shape[1]):
            v = values[s, c]
            if v != v:
                ok = False
    return ok


@njit(cache=True, inline="always")
def _clip_block(bx0, by0, bw, bh, width, height):
    """The part of a dense block inside the image: (i0, i1, j0, j1), possibly empty."""
    i0 = max(bx0, 0)
    i1 = min(bx0 + bw, width)
    j0 = max(by0, 0)
    j1 = min(by0 + bh, height)
    return i0, i1, j0, j1


#: samples per block of the general kernels: pixel indices of a block are computed (and the state
#: rows they will touch prefetched) before the block is folded; 256 int64 stay in L1.
BLOCK = 256


@intrinsic
def _prefetch_row(typingctx, arr, p):
    """Hint the CPU to fetch row ``p`` of ``arr`` into cache (``llvm.prefetch``, for writing)."""
    sig = types.void(arr, p)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        stride = cgutils.unpack_tuple(builder, ary.strides, aryty.ndim)[0]
        i8p = ir.IntType(8).as_pointer()
        base = builder.bitcast(ary.data, i8p)
        ptr = builder.gep(base, [builder.mul(args[1], stride)])
        fnty = ir.FunctionType(ir.VoidType(), [i8p, ir.IntType(32), ir.IntType(32), ir.IntType(32)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        i32 = ir.IntType(32)
        builder.call(fn, [ptr, ir.Constant(i32, 1), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True)
def _block_pixels(x, y, b0, b1, width, height, idx, a, b):
    """Pixel index of samples [b0, b1) into ``idx`` (then a -2 sentinel, which ends every run),
    prefetching rows of the state arrays ``a`` and ``b`` wherever the pixel changes: scattered
    samples then wait for many cache misses at once instead of one after another."""
    prev = -1
    for s in range(b0, b1):
        p = _pixel(x[s], y[s], width, height)
        idx[s - b0] = p
        if p != prev and p >= 0:
            _prefetch_row(a, p)
            _prefetch_row(b, p)
        prev = p
    idx[b1 - b0] = -2


# ----------------------------------------------------------------------------------------- colour
@njit(cache=True, inline="always")
def _fold_average(values, s0, s1, sums, p, nc):
    """Fold samples [s0, s1) of one pixel into ``sums[p]`` (sums..., count); finite samples only."""
    if nc == 4:
        a0 = sums[p, 0]
        a1 = sums[p, 1]
        a2 = sums[p, 2]
        a3 = sums[p, 3]
        cnt = sums[p, 4]
        for s in range(s0, s1):
            v0 = values[s, 0]
            v1 = values[s, 1]
            v2 = values[s, 2]
            v3 = values[s, 3]
            if ((v0 - v0) + (v1 - v1)) + ((v2 - v2) + (v3 - v3)) == 0.0:
                a0 += v0
                a1 += v1
                a2 += v2
                a3 += v3
                cnt += 1.0
        sums[p, 0] = a0
        sums[p, 1] = a1
        sums[p, 2] = a2
        sums[p, 3] = a3
        sums[p, 4] = cnt
    elif nc == 3:
        a0 = sums[p, 0]
        a1 = sums[p, 1]
        a2 = sums[p, 2]
        cnt = sums[p, 3]
        for s in range(s0, s1):
            v0 = values[s, 0]
            v1 = values[s, 1]
            v2 = values[s, 2]
            if ((v0 - v0) + (v1 - v1)) + (v2 - v2) == 0.0:
                a0 += v0
                a1 += v1
                a2 += v2
                cnt += 1.0
        sums[p, 0] = a0
        sums[p, 1] = a1
        sums[p, 2] = a2
        sums[p, 3] = cnt
    elif nc == 1:
        a0 = sums[p, 0]
        cnt = sums[p, 1]
        for s in range(s0, s1):
            v0 = values[s, 0]
            if v0 - v0 == 0.0:
                a0 += v0
                cnt += 1.0
        sums[p, 0] = a0
        sums[p, 1] = cnt
    else:
        for s in range(s0, s1):
            if _usable(values, s, SKIP_NONFINITE):
                for c in range(nc):
                    sums[p, c] += values[s, c]
                sums[p, nc] += 1.0


@njit(cache=True, inline="always")
def _runs_average(x, y, values, width, height, sums, nc):
    n = x.shape[0]
    idx = np.empty(BLOCK + 1, np.int64)
    for b0 in range(0, n, BLOCK):
        b1 = min(n, b0 + BLOCK)
        _block_pixels(x, y, b0, b1, width, height, idx, sums, sums)
        k = 0
        while k < b1 - b0:
            p = idx[k]
            e = k + 1
            while idx[e] == p:
                e += 1
            if p >= 0:
                _fold_average(values, b0 + k, b0 + e, sums, p, nc)
            k = e


@njit(cache=True)
def accumulate_average(x, y, values, width, height, sums):
    """+rgba with the 1x1 box: per-pixel sums of finite samples, their count in the last column.

    The count shares the row with the sums so a scattered sample costs one cache miss, not two.
    The component-count dispatch sits outside the sample loop (inside it, measured slower)."""
    nc = values.shape[1]
    if nc == 4:
        _runs_average(x, y, values, width, height, sums, 4)
    elif nc == 3:
        _runs_average(x, y, values, width, height, sums, 3)
    elif nc == 1:
        _runs_average(x, y, values, width, height, sums, 1)
    else:
        _runs_average(x, y, values, width, height, sums, nc)


@njit(cache=True)
def dense_average(values, bx0, by0, bw, bh, spp, width, height, sums):
    """Dense layout of :func:`accumulate_average` (module docstring)."""
    nc = values.shape[1]
    i0, i1, j0, j1 = _clip_block(bx0, by0, bw, bh, width, height)
    for j in range(j0, j1):
        for i in range(i0, i1):
            s = ((j - by0) * bw + (i - bx0)) * spp
            p = j * width + i
            if nc == 4:
                _fold_average(values, s, s + spp, sums, p, 4)
            elif nc == 3:
                _fold_average(values, s, s + spp, sums, p, 3)
            elif nc == 1:
                _fold_average(values, s, s + spp, sums, p, 1)
            else:
                _fold_average(values, s, s + spp, sums, p, nc)


@njit(cache=True, inline="always")
def _ok4(v0, v1, v2, v3, mode):
    if mode == SKIP_NONFINITE:
        return ((v0 - v0) + (v1 - v1)) + ((v2 - v2) + (v3 - v3)) == 0.0
    return (v0 == v0) & (v1 == v1) & (v2 == v2) & (v3 == v3)


@njit(cache=True, inline="always")
def _ok3(v0, v1, v2, mode):
    if mode == SKIP_NONFINITE:
        return ((v0 - v0) + (v1 - v1)) + (v2 - v2) == 0.0
    return (v0 == v0) & (v1 == v1) & (v2 == v2)


@njit(cache=True)
def _scan_last(values, s0, k, last, seen, p, mode):
    """The slow path of :func:`_take_last`: scan back from ``k`` (not inlined, it is rare)."""
    while k >= s0 and not _usable(values, k, mode):
        k -= 1
    if k >= s0:
        for c in range(values.shape[1]):
            last[p, c] = values[k, c]
        seen[p] = True


@njit(cache=True)
def accumulate_last(x, y, values, width, height, last, seen, mode):
    """-rgba, -n, -m: the last usable sample in arrival order stays. The run's last sample is
    tested first (one value read per run), the rest only when it is not usable. Components 4
    and 3 are written out in registers; helper-function forms of this measured 8x slower on
    scattered samples."""
    nc = values.shape[1]
    n = x.shape[0]
    idx = np.empty(BLOCK + 1, np.int64)
    for b0 in range(0, n, BLOCK):
        b1 = min(n, b0 + BLOCK)
        _block_pixels(x, y, b0, b1, width, height, idx, last, seen)
        k = 0
        while k < b1 - b0:
            p = idx[k]
            e = k + 1
            while idx[e] == p:
                e += 1
            if p >= 0:
                kk = b0 + e - 1
                if nc == 4:
                    v0 = values[kk, 0]
                    v1 = values[kk, 1]
                    v2 = values[kk, 2]
                    v3 = values[kk, 3]
                    if _ok4(v0, v1, v2, v3, mode):
                        last[p, 0] = v0
                        last[p, 1] = v1
                        last[p, 2] = v2
                        last[p, 3] = v3
                        seen[p] = True
                    else:
                        _scan_last(values, b0 + k, kk - 1, last, seen, p, mode)
                elif nc == 3:
                    v0 = values[kk, 0]
                    v1 = values[kk, 1]
                    v2 = values[kk, 2]
                    if _ok3(v0, v1, v2, mode):
                        last[p, 0] = v0
                        last[p, 1] = v1
                        last[p, 2] = v2
                        seen[p] = True
                    else:
                        _scan_last(values, b0 + k, kk - 1, last, seen, p, mode)
                else:
                    _scan_last(values, b0 + k, kk, last, seen, p, mode)
            k = e


@njit(cache=True)
def dense_last(values, bx0, by0, bw, bh, spp, width, height, last, seen, mode):
    nc = values.shape[1]
    i0, i1, j0, j1 = _clip_block(bx0, by0, bw, bh, width, height)
    for j in range(j0, j1):
        for i in range(i0, i1):
            s = ((j - by0) * bw + (i - bx0)) * spp
            p = j * width + i
            k = s + spp - 1
            if nc == 4:
                v0 = values[k, 0]
                v1 = values[k, 1]
                v2 = values[k, 2]
                v3 = values[k, 3]
                if _ok4(v0, v1, v2, v3, mode):
                    last[p, 0] = v0
                    last[p, 1] = v1
                    last[p, 2] = v2
                    last[p, 3] = v3
                    seen[p] = True
                else:
                    _scan_last(values, s, k - 1, last, seen, p, mode)
            elif nc == 3:
                v0 = values[k, 0]
                v1 = values[k, 1]
                v2 = values[k, 2]
                if _ok3(v0, v1, v2, mode):
                    last[p, 0] = v0
                    last[p, 1] = v1
                    last[p, 2] = v2
                    seen[p] = True
                else:
                    _scan_last(values, s, k - 1, last, seen, p, mode)
            else:
                _scan_last(values, s, k, last, seen, p, mode)


@njit(cache=True, inline="always")
def _splat(values, s, fx, fy, nc, width, height, code, rx, ry, span_x, wx, weighted, box, clip,
           lo, hi):
    own = _pixel(fx, fy, width, height)
    if own >= 0:
        for c in range(nc):
            box[own, c] += values[s, c]
        box[own, nc] += 1.0
    # pixel centres i + 0.5 with |fx - (i + 0.5)| <= rx
    x0 = max(0, int(math.ceil(fx - rx - 0.5)))
    x1 = min(width - 1, int(math.floor(fx + rx - 0.5)))
    y0 = max(0, int(math.ceil(fy - ry - 0.5)))
    y1 = min(height - 1, int(math.floor(fy + ry - 0.5)))
    if x0 > x1 or y0 > y1:
        return
    nx = min(x1 - x0 + 1, span_x)
    for k in range(nx):
        wx[k] = filter_1d(code, fx - (x0 + k + 0.5), rx)
    for j in range(y0, y1 + 1):
        wy = filter_1d(code, fy - (j + 0.5), ry)
        if wy == 0.0:
            continue
        row = j * width + x0
        for k in range(nx):
            w = wx[k] * wy
            if w == 0.0:
                continue
            p = row + k
            for c in range(nc):
                weighted[p, c] += w * values[s, c]
            weighted[p, nc] += w
            weighted[p, nc + 1] += abs(w)
            if clip:
                for c in range(nc):
                    v = values[s, c]
                    if v < lo[p, c]:
                        lo[p, c] = v
                    if v > hi[p, c]:
                        hi[p, c] = v


@njit(cache=True)
def _filtered4(x, y, values, width, height, code, rx, ry, weighted, box):
    """:func:`accumulate_filtered` for 4 components without clipping (the common case), the
    sample's values in registers and both axes' weights computed once per sample. Not inlined:
    inlined helpers in these loops measured several times slower."""
    span_x = int(math.ceil(2.0 * rx)) + 2
    span_y = int(math.ceil(2.0 * ry)) + 2
    wx = np.empty(span_x, np.float64)
    wy = np.empty(span_y, np.float64)
    for s in range(x.shape[0]):
        fx = np.float64(x[s])
        fy = np.float64(y[s])
        if not (math.isfinite(fx) and math.isfinite(fy)):
            continue
        v0 = values[s, 0]
        v1 = values[s, 1]
        v2 = values[s, 2]
        v3 = values[s, 3]
        if not ((v0 - v0) + (v1 - v1)) + ((v2 - v2) + (v3 - v3)) == 0.0:
            continue
        own = _pixel(fx, fy, width, height)
        if own >= 0:
            box[own, 0] += v0
            box[own, 1] += v1
            box[own, 2] += v2
            box[own, 3] += v3
            box[own, 4] += 1.0
        x0 = max(0, int(math.ceil(fx - rx - 0.5)))
        x1 = min(width - 1, int(math.floor(fx + rx - 0.5)))
        y0 = max(0, int(math.ceil(fy - ry - 0.5)))
        y1 = min(height - 1, int(math.floor(fy + ry - 0.5)))
        if x0 > x1 or y0 > y1:
            continue
        nx = min(x1 - x0 + 1, span_x)
        ny = min(y1 - y0 + 1, span_y)
        for k in range(nx):
            wx[k] = filter_1d(code, fx - (x0 + k + 0.5), rx)
        for k in range(ny):
            wy[k] = filter_1d(code, fy - (y0 + k + 0.5), ry)
        for jj in range(ny):
            wyj = wy[jj]
            if wyj == 0.0:
                continue
            row = (y0 + jj) * width + x0
            for k in range(nx):
                w = wx[k] * wyj
                if w == 0.0:
                    continue
                p = row + k
                weighted[p, 0] += w * v0
                weighted[p, 1] += w * v1
                weighted[p, 2] += w * v2
                weighted[p, 3] += w * v3
                weighted[p, 4] += w
                weighted[p, 5] += abs(w)


def accumulate_filtered(x, y, values, width, height, code, rx, ry, weighted, box, clip, lo, hi):
    """Colour through a reconstruction filter: every pixel whose centre is within the radius.

    Row ``p`` of ``weighted`` (P, C + 2) collects sum(w * v) per component, then sum(w), then
    sum(|w|). ``box`` (P, C + 1) keeps the plain average of the pixel's own samples (sums, count),
    the fallback where negative lobes cancel the weight sum. With ``clip`` set, ``lo`` / ``hi``
    collect the per-component range of samples that reached the pixel with a nonzero weight.

    The choice of kernel is made here, in Python, so a process compiles only the one it uses
    (one jitted function calling both compiled both: 1.3 s of a cold first render).
    """
    if values.shape[1] == 4 and not clip:
        _filtered4(x, y, values, width, height, code, rx, ry, weighted, box)
    else:
        _filtered_any(x, y, values, width, height, code, rx, ry, weighted, box, clip, lo, hi)


@njit(cache=True)
def _filtered_any(x, y, values, width, height, code, rx, ry, weighted, box, clip, lo, hi):
    """:func:`accumulate_filtered` for any number of components, with or without clipping."""
    nc = values.shape[1]
    span_x = int(math.ceil(2.0 * rx)) + 2
    wx = np.empty(span_x, np.float64)
    for s in range(x.shape[0]):
        fx = np.float64(x[s])
        fy = np.float64(y[s])
        if not (math.isfinite(fx) and math.isfinite(fy)):
            continue
        if not _usable(values, s, SKIP_NONFINITE):
            continue
        _splat(values, s, fx, fy, nc, width, height, code, rx, ry, span_x, wx, weighted, box,
               clip, lo, hi)


@njit(cache=True)
def finish_filtered(weighted, box, clip, lo, hi, out, present):
    """Normalise by the weight sum; fall back to the box average where the sum is not usable.

    A weight sum counts as usable when it is positive and at least 1e-3 of the sum of |w|: with
    Mitchell / Lanczos lobes, a sum that nearly cancels would magnify noise without bound.
    """
    ncomp = out.shape[1]
    for p in range(out.shape[0]):
        wsum = weighted[p, ncomp]
        if wsum > 0.0 and wsum >= 1e-3 * weighted[p, ncomp + 1]:
            inv = 1.0 / wsum
            for c in range(ncomp):
                v = weighted[p, c] * inv
                if clip:
                    if v < lo[p, c]:
                        v = lo[p, c]
                    if v > hi[p, c]:
                        v = hi[p, c]
                out[p, c] = v
            present[p] = True
        elif box[p, ncomp] > 0:
            inv = 1.0 / box[p, ncomp]
            for c in range(ncomp):
                out[p, c] = box[p, c] * inv
            present[p] = True


@njit(cache=True)
def finish_average(sums, out, present):
    """Divide the sums by the count in their last column; ``present`` marks pixels with a count."""
    ncomp = out.shape[1]
    for p in range(out.shape[0]):
        if sums[p, ncomp] > 0:
            inv = 1.0 / sums[p, ncomp]
            for c in range(ncomp):
                out[p, c] = sums[p, c] * inv
            present[p] = True


# ------------------------------------------------------------------------------------------ depth
@njit(cache=True, inline="always")
def _fold_min(z, s0, s1, zmin, seen, p):
    """-z: the lowest depth; NaN samples mark the pixel as sampled but never win."""
    m = zmin[p]
    for s in range(s0, s1):
        v = z[s]
        m = v if v < m else m
    zmin[p] = m
    seen[p] = True


@njit(cache=True, inline="always")
def _fold_average_depth(z, s0, s1, sums, seen, p):
    """+z: ``sums[p] = (sum, count)`` of finite depths; ``seen`` marks every sampled pixel."""
    a = sums[p, 0]
    cnt = sums[p, 1]
    for s in range(s0, s1):
        v = np.float64(z[s])
        ok = v - v == 0.0   # finite; selects, not branches (10% inf would mispredict); a is
        a += v if ok else 0.0   # never -0.0 (it starts at +0.0), so adding +0.0 changes no bit
        cnt += 1.0 if ok else 0.0
    sums[p, 0] = a
    sums[p, 1] = cnt
    seen[p] = True


@njit(cache=True, inline="always")
def _max_u32(tag, s0, s1, m):
    """max(m, tag[s0:s1]) in eight independent lanes (integer max is order-free, so the lanes
    change nothing; they let LLVM use vector instructions: ~2x measured)."""
    m0 = m
    m1 = m
    m2 = m
    m3 = m
    m4 = m
    m5 = m
    m6 = m
    m7 = m
    s = s0
    while s + 8 <= s1:
        m0 = max(m0, tag[s])
        m1 = max(m1, tag[s + 1])
        m2 = max(m2, tag[s + 2])
        m3 = max(m3, tag[s + 3])
        m4 = max(m4, tag[s + 4])
        m5 = max(m5, tag[s + 5])
        m6 = max(m6, tag[s + 6])
        m7 = max(m7, tag[s + 7])
        s += 8
    while s < s1:
        m0 = max(m0, tag[s])
        s += 1
    return max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))


@njit(cache=True, inline="always")
def _count_u32(tag, s0, s1, m):
    """How many of tag[s0:s1] equal m, in eight lanes."""
    c0 = 0
    c1 = 0
    c2 = 0
    c3 = 0
    c4 = 0
    c5 = 0
    c6 = 0
    c7 = 0
    s = s0
    while s + 8 <= s1:
        c0 += tag[s] == m
        c1 += tag[s + 1] == m
        c2 += tag[s + 2] == m
        c3 += tag[s + 3] == m
        c4 += tag[s + 4] == m
        c5 += tag[s + 5] == m
        c6 += tag[s + 6] == m
        c7 += tag[s + 7] == m
        s += 8
    while s < s1:
        c0 += tag[s] == m
        s += 1
    return ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7))


@njit(cache=True, inline="always")
def _fold_max_label(tag, s0, s1, best, seen, p):
    best[p] = _max_u32(tag, s0, s1, best[p])
    seen[p] = True


@njit(cache=True, inline="always")
def _fold_coverage_max(tag, s0, s1, state, p):
    """``state[p]`` = (running maximum label, samples carrying it, all samples); the same result
    as the per-sample update (raise: count 1; equal: count + 1), computed as max then count."""
    m0 = state[p, 0]
    m = _max_u32(tag, s0, s1, m0)
    cnt = state[p, 1] if m == m0 else np.uint32(0)
    state[p, 0] = m
    state[p, 1] = cnt + np.uint32(_count_u32(tag, s0, s1, m))
    state[p, 2] += np.uint32(s1 - s0)


@njit(cache=True, inline="always")
def _fold_average_vector(v, s0, s1, sums, seen, p, nc):
    """+n/+m: sum of vectors that are neither null (all 0) nor have a NaN component; their count
    in the last column of ``sums``. ``seen`` marks every sampled pixel."""
    seen[p] = True
    if nc == 3:
        a0 = sums[p, 0]
        a1 = sums[p, 1]
        a2 = sums[p, 2]
        cnt = sums[p, 3]
        for s in range(s0, s1):
            v0 = v[s, 0]
            v1 = v[s, 1]
            v2 = v[s, 2]
            if (v0 != 0.0 or v1 != 0.0 or v2 != 0.0) and (v0 == v0 and v1 == v1 and v2 == v2):
                a0 += v0
                a1 += v1
                a2 += v2
                cnt += 1.0
        sums[p, 0] = a0
        sums[p, 1] = a1
        sums[p, 2] = a2
        sums[p, 3] = cnt
    else:
        for s in range(s0, s1):
            null = True
            bad = False
            for c in range(nc):
                a = v[s, c]
                if a != 0.0:
                    null = False
                if a != a:
                    bad = True
            if null or bad:
                continue
            for c in range(nc):
                sums[p, c] += v[s, c]
            sums[p, nc] += 1.0


@njit(cache=True)
def accumulate_min_depth(x, y, z, width, height, zmin, seen):
    """-z: the lowest depth (:func:`_fold_min`)."""
    n = x.shape[0]
    idx = np.empty(BLOCK + 1, np.int64)
    for b0 in range(0, n, BLOCK):
        b1 = min(n, b0 + BLOCK)
        _block_pixels(x, y, b0, b1, width, height, idx, zmin, seen)
        k = 0
        while k < b1 - b0:
            p = idx[k]
            e = k + 1
            while idx[e] == p:
                e += 1
            if p >= 0:
                _fold_min(z, b0 + k, b0 + e, zmin, seen, p)
            k = e


@njit(cache=True)
def dense_min_depth(z, bx0, by0, bw, bh, spp, width, height, zmin, seen):
    i0, i1, j0, j1 = _clip_block(bx0, by0, bw, bh, width, height)
    for j in range(j0, j1):
        for i in range(i0, i1):
            s = ((j - by0) * bw + (i - bx0)) * spp
            _fold_min(z, s, s + spp, zmin, seen, j * width + i)


@njit(cache=True)
def accumulate_average_depth(x, y, z, width, height, sums, seen):
    """+z: finite depths summed and counted (:func:`_fold_average_depth`)."""
    n = x.shape[0]
    idx = np.empty(BLOCK + 1, np.int64)
    for b0 in range(0, n, BLOCK):
        b1 = min(n, b0 + BLOCK)
        _block_pixels(x, y, b0, b1, width, height, idx, sums, seen)
        k = 0
        while k < b1 - b0:
            p = idx[k]
            e = k + 1
            while idx[e] == p:
                e += 1
            if p >= 0:
                _fold_average_depth(z, b0 + k, b0 + e, sums, seen, p)
            k = e


@njit(cache=True)
def dense_average_depth(z, bx0, by0, bw, bh, spp, width, height, sums, seen):
    """Four pixels at a time, sample k of each in turn: each pixel's sum still adds its samples
    in order (bit-identical to the general kernel), but four dependency chains run side by side."""
    i0, i1, j0, j1 = _clip_block(bx0, by0, bw, bh, width, height)
    for j in range(j0, j1):
        i = i0
        while i + 4 <= i1:
            s = ((j - by0) * bw + (i - bx0)) * spp
            p = j * width + i
            a0 = sums[p, 0]
            a1 = sums[p + 1, 0]
            a2 = sums[p + 2, 0]
            a3 = sums[p + 3, 0]
            n0 = sums[p, 1]
            n1 = sums[p + 1, 1]
            n2 = sums[p + 2, 1]
            n3 = sums[p + 3, 1]
            for k in range(s, s + spp):
                v0 = np.float64(z[k])
                v1 = np.float64(z[k + spp])
                v2 = np.float64(z[k + 2 * spp])
                v3 = np.float64(z[k + 3 * spp])
                ok0 = v0 - v0 == 0.0
                a0 += v0 if ok0 else 0.0
                n0 += 1.0 if ok0 else 0.0
                ok1 = v1 - v1 == 0.0
                a1 += v1 if ok1 else 0.0
                n1 += 1.0 if ok1 else 0.0
                ok2 = v2 - v2 == 0.0
                a2 += v2 if ok2 else 0.0
                n2 += 1.0 if ok2 else 0.0
                ok3 = v3 - v3 == 0.0
                a3 += v3 if ok3 else 0.0
                n3 += 1.0 if ok3 else 0.0
            sums[p, 0] = a0
            sums[p + 1, 0] = a1
            sums[p + 2, 0] = a2
            sums[p + 3, 0] = a3
            sums[p, 1] = n0
            sums[p + 1, 1] = n1
            sums[p + 2, 1] = n2
            sums[p + 3, 1] = n3
            seen[p] = True
            seen[p + 1] = True
            seen[p + 2] = True
            seen[p + 3] = True
            i += 4
        while i < i1:
            s = ((j - by0) * bw + (i - bx0)) * spp
            _fold_average_depth(z, s, s + spp, sums, seen, j * width + i)
            i += 1


@njit(cache=True)
def accumulate_max_label(x, y, tag, width, height, best, seen):
    """+tag: the maximum label."""
    n = x.shape[0]
    idx = np.empty(BLOCK + 1, np.int64)
    for b0 in range(0, n, BLOCK):
        b1 = min(n, b0 + BLOCK)
        _block_pixels(x, y, b0, b1, width, height, idx, best, seen)
        k = 0
        while k < b1 - b0:
            p = idx[k]
            e = k + 1
            while idx[e] == p:
                e += 1
            if p >= 0:
                _fold_max_label(tag, b0 + k, b0 + e, best, seen, p)
            k = e


@njit(cache=True)
def dense_max_label(tag, bx0, by0, bw, bh, spp, width, height, best, seen):
    i0, i1, j0, j1 = _clip_block(bx0, by0, bw, bh, width, height)
    for j in range(j0, j1):
        for i in range(i0, i1):
            s = ((j - by0) * bw + (i - bx0)) * spp
            _fold_max_label(tag, s, s + spp, best, seen, j * width + i)


@njit(cache=True)
def accumulate_last_label(x, y, tag, width, height, last, seen):
    """-tag: the last label (read once per run)."""
    n = x.shape[0]
    idx = np.empty(BLOCK + 1, np.int64)
    for b0 in range(0, n, BLOCK):
        b1 = min(n, b0 + BLOCK)
        _block_pixels(x, y, b0, b1, width, height, idx, last, seen)
        k = 0
        while k < b1 - b0:
            p = idx[k]
            e = k + 1
            while idx[e] == p:
                e += 1
            if p >= 0:
                last[p] = tag[b0 + e - 1]
                seen[p] = True
            k = e


@njit(cache=True)
def dense_last_label(tag, bx0, by0, bw, bh, spp, width, height, last, seen):
    i0, i1, j0, j1 = _clip_block(bx0, by0, bw, bh, width, height)
    for j in range(j0, j1):
        for i in range(i0, i1):
            s = ((j - by0) * bw + (i - bx0)) * spp
            p = j * width + i
            last[p] = tag[s + spp - 1]
            seen[p] = True


@njit(cache=True)
def accumulate_coverage_max(x, y, tag, width, height, state):
    """Coverage for +tag (:func:`_fold_coverage_max`)."""
    n = x.shape[0]
    idx = np.empty(BLOCK + 1, np.int64)
    for b0 in range(0, n, BLOCK):
        b1 = min(n, b0 + BLOCK)
        _block_pixels(x, y, b0, b1, width, height, idx, state, state)
        k = 0
        while k < b1 - b0:
            p = idx[k]
            e = k + 1
            while idx[e] == p:
                e += 1
            if p >= 0:
                _fold_coverage_max(tag, b0 + k, b0 + e, state, p)
            k = e


@njit(cache=True)
def dense_coverage_max(tag, bx0, by0, bw, bh, spp, width, height, state):
    i0, i1, j0, j1 = _clip_block(bx0, by0, bw, bh, width, height)
    for j in range(j0, j1):
        for i in range(i0, i1):
            s = ((j - by0) * bw + (i - bx0)) * spp
            _fold_coverage_max(tag, s, s + spp, state, j * width + i)


@njit(cache=True, inline="always")
def _runs_average_vector(x, y, v, width, height, sums, seen, nc):
    n = x.shape[0]
    idx = np.empty(BLOCK + 1, np.int64)
    for b0 in range(0, n, BLOCK):
        b1 = min(n, b0 + BLOCK)
        _block_pixels(x, y, b0, b1, width, height, idx, sums, seen)
        k = 0
        while k < b1 - b0:
            p = idx[k]
            e = k + 1
            while idx[e] == p:
                e += 1
            if p >= 0:
                _fold_average_vector(v, b0 + k, b0 + e, sums, seen, p, nc)
            k = e


@njit(cache=True)
def accumulate_average_vector(x, y, v, width, height, sums, seen):
    """+n/+m (:func:`_fold_average_vector`) over runs of one pixel."""
    nc = v.shape[1]
    if nc == 4:
        _runs_average_vector(x, y, v, width, height, sums, seen, 4)
    elif nc == 3:
        _runs_average_vector(x, y, v, width, height, sums, seen, 3)
    elif nc == 1:
        _runs_average_vector(x, y, v, width, height, sums, seen, 1)
    else:
        _runs_average_vector(x, y, v, width, height, sums, seen, nc)


@njit(cache=True)
def dense_average_vector(v, bx0, by0, bw, bh, spp, width, height, sums, seen):
    nc = v.shape[1]
    i0, i1, j0, j1 = _clip_block(bx0, by0, bw, bh, width, height)
    for j in range(j0, j1):
        for i in range(i0, i1):
            s = ((j - by0) * bw + (i - bx0)) * spp
            if nc == 3:
                _fold_average_vector(v, s, s + spp, sums, seen, j * width + i, 3)
            else:
                _fold_average_vector(v, s, s + spp, sums, seen, j * width + i, nc)


@njit(cache=True)
def finish_average_depth(sums, out):
    for p in range(out.shape[0]):
        if sums[p, 1] > 0:
            out[p] = sums[p, 0] / sums[p, 1]
        else:
            out[p] = np.inf


@njit(cache=True)
def finish_coverage_max(state, out):
    for p in range(out.shape[0]):
        if state[p, 2] > 0 and state[p, 0] != 0:
            out[p] = state[p, 1] / state[p, 2]
        else:
            out[p] = 0.0


# --------------------------------------------------------------------------------------- coverage
@njit(cache=True)
def _fold_coverage_last4(tag, s0, s1, table, state, p):
    """:func:`_fold_coverage_last` for 4 slots with the table in registers: the same decisions
    (used slots are always a prefix, labels are unique among them, the evicted slot is the first
    with the smallest count), made with compares of locals instead of a loop over memory."""
    l0 = table[p, 0, 0]
    l1 = table[p, 1, 0]
    l2 = table[p, 2, 0]
    l3 = table[p, 3, 0]
    c0 = table[p, 0, 1]
    c1 = table[p, 1, 1]
    c2 = table[p, 2, 1]
    c3 = table[p, 3, 1]
    one = np.uint32(1)
    for s in range(s0, s1):
        t = tag[s]
        if t == 0:
            continue
        if c0 != 0 and l0 == t:
            c0 += one
        elif c1 != 0 and l1 == t:
            c1 += one
        elif c2 != 0 and l2 == t:
            c2 += one
        elif c3 != 0 and l3 == t:
            c3 += one
        elif c0 == 0:
            l0 = t
            c0 = one
        elif c1 == 0:
            l1 = t
            c1 = one
        elif c2 == 0:
            l2 = t
            c2 = one
        elif c3 == 0:
            l3 = t
            c3 = one
        else:
            m = 0
            mc = c0
            if c1 < mc:
                m = 1
                mc = c1
            if c2 < mc:
                m = 2
                mc = c2
            if c3 < mc:
                m = 3
            if m == 0:
                l0 = t
                c0 += one
            elif m == 1:
                l1 = t
                c1 += one
            elif m == 2:
                l2 = t
                c2 += one
            else:
                l3 = t
                c3 += one
    table[p, 0, 0] = l0
    table[p, 1, 0] = l1
    table[p, 2, 0] = l2
    table[p, 3, 0] = l3
    table[p, 0, 1] = c0
    table[p, 1, 1] = c1
    table[p, 2, 1] = c2
    table[p, 3, 1] = c3
    state[p, 0] = tag[s1 - 1]
    state[p, 1] += np.uint32(s1 - s0)


@njit(cache=True, inline="always")
def _fold_coverage_last(tag, s0, s1, table, state, p):
    """Space-saving label counts of one pixel (see :func:`accumulate_coverage_last`), with the
    slot of the previous sample's label tried first (labels are unique among used slots, so a
    match there is the match the full search would find)."""
    nslots = table.shape[1]
    hint = 0
    for s in range(s0, s1):
        t = tag[s]
        if t == 0:
            continue
        if table[p, hint, 1] != 0 and table[p, hint, 0] == t:
            table[p, hint, 1] += 1
            continue
        hit = -1
        free = -1
        smallest = -1
        for k in range(nslots):
            if table[p, k, 1] == 0:
                if free < 0:
                    free = k
            elif table[p, k, 0] == t:
                hit = k
                break
            elif smallest < 0 or table[p, k, 1] < table[p, smallest, 1]:
                smallest = k
        if hit >= 0:
            table[p, hit, 1] += 1
            hint = hit
        elif free >= 0:
            table[p, free, 0] = t
            table[p, free, 1] = 1
            hint = free
        else:
            table[p, smallest, 0] = t
            table[p, smallest, 1] += 1
            hint = smallest
    state[p, 0] = tag[s1 - 1]
    state[p, 1] += np.uint32(s1 - s0)


@njit(cache=True)
def accumulate_coverage_last(x, y, tag, width, height, table, state):
    """Coverage for -tag: ``table[p]`` holds K (label, count) slots, ``state[p]`` = (last label,
    all samples).

    The last label is only known at the end, so every label is counted, by "space saving": a label
    already in the table adds one; a new one takes an empty slot (count 0); with all K slots taken
    it replaces the slot with the smallest count and inherits that count plus one. A label's count
    is therefore exact while a pixel sees at most K distinct nonzero labels, and otherwise an
    over-estimate by at most the inherited count (<= samples / K). The most recent label is always
    in the table. Label 0 (background) is never stored: its coverage is 0 by definition.
    """
    n = x.shape[0]
    idx = np.empty(BLOCK + 1, np.int64)
    for b0 in range(0, n, BLOCK):
        b1 = min(n, b0 + BLOCK)
        _block_pixels(x, y, b0, b1, width, height, idx, table, state)
        k = 0
        while k < b1 - b0:
            p = idx[k]
            e = k + 1
            while idx[e] == p:
                e += 1
            if p >= 0:
                if table.shape[1] == 4:
                    _fold_coverage_last4(tag, b0 + k, b0 + e, table, state, p)
                else:
                    _fold_coverage_last(tag, b0 + k, b0 + e, table, state, p)
            k = e


@njit(cache=True)
def dense_coverage_last(tag, bx0, by0, bw, bh, spp, width, height, table, state):
    i0, i1, j0, j1 = _clip_block(bx0, by0, bw, bh, width, height)
    for j in range(j0, j1):
        for i in range(i0, i1):
            s = ((j - by0) * bw + (i - bx0)) * spp
            if table.shape[1] == 4:
                _fold_coverage_last4(tag, s, s + spp, table, state, j * width + i)
            else:
                _fold_coverage_last(tag, s, s + spp, table, state, j * width + i)


@njit(cache=True)
def finish_coverage_last(table, state, out):
    nslots = table.shape[1]
    for p in range(out.shape[0]):
        out[p] = 0.0
        if state[p, 1] == 0 or state[p, 0] == 0:
            continue
        for k in range(nslots):
            if table[p, k, 1] > 0 and table[p, k, 0] == state[p, 0]:
                out[p] = table[p, k, 1] / state[p, 1]
                break
# ------------------------------------------------------------------------------------------- fill
@njit(cache=True)
def nearest_sampled_pixel(present, width, height):
    """For every pixel, the flat index of the sampled pixel it takes its value from.

    Breadth-first from all sampled pixels at once over 4-connected steps, so an empty pixel copies
    a sampled pixel at the smallest Manhattan distance. Ties are settled one step at a time: a pixel
    at distance d + 1 inherits from its first neighbour at distance d in the order left, up, right,
    down. Sampled pixels map to themselves; with no sampled pixel at all everything maps to -1.
    """
    npix = width * height
    src = np.full(npix, -1, np.int64)
    level = np.full(npix, -1, np.int32)
    frontier = np.empty(npix, np.int64)
    nf = 0
    for p in range(npix):
        if present[p]:
            src[p] = p
            level[p] = 0
            frontier[nf] = p
            nf += 1
    if nf == 0 or nf == npix:
        return src
    nxt = np.empty(npix, np.int64)
    d = 0
    while nf > 0:
        nn = 0
        for k in range(nf):
            p = frontier[k]
            px = p % width
            py = p // width
            if px > 0 and level[p - 1] < 0:
                level[p - 1] = d + 1
                nxt[nn] = p - 1
                nn += 1
            if py > 0 and level[p - width] < 0:
                level[p - width] = d + 1
                nxt[nn] = p - width
                nn += 1
            if px < width - 1 and level[p + 1] < 0:
                level[p + 1] = d + 1
                nxt[nn] = p + 1
                nn += 1
            if py < height - 1 and level[p + width] < 0:
                level[p + width] = d + 1
                nxt[nn] = p + width
                nn += 1
        for k in range(nn):
            q = nxt[k]
            qx = q % width
            qy = q // width
            if qx > 0 and level[q - 1] == d:
                src[q] = src[q - 1]
            elif qy > 0 and level[q - width] == d:
                src[q] = src[q - width]
            elif qx < width - 1 and level[q + 1] == d:
                src[q] = src[q + 1]
            else:
                src[q] = src[q + width]
        frontier, nxt = nxt, frontier
        nf = nn
        d += 1
    return src
