"""Numba kernels of :mod:`framebuf.labels`, apart so that importing the label tables (and the
numpy path for half masks, :func:`framebuf.labels.half_masks_to_labels`) does not import Numba."""

from __future__ import annotations

import numpy as np
from numba import njit

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
