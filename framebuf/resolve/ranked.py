"""Numba kernels of the ranked-coverage rule: per pixel, the ids with the largest filter-weighted
coverage, sorted, as the Cryptomatte specification (v1.2, "ranking pixel filter") defines them.

The rule
    Every sample carries one uint32 id (0: nothing hit). A sample reaches every pixel whose centre
    lies within the pixel filter's radius, with the filter's weight ``w`` there
    (:mod:`framebuf.resolve.filters`; the 1x1 box gives weight 1 to the sample's own pixel only).
    Negative lobes (Mitchell, Lanczos) are cut: a weight below 0 counts as 0, so coverage stays in
    [0, 1] and the coverages of a pixel sum to at most 1. Per pixel, the weights are summed per id
    and divided by the sum of the weights of *all* samples that reached it, id 0 included: that is
    the coverage. Id 0 is never ranked (it is the "no object" id of the specification), so at a
    silhouette against the background the ranked coverages sum to less than 1. The ``K`` ids with
    the largest coverage are kept, largest first; equal coverage puts the smaller id first. Ranks
    nothing fills are (id 0, coverage 0).

State
    ``slot_ids`` (P, S) uint32 and ``slot_w`` (P, S) float64 hold up to ``S`` (id, weight) pairs per
    pixel (S >= K, default 2K), ``total`` (P,) float64 the weight of every sample. A used slot has a
    positive weight, and used slots are a prefix. The result is exact while a pixel's filter
    footprint sees at most ``S`` distinct nonzero ids. Beyond that, a new id takes the slot with
    the smallest weight (the first such slot) only if its own weight is larger, and the weight the
    evicted id had is dropped; otherwise the sample's weight is dropped for that pixel (it still
    counts in ``total``). Kept weights are therefore exact partial sums: coverage is never
    over-stated, and the per-pixel sum stays at most 1.

Layouts
    :func:`accumulate_ranked` takes x, y per sample. With the 1x1 box it folds runs of one pixel
    (like the other general kernels of :mod:`framebuf.resolve.kernels`); with a wider filter it
    spreads each sample over its footprint. :func:`dense_ranked` is the 1x1-box rule on the dense
    layout; it performs the operations of the general kernel on a run of ``spp`` samples in the
    same order, so both give the same bits. A wider filter needs positions, as for colour.

Numba's cache checks only this file: after editing ``filters.filter_1d`` or the helpers imported
from ``kernels.py``, touch this file.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .filters import filter_1d
from .kernels import BLOCK, _block_pixels, _clip_block


@njit(cache=True, inline="always")
def _rank_add(slot_ids, slot_w, p, t, w):
    """Add weight ``w`` (> 0) of id ``t`` (!= 0) to pixel ``p``'s slots. Unused slots hold id 0,
    which ``t`` never is, so the search is a select over every slot (no data-dependent branch
    per slot); a miss takes the first free slot, else the overflow rule (module docstring)."""
    nslots = slot_ids.shape[1]
    f = -1
    for k in range(nslots):
        f = k if slot_ids[p, k] == t else f
    if f >= 0:
        slot_w[p, f] += w
        return
    smallest = 0
    for k in range(nslots):
        wk = slot_w[p, k]
        if wk == 0.0:
            slot_ids[p, k] = t
            slot_w[p, k] = w
            return
        if wk < slot_w[p, smallest]:
            smallest = k
    if slot_w[p, smallest] < w:
        slot_ids[p, smallest] = t
        slot_w[p, smallest] = w


@njit(cache=True, inline="always")
def _fold_run(ids, s0, s1, slot_ids, slot_w, total, p):
    """Samples [s0, s1) of pixel ``p``, each with weight 1 (the 1x1 box). The same decisions as
    :func:`_rank_add`, with the used-slot count in a local and the id search written as selects
    over the used slots (no data-dependent branch per slot: random ids mispredict)."""
    nslots = slot_ids.shape[1]
    n = 0
    while n < nslots and slot_w[p, n] > 0.0:
        n += 1
    tot = total[p]
    for s in range(s0, s1):
        tot += 1.0
        t = ids[s]
        if t == 0:
            continue
        f = -1
        for k in range(n):
            f = k if slot_ids[p, k] == t else f
        if f >= 0:
            slot_w[p, f] += 1.0
        elif n < nslots:
            slot_ids[p, n] = t
            slot_w[p, n] = 1.0
            n += 1
        else:
            smallest = 0
            for k in range(1, nslots):
                if slot_w[p, k] < slot_w[p, smallest]:
                    smallest = k
            if slot_w[p, smallest] < 1.0:
                slot_ids[p, smallest] = t
                slot_w[p, smallest] = 1.0
    total[p] = tot


@njit(cache=True)
def _ranked_box(x, y, ids, width, height, slot_ids, slot_w, total):
    n = x.shape[0]
    idx = np.empty(BLOCK + 1, np.int64)
    for b0 in range(0, n, BLOCK):
        b1 = min(n, b0 + BLOCK)
        _block_pixels(x, y, b0, b1, width, height, idx, slot_ids, slot_w)
        k = 0
        while k < b1 - b0:
            p = idx[k]
            e = k + 1
            while idx[e] == p:
                e += 1
            if p >= 0:
                _fold_run(ids, b0 + k, b0 + e, slot_ids, slot_w, total, p)
            k = e


@njit(cache=True)
def _ranked_filtered(x, y, ids, width, height, code, rx, ry, slot_ids, slot_w, total):
    span_x = int(math.ceil(2.0 * rx)) + 2
    span_y = int(math.ceil(2.0 * ry)) + 2
    wx = np.empty(span_x, np.float64)
    wy = np.empty(span_y, np.float64)
    for s in range(x.shape[0]):
        fx = np.float64(x[s])
        fy = np.float64(y[s])
        if not (math.isfinite(fx) and math.isfinite(fy)):
            continue
        # pixel centres i + 0.5 with |fx - (i + 0.5)| <= rx, as for filtered colour
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
        t = ids[s]
        for jj in range(ny):
            wyj = wy[jj]
            if wyj == 0.0:
                continue
            row = (y0 + jj) * width + x0
            for k in range(nx):
                w = wx[k] * wyj
                if not w > 0.0:         # zero, a cut negative lobe
                    continue
                p = row + k
                total[p] += w
                if t != 0:
                    _rank_add(slot_ids, slot_w, p, t, w)


@njit(cache=True)
def accumulate_ranked(x, y, ids, width, height, pixel_box, code, rx, ry, slot_ids, slot_w, total):
    """Fold a general batch into the ranked state (module docstring); ``pixel_box``: the 1x1 box."""
    if pixel_box:
        _ranked_box(x, y, ids, width, height, slot_ids, slot_w, total)
    else:
        _ranked_filtered(x, y, ids, width, height, code, rx, ry, slot_ids, slot_w, total)


@njit(cache=True)
def dense_ranked(ids, bx0, by0, bw, bh, spp, width, height, slot_ids, slot_w, total):
    """The 1x1-box rule on the dense layout (module docstring)."""
    i0, i1, j0, j1 = _clip_block(bx0, by0, bw, bh, width, height)
    for j in range(j0, j1):
        for i in range(i0, i1):
            s = ((j - by0) * bw + (i - bx0)) * spp
            _fold_run(ids, s, s + spp, slot_ids, slot_w, total, j * width + i)


@njit(cache=True)
def finish_ranked(slot_ids, slot_w, total, out_ids, out_cov, present):
    """The K best slots per pixel by (coverage descending, id ascending); ``present`` marks pixels
    some sample reached with a positive weight."""
    nslots = slot_ids.shape[1]
    nranks = out_ids.shape[1]
    taken = np.zeros(nslots, np.bool_)
    for p in range(total.shape[0]):
        tot = total[p]
        for k in range(nslots):
            taken[k] = False
        for r in range(nranks):
            out_ids[p, r] = 0
            out_cov[p, r] = 0.0
        if not tot > 0.0:
            continue
        present[p] = True
        for r in range(nranks):
            best = -1
            bw = 0.0
            bid = np.uint32(0)
            for k in range(nslots):
                w = slot_w[p, k]
                if w == 0.0:
                    break               # used slots are a prefix
                if taken[k]:
                    continue
                t = slot_ids[p, k]
                if best < 0 or w > bw or (w == bw and t < bid):
                    best = k
                    bw = w
                    bid = t
            if best < 0:
                break
            taken[best] = True
            out_ids[p, r] = bid
            out_cov[p, r] = bw / tot
