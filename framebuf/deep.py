"""Deep images: every pixel keeps a list of samples at their depths (OpenEXR 2 "deep" data).

:class:`DeepImage` holds per-pixel sample counts and flat per-sample arrays, no per-pixel
objects: ``offsets`` (int64, ``height * width + 1``; pixel ``p = y * width + x`` owns samples
``offsets[p] .. offsets[p + 1]``), ``floats`` (float32, one row per float channel: colour,
alpha, ``Z``, ``ZBack`` ...) and ``uints`` (uint32, one row per UINT channel: ids). Values are
full precision in memory; ``pixel_types`` says what each channel is in a file (half, float,
uint). Colour is premultiplied by its alpha, as OpenEXR defines it; ``Z`` and ``ZBack`` are
positive distances (``ZBack == Z`` or no ``ZBack``: a point sample; ``ZBack > Z``: a volume).

Operations (each one Numba kernel over the whole image, :mod:`framebuf._deepkernels`):
:func:`tidy` (split overlaps, sort, merge, as "Interpreting OpenEXR Deep Pixels"), :func:`flatten`
(front-to-back over), :func:`merge` (images rendered apart, composited by depth), :func:`holdout`
(by id or depth), :func:`crop`. Reading and writing deep OpenEXR: :mod:`framebuf.formats._exrdeep`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from . import _deepkernels
from .errors import BufferMismatchError

#: deepImageState attribute values (OpenEXR ImfDeepImageState)
STATES = {0: "messy", 1: "sorted", 2: "non_overlapping", 3: "tidy"}
#: per-channel alpha names OpenEXR recommends, else the layer's A
CHANNEL_ALPHAS = {"R": "AR", "G": "AG", "B": "AB"}
DEPTH_NAMES = ("Z", "ZBack")


@dataclass
class DeepImage:
    """One deep part: ``width`` x ``height`` pixels at ``origin`` (file pixel of pixel 0, 0).

    ``channels`` lists the channel names in file order; each is a row of ``floats`` or of
    ``uints`` (:meth:`row`). ``attributes``/``attribute_types`` are the part's other header
    attributes, ``name``/``view``/``compression``/``tiles``/``line_order`` its structure.
    """

    width: int
    height: int
    offsets: np.ndarray
    channels: list
    floats: np.ndarray
    uints: np.ndarray
    pixel_types: dict
    origin: tuple = (0, 0)
    display_window: tuple | None = None
    name: str = ""
    view: str | None = None
    compression: str = "zips"
    tiles: dict | None = None
    line_order: str = "increasing_y"
    attributes: dict = field(default_factory=dict)
    attribute_types: dict = field(default_factory=dict)
    state: str = "messy"

    def __post_init__(self):
        self.offsets = np.ascontiguousarray(self.offsets, np.int64)
        if self.offsets.shape != (self.width * self.height + 1,):
            raise BufferMismatchError(f"deep image {self.width}x{self.height}: offsets must have "
                               f"{self.width * self.height + 1} entries, not {self.offsets.shape}")
        n = int(self.offsets[-1])
        nf = sum(1 for c in self.channels if self.pixel_types[c] != "uint")
        self.floats = np.ascontiguousarray(self.floats, np.float32).reshape(nf, n)
        self.uints = np.ascontiguousarray(self.uints, np.uint32).reshape(len(self.channels) - nf, n)
        if "Z" not in self.channels:
            raise BufferMismatchError("a deep image needs a Z channel (the depth of each sample)")

    # -- layout -----------------------------------------------------------------------------
    @property
    def samples(self) -> int:
        return int(self.offsets[-1])

    @property
    def counts(self) -> np.ndarray:
        """Samples per pixel, (height, width) uint32."""
        return np.diff(self.offsets).astype(np.uint32).reshape(self.height, self.width)

    @property
    def data_window(self) -> tuple:
        x0, y0 = self.origin
        return (x0, y0, x0 + self.width - 1, y0 + self.height - 1)

    @property
    def float_channels(self) -> list:
        return [c for c in self.channels if self.pixel_types[c] != "uint"]

    @property
    def uint_channels(self) -> list:
        return [c for c in self.channels if self.pixel_types[c] == "uint"]

    def row(self, name: str) -> np.ndarray:
        """The per-sample values of one channel (a view)."""
        if name in self.float_channels:
            return self.floats[self.float_channels.index(name)]
        if name in self.uint_channels:
            return self.uints[self.uint_channels.index(name)]
        raise BufferMismatchError(f"deep image has no channel {name!r}; channels: {', '.join(self.channels)}")

    def pixel(self, x: int, y: int) -> dict:
        """One pixel's samples, channel -> array (for inspection and tests)."""
        p = y * self.width + x
        a, b = self.offsets[p], self.offsets[p + 1]
        return {c: self.row(c)[a:b] for c in self.channels}

    @property
    def nbytes(self) -> int:
        """The samples' own bytes in memory (values and offsets)."""
        return self.floats.nbytes + self.uints.nbytes + self.offsets.nbytes

    def _rows(self):
        """(alpha_of, main alpha, Z row, ZBack row) of the float channels for the kernels."""
        names = self.float_channels
        index = {c: i for i, c in enumerate(names)}
        alpha_of = np.full(len(names), -1, np.int64)
        main = index.get("A", -1)
        for i, c in enumerate(names):
            layer, _, suffix = c.rpartition(".")
            pre = layer + "." if layer else ""
            if suffix in DEPTH_NAMES:
                continue
            own = CHANNEL_ALPHAS.get(suffix)
            if suffix in ("A", "AR", "AG", "AB"):
                alpha_of[i] = i
            elif own and pre + own in index:
                alpha_of[i] = index[pre + own]
            elif pre + "A" in index:
                alpha_of[i] = index[pre + "A"]
            else:
                alpha_of[i] = main
        zr = index["Z"]
        return alpha_of, main, zr, index.get("ZBack", zr)

    def with_samples(self, offsets, floats, uints, state=None) -> "DeepImage":
        return replace(self, offsets=offsets, floats=floats, uints=uints,
                       state=state or self.state)


def empty_like(img: DeepImage, width: int, height: int, origin) -> DeepImage:
    n_f, n_u = img.floats.shape[0], img.uints.shape[0]
    return replace(img, width=width, height=height, origin=tuple(origin),
                   offsets=np.zeros(width * height + 1, np.int64),
                   floats=np.zeros((n_f, 0), np.float32), uints=np.zeros((n_u, 0), np.uint32))


def from_pixels(width: int, height: int, samples: dict, pixel_types: dict | None = None,
                **kw) -> DeepImage:
    """A deep image from per-pixel lists: ``samples[(x, y)] = {channel: [values ...]}`` (tests,
    small hand-built images)."""
    chans = list(next(iter(samples.values())).keys()) if samples else ["A", "Z"]
    types = {c: (pixel_types or {}).get(c, "float") for c in chans}
    counts = np.zeros(width * height, np.int64)
    for (x, y), vals in samples.items():
        counts[y * width + x] = len(vals["Z"])
    offsets = np.concatenate([[0], np.cumsum(counts)])
    fl = [c for c in chans if types[c] != "uint"]
    ul = [c for c in chans if types[c] == "uint"]
    floats = np.zeros((len(fl), offsets[-1]), np.float32)
    uints = np.zeros((len(ul), offsets[-1]), np.uint32)
    for (x, y), vals in samples.items():
        a = offsets[y * width + x]
        for i, c in enumerate(fl):
            floats[i, a:a + len(vals[c])] = vals[c]
        for i, c in enumerate(ul):
            uints[i, a:a + len(vals[c])] = vals[c]
    return DeepImage(width, height, offsets, chans, floats, uints, types, **kw)


# -- operations --------------------------------------------------------------------------------

def tidy(img: DeepImage) -> DeepImage:
    """The image tidied the OpenEXR way: volume samples split where other samples begin or end,
    samples sorted by (Z, ZBack) (ties keep their order), samples of the same depth range merged.
    An image already tidy is returned as it is (state "tidy")."""
    return _tidy(img, -1)


def _tidy(img: DeepImage, cull: int) -> DeepImage:
    """:func:`tidy`, and with ``cull`` >= 0 (the main alpha row) each pixel's samples behind
    its first opaque one dropped."""
    alpha_of, _main, zr, zbr = img._rows()
    if cull < 0 and _deepkernels.is_tidy(img.offsets, img.floats, zr, zbr):
        if img.state != "tidy":
            img = replace(img, state="tidy")
        return img
    starts, most = _deepkernels._pieces(img.offsets, img.floats, zr, zbr)
    out_f = np.empty((img.floats.shape[0], int(starts[-1])), np.float32)
    out_u = np.empty((img.uints.shape[0], int(starts[-1])), np.uint32)
    out_n = np.empty(starts.shape[0] - 1, np.int64)
    _deepkernels.tidy(img.offsets, img.floats, img.uints, alpha_of, zr, zbr, starts, out_f, out_u, out_n,
           most, cull)
    return _compacted(img, starts, out_n, out_f, out_u, "tidy")


def _compacted(img, starts, out_n, out_f, out_u, state):
    # out_n[p] <= the room of pixel p, so equal totals mean no pixel shrank
    if int(out_n.sum()) == int(starts[-1]):
        return img.with_samples(starts, out_f, out_u, state)
    offsets = np.empty(out_n.shape[0] + 1, np.int64)
    offsets[0] = 0
    np.cumsum(out_n, out=offsets[1:])
    dst_f = np.empty((out_f.shape[0], int(offsets[-1])), np.float32)
    dst_u = np.empty((out_u.shape[0], int(offsets[-1])), np.uint32)
    _deepkernels.compact(starts, out_n, out_f, out_u, offsets, dst_f, dst_u)
    return img.with_samples(offsets, dst_f, dst_u, state)


def flatten(img: DeepImage, tidy_first: bool = True) -> dict:
    """The flat image: channel -> (height, width) array, every premultiplied channel composited
    front to back with ``over`` (a pixel stops once its alpha reaches 1); Z/ZBack and the ids
    (uint channels) of the nearest sample, +inf / 0 where a pixel has none. The image is
    tidied first (``tidy_first``), so overlapping volume samples are split."""
    # one pass: the kernel tidies only the pixels that need it, in scratch (no tidied copy)
    alpha_of, main, zr, zbr = img._rows()
    out_f = np.zeros((img.floats.shape[0], img.width * img.height), np.float32)
    out_u = np.zeros((img.uints.shape[0], img.width * img.height), np.uint32)
    _deepkernels.flatten(img.offsets, img.floats, img.uints, alpha_of, main, zr, zbr, bool(tidy_first),
              out_f, out_u)
    shape = (img.height, img.width)
    out = {c: out_f[i].reshape(shape) for i, c in enumerate(img.float_channels)}
    out.update((c, out_u[i].reshape(shape)) for i, c in enumerate(img.uint_channels))
    return {c: out[c] for c in img.channels}


def crop(img: DeepImage, window) -> DeepImage:
    """The samples of ``window`` (x0, y0, x1, y1 inclusive, file pixels); pixels of the window
    outside the image are empty (so this also pads)."""
    x0, y0, x1, y1 = (int(v) for v in window)
    if x1 < x0 or y1 < y0:
        raise BufferMismatchError(f"crop window {window} is empty")
    w, h = x1 - x0 + 1, y1 - y0 + 1
    ox, oy = img.origin
    cols = np.arange(x0, x1 + 1) - ox
    rows = np.arange(y0, y1 + 1) - oy
    cols = np.where((cols >= 0) & (cols < img.width), cols, -1).astype(np.int64)
    rows = np.where((rows >= 0) & (rows < img.height), rows, -1).astype(np.int64)
    counts = np.diff(img.offsets).reshape(img.height, img.width)
    sub = np.zeros((h, w), np.int64)
    inside_r, inside_c = rows >= 0, cols >= 0
    sub[np.ix_(inside_r, inside_c)] = counts[np.ix_(rows[inside_r], cols[inside_c])]
    offsets = np.zeros(w * h + 1, np.int64)
    np.cumsum(sub.ravel(), out=offsets[1:])
    dst_f = np.empty((img.floats.shape[0], int(offsets[-1])), np.float32)
    dst_u = np.empty((img.uints.shape[0], int(offsets[-1])), np.uint32)
    _deepkernels.take_pixels(img.offsets, rows, cols, img.width, img.floats, img.uints, offsets, dst_f, dst_u)
    return replace(img, width=w, height=h, origin=(x0, y0), offsets=offsets, floats=dst_f,
                   uints=dst_u)


def merge(images, occlusion_cull: bool = False) -> DeepImage:
    """Several deep images (elements rendered apart) as one, composited by depth: every pixel
    holds the samples of all of them, tidied (split, sorted with earlier images first on ties,
    coincident samples merged). Images of different data windows are placed in the union of
    their windows; channels missing from an image are 0 there. ``occlusion_cull`` drops the
    samples behind each pixel's first opaque sample (OpenImageIO's ``deep_merge`` default)."""
    images = list(images)
    if not images:
        raise BufferMismatchError("merge: no deep images given")
    if len(images) == 1 and not occlusion_cull:
        return tidy(images[0])
    windows = [im.data_window for im in images]
    win = (min(w[0] for w in windows), min(w[1] for w in windows),
           max(w[2] for w in windows), max(w[3] for w in windows))
    images = [im if im.data_window == win else crop(im, win) for im in images]
    first = images[0]
    channels = list(first.channels)
    types = dict(first.pixel_types)
    for im in images[1:]:
        for c in im.channels:
            if c not in types:
                channels.append(c)
                types[c] = im.pixel_types[c]
            elif (types[c] == "uint") != (im.pixel_types[c] == "uint"):
                raise BufferMismatchError(f"merge: channel {c!r} is uint in one image, float in another")
            elif types[c] == "half" and im.pixel_types[c] == "float":
                types[c] = "float"
    fl = [c for c in channels if types[c] != "uint"]
    ul = [c for c in channels if types[c] == "uint"]
    # a sum of cumulative counts is the cumulative count of the sums: no diff, no cumsum
    offsets = images[0].offsets.copy()
    for im in images[1:]:
        offsets += im.offsets
    n = int(offsets[-1])
    dst_f = np.zeros((len(fl), n), np.float32)
    dst_u = np.zeros((len(ul), n), np.uint32)
    fill = np.zeros(offsets.shape[0] - 1, np.int64)
    for im in images:
        _deepkernels.interleave(offsets, fill, im.offsets, im.floats, im.uints,
                     np.array([fl.index(c) for c in im.float_channels], np.int64),
                     np.array([ul.index(c) for c in im.uint_channels], np.int64), dst_f, dst_u)
    out = replace(first, width=images[0].width, height=images[0].height, origin=images[0].origin,
                  offsets=offsets, floats=dst_f, uints=dst_u, channels=channels, pixel_types=types,
                  state="messy")
    return _tidy(out, out._rows()[1] if occlusion_cull else -1)


def _kept(img: DeepImage, keep: np.ndarray, floats: np.ndarray) -> DeepImage:
    pixel_of = np.repeat(np.arange(img.width * img.height), np.diff(img.offsets))
    counts = np.bincount(pixel_of[keep], minlength=img.width * img.height)
    offsets = np.zeros(counts.shape[0] + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return img.with_samples(offsets, floats[:, keep], img.uints[:, keep])


def holdout(img: DeepImage, ids=None, channel: str = "id", nearer_than: float | None = None,
            farther_than: float | None = None) -> DeepImage:
    """Hold out samples: those whose ``channel`` value is one of ``ids``, those in front of
    depth ``nearer_than`` (Z < it) and those behind ``farther_than`` (Z >= it). A held-out sample
    becomes a matte: it is removed, and every sample behind it in its pixel is attenuated by its
    transparency (all premultiplied channels times ``1 - alpha``), as a holdout object renders.
    The image is tidied first."""
    img = tidy(img)
    held = np.zeros(img.samples, np.bool_)
    if ids is not None:
        held |= np.isin(img.row(channel), np.asarray(list(ids), np.uint32))
    z = img.row("Z")
    if nearer_than is not None:
        held |= z < np.float32(nearer_than)
    if farther_than is not None:
        held |= z >= np.float32(farther_than)
    alpha_of, main, _, _ = img._rows()
    keep = np.empty(img.samples, np.bool_)
    out_f = np.empty_like(img.floats)
    _deepkernels.holdout(img.offsets, img.floats, alpha_of, main, held, keep, out_f)
    return _kept(img, keep, out_f)
