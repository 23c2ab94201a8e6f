"""Resolve renderer samples into pixels, by the interpolation rules of mental ray's output system.

Rules (the ``filtering`` flag of a channel is the manual's ``+`` / ``-``):

======================  =================================================================
colour, filtering on    1x1 box filter (default): average of the pixel's samples. Any other
                        filter: sum(w * v) / sum(w) over every sample within the filter radius
                        of the pixel centre; see :mod:`framebuf.resolve.filters`.
colour, filtering off   the last sample, in arrival order across batches.
depth, off (default)    the minimum depth.
depth, on               the mean of the finite depths; +inf when none is finite.
vector, on              the mean of the vectors that are not null (all 0) and have no NaN.
vector, off (default)   the last vector.
label, on               the maximum label.
label, off (default)    the last label.
coverage                samples carrying the label the tag channel stores / all samples of the
                        pixel; 0 where that label is 0 (background).
ranked                  the ``ranks`` ids (uint32 samples, e.g. ``tag``) with the largest
                        filter-weighted coverage, largest first, ties smaller id first: the
                        Cryptomatte rule (:mod:`framebuf.resolve.ranked`). Result (H, W, 2K)
                        float32 ``id, coverage, id, coverage ...`` (the Cryptomatte rank
                        channel order); the id components hold the uint32 bits, read them with
                        ``out[..., 0::2].view(np.uint32)``.
======================  =================================================================

Only colour and ranked coverage go through a reconstruction filter: an averaged depth across an
edge is a depth that exists nowhere, and the same holds for normals, motion and labels.

Special values
    * A colour sample with any NaN or infinite component is dropped from that colour channel,
      in every rule: one bad shading result would otherwise poison a whole filter footprint.
    * Vector samples with a NaN component are dropped by both vector rules.
    * Depth NaN samples never win a minimum and never enter an average, but the pixel counts as
      sampled (its value is then +inf, "nothing hit").

Empty pixels
    A pixel that received nothing for a channel copies that channel from the nearest pixel that
    did: breadth-first over 4-connected steps (Manhattan distance), ties settled step by step in
    the order left, up, right, down (``kernels.nearest_sampled_pixel``). With a wide filter a pixel
    "received" something when a sample reached it with nonzero weight. An image without any sample
    keeps the nothing-hit values (colour 0, depth +inf, null vectors, tag 0, coverage 0).

State is bounded by the image, not the sample count: every rule keeps a fixed number of numbers per
pixel (coverage with the last-label rule keeps ``slots`` (label, count) pairs; see
``kernels.accumulate_coverage_last`` for what happens beyond that many labels in one pixel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..datatypes import datatype
from ..errors import BufferMismatchError, UnsupportedOptionError
from . import kernels
from . import ranked as ranking
from .filters import Filter

KINDS = ("colour", "depth", "vector", "label", "coverage", "ranked")
KIND_ALIASES = {"color": "colour", "z": "depth", "normal": "vector", "motion": "vector",
                "tag": "label"}
#: the kind a channel gets from its name when the dict has no ``kind``.
KIND_BY_NAME = {"rgba": "colour", "z": "depth", "n": "vector", "m": "vector", "tag": "label",
                "coverage": "coverage"}
DEFAULT_COMPONENTS = {"colour": 4, "depth": 1, "vector": 3, "label": 1, "coverage": 1, "ranked": 12}
#: default interpolation of each kind: the manual's, from the data type of the kind's standard
#: buffer (on for colour, off for the rest); ranked coverage (not mental ray's) always combines
DEFAULT_FILTERING = {**{kind: datatype(name).interpolated for name, kind in KIND_BY_NAME.items()},
                     "ranked": True}
DEFAULT_CHANNELS = ("rgba", "z", "n", "m", "tag", "coverage")
DEFAULT_COVERAGE_SLOTS = 4
#: ranked coverage: ranks kept per pixel (the specification's suggested depth, 3 levels of 2)
DEFAULT_RANKS = 6


class SampleBatch:
    """Sample positions and per-channel values: ``SampleBatch(x=..., y=..., rgba=..., z=...)``.

    ``x``, ``y`` are raster coordinates (pixel ``i`` covers ``[i, i+1)``, y down). Every other
    keyword is a value array whose first axis is the sample: ``rgba`` (N, 4), ``z`` (N,),
    ``n`` / ``m`` (N, 3), ``tag`` (N,) and any user buffer name. Channels may be omitted.

    A batch made by :meth:`dense` also carries ``layout = (x0, y0, width, height, spp)``: the
    samples are whole pixels in pixel order with a fixed count per pixel, which the resolver uses
    to skip pixel lookup (see :meth:`dense`). ``layout`` is None for a general batch.
    """

    layout: tuple[int, int, int, int, int] | None = None

    def __init__(self, x, y, **values):
        self.x = _coordinates(x, "x")
        self.y = _coordinates(y, "y")
        if self.x.shape != self.y.shape:
            raise BufferMismatchError(f"sample batch: x has {self.x.shape[0]} samples, y {self.y.shape[0]}")
        self.count = int(self.x.shape[0])
        self.values: dict[str, np.ndarray] = {}
        self._set_values(values)

    def _set_values(self, values):
        for name, array in values.items():
            if array is None:
                continue
            arr = np.asarray(array)
            if arr.ndim == 0 or arr.shape[0] != self.count:
                raise BufferMismatchError(
                    f"sample batch: {name!r} has shape {arr.shape}, expected {self.count} samples"
                )
            self.values[name] = arr

    @classmethod
    def dense(cls, x0: int, y0: int, width: int, height: int, spp: int, *, x=None, y=None,
              **values) -> "SampleBatch":
        """A batch of whole pixels in pixel order with ``spp`` samples each (the dense layout).

        The block covers pixels ``[x0, x0 + width) x [y0, y0 + height)``, rows top to bottom,
        pixels left to right, and sample ``k`` of pixel ``(i, j)`` is sample number
        ``((j - y0) * width + (i - x0)) * spp + k``. Each value array is either flat with
        ``width * height * spp`` samples on its first axis (``(N,)``, ``(N, C)``) or shaped
        ``(height, width, spp)`` / ``(height, width, spp, C)``; pixels of the block outside the
        image are skipped.

        The caller promises that every sample lies in its pixel; this is not checked (it would
        cost the coordinate reads the layout saves). Under that promise every rule gives results
        bit-identical to a general batch of the same samples (``x``, ``y`` given), because the
        dense kernels fold each pixel's samples in the same order with the same arithmetic.
        ``x`` and ``y`` are optional; only a colour channel with a filter wider than the pixel
        (which spreads samples by position) needs them, and raises without them. With them, the
        batch also works everywhere a general batch does.
        """
        ints = []
        for label, v in (("x0", x0), ("y0", y0), ("width", width), ("height", height),
                         ("spp", spp)):
            if not isinstance(v, (int, np.integer)):
                raise BufferMismatchError(f"dense sample batch: {label} must be an integer, not {v!r}")
            ints.append(int(v))
        x0, y0, width, height, spp = ints
        if width < 0 or height < 0 or spp < 1:
            raise BufferMismatchError(f"dense sample batch: need width, height >= 0 and spp >= 1, "
                               f"got {width} x {height} x {spp}")
        count = width * height * spp
        self = cls.__new__(cls)
        self.count = count
        self.layout = (x0, y0, width, height, spp)
        if (x is None) != (y is None):
            raise BufferMismatchError("dense sample batch: give both x and y, or neither")
        if x is not None:
            self.x = _coordinates(np.asarray(x).reshape(-1), "x")
            self.y = _coordinates(np.asarray(y).reshape(-1), "y")
            if self.x.shape[0] != count or self.y.shape[0] != count:
                raise BufferMismatchError(f"dense sample batch: x, y have {self.x.shape[0]}, "
                                   f"{self.y.shape[0]} samples, the block {count}")
        else:
            self.x = self.y = None
        self.values = {}
        flat = {}
        for name, array in values.items():
            if array is None:
                continue
            arr = np.asarray(array)
            if arr.ndim >= 3 and arr.shape[:3] == (height, width, spp):
                arr = arr.reshape(count, *arr.shape[3:])
            flat[name] = arr
        self._set_values(flat)
        return self

    def __len__(self) -> int:
        return self.count

    def __getattr__(self, name):
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        if name in ("rgba", "z", "n", "m", "tag"):
            return None
        raise AttributeError(name)


def _coordinates(a, label) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise BufferMismatchError(f"sample batch: {label} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    return np.ascontiguousarray(arr)


@dataclass
class _ChannelRequest:
    name: str
    kind: str
    filtering: bool
    components: int
    source: str
    filter: Filter | None
    labels: str | None = None   # coverage: the label channel it follows
    slots: int = DEFAULT_COVERAGE_SLOTS
    ranks: int = 0              # ranked: ids kept per pixel


def _parse_channel(name: str, options: dict) -> _ChannelRequest:
    options = dict(options or {})
    unknown = set(options) - {"kind", "filtering", "filter", "components", "source", "labels",
                              "slots", "ranks"}
    if unknown:
        raise UnsupportedOptionError(f"channel {name!r}: unknown option(s) {', '.join(sorted(unknown))}")
    kind = options.get("kind", KIND_BY_NAME.get(name))
    if kind is None:
        raise BufferMismatchError(f"channel {name!r}: give a kind ({', '.join(KINDS)})")
    kind = KIND_ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise BufferMismatchError(f"channel {name!r}: unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    filtering = bool(options.get("filtering", DEFAULT_FILTERING[kind]))
    filt = options.get("filter")
    if filt is not None and kind not in ("colour", "ranked"):
        raise UnsupportedOptionError(
            f"channel {name!r}: only colour and ranked coverage go through a pixel filter, not {kind}"
        )
    if kind in ("colour", "ranked"):
        if filt is None:
            filt = Filter.box()
        elif not isinstance(filt, Filter):
            filt = Filter.make(filt)
    ranks = int(options.get("ranks", DEFAULT_RANKS)) if kind == "ranked" else 0
    if kind == "ranked" and ranks < 1:
        raise BufferMismatchError(f"channel {name!r}: ranks must be at least 1")
    components = int(options.get("components", 2 * ranks if ranks else DEFAULT_COMPONENTS[kind]))
    if kind == "ranked" and components != 2 * ranks:
        raise BufferMismatchError(f"channel {name!r}: a ranked channel has 2 components per rank")
    if kind in ("depth", "label", "coverage") and components != 1:
        raise BufferMismatchError(f"channel {name!r}: a {kind} channel has one component")
    if components < 1:
        raise BufferMismatchError(f"channel {name!r}: components must be at least 1")
    slots = int(options.get("slots", 2 * ranks if ranks else DEFAULT_COVERAGE_SLOTS))
    if slots < max(1, ranks):
        raise BufferMismatchError(f"channel {name!r}: slots must be at least {max(1, ranks)}")
    return _ChannelRequest(name=name, kind=kind, filtering=filtering, components=components,
                 source=options.get("source", name), filter=filt if kind in ("colour", "ranked") else None,
                 labels=options.get("labels", "tag") if kind == "coverage" else None, slots=slots,
                 ranks=ranks)


class _Channel:
    """Per-pixel state of one channel and the kernels that fill and finish it."""

    def __init__(self, spec: _ChannelRequest, width: int, height: int, label_rule_max: bool, label_source: str):
        self.spec = spec
        self.width = width
        self.height = height
        npix = width * height
        c = spec.components
        # one flag per pixel "something arrived": a byte, so it stays in cache for scattered samples
        self.seen = np.zeros(npix, np.bool_)
        kind = spec.kind
        self.source = spec.source
        if kind == "colour":
            if not spec.filtering:
                self.rule = "last"
                self.last = np.zeros((npix, c), np.float32)
            elif spec.filter.is_pixel_box:
                self.rule = "average"
                self.sums = np.zeros((npix, c + 1), np.float64)
            else:
                self.rule = "filtered"
                self.weighted = np.zeros((npix, c + 2), np.float64)
                self.box = np.zeros((npix, c + 1), np.float64)
                rows = npix if spec.filter.clips else 1
                self.lo = np.full((rows, c), np.inf, np.float32)
                self.hi = np.full((rows, c), -np.inf, np.float32)
        elif kind == "depth":
            if spec.filtering:
                self.rule = "average_depth"
                self.sums = np.zeros((npix, 2), np.float64)
            else:
                self.rule = "min_depth"
                self.zmin = np.full(npix, np.inf, np.float32)
        elif kind == "vector":
            if spec.filtering:
                self.rule = "average_vector"
                self.sums = np.zeros((npix, c + 1), np.float64)
            else:
                self.rule = "last_vector"
                self.last = np.zeros((npix, c), np.float32)
        elif kind == "label":
            self.rule = "max_label" if spec.filtering else "last_label"
            self.labels = np.zeros(npix, np.uint32)
        elif kind == "ranked":
            self.rule = "ranked"
            self.slot_ids = np.zeros((npix, spec.slots), np.uint32)
            self.slot_w = np.zeros((npix, spec.slots), np.float64)
            self.total = np.zeros(npix, np.float64)
        else:  # coverage
            self.source = label_source
            if label_rule_max:
                self.rule = "coverage_max"
                self.state = np.zeros((npix, 3), np.uint32)
            else:
                self.rule = "coverage_last"
                self.table = np.zeros((npix, spec.slots, 2), np.uint32)
                self.state = np.zeros((npix, 2), np.uint32)

    # -- accumulate --------------------------------------------------------------------------
    def _values(self, batch: SampleBatch):
        arr = batch.values.get(self.source)
        if arr is None:
            return None
        kind = self.spec.kind
        if kind in ("label", "coverage", "ranked"):
            if arr.ndim == 2 and arr.shape[1] == 1:
                arr = arr[:, 0]
            if arr.ndim != 1:
                raise BufferMismatchError(f"sample batch: {self.source!r} must hold one label per sample")
            if arr.dtype != np.uint32:
                if np.issubdtype(arr.dtype, np.signedinteger) and arr.size and arr.min() < 0:
                    raise BufferMismatchError(f"sample batch: {self.source!r} has negative labels")
                arr = arr.astype(np.uint32)
            return np.ascontiguousarray(arr)
        if kind == "depth":
            if arr.ndim == 2 and arr.shape[1] == 1:
                arr = arr[:, 0]
            if arr.ndim != 1:
                raise BufferMismatchError(f"sample batch: {self.source!r} must hold one depth per sample")
            return np.ascontiguousarray(arr, dtype=np.float32)
        if arr.ndim == 1 and self.spec.components == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] != self.spec.components:
            raise BufferMismatchError(
                f"sample batch: {self.source!r} has shape {arr.shape}, channel {self.spec.name!r}"
                f" expects (N, {self.spec.components})"
            )
        return np.ascontiguousarray(arr, dtype=np.float32)

    def add(self, batch: SampleBatch) -> None:
        v = self._values(batch)
        if v is None or len(batch) == 0:
            return
        w, h = self.width, self.height
        rule = self.rule
        layout = batch.layout
        spreads = rule == "filtered" or (rule == "ranked" and not self.spec.filter.is_pixel_box)
        if layout is not None and not spreads:
            bx0, by0, bw, bh, spp = layout
            if rule == "ranked":
                ranking.dense_ranked(v, bx0, by0, bw, bh, spp, w, h, self.slot_ids, self.slot_w,
                                     self.total)
            elif rule == "average":
                kernels.dense_average(v, bx0, by0, bw, bh, spp, w, h, self.sums)
            elif rule == "last":
                kernels.dense_last(v, bx0, by0, bw, bh, spp, w, h, self.last, self.seen,
                             kernels.SKIP_NONFINITE)
            elif rule == "min_depth":
                kernels.dense_min_depth(v, bx0, by0, bw, bh, spp, w, h, self.zmin, self.seen)
            elif rule == "average_depth":
                kernels.dense_average_depth(v, bx0, by0, bw, bh, spp, w, h, self.sums, self.seen)
            elif rule == "average_vector":
                kernels.dense_average_vector(v, bx0, by0, bw, bh, spp, w, h, self.sums, self.seen)
            elif rule == "last_vector":
                kernels.dense_last(v, bx0, by0, bw, bh, spp, w, h, self.last, self.seen, kernels.SKIP_NAN)
            elif rule == "max_label":
                kernels.dense_max_label(v, bx0, by0, bw, bh, spp, w, h, self.labels, self.seen)
            elif rule == "last_label":
                kernels.dense_last_label(v, bx0, by0, bw, bh, spp, w, h, self.labels, self.seen)
            elif rule == "coverage_max":
                kernels.dense_coverage_max(v, bx0, by0, bw, bh, spp, w, h, self.state)
            else:
                kernels.dense_coverage_last(v, bx0, by0, bw, bh, spp, w, h, self.table, self.state)
            return
        x, y = batch.x, batch.y
        if x is None:
            raise BufferMismatchError(f"channel {self.spec.name!r}: the {self.spec.filter.name} filter "
                               "spreads samples by position; this dense batch has no x, y")
        if rule == "average":
            kernels.accumulate_average(x, y, v, w, h, self.sums)
        elif rule == "last":
            kernels.accumulate_last(x, y, v, w, h, self.last, self.seen, kernels.SKIP_NONFINITE)
        elif rule == "filtered":
            f = self.spec.filter
            rx, ry = f.radius
            kernels.accumulate_filtered(x, y, v, w, h, f.code, rx, ry, self.weighted, self.box,
                                  f.clips, self.lo, self.hi)
        elif rule == "min_depth":
            kernels.accumulate_min_depth(x, y, v, w, h, self.zmin, self.seen)
        elif rule == "average_depth":
            kernels.accumulate_average_depth(x, y, v, w, h, self.sums, self.seen)
        elif rule == "average_vector":
            kernels.accumulate_average_vector(x, y, v, w, h, self.sums, self.seen)
        elif rule == "last_vector":
            kernels.accumulate_last(x, y, v, w, h, self.last, self.seen, kernels.SKIP_NAN)
        elif rule == "max_label":
            kernels.accumulate_max_label(x, y, v, w, h, self.labels, self.seen)
        elif rule == "last_label":
            kernels.accumulate_last_label(x, y, v, w, h, self.labels, self.seen)
        elif rule == "coverage_max":
            kernels.accumulate_coverage_max(x, y, v, w, h, self.state)
        elif rule == "ranked":
            f = self.spec.filter
            rx, ry = f.radius
            ranking.accumulate_ranked(x, y, v, w, h, f.is_pixel_box, f.code, rx, ry,
                                      self.slot_ids, self.slot_w, self.total)
        else:
            kernels.accumulate_coverage_last(x, y, v, w, h, self.table, self.state)

    # -- finish ------------------------------------------------------------------------------
    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """(flat values (P, C), mask of pixels that received something)."""
        npix = self.width * self.height
        rule = self.rule
        present = self.seen
        if rule == "average":
            out = np.zeros((npix, self.spec.components), np.float32)
            present = np.zeros(npix, np.bool_)
            kernels.finish_average(self.sums, out, present)
        elif rule == "last" or rule == "last_vector":
            out = self.last.copy()
        elif rule == "filtered":
            out = np.zeros((npix, self.spec.components), np.float32)
            present = np.zeros(npix, np.bool_)
            kernels.finish_filtered(self.weighted, self.box, self.spec.filter.clips, self.lo, self.hi,
                              out, present)
        elif rule == "min_depth":
            out = self.zmin.copy()[:, None]
        elif rule == "average_depth":
            out = np.empty(npix, np.float32)
            kernels.finish_average_depth(self.sums, out)
            out = out[:, None]
        elif rule == "average_vector":
            out = np.zeros((npix, self.spec.components), np.float32)
            kernels.finish_average(self.sums, out, np.zeros(npix, np.bool_))
        elif rule in ("max_label", "last_label"):
            out = self.labels.copy()[:, None]
        elif rule == "ranked":
            k = self.spec.ranks
            ids = np.empty((npix, k), np.uint32)
            cov = np.empty((npix, k), np.float32)
            present = np.zeros(npix, np.bool_)
            ranking.finish_ranked(self.slot_ids, self.slot_w, self.total, ids, cov, present)
            out = np.empty((npix, 2 * k), np.float32)
            out[:, 0::2] = ids.view(np.float32)     # the bits, as Cryptomatte stores them
            out[:, 1::2] = cov
        elif rule == "coverage_max":
            out = np.empty(npix, np.float32)
            kernels.finish_coverage_max(self.state, out)
            present = self.state[:, 2] > 0
            out = out[:, None]
        else:
            out = np.empty(npix, np.float32)
            kernels.finish_coverage_last(self.table, self.state, out)
            present = self.state[:, 1] > 0
            out = out[:, None]
        return out, present


class Resolver:
    """Accumulates sample batches for a ``width`` x ``height`` image and resolves them into pixels.

    ``channels`` maps an output name to its options: ``kind`` (colour, depth, vector, label,
    coverage, ranked; defaults from the names rgba, z, n, m, tag, coverage), ``filtering`` (the manual's
    +/-; defaults on for colour only), ``filter`` (colour only; a :class:`Filter`, default box 1),
    ``source`` (the :class:`SampleBatch` keyword to read; default the channel's name),
    ``components`` (colour and vector; default 4 and 3), and for coverage ``labels`` (the label
    channel whose rule it follows, default "tag") and ``slots`` (default 4); for ranked
    ``ranks`` (default 6), ``filter`` (default box 1) and ``slots`` (default 2 x ranks).
    Default channels: rgba, z, n, m, tag and coverage.
    """

    def __init__(self, width: int, height: int, channels: dict | None = None):
        if not (isinstance(width, (int, np.integer)) and isinstance(height, (int, np.integer))
                and width > 0 and height > 0):
            raise BufferMismatchError(f"resolver: resolution must be positive integers, not {width!r} x {height!r}")
        self.width = int(width)
        self.height = int(height)
        if channels is None:
            channels = {name: {} for name in DEFAULT_CHANNELS}
        specs = {name: _parse_channel(name, opts) for name, opts in channels.items()}
        self.channels: dict[str, _Channel] = {}
        for name, spec in specs.items():
            label_max, label_source = False, "tag"
            if spec.kind == "coverage":
                followed = specs.get(spec.labels)
                if followed is not None:
                    if followed.kind != "label":
                        raise BufferMismatchError(
                            f"channel {name!r}: labels={spec.labels!r} is a {followed.kind} channel"
                        )
                    label_max, label_source = followed.filtering, followed.source
                else:  # no such channel: read that batch field with the default (last) rule
                    label_source = spec.labels
            self.channels[name] = _Channel(spec, self.width, self.height, label_max, label_source)

    def add(self, batch: SampleBatch) -> None:
        """Fold one batch of samples in; batches arrive in order, and "last" means last overall."""
        if not isinstance(batch, SampleBatch):
            raise BufferMismatchError(f"resolver: expected a SampleBatch, got {type(batch).__name__}")
        for channel in self.channels.values():
            channel.add(batch)

    def resolve(self) -> dict[str, np.ndarray]:
        """The resolved buffers, name -> array (height, width, components); state is kept."""
        out = {}
        fill_cache: dict[bytes, np.ndarray] = {}
        for name, channel in self.channels.items():
            flat, present = channel.finish()
            empty = ~present
            if empty.any() and present.any():
                key = np.packbits(present).tobytes()
                src = fill_cache.get(key)
                if src is None:
                    src = kernels.nearest_sampled_pixel(present, self.width, self.height)
                    fill_cache[key] = src
                flat[empty] = flat[src[empty]]
            out[name] = flat.reshape(self.height, self.width, flat.shape[1])
        return out
