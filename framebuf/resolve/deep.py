"""Keeping samples instead of reducing them: the deep counterpart of the :class:`Resolver`.

:class:`DeepCollector` takes the same :class:`SampleBatch` objects and, instead of folding them
into per-pixel state, keeps every sample's pixel, colour (premultiplied RGBA), depth and label.
:meth:`DeepCollector.resolve` turns them into a tidy :class:`~framebuf.deep.DeepImage` in one
Numba kernel:

* a pixel's samples are sorted by depth (ties keep arrival order), samples of exactly one depth
  are summed into one, and samples that carry nothing (colour and alpha 0: rays that hit nothing)
  are dropped;
* each sample stands for ``1/N`` of its pixel (N: the pixel's finite colour samples, the count
  the box average divides by), and its colour and alpha are rescaled so that front-to-back
  ``over`` gives back that sum: with ``S`` the summed alpha of the samples in front,
  ``alpha' = (a / N) / (1 - S)`` and ``colour' = (c / N) / (1 - S)``.

So flattening the deep image gives exactly the 1x1 box-filtered colour of the flat resolver (up
to rounding): sub-pixel samples are coverage, not layers in front of one another. A colour
sample with a NaN or infinite component is dropped, as in the flat rules. Samples are not
filtered: deep output is the box filter's.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..deep import DeepImage
from ..errors import BufferMismatchError
from .resolver import SampleBatch


@njit(cache=True)
def _deep_pixels(order, pix, z, rgba, label, npix, counts_all, out_off, out_f, out_u):
    """``order`` lists the kept samples grouped by pixel, by depth within a pixel. Writes the
    pixel's deep samples from ``out_off[p]`` and returns how many each pixel kept (two samples
    of one depth are one)."""
    kept = np.zeros(npix, np.int64)
    i = 0
    n = order.shape[0]
    while i < n:
        p = pix[order[i]]
        j = i
        while j < n and pix[order[j]] == p:
            j += 1
        inv = np.float32(1.0) / np.float32(counts_all[p])
        front = np.float64(0.0)          # summed alpha of the samples in front
        w = -1
        last_z = np.float32(np.nan)
        for k in range(i, j):
            s = order[k]
            zs = z[s]
            if w >= 0 and zs == last_z:
                d = out_off[p] + w
                for c in range(4):
                    out_f[c, d] += rgba[s, c] * inv
                continue
            w += 1
            d = out_off[p] + w
            for c in range(4):
                out_f[c, d] = rgba[s, c] * inv
            out_f[4, d] = zs
            out_u[0, d] = label[s]
            last_z = zs
        # additive contributions -> over: divide by what the samples in front leave
        for k in range(w + 1):
            d = out_off[p] + k
            a = out_f[3, d]
            left = np.float32(1.0 - front)
            if left > np.float32(1e-7):
                for c in range(4):
                    out_f[c, d] = out_f[c, d] / left
            else:
                out_f[3, d] = np.float32(1.0)
            front += a
        kept[p] = w + 1
        i = j
    return kept


class DeepCollector:
    """Every sample of a ``width`` x ``height`` render, kept for a deep image.

    ``colour``, ``depth`` and ``label`` name the :class:`SampleBatch` fields read (defaults
    rgba, z, tag; a missing label is 0). ``window`` (x0, y0, x1, y1, exclusive ends) drops the
    samples outside the camera window."""

    def __init__(self, width: int, height: int, colour: str = "rgba", depth: str = "z",
                 label: str | None = "tag", window=None):
        self.width, self.height = int(width), int(height)
        self.colour, self.depth, self.label = colour, depth, label
        self.window = window
        self._batches: list = []

    def add(self, batch: SampleBatch) -> None:
        if not isinstance(batch, SampleBatch):
            raise BufferMismatchError(f"deep collector: expected a SampleBatch, got {type(batch).__name__}")
        rgba = batch.values.get(self.colour)
        if rgba is None or len(batch) == 0:
            return
        z = batch.values.get(self.depth)
        if z is None:
            raise BufferMismatchError(f"deep samples need depths: the batch has no {self.depth!r}")
        if batch.x is not None:
            xi = np.floor(batch.x).astype(np.int64)
            yi = np.floor(batch.y).astype(np.int64)
        else:
            bx0, by0, bw, bh, spp = batch.layout
            k = np.arange(len(batch)) // spp
            xi, yi = bx0 + k % bw, by0 + k // bw
        w, h = self.width, self.height
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        if self.window is not None:
            x0, y0, x1, y1 = self.window
            inside &= (xi >= x0) & (xi < x1) & (yi >= y0) & (yi < y1)
        pix = np.where(inside, yi * w + xi, -1)
        lab = batch.values.get(self.label) if self.label else None
        lab = (np.zeros(len(batch), np.uint32) if lab is None
               else np.asarray(lab).reshape(len(batch)).astype(np.uint32))
        self._batches.append((pix, np.asarray(z, np.float32).reshape(len(batch)),
                              np.asarray(rgba, np.float32).reshape(len(batch), 4), lab))

    def resolve(self, label_channel: str | None = "id", colour_type: str = "half") -> DeepImage:
        """The tidy deep image: channels R G B A (``colour_type`` in a file), Z (float) and,
        when ``label_channel`` is given, that uint channel of labels."""
        npix = self.width * self.height
        if self._batches:
            pix = np.concatenate([b[0] for b in self._batches])
            z = np.concatenate([b[1] for b in self._batches])
            rgba = np.concatenate([b[2] for b in self._batches])
            lab = np.concatenate([b[3] for b in self._batches])
        else:
            pix = np.zeros(0, np.int64)
            z = np.zeros(0, np.float32)
            rgba = np.zeros((0, 4), np.float32)
            lab = np.zeros(0, np.uint32)
        finite = np.isfinite(rgba).all(axis=1) & (pix >= 0)
        counts_all = np.bincount(pix[finite], minlength=npix)
        carry = finite & (rgba != 0).any(axis=1)
        idx = np.flatnonzero(carry)
        order = idx[np.lexsort((z[idx], pix[idx]))]         # by pixel, then depth (stable)
        per = np.bincount(pix[order], minlength=npix)
        starts = np.zeros(npix + 1, np.int64)
        np.cumsum(per, out=starts[1:])
        out_f = np.zeros((5, order.shape[0]), np.float32)
        out_u = np.zeros((1, order.shape[0]), np.uint32)
        kept = _deep_pixels(order, pix, z, rgba, lab, npix, counts_all, starts, out_f, out_u)
        offsets = np.zeros(npix + 1, np.int64)
        np.cumsum(kept, out=offsets[1:])
        if offsets[-1] != starts[-1]:
            keep = np.zeros(order.shape[0], np.bool_)
            for_pixel = np.repeat(np.arange(npix), per)
            rank = np.arange(order.shape[0]) - starts[for_pixel]
            keep[rank < kept[for_pixel]] = True
            out_f, out_u = out_f[:, keep], out_u[:, keep]
        names = ["R", "G", "B", "A", "Z"]
        types = {c: colour_type for c in "RGBA"}
        types["Z"] = "float"
        uints = out_u if label_channel else np.zeros((0, out_f.shape[1]), np.uint32)
        if label_channel:
            names.append(label_channel)
            types[label_channel] = "uint"
        return DeepImage(self.width, self.height, offsets, names, out_f, uints, types,
                         state="tidy")
