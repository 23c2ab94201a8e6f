"""Numba kernels of the sample resolve: one whole-batch loop per rule, one finishing pass per rule.

Each ``accumulate_*`` kernel walks a batch once, in the order given, and folds every sample into
per-pixel state arrays that the caller owns (flat, pixel index ``p = y * width + x``). Walking in
order and writing in place is what makes the "last sample" rules right across batches. None of them
is parallel: "last" needs order, and on this 2-core machine the scattered kernels are bound by memory
latency, not by arithmetic (see bench/resolve.py).

A sample belongs to pixel ``(floor(x), floor(y))``; samples outside ``[0, width) x [0, height)`` or
with a NaN coordinate are skipped, except that the filtered-colour kernel lets a sample reach every
pixel whose centre lies within the filter radius.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

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
    for c in range(values.shape[1]):
        v = values[s, c]
        if mode == SKIP_NONFINITE:
            if not math.isfinite(v):
                return False
        elif v != v:
            return False
    return True


# ----------------------------------------------------------------------------------------- colour
@njit(cache=True)
def accumulate_average(x, y, values, width, height, sums):
    """+rgba with the 1x1 box: per-pixel sums of finite samples, their count in the last column.

    The count shares the row with the sums so a scattered sample costs one cache miss, not two.
    """
    ncomp = values.shape[1]
    for s in range(x.shape[0]):
        p = _pixel(x[s], y[s], width, height)
        if p < 0 or not _usable(values, s, SKIP_NONFINITE):
            continue
        for c in range(ncomp):
            sums[p, c] += values[s, c]
        sums[p, ncomp] += 1.0


@njit(cache=True)
def accumulate_last(x, y, values, width, height, last, seen, mode):
    """-rgba, -n, -m: overwrite with each usable sample, so the last one in arrival order stays."""
    ncomp = values.shape[1]
    for s in range(x.shape[0]):
        p = _pixel(x[s], y[s], width, height)
        if p < 0 or not _usable(values, s, mode):
            continue
        for c in range(ncomp):
            last[p, c] = values[s, c]
        seen[p] = True


@njit(cache=True)
def accumulate_filtered(x, y, values, width, height, code, rx, ry, weighted, box, clip, lo, hi):
    """Colour through a reconstruction filter: every pixel whose centre is within the radius.

    Row ``p`` of ``weighted`` (P, C + 2) collects sum(w * v) per component, then sum(w), then
    sum(|w|). ``box`` (P, C + 1) keeps the plain average of the pixel's own samples (sums, count),
    the fallback where negative lobes cancel the weight sum. With ``clip`` set, ``lo`` / ``hi``
    collect the per-component range of samples that reached the pixel with a nonzero weight.
    """
    ncomp = values.shape[1]
    span_x = int(math.ceil(2.0 * rx)) + 2
    wx = np.empty(span_x, np.float64)
    for s in range(x.shape[0]):
        fx = np.float64(x[s])
        fy = np.float64(y[s])
        if not (math.isfinite(fx) and math.isfinite(fy)):
            continue
        if not _usable(values, s, SKIP_NONFINITE):
            continue
        own = _pixel(fx, fy, width, height)
        if own >= 0:
            for c in range(ncomp):
                box[own, c] += values[s, c]
            box[own, ncomp] += 1.0
        # pixel centres i + 0.5 with |fx - (i + 0.5)| <= rx
        x0 = max(0, int(math.ceil(fx - rx - 0.5)))
        x1 = min(width - 1, int(math.floor(fx + rx - 0.5)))
        y0 = max(0, int(math.ceil(fy - ry - 0.5)))
        y1 = min(height - 1, int(math.floor(fy + ry - 0.5)))
        if x0 > x1 or y0 > y1:
            continue
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
                for c in range(ncomp):
                    weighted[p, c] += w * values[s, c]
                weighted[p, ncomp] += w
                weighted[p, ncomp + 1] += abs(w)
                if clip:
                    for c in range(ncomp):
                        v = values[s, c]
                        if v < lo[p, c]:
                            lo[p, c] = v
                        if v > hi[p, c]:
                            hi[p, c] = v


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
@njit(cache=True)
def accumulate_min_depth(x, y, z, width, height, zmin, seen):
    """-z: the lowest depth; NaN samples mark the pixel as sampled but never win."""
    for s in range(x.shape[0]):
        p = _pixel(x[s], y[s], width, height)
        if p < 0:
            continue
        v = z[s]
        if v < zmin[p]:
            zmin[p] = v
        seen[p] = True


@njit(cache=True)
def accumulate_average_depth(x, y, z, width, height, sums, seen):
    """+z: ``sums[p] = (sum, count)`` of finite depths; ``seen`` marks every sampled pixel."""
    for s in range(x.shape[0]):
        p = _pixel(x[s], y[s], width, height)
        if p < 0:
            continue
        v = z[s]
        if math.isfinite(v):
            sums[p, 0] += v
            sums[p, 1] += 1.0
        seen[p] = True


@njit(cache=True)
def finish_average_depth(sums, out):
    for p in range(out.shape[0]):
        if sums[p, 1] > 0:
            out[p] = sums[p, 0] / sums[p, 1]
        else:
            out[p] = np.inf


# ---------------------------------------------------------------------------------------- vectors
@njit(cache=True)
def accumulate_average_vector(x, y, v, width, height, sums, seen):
    """+n/+m: sum of vectors that are neither null (all 0) nor have a NaN component; their count
    in the last column of ``sums``. ``seen`` marks every sampled pixel."""
    ncomp = v.shape[1]
    for s in range(x.shape[0]):
        p = _pixel(x[s], y[s], width, height)
        if p < 0:
            continue
        seen[p] = True
        null = True
        bad = False
        for c in range(ncomp):
            a = v[s, c]
            if a != 0.0:
                null = False
            if a != a:
                bad = True
        if null or bad:
            continue
        for c in range(ncomp):
            sums[p, c] += v[s, c]
        sums[p, ncomp] += 1.0


# ----------------------------------------------------------------------------------------- labels
@njit(cache=True)
def accumulate_max_label(x, y, tag, width, height, best, seen):
    for s in range(x.shape[0]):
        p = _pixel(x[s], y[s], width, height)
        if p < 0:
            continue
        t = tag[s]
        if t > best[p]:
            best[p] = t
        seen[p] = True


@njit(cache=True)
def accumulate_last_label(x, y, tag, width, height, last, seen):
    for s in range(x.shape[0]):
        p = _pixel(x[s], y[s], width, height)
        if p < 0:
            continue
        last[p] = tag[s]
        seen[p] = True


# --------------------------------------------------------------------------------------- coverage
@njit(cache=True)
def accumulate_coverage_max(x, y, tag, width, height, state):
    """Coverage for +tag, exact in O(1) per pixel: ``state[p]`` = (running maximum label, samples
    carrying it, all samples)."""
    for s in range(x.shape[0]):
        p = _pixel(x[s], y[s], width, height)
        if p < 0:
            continue
        t = tag[s]
        if t > state[p, 0]:
            state[p, 0] = t
            state[p, 1] = 1
        elif t == state[p, 0]:
            state[p, 1] += 1
        state[p, 2] += 1


@njit(cache=True)
def finish_coverage_max(state, out):
    for p in range(out.shape[0]):
        if state[p, 2] > 0 and state[p, 0] != 0:
            out[p] = state[p, 1] / state[p, 2]
        else:
            out[p] = 0.0


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
    nslots = table.shape[1]
    for s in range(x.shape[0]):
        p = _pixel(x[s], y[s], width, height)
        if p < 0:
            continue
        t = tag[s]
        state[p, 0] = t
        state[p, 1] += 1
        if t == 0:
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
        elif free >= 0:
            table[p, free, 0] = t
            table[p, free, 1] = 1
        else:
            table[p, smallest, 0] = t
            table[p, smallest, 1] += 1


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
