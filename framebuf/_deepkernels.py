"""Numba kernels of :mod:`framebuf.deep`: each runs once over a whole deep image.

A deep image here is ``offsets`` (int64, pixels + 1: pixel p's samples are ``offsets[p] ..
offsets[p + 1]``), ``floats`` (float32, channels x samples) and ``uints`` (uint32, channels x
samples). ``alpha_of[c]`` is the float row holding channel c's alpha (``c`` itself for an alpha
channel, -1 for a channel that is not premultiplied: Z, ZBack). ``zr``/``zbr`` are the Z and
ZBack rows (``zbr == zr`` when there is no ZBack: point samples).

Formulas of OpenEXR's "Interpreting OpenEXR Deep Pixels": a volume sample cut to a fraction x of
its depth range keeps alpha ``1 - (1 - a)^x`` (computed as ``-expm1(x * log1p(-a))``) and scales
its colours by ``a' / a`` (by x when a is 0); two samples of the same depth range merge to alpha
``a1 + a2 - a1 a2`` and colour ``(c1 u1/a1 + c2 u2/a2) am/(u1 + u2)``, ``u = -log1p(-a)``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_TINY = np.float32(1.17549435e-38)   # float32's smallest normal: below it alpha counts as 0


@njit(cache=True)
def is_tidy(offsets, floats, zr, zbr):
    """True when every pixel's samples are sorted by (Z, ZBack) and none overlaps the next:
    each starts at or behind the previous one's back, and no two have the same depth range."""
    npix = offsets.shape[0] - 1
    for p in range(npix):
        for s in range(offsets[p] + 1, offsets[p + 1]):
            z0, b0 = floats[zr, s - 1], max(floats[zbr, s - 1], floats[zr, s - 1])
            z1, b1 = floats[zr, s], max(floats[zbr, s], floats[zr, s])
            if z1 < b0 or (z1 == z0 and b1 == b0):
                return False
    return True


@njit(cache=True, inline="always")
def _fraction_alpha(a, x):
    if a >= 1.0:
        return np.float32(1.0)
    if a > _TINY:
        return np.float32(-math.expm1(x * math.log1p(-a)))
    return np.float32(a * x)


@njit(cache=True)
def _pieces(offsets, floats, zr, zbr, bounds):
    """Per pixel the number of pieces its samples split into at every sample boundary of the
    pixel (an upper bound of its tidy sample count). ``bounds`` is scratch of the largest
    pixel's size x 2."""
    npix = offsets.shape[0] - 1
    out = np.zeros(npix, np.int64)
    for p in range(npix):
        s0, s1 = offsets[p], offsets[p + 1]
        n = s1 - s0
        volume = False
        for s in range(s0, s1):
            if floats[zbr, s] > floats[zr, s]:
                volume = True
                break
        if not volume:
            out[p] = n
            continue
        m = _boundaries(floats, zr, zbr, s0, s1, bounds)
        total = 0
        for s in range(s0, s1):
            z, zb = floats[zr, s], floats[zbr, s]
            k = 1
            if zb > z:
                k = 0
                for i in range(m - 1):
                    if bounds[i] >= z and bounds[i + 1] <= zb:
                        k += 1
            total += k
        out[p] = total
    return out


@njit(cache=True)
def _boundaries(floats, zr, zbr, s0, s1, bounds):
    """Sorted distinct Z and ZBack values of one pixel into ``bounds``; returns their number."""
    m = 0
    for s in range(s0, s1):
        bounds[m] = floats[zr, s]
        bounds[m + 1] = max(floats[zbr, s], floats[zr, s])
        m += 2
    b = np.sort(bounds[:m])
    k = 0
    for i in range(m):
        if k == 0 or b[i] != bounds[k - 1]:
            bounds[k] = b[i]
            k += 1
    return k


@njit(cache=True)
def tidy(offsets, floats, uints, alpha_of, zr, zbr, starts, out_f, out_u, out_n, bounds,
         pz0, pz1, psrc):
    """Split every volume sample at every other sample's boundaries, sort by (Z, ZBack) keeping
    arrival order on ties, and merge samples of the same depth range. Pixel p's pieces go to
    ``out_*[:, starts[p]:]``; ``out_n[p]`` is how many it kept. ``bounds``/``pz0``/``pz1``/``psrc``
    are scratch of the largest pixel's piece count."""
    npix = offsets.shape[0] - 1
    nf = floats.shape[0]
    nu = uints.shape[0]
    for p in range(npix):
        s0, s1 = offsets[p], offsets[p + 1]
        if s1 == s0:
            out_n[p] = 0
            continue
        if s1 - s0 == 1:                 # one sample: nothing to split, sort or merge
            d = starts[p]
            for c in range(nf):
                out_f[c, d] = floats[c, s0]
            for c in range(nu):
                out_u[c, d] = uints[c, s0]
            out_n[p] = 1
            continue
        volume = False
        for s in range(s0, s1):
            if floats[zbr, s] > floats[zr, s]:
                volume = True
                break
        m = _boundaries(floats, zr, zbr, s0, s1, bounds) if volume else 0
        k = 0
        for s in range(s0, s1):
            z, zb = floats[zr, s], floats[zbr, s]
            if zb > z:
                for i in range(m - 1):
                    if bounds[i] >= z and bounds[i + 1] <= zb:
                        pz0[k], pz1[k], psrc[k] = bounds[i], bounds[i + 1], s
                        k += 1
            else:
                pz0[k], pz1[k], psrc[k] = z, z, s
                k += 1
        # sort by ZBack, then stably by Z: (Z, ZBack) order, ties in arrival order
        o1 = np.argsort(pz1[:k], kind="mergesort")
        o2 = np.argsort(pz0[:k][o1], kind="mergesort")
        order = o1[o2]
        base = starts[p]
        w = -1
        for j in range(k):
            i = order[j]
            s = psrc[i]
            a0, a1 = pz0[i], pz1[i]
            z, zb = floats[zr, s], floats[zbr, s]
            x = np.float32(1.0)
            if zb > z and (a1 - a0) < (zb - z):
                x = np.float32((a1 - a0) / (zb - z))
            same = w >= 0 and out_f[zr, base + w] == a0 and out_f[zbr, base + w] == a1
            if same:
                d = base + w
                # colours first (they need both alphas), then the alphas
                for c in range(nf):
                    ac = alpha_of[c]
                    if ac < 0 or ac == c:
                        continue
                    a_1 = min(max(out_f[ac, d], 0.0), 1.0)
                    a_2 = min(max(_fraction_alpha(floats[ac, s], x), 0.0), 1.0)
                    v1 = out_f[c, d]
                    v2 = floats[c, s]
                    if x < 1.0 and floats[ac, s] < 1.0:
                        v2 = v2 * (a_2 / floats[ac, s]) if floats[ac, s] > _TINY else v2 * x
                    out_f[c, d] = _merge_colour(a_1, a_2, v1, v2)
                for c in range(nf):
                    if alpha_of[c] == c:
                        a_1 = min(max(out_f[c, d], 0.0), 1.0)
                        a_2 = min(max(_fraction_alpha(floats[c, s], x), 0.0), 1.0)
                        out_f[c, d] = a_1 + a_2 - a_1 * a_2
                continue
            w += 1
            d = base + w
            for c in range(nf):
                v = floats[c, s]
                ac = alpha_of[c]
                if x < 1.0 and ac >= 0:
                    a = floats[ac, s]
                    if a < 1.0:
                        if ac == c:
                            v = _fraction_alpha(a, x)
                        elif a > _TINY:
                            v = v * (_fraction_alpha(a, x) / a)
                        else:
                            v = v * x
                out_f[c, d] = v
            out_f[zr, d] = a0
            out_f[zbr, d] = a1
            for c in range(nu):
                out_u[c, d] = uints[c, s]
        out_n[p] = w + 1


@njit(cache=True, inline="always")
def _merge_colour(a1, a2, c1, c2):
    if a1 >= 1.0 and a2 >= 1.0:
        return (c1 + c2) / 2.0
    if a1 >= 1.0:
        return c1
    if a2 >= 1.0:
        return c2
    big = 3.4028234e38
    u1 = -math.log1p(-a1)
    v1 = u1 / a1 if u1 < a1 * big else 1.0
    u2 = -math.log1p(-a2)
    v2 = u2 / a2 if u2 < a2 * big else 1.0
    u = u1 + u2
    am = a1 + a2 - a1 * a2
    wgt = am / u if (u > 1.0 or am < u * big) else 1.0
    return (c1 * v1 + c2 * v2) * wgt


@njit(cache=True)
def compact(starts, out_n, src_f, src_u, dst_off, dst_f, dst_u):
    """Copy each pixel's ``out_n[p]`` samples from ``starts[p]`` to ``dst_off[p]``."""
    for p in range(out_n.shape[0]):
        a, b, n = starts[p], dst_off[p], out_n[p]
        for c in range(src_f.shape[0]):
            for i in range(n):
                dst_f[c, b + i] = src_f[c, a + i]
        for c in range(src_u.shape[0]):
            for i in range(n):
                dst_u[c, b + i] = src_u[c, a + i]


@njit(cache=True)
def flatten(offsets, floats, uints, alpha_of, main_alpha, zr, zbr, out_f, out_u):
    """Front-to-back ``over`` of each pixel's samples in stored order (tidy them first): every
    premultiplied channel accumulates ``(1 - A) * v`` with A its alpha so far, a channel with no
    alpha of its own uses the main alpha; a pixel stops once its main alpha reaches 1. Z and
    ZBack are the nearest sample's, ids (uint channels) the nearest sample's; an empty pixel is
    0 with Z = ZBack = +inf."""
    npix = offsets.shape[0] - 1
    nf = floats.shape[0]
    prev = np.empty(nf, np.float32)
    for p in range(npix):
        for c in range(nf):
            out_f[p, c] = 0.0
        s0, s1 = offsets[p], offsets[p + 1]
        if zr >= 0:
            out_f[p, zr] = np.inf
            out_f[p, zbr] = np.inf
        for c in range(uints.shape[0]):
            out_u[p, c] = uints[c, s0] if s1 > s0 else 0
        if s1 == s0:
            continue
        if zr >= 0:
            out_f[p, zr] = floats[zr, s0]
            out_f[p, zbr] = max(floats[zbr, s0], floats[zr, s0])
        for s in range(s0, s1):
            if main_alpha >= 0 and out_f[p, main_alpha] >= 1.0:
                break
            for c in range(nf):
                prev[c] = out_f[p, c]
            for c in range(nf):
                if c == zr or c == zbr:
                    continue
                ac = alpha_of[c]
                if ac < 0:
                    ac = main_alpha
                a = prev[ac] if ac >= 0 else np.float32(0.0)
                out_f[p, c] = prev[c] + (np.float32(1.0) - a) * floats[c, s]


@njit(cache=True)
def interleave(dst_off, fill, src_off, src_f, src_u, rows_f, rows_u, dst_f, dst_u):
    """Append each pixel's samples of one source image after the ``fill[p]`` samples already in
    the destination pixel (merge); source row i goes to destination row ``rows_*[i]``."""
    for p in range(src_off.shape[0] - 1):
        a, n = src_off[p], src_off[p + 1] - src_off[p]
        b = dst_off[p] + fill[p]
        for i in range(rows_f.shape[0]):
            r = rows_f[i]
            for k in range(n):
                dst_f[r, b + k] = src_f[i, a + k]
        for i in range(rows_u.shape[0]):
            r = rows_u[i]
            for k in range(n):
                dst_u[r, b + k] = src_u[i, a + k]
        fill[p] += n


@njit(cache=True)
def occlusion_cull(offsets, floats, main_alpha, keep):
    """Mark (``keep``) each pixel's samples up to and including its first opaque one."""
    for p in range(offsets.shape[0] - 1):
        opaque = False
        for s in range(offsets[p], offsets[p + 1]):
            keep[s] = not opaque
            if floats[main_alpha, s] >= 1.0:
                opaque = True


@njit(cache=True)
def holdout(offsets, floats, alpha_of, main_alpha, held, keep, out_f):
    """Hold out the samples flagged ``held``: each keeps its place in depth as a matte, so every
    sample behind it is attenuated by its transparency (all premultiplied channels times the
    product of ``1 - alpha`` of the held samples in front), and is itself removed."""
    nf = floats.shape[0]
    for p in range(offsets.shape[0] - 1):
        t = np.float32(1.0)
        for s in range(offsets[p], offsets[p + 1]):
            if held[s]:
                keep[s] = False
                if main_alpha >= 0:
                    a = min(max(floats[main_alpha, s], np.float32(0.0)), np.float32(1.0))
                    t *= np.float32(1.0) - a
                continue
            keep[s] = True
            for c in range(nf):
                v = floats[c, s]
                if alpha_of[c] >= 0:
                    v = v * t
                out_f[c, s] = v


@njit(cache=True)
def take_pixels(src_off, rows, cols, src_w, src_f, src_u, dst_off, dst_f, dst_u):
    """Crop / pad: destination pixel (j, i) takes source pixel (rows[j], cols[i]) (-1: empty)."""
    w = cols.shape[0]
    for j in range(rows.shape[0]):
        for i in range(w):
            p = j * w + i
            if rows[j] < 0 or cols[i] < 0:
                continue
            q = rows[j] * src_w + cols[i]
            a, n = src_off[q], src_off[q + 1] - src_off[q]
            b = dst_off[p]
            for c in range(src_f.shape[0]):
                for k in range(n):
                    dst_f[c, b + k] = src_f[c, a + k]
            for c in range(src_u.shape[0]):
                for k in range(n):
                    dst_u[c, b + k] = src_u[c, a + k]
