"""Numba kernels of :mod:`framebuf.labels` (and of Cryptomatte ranks to labels,
:mod:`framebuf.post.cryptolabels`), apart so that importing the label tables (and the
numpy path for half masks, :func:`framebuf.labels.half_masks_to_labels`) does not import Numba."""

from __future__ import annotations

import numpy as np
from numba import njit

from .cryptomatte import _lower_bound   # the id lookup of the Cryptomatte decoders

# -- the kernel ------------------------------------------------------------------------------------

#: pixels per block of the argmax kernel: 4 KB runs of each mask while the three accumulators
#: (12 KB) stay in L1. Measured here on 50 masks at 512x512: 1024 best, 512 and 4096 slower.
CHUNK = 1024


@njit(cache=True, inline="always")
def _step(m, kf, b, bk):
    """One class's coverage against the running best: strict, so an earlier class keeps a tie."""
    return max(m, b), (kf if m > b else bk)


@njit(cache=True)
def _argmax_labels(masks, values, background, out, chunk):
    """One pass over all K masks, a block of pixels at a time: running best, its index and the
    coverage sum.

    ``masks`` is (K, N) (the planes flattened), ``out`` (N,). The update is branch-free (max and a
    select, the class index kept as float32 so every lane has the masks' width) so LLVM vectorises
    it; a branch here mispredicts on noisy coverage. Four classes are folded into the running
    values per visit of the accumulators (measured: ~1.5x over one at a time at 50 masks; the
    kernel then runs at memory speed). The sum stays sequential in class order. The comparison
    is strict, so the first class in order wins ties, and background (``1 - sum``) wins against an
    equal best class.
    """
    k_count, n = masks.shape
    best = np.empty(chunk, np.float32)
    best_k = np.empty(chunk, np.float32)
    total = np.empty(chunk, np.float32)
    k4 = k_count - k_count % 4
    for start in range(0, n, chunk):
        cnt = min(chunk, n - start)
        stop = start + cnt
        best[:] = -np.inf
        best_k[:] = -1.0
        total[:] = 0.0
        for k in range(0, k4, 4):
            s0 = masks[k, start:stop]
            s1 = masks[k + 1, start:stop]
            s2 = masks[k + 2, start:stop]
            s3 = masks[k + 3, start:stop]
            f0, f1, f2, f3 = np.float32(k), np.float32(k + 1), np.float32(k + 2), np.float32(k + 3)
            for x in range(cnt):
                m0, m1, m2, m3 = s0[x], s1[x], s2[x], s3[x]
                b, bk = _step(m0, f0, best[x], best_k[x])
                b, bk = _step(m1, f1, b, bk)
                b, bk = _step(m2, f2, b, bk)
                b, bk = _step(m3, f3, b, bk)
                best[x] = b
                best_k[x] = bk
                total[x] = (((total[x] + m0) + m1) + m2) + m3
        for k in range(k4, k_count):
            s0 = masks[k, start:stop]
            f0 = np.float32(k)
            for x in range(cnt):
                m0 = s0[x]
                b, bk = _step(m0, f0, best[x], best_k[x])
                best[x] = b
                best_k[x] = bk
                total[x] += m0
        o = out[start:stop]
        for x in range(cnt):
            bk = best_k[x]
            if bk < 0 or np.float32(1.0) - total[x] >= best[x]:
                o[x] = background
            else:
                o[x] = values[int(bk)]


@njit(cache=True)
def _threshold_labels(masks, values, background, threshold, out):
    k_count, height, width = masks.shape
    for y in range(height):
        for x in range(width):
            out[y, x] = background
        for k in range(k_count):
            row = masks[k, y]
            v = values[k]
            for x in range(width):
                if row[x] > threshold:
                    out[y, x] = v


@njit(cache=True)
def _class_kernel(ids, cov, keys, key_class, nclass, values, background, mode, threshold, margin,
                  ignore_value, out, soft, stray):
    """Per pixel: class coverage = sum over ranks of the coverage whose id (looked up in sorted
    ``keys``) belongs to the class (``key_class``; -1 = counts as background); background = 1 - sum;
    label by ``mode`` (0 argmax, ties to background then the lower class index; 1 the highest class
    index above ``threshold``); a winner ahead of the runner-up by less than ``margin`` gets
    ``ignore_value`` (argmax only). ``soft`` (nclass + 1, pixels) receives background then the class coverages
    when it has rows. ``stray[0]`` counts pixels with coverage on an id ``keys`` lacks."""
    nr, npx = ids.shape
    nk = keys.shape[0]
    acc_c = np.empty(nr, np.int64)
    acc_v = np.empty(nr, np.float32)
    want_soft = soft.shape[0] > 0
    for p in range(npx):
        n = 0
        total = np.float32(0.0)
        lost = False
        for r in range(nr):
            c0 = cov[r, p]
            if c0 == 0.0:
                continue
            v = ids[r, p]
            lo = _lower_bound(keys, v)
            if lo < nk and keys[lo] == v:
                c = key_class[lo]
            else:
                c = -1
                if v != 0:
                    lost = True
            if c < 0:
                continue
            total += c0
            j = 0
            while j < n and acc_c[j] != c:
                j += 1
            if j == n:
                acc_c[n] = c
                acc_v[n] = c0
                n += 1
            else:
                acc_v[j] += c0
        if lost:
            stray[0] += 1
        bg = np.float32(1.0) - total
        if want_soft:
            soft[0, p] = bg
            for j in range(n):
                soft[acc_c[j] + 1, p] = acc_v[j]
        if mode == 0:
            best_c = -1
            best_v = bg
            second = np.float32(-np.inf)
            for j in range(n):
                v = acc_v[j]
                c = acc_c[j]
                if v > best_v or (v == best_v and best_c >= 0 and c < best_c):
                    second = best_v
                    best_v = v
                    best_c = c
                elif v > second:
                    second = v
            if n < nclass and np.float32(0.0) > second:
                second = np.float32(0.0)      # a class absent from the pixel has coverage 0
        else:
            best_c = -1
            best_v = bg
            for j in range(n):
                if acc_v[j] > threshold and acc_c[j] > best_c:
                    best_c = acc_c[j]
                    best_v = acc_v[j]
            second = np.float32(-np.inf)      # no margin in this mode (options refuse it)
        if margin > 0 and best_v - second < margin:
            out[p] = ignore_value
        elif best_c < 0:
            out[p] = background
        else:
            out[p] = values[best_c]
