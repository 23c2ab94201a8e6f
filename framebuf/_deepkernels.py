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


@njit(cache=True, inline="always")
def _pixel_tidy(floats, zr, zbr, s0, s1):
    """True when samples ``s0 .. s1`` are sorted by (Z, ZBack) and none overlaps the next: each
    starts at or behind the previous one's back, and no two have the same depth range. Written
    so a NaN depth counts as untidy (the sort then puts it last, as numpy does)."""
    for s in range(s0 + 1, s1):
        z0, b0 = floats[zr, s - 1], max(floats[zbr, s - 1], floats[zr, s - 1])
        z1, b1 = floats[zr, s], max(floats[zbr, s], floats[zr, s])
        if not (z1 >= b0) or (z1 == z0 and b1 == b0):
            return False
    return True


@njit(cache=True)
def is_tidy(offsets, floats, zr, zbr):
    """True when every pixel is tidy (:func:`_pixel_tidy`)."""
    for p in range(offsets.shape[0] - 1):
        if not _pixel_tidy(floats, zr, zbr, offsets[p], offsets[p + 1]):
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
def _pieces(offsets, floats, zr, zbr):
    """Where each pixel's pieces start once its samples are split at every sample boundary of
    the pixel (pixels + 1 cumulative counts: an upper bound of the tidy layout), and the most
    pieces of one pixel."""
    npix = offsets.shape[0] - 1
    most = 1
    for p in range(npix):
        most = max(most, offsets[p + 1] - offsets[p])
    bounds = np.empty(2 * most, np.float32)
    starts = np.empty(npix + 1, np.int64)
    starts[0] = 0
    biggest = 0
    for p in range(npix):
        s0, s1 = offsets[p], offsets[p + 1]
        k = s1 - s0
        if k > 1 and not _pixel_tidy(floats, zr, zbr, s0, s1):
            k = _split(floats, zr, zbr, s0, s1, bounds, bounds[:0], bounds[:0], offsets[:0],
                       False)
        starts[p + 1] = starts[p] + k
        biggest = max(biggest, k)
    return starts, biggest


@njit(cache=True, inline="always")
def _split(floats, zr, zbr, s0, s1, bounds, pz0, pz1, psrc, store):
    """The pieces of samples ``s0 .. s1`` cut at every Z and ZBack of the pixel: their number,
    and with ``store`` each piece's depth range and source sample in ``pz0``/``pz1``/``psrc``
    (one loop for counting and cutting, so the two cannot disagree)."""
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
                    if store:
                        pz0[k], pz1[k], psrc[k] = bounds[i], bounds[i + 1], s
                    k += 1
        else:
            if store:
                pz0[k], pz1[k], psrc[k] = z, z, s
            k += 1
    return k


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


@njit(cache=True, inline="always")
def _before(a0, a1, b0, b1):
    """(a0, a1) sorts strictly before (b0, b1): lexicographic, NaN last (numpy's order)."""
    if a0 < b0 or (b0 != b0 and a0 == a0):
        return True
    if b0 < a0 or (a0 != a0 and b0 == b0):
        return False
    return a1 < b1 or (b1 != b1 and a1 == a1)


@njit(cache=True, inline="always")
def _order(pz0, pz1, k, order):
    """``order[:k]``: the pieces sorted by (Z, ZBack), ties in arrival order. Insertion sort
    (no allocation) for the few samples of most pixels, numpy's stable sort for big ones."""
    if k > 48:
        o1 = np.argsort(pz1[:k], kind="mergesort")
        o2 = np.argsort(pz0[:k][o1], kind="mergesort")
        order[:k] = o1[o2]
        return
    for j in range(k):
        i = j
        while i > 0 and _before(pz0[j], pz1[j], pz0[order[i - 1]], pz1[order[i - 1]]):
            order[i] = order[i - 1]
            i -= 1
        order[i] = j


@njit(cache=True)
def _tidy_pixel(floats, uints, alpha_of, zr, zbr, s0, s1, out_f, out_u, base, bounds, pz0,
                pz1, psrc, order):
    """Tidy samples ``s0 .. s1`` of one pixel into ``out_*[:, base:]``; returns how many it
    kept. A pixel already tidy (or of one sample) is copied. ``bounds`` (2 x samples), ``pz0``,
    ``pz1``, ``psrc``, ``order`` (pieces) are scratch."""
    nf = floats.shape[0]
    nu = uints.shape[0]
    if s1 - s0 < 2 or _pixel_tidy(floats, zr, zbr, s0, s1):
        for c in range(nf):
            for s in range(s0, s1):
                out_f[c, base + s - s0] = floats[c, s]
        for c in range(nu):
            for s in range(s0, s1):
                out_u[c, base + s - s0] = uints[c, s]
        return s1 - s0
    k = _split(floats, zr, zbr, s0, s1, bounds, pz0, pz1, psrc, True)
    _order(pz0, pz1, k, order)
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
    return w + 1


@njit(cache=True)
def tidy(offsets, floats, uints, alpha_of, zr, zbr, starts, out_f, out_u, out_n, most, cull):
    """Split every volume sample at every other sample's boundaries, sort by (Z, ZBack) keeping
    arrival order on ties, and merge samples of the same depth range. Pixel p's pieces go to
    ``out_*[:, starts[p]:]``; ``out_n[p]`` is how many it kept. ``most``: the largest pixel's
    piece count. ``cull`` >= 0 (the main alpha row): keep each pixel's samples only up to and
    including its first opaque one (occlusion culling, done here on the tidied pixel rather
    than by a second pass and copy)."""
    most = max(most, 1)
    bounds = np.empty(2 * most, np.float32)
    pz0, pz1 = np.empty(most, np.float32), np.empty(most, np.float32)
    psrc, order = np.empty(most, np.int64), np.empty(most, np.int64)
    nf, nu = floats.shape[0], uints.shape[0]
    for p in range(offsets.shape[0] - 1):
        s0, s1 = offsets[p], offsets[p + 1]
        if s1 - s0 < 2:              # most pixels: copied here, a call each would cost more
            for c in range(nf):
                if s1 > s0:
                    out_f[c, starts[p]] = floats[c, s0]
            for c in range(nu):
                if s1 > s0:
                    out_u[c, starts[p]] = uints[c, s0]
            out_n[p] = s1 - s0
            continue
        n = _tidy_pixel(floats, uints, alpha_of, zr, zbr, s0, s1, out_f, out_u, starts[p],
                        bounds, pz0, pz1, psrc, order)
        if cull >= 0:
            for i in range(n):
                if out_f[cull, starts[p] + i] >= 1.0:
                    n = i + 1
                    break
        out_n[p] = n


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
def flatten(offsets, floats, uints, alpha_of, main_alpha, zr, zbr, tidy_first, out_f, out_u):
    """Front-to-back ``over`` of each pixel's samples into ``out_*[:, p]`` (channels x pixels):
    every premultiplied channel accumulates ``(1 - A) * v`` with A its alpha so far, a channel
    with no alpha of its own uses the main alpha; a pixel stops once its main alpha reaches 1.
    Z and ZBack are the nearest sample's, ids (uint channels) the nearest sample's; an empty
    pixel is 0 with Z = ZBack = +inf (``out_*`` must come zeroed). With ``tidy_first`` a pixel
    that is not tidy is tidied (:func:`_tidy_pixel`) into scratch first, so the image is never
    tidied as a whole: most pixels are composited straight from the samples."""
    npix = offsets.shape[0] - 1
    nf = floats.shape[0]
    nu = uints.shape[0]
    eff, own = _over_rows(alpha_of, main_alpha, zr, zbr)
    pending = np.empty(4096, np.int64)    # untidy pixels, done a batch at a time
    n = 0
    for p in range(npix):
        s0, s1 = offsets[p], offsets[p + 1]
        if s1 == s0:
            # empty pixels (most of a typical deep render): out_* come zeroed (np.zeros: pages
            # the system zeroes on first touch), so only the depths are written, here, without
            # a call of _over (its array arguments reference-counted) for each
            if zr >= 0:
                out_f[zr, p] = np.inf
                out_f[zbr, p] = np.inf
        elif tidy_first and s1 - s0 > 1 and not _pixel_tidy(floats, zr, zbr, s0, s1):
            pending[n] = p
            n += 1
            if n == pending.shape[0]:
                _flatten_untidy(pending, n, offsets, floats, uints, alpha_of, eff, own,
                                main_alpha, zr, zbr, out_f, out_u)
                n = 0
        else:
            _over(floats, uints, s0, s1, eff, own, main_alpha, zr, zbr, out_f, out_u, p)
    _flatten_untidy(pending, n, offsets, floats, uints, alpha_of, eff, own, main_alpha, zr, zbr,
                    out_f, out_u)


@njit(cache=True)
def _flatten_untidy(pending, n, offsets, floats, uints, alpha_of, eff, own, main_alpha, zr, zbr,
                    out_f, out_u):
    """Pixels ``pending[:n]`` of :func:`flatten`, each tidied into scratch and composited. The
    scratch is sized for the batch before the loop: arrays reassigned inside a loop are
    reference-counted on every iteration (growing them as needed made the loop 20x slower)."""
    if n == 0:
        return
    most = 1
    for i in range(n):
        p = pending[i]
        most = max(most, offsets[p + 1] - offsets[p])
    bounds = np.empty(2 * most, np.float32)
    pieces = 1
    for i in range(n):
        p = pending[i]
        pieces = max(pieces, _split(floats, zr, zbr, offsets[p], offsets[p + 1], bounds,
                                    bounds[:0], bounds[:0], offsets[:0], False))
    sc_f = np.empty((floats.shape[0], pieces), np.float32)
    sc_u = np.empty((uints.shape[0], pieces), np.uint32)
    pz0, pz1 = np.empty(pieces, np.float32), np.empty(pieces, np.float32)
    psrc, order = np.empty(pieces, np.int64), np.empty(pieces, np.int64)
    for i in range(n):
        p = pending[i]
        k = _tidy_pixel(floats, uints, alpha_of, zr, zbr, offsets[p], offsets[p + 1], sc_f, sc_u,
                        0, bounds, pz0, pz1, psrc, order)
        _over(sc_f, sc_u, 0, k, eff, own, main_alpha, zr, zbr, out_f, out_u, p)


@njit(cache=True)
def _over_rows(alpha_of, main_alpha, zr, zbr):
    """For :func:`_over`: per float row the alpha row its ``over`` uses (-1: none, so 0; -2:
    not composited -- Z, ZBack and the alphas themselves), and the alpha rows. Looked up once,
    not re-derived per sample and channel."""
    nf = alpha_of.shape[0]
    eff = np.full(nf, -2, np.int64)
    own = np.empty(nf, np.int64)
    k = 0
    for c in range(nf):
        if c == zr or c == zbr:
            continue
        if alpha_of[c] == c:
            own[k] = c
            k += 1
        else:
            eff[c] = alpha_of[c] if alpha_of[c] >= 0 else main_alpha
    return eff, own[:k]


@njit(cache=True)
def _over(src_f, src_u, s0, s1, eff, own, main_alpha, zr, zbr, out_f, out_u, p):
    """Pixel p of :func:`flatten` from samples ``s0 .. s1`` of ``src_*`` (in their order; at
    least one; ``out_*[:, p]`` zero); ``eff``/``own`` from :func:`_over_rows`."""
    nf = src_f.shape[0]
    for c in range(src_u.shape[0]):
        out_u[c, p] = src_u[c, s0]
    if zr >= 0:
        out_f[zr, p] = src_f[zr, s0]
        out_f[zbr, p] = max(src_f[zbr, s0], src_f[zr, s0])
    for s in range(s0, s1):
        if main_alpha >= 0 and out_f[main_alpha, p] >= 1.0:
            break
        # every channel against the alphas before this sample: alphas are updated last
        for c in range(nf):
            e = eff[c]
            if e == -2:
                continue
            a = out_f[e, p] if e >= 0 else np.float32(0.0)
            out_f[c, p] += (np.float32(1.0) - a) * src_f[c, s]
        for i in range(own.shape[0]):
            c = own[i]
            out_f[c, p] += (np.float32(1.0) - out_f[c, p]) * src_f[c, s]


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
