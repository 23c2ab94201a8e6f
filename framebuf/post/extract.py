"""Turn multi-channel renders into the labelled training assets of the synthetic-human outputs.

Per render ``N.exr`` (reference "synthetic-human" 1.3-1.5 for the formats):

==========================  ======================================================================
``N.rgb.png``               8-bit RGB, sRGB-encoded from the (scene-linear) beauty; ``srgb=False``
                            writes the values as they are. Clipped to [0, 1], rounded.
``N.alpha.tif``             uint8, 1 channel, LZW + horizontal predictor (as the samples).
``N.depth.tif``             metres as stored in ``Z``; float16 when the channel is half, else
                            float32 (``depth_dtype``); deflate + floating-point predictor.
                            Background (nothing hit) = ``depth_background``, 0 by default as in
                            the v1.1/v1.5 samples.
``N.normals.tif``           float16 x 3, camera space, OpenGL axes (x right, y up, z towards the
                            camera); background (null normal) = (0, 0, 1) as in the samples.
``N.segments.png``          16-bit grayscale labels (coverage argmax against ``1 - sum``).
``N.clothing_segments.png`` the same for clothing masks, when the render has any.
``N.info.json``             ``segments_mapping`` (+ ``clothing_segments_mapping``), ``render``
                            ``zmin``/``zmax`` from the EXR header, the channels used, and what was
                            decided (transfer, backgrounds, normal space). When ``N.info.json``
                            sits next to the EXR (the renderer's own), it is kept and updated.
==========================  ======================================================================

Speed (``bench/extract.py``): only the channels an asset needs are decoded
(:mod:`framebuf.formats._exrfile`, its numpy path), half masks are combined in numpy by
:func:`framebuf.labels.half_masks_to_labels` reading the decoder's contiguous planes (no Numba
in the process: its import and cache loading cost more than a dozen renders' work), half values are converted to
8 bits through a 65536-entry table, and PNG/TIFF are deflated at level 1 (a few per cent bigger,
several times faster than level 6). Several renders run in worker processes.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import FramebufError
from .._atomic import atomic_output
from ..formats import _exrfile
from ..labels import (
    LabelMapping, describe_duplicates, half_masks_to_labels, load_mapping, masks_to_labels,
    per_image_mapping,
)
from . import layouts as _layouts
from .cryptolabels import parse_source

ASSETS = ("rgb", "alpha", "depth", "normals", "segments")
#: asset -> file suffix
SUFFIX = {
    "rgb": ".rgb.png", "alpha": ".alpha.tif", "depth": ".depth.tif", "normals": ".normals.tif",
    "segments": ".segments.png", "clothing_segments": ".clothing_segments.png",
    "info": ".info.json",
}
PER_IMAGE = ("per-image", "per_image")


@dataclass
class ExtractOptions:
    """Every choice of an extraction; the CLI flags map one to one."""

    assets: tuple = ASSETS
    layout: str | None = None              # None: detect from the channel names
    mapping: str = "per-image"             # per-image | face | full_body | <table>.json ...
    clothing_mapping: str = "per-image"
    present: str = "channels"              # per-image numbering: classes with a channel | with pixels
    mode: str = "argmax"                   # argmax | threshold
    threshold: float = 0.48
    allow_merge: bool = False              # two used classes sharing a table value
    unknown: str = "error"                 # error | background, for classes the table lacks
    srgb: bool = True
    depth_background: float = 0.0
    depth_dtype: str = "auto"              # auto (follow the channel) | float16 | float32
    depth_normalised: bool = False         # Z holds 0..1 between zmin and zmax
    depth_far: float = _layouts.DEPTH_FAR
    normals_background: tuple = (0.0, 0.0, 1.0)
    compress_level: int = 1
    merge_info: bool = True                # update an N.info.json found next to the EXR
    threads: int | None = None             # decoder threads per render
    labels_from: str = "masks"             # masks | cryptomatte | cryptomatte:LAYER
    classes: str | None = None             # rules file: Cryptomatte name patterns -> classes
    overlap: str = "error"                 # a name two classes claim: error | first (file order)
    soft: str | None = None                # per-class coverage beside the labels: exr | tif
    margin: float = 0.0                    # winner ahead by less than this -> ignore_value
    ignore_value: int = 65535

    def __post_init__(self):
        bad = [a for a in self.assets if a not in ASSETS]
        if bad:
            raise FramebufError(f"unknown asset {', '.join(map(repr, bad))}; assets: {', '.join(ASSETS)}")
        if self.mode not in ("argmax", "threshold"):
            raise FramebufError(f"mode must be argmax or threshold, not {self.mode!r}")
        if self.unknown not in ("error", "background"):
            raise FramebufError(f"unknown= must be error or background, not {self.unknown!r}")
        if self.present not in ("channels", "pixels"):
            raise FramebufError(f"present= must be channels or pixels, not {self.present!r}")
        if self.depth_dtype not in ("auto", "float16", "float32"):
            raise FramebufError(f"depth dtype must be auto, float16 or float32, not {self.depth_dtype!r}")
        if len(tuple(self.normals_background)) != 3:
            raise FramebufError("normals background needs three components")
        for m in (self.mapping, self.clothing_mapping):
            if m not in PER_IMAGE:
                load_mapping(m)  # fail early, once, on a bad table name or file
        from .cryptolabels import load_rules, parse_source

        kind, _ = parse_source(self.labels_from)
        if self.classes is not None:
            if kind != "cryptomatte":
                raise FramebufError("--classes maps Cryptomatte names to classes: it needs "
                                    "--labels-from cryptomatte")
            load_rules(self.classes)
        if self.overlap not in ("error", "first"):
            raise FramebufError(f"overlap must be error or first, not {self.overlap!r}")
        if self.soft not in (None, "exr", "tif"):
            raise FramebufError(f"soft labels are written as exr or tif, not {self.soft!r}")
        if self.margin and self.mode != "argmax":
            raise FramebufError("an ignore margin needs --mode argmax (a threshold has no runner-up)")
        if not 0.0 <= float(self.margin) <= 1.0:
            raise FramebufError(f"the ignore margin is a coverage difference in [0, 1], not {self.margin}")
        if not 0 <= int(self.ignore_value) <= 65535:
            raise FramebufError(f"the ignore value must fit a 16-bit PNG (0-65535), not {self.ignore_value}")


@dataclass
class ExtractResult:
    source: str
    ok: bool = False
    outputs: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    error: str = ""
    layout: str = ""
    seconds: float = 0.0


# -- pixel conversions -------------------------------------------------------------------------

def _srgb_encode(v: np.ndarray) -> np.ndarray:
    from .. import srgb

    return srgb.encode(np.clip(v, 0.0, 1.0))


@lru_cache(maxsize=4)
def _half_to_u8_table(srgb: bool) -> np.ndarray:
    """uint8 for each of the 65536 half bit patterns (NaN -> 0): a lookup replaces per-pixel pow."""
    v = np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float64)
    v = np.nan_to_num(v, nan=0.0, posinf=1.0, neginf=0.0)
    v = _srgb_encode(v) if srgb else np.clip(v, 0.0, 1.0)
    return np.floor(v * 255.0 + 0.5).astype(np.uint8)


def to_u8(plane: np.ndarray, srgb: bool) -> np.ndarray:
    if plane.dtype == np.float16:
        # take with mode="clip" skips the bounds check a uint16 index cannot fail: twice as fast
        # as indexing the table
        return np.take(_half_to_u8_table(bool(srgb)), plane.view(np.uint16), mode="clip")
    v = np.nan_to_num(plane.astype(np.float64), nan=0.0, posinf=1.0, neginf=0.0)
    v = _srgb_encode(v) if srgb else np.clip(v, 0.0, 1.0)
    return np.floor(v * 255.0 + 0.5).astype(np.uint8)


def stack_planes(planes: list) -> np.ndarray:
    """(K, H, W) from K (H, W) arrays: a view when the decoder left them back to back in one
    buffer (same dtype, consecutive), else a copy."""
    first = planes[0]
    if all(p.dtype == first.dtype and p.shape == first.shape and p.flags.c_contiguous
           for p in planes):
        addr = [p.__array_interface__["data"][0] for p in planes]
        if all(b - a == first.nbytes for a, b in zip(addr, addr[1:])):
            return np.lib.stride_tricks.as_strided(
                first, (len(planes),) + first.shape, (first.nbytes,) + first.strides, writeable=False)
    return np.stack(planes)


# -- writers (atomic) --------------------------------------------------------------------------

def _encode_png(pixels: np.ndarray, level: int) -> bytes:
    import imagecodecs

    # OpenCV's fast PNG settings: RLE strategy and the SUB filter encode about twice as fast as
    # libpng's default adaptive filtering and, on renders, come out smaller too
    return imagecodecs.png_encode(np.ascontiguousarray(pixels), level=level,
                                  strategy=3 if level <= 3 else None, filter=16 if level <= 3 else None)


def _encode_tiff(pixels: np.ndarray, level: int, kind: str) -> bytes:
    import tifffile

    if kind == "alpha":  # the samples: LZW with horizontal differencing
        kw = dict(compression="lzw", predictor=2, photometric="minisblack")
    else:
        kw = dict(compression="zlib", compressionargs={"level": max(1, level)}, predictor=3,
                  photometric="rgb" if pixels.ndim == 3 and pixels.shape[2] == 3 else "minisblack")
    buf = io.BytesIO()
    tifffile.imwrite(buf, np.ascontiguousarray(pixels), software="framebuf", **kw)
    return buf.getvalue()


def _encode_json(doc: dict) -> bytes:
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _encode_soft(names: list, coverage: np.ndarray, fmt: str, level: int) -> bytes:
    """Per-class coverage as half floats: an EXR with one channel per class (ZIP), or a TIFF
    of K planes (deflate, floating-point predictor) whose order info.json gives."""
    planes = coverage.astype(np.float16)
    if fmt == "tif":
        import tifffile

        buf = io.BytesIO()
        tifffile.imwrite(buf, planes, photometric="minisblack", planarconfig="separate",
                         compression="zlib", compressionargs={"level": max(1, level)},
                         predictor=3, software="framebuf", description=json.dumps({"channels": names}))
        return buf.getvalue()
    import tempfile

    import OpenEXR

    # the binding writes only to a named file; it swaps the arrays it is given: hand it copies
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    chans = {n: OpenEXR.Channel(np.ascontiguousarray(p.copy())) for n, p in zip(names, planes)}
    fd, tmp = tempfile.mkstemp(suffix=".exr")
    os.close(fd)
    try:
        with OpenEXR.File(header, chans) as f:
            f.write(tmp)
        return Path(tmp).read_bytes()
    finally:
        os.unlink(tmp)


def folder_writer(outdir: Path):
    """The default destination of :func:`extract_one`: each file written atomically into ``outdir``."""
    def write(name: str, data: bytes) -> None:
        with atomic_output(Path(outdir) / name) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(data)
    return write


# -- one render --------------------------------------------------------------------------------

def _mapping_for(classes: list[str], present: list | None, spec: str, opts: ExtractOptions,
                 what: str, warnings: list) -> tuple[np.ndarray, dict, str]:
    """Label values for ``classes`` (alphabetical) and the mapping to record; ``present`` (per
    class: has coverage) counts for per-image numbering with ``present="pixels"``."""
    if spec in PER_IMAGE:
        present = present if opts.present == "pixels" else None
        mapping = per_image_mapping(classes, present)
        values = np.array([mapping.table.get(c, 0) for c in classes], np.uint32)
        return values, dict(mapping.table), "per-image"
    mapping: LabelMapping = load_mapping(spec)
    values, unknown = mapping.values_for(classes)
    if unknown:
        msg = (f"{what}: mapping {mapping.name!r} has no value for class(es) "
               f"{', '.join(map(repr, unknown))}")
        if opts.unknown == "error":
            raise FramebufError(msg + " (use --unknown background to label them background)")
        warnings.append(msg + "; labelled background")
    merges = mapping.collisions(classes)
    if merges:
        msg = (f"{what}: mapping {mapping.name!r} gives several classes of this render one value "
               f"({describe_duplicates(merges)})")
        if not opts.allow_merge:
            raise FramebufError(msg + "; the merge could not be undone (use --allow-merge)")
        warnings.append(msg + "; merged")
    if int(values.max(initial=0)) > 65535 or mapping.background > 65535:
        raise FramebufError(f"{what}: mapping {mapping.name!r} has values above 65535, "
                            f"which a 16-bit PNG cannot hold")
    used = {"background": mapping.background}
    used.update({c: int(mapping.table[c]) for c in classes if c in mapping.table})
    return values, used, mapping.name


def _labels(table: dict, data: dict, spec: str, opts: ExtractOptions, what: str, warnings: list,
            soft: bool = True):
    classes = sorted(table)  # alphabetical: the tie order and the per-image numbering
    planes = [data[table[c]] for c in classes]
    present = [bool(np.any(m)) for m in planes] if opts.present == "pixels" else None
    values, used, name = _mapping_for(classes, present, spec, opts, what, warnings)
    stack = stack_planes(planes)
    if opts.mode == "argmax" and stack.dtype == np.float16:
        labels = half_masks_to_labels(stack, values, background=used.get("background", 0))
    else:
        labels = masks_to_labels(stack, values, mode=opts.mode, threshold=opts.threshold,
                                 background=used.get("background", 0))
    labels = labels.astype(np.uint16)
    coverage = None
    if opts.margin or (soft and opts.soft):
        cov = stack.astype(np.float32)
        coverage = np.concatenate([(1.0 - cov.sum(axis=0))[None], cov])
        if opts.margin:
            top2 = np.partition(coverage, -2, axis=0)[-2:]
            labels[top2[1] - top2[0] < np.float32(opts.margin)] = opts.ignore_value
    out_soft = (["background", *classes], coverage) if soft and opts.soft else None
    return labels, used, name, out_soft


def _crypto_labels(path: Path, layer_name, opts: ExtractOptions, warnings: list):
    """Labels from a Cryptomatte layer (:mod:`framebuf.post.cryptolabels`): names -> classes ->
    the label table, under the same policies as mask channels."""
    from .. import cryptomatte as cm
    from .cryptolabels import assign, class_labels, describe, load_rules

    lays = cm.layers(path)
    if not lays:
        raise FramebufError(f"{path}: --labels-from cryptomatte: the file has no Cryptomatte layer")
    if layer_name is None and len(lays) > 1:
        raise FramebufError(f"{path}: the file has {len(lays)} Cryptomatte layers "
                            f"({', '.join(l.name for l in lays)}); choose one with "
                            f"--labels-from cryptomatte:LAYER")
    lay = cm.layer(path, layer_name)
    manifest = lay.manifest()
    if not manifest:
        raise cm.CryptomatteError(path, lay.name, "labels need the manifest's names, and the "
                                  "layer has none")
    rules = load_rules(opts.classes) if opts.classes else None
    what = f"{path}: cryptomatte layer {lay.name!r}"
    a = assign(manifest, rules, opts.overlap)
    if a.overlaps:
        msg = (f"{what}: names claimed by several classes: "
               + "; ".join(f"{n!r} by {', '.join(map(repr, cs))}" for n, cs in
                           list(sorted(a.overlaps.items()))[:6])
               + (f" ... ({len(a.overlaps)} names)" if len(a.overlaps) > 6 else ""))
        if opts.overlap == "error":
            raise FramebufError(msg + " (use --overlap first to give each to its first class in "
                                "the rules file)")
        warnings.append(msg + "; each given to its first class")
    if a.unclaimed:
        msg = f"{what}: no class claims the name(s) {describe(a.unclaimed)}"
        if opts.unknown == "error":
            raise FramebufError(msg + " (use --unknown background to label them background)")
        warnings.append(msg + "; labelled background")
    ranks = cm.read_ranks(lay)
    class_index = {c: i for i, c in enumerate(a.classes)}
    names = list(manifest)
    key_class = [class_index[a.name_class[n]] if n in a.name_class else -1 for n in names]
    present = None
    if opts.present == "pixels":
        per_name = cm.mattes(ranks)
        have = {a.name_class[n] for n in names if n in a.name_class and per_name.pixel_count(n)}
        present = [c in have for c in a.classes]
    values, used, mapname = _mapping_for(a.classes, present, opts.mapping, opts, what, warnings)
    labels, coverage, stray = class_labels(
        ranks, [manifest[n] for n in names], key_class, values, used.get("background", 0),
        len(a.classes), mode=opts.mode, threshold=opts.threshold, margin=opts.margin,
        ignore_value=opts.ignore_value, soft=bool(opts.soft))
    if stray:
        warnings.append(f"{what}: {stray} pixel(s) hold ids the manifest does not list; their "
                        "coverage counts as background")
    doc = {"from": "cryptomatte", "layer": lay.name, "manifest": lay.manifest_source,
           "rules": str(opts.classes) if opts.classes else None,
           "names": {n: a.name_class.get(n) for n in sorted(names)},
           "channels": [c for pair in lay.ranks for c in pair]}
    soft = (["background", *a.classes], coverage) if opts.soft else None
    return labels.astype(np.uint16), used, mapname, soft, doc


def _zrange(attrs: dict) -> dict:
    out = {}
    for key in ("zmin", "zmax"):
        v = attrs.get(key)
        if isinstance(v, (int, float)):
            out[key] = float(v)
    return out


def extract_one(path, outdir, opts: ExtractOptions | None = None, write=None) -> ExtractResult:
    """Extract one render; never raises for a bad file -- the result says what went wrong.

    ``write(name, data)`` receives each encoded file once all are encoded (default: written
    atomically into ``outdir``; the batch layer collects them instead, :mod:`framebuf.batch`)."""
    opts = opts or ExtractOptions()
    t0 = time.perf_counter()
    res = ExtractResult(str(path))
    try:
        _extract(Path(path), Path(outdir), opts, res, write or folder_writer(Path(outdir)))
        res.ok = True
    except FramebufError as exc:
        res.error = str(exc)
    except MemoryError:
        res.error = f"{path}: out of memory"
    except Exception as exc:  # a bug, not the file: keep one line for the summary, detail in env
        res.error = f"{path}: internal error: {type(exc).__name__}: {exc}"
        if os.environ.get("FRAMEBUF_DEBUG"):
            res.error += "\n" + traceback.format_exc()
    res.seconds = time.perf_counter() - t0
    return res


@dataclass
class _Outputs:
    """What one extraction gathers as it goes: the info document, the channels each asset used,
    and the encoders, which run together at the end (side by side when threads are allowed)."""

    info: dict
    doc: dict
    level: int
    used: dict = field(default_factory=dict)
    tasks: list = field(default_factory=list)

    def encode(self, target: Path, encoder) -> None:
        self.tasks.append((target, encoder))


def _extract(path: Path, outdir: Path, opts: ExtractOptions, res: ExtractResult, write) -> None:
    if not path.is_file():
        raise FramebufError(f"{path}: no such file")
    render = _layouts.Render(path, opts.layout)
    rv = render.resolved
    res.layout = rv.layout.name
    res.warnings += [f"{path.name}: {p}" for p in rv.problems]
    wanted = set(opts.assets)
    source_kind, crypto_layer = parse_source(opts.labels_from)
    need = _channels_needed(path, render, wanted, source_kind)
    # masks stay half (the numpy label combine reads their bit patterns); the decoded planes
    # are done with before this thread's next render: reuse their buffer
    data = render.load(_load_order(need), threads=opts.threads, reuse=True)

    stem = path.name[:-len(path.suffix)] if path.suffix else path.name
    out = lambda asset: outdir / f"{stem}{SUFFIX[asset]}"
    info = _sidecar_info(path.with_name(stem + SUFFIX["info"]), out("info"), opts, res)
    info["render"] = {**(info.get("render") or {}), **_zrange(render.attributes)}
    outs = _Outputs(info, {"source": path.name, "layout": rv.layout.name,
                           "width": render.width, "height": render.height},
                    int(opts.compress_level))

    labels = clabels = soft = None
    if "segments" in wanted:
        labels, clabels, soft = _segment_labels(path, rv, data, need, source_kind, crypto_layer,
                                                opts, res, outs)
        _document_label_rule(opts, outs.doc)
    if soft is not None:
        _add_soft(outdir / f"{stem}.soft.{opts.soft}", soft, opts, outs)
    if "rgb" in need:
        _add_rgb(out("rgb"), data, need["rgb"], opts, outs)
    if "alpha" in need:
        _add_alpha(out("alpha"), data, need["alpha"], outs)
    if "depth" in need:
        _add_depth(path, out("depth"), data, need["depth"], render.attributes, opts, outs)
    if "normals" in need:
        _add_normals(path, out("normals"), data, rv.roles["normals"], render.attributes, opts,
                     res, outs)
    if labels is not None:
        outs.encode(out("segments"), lambda: _encode_png(labels, outs.level))
        if clabels is not None:
            outs.encode(out("clothing_segments"), lambda: _encode_png(clabels, outs.level))
    encoded = _run_encoders(outs.tasks, opts.threads)
    outs.doc["channels"] = outs.used
    if res.warnings:
        outs.doc["warnings"] = list(res.warnings)
    info["extract"] = outs.doc
    encoded.append((out("info"), _encode_json(info)))
    for target, blob in encoded:
        write(target.name, blob)
    res.outputs = [str(target) for target, _ in encoded]


def _channels_needed(path: Path, render, wanted: set, source_kind: str) -> dict[str, list[str]]:
    """Asset -> the channels it reads; refuses an asset the layout cannot feed, before decoding."""
    rv = render.resolved
    roles = rv.roles

    def require(asset, role):
        if role not in roles:
            raise FramebufError(
                f"{path}: asset {asset!r} needs a {role} channel, which layout {rv.layout.name!r} "
                f"does not find (channels: {', '.join(render.names[:12])}"
                f"{' ...' if len(render.names) > 12 else ''}); choose assets with --assets or a "
                f"layout with --layout")
        return list(roles[role].channels)

    need: dict[str, list[str]] = {}
    if "rgb" in wanted:
        need["rgb"] = require("rgb", "beauty")[:3]
    if "alpha" in wanted:
        need["alpha"] = require("alpha", "alpha")
    if "depth" in wanted:
        need["depth"] = require("depth", "depth")
    if "normals" in wanted:
        need["normals"] = require("normals", "normals")
    if "segments" in wanted and source_kind == "cryptomatte":
        pass  # the layer's ranks are read on their own (framebuf.cryptomatte)
    elif "segments" in wanted:
        if not rv.masks:
            raise FramebufError(f"{path}: asset 'segments' needs segmentation mask channels; "
                                f"layout {rv.layout.name!r} finds none")
        need["segments"] = [rv.masks[c] for c in sorted(rv.masks)]
        if rv.clothing_masks:
            need["clothing_segments"] = [rv.clothing_masks[c] for c in sorted(rv.clothing_masks)]
    return need


def _load_order(need: dict[str, list[str]]) -> list[str]:
    # masks first and in class order: the decoder then leaves them as one (K, H, W) block
    order = need.get("segments", []) + need.get("clothing_segments", [])
    return order + [c for k, v in need.items() if k not in ("segments", "clothing_segments") for c in v]


def _sidecar_info(sidecar: Path, target: Path, opts: ExtractOptions, res: ExtractResult) -> dict:
    """The renderer's own N.info.json next to the EXR, kept and updated; a broken one is a
    warning, not a failure (the assets are still worth writing)."""
    if not (opts.merge_info and sidecar.is_file() and sidecar.resolve() != target.resolve()):
        return {}
    try:
        info = json.loads(sidecar.read_text(encoding="utf-8"))
        if not isinstance(info, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        res.warnings.append(f"{sidecar}: not merged ({exc})")
        return {}
    return info


def _segment_labels(path, rv, data, need, source_kind, crypto_layer, opts, res, outs: _Outputs):
    """(labels, clothing labels or None, soft coverage or None), from Cryptomatte or from masks;
    soft is (class names with background first, (K + 1, H, W) coverage)."""
    info, doc = outs.info, outs.doc
    if source_kind == "cryptomatte":
        labels, mapping, name, soft, source = _crypto_labels(path, crypto_layer, opts, res.warnings)
        info["segments_mapping"] = mapping
        doc["segments_mapping_name"] = name
        doc["segments_source"] = source
        outs.used["segments"] = source["channels"]
        return labels, None, soft
    labels, mapping, name, soft = _labels(rv.masks, data, opts.mapping, opts,
                                          f"{path}: segments", res.warnings)
    info["segments_mapping"] = mapping
    doc["segments_mapping_name"] = name
    outs.used["segments"] = {c: rv.masks[c] for c in sorted(rv.masks)}
    clabels = None
    if "clothing_segments" in need:
        clabels, cmapping, cname, _ = _labels(rv.clothing_masks, data, opts.clothing_mapping,
                                              opts, f"{path}: clothing segments", res.warnings,
                                              soft=False)
        info["clothing_segments_mapping"] = cmapping
        doc["clothing_segments_mapping_name"] = cname
        outs.used["clothing_segments"] = {c: rv.clothing_masks[c] for c in sorted(rv.clothing_masks)}
    return labels, clabels, soft


def _document_label_rule(opts: ExtractOptions, doc: dict) -> None:
    doc["label_rule"] = (f"{opts.mode} of coverage against background 1 - sum(coverage); "
                         f"ties: background, then alphabetical class order"
                         if opts.mode == "argmax" else
                         f"last class (alphabetical) above {opts.threshold}")
    if opts.margin:
        doc["ignore"] = {"value": int(opts.ignore_value), "margin": float(opts.margin),
                         "rule": "winner's coverage minus the runner-up's (background "
                                 "included) below the margin"}


def _add_soft(soft_path: Path, soft, opts: ExtractOptions, outs: _Outputs) -> None:
    soft_names, soft_planes = soft
    outs.encode(soft_path, lambda: _encode_soft(soft_names, soft_planes, opts.soft, outs.level))
    outs.doc["soft"] = {"file": soft_path.name, "dtype": "float16", "channels": soft_names,
                        "meaning": "coverage per class; background = 1 - sum of the classes"}


def _add_rgb(target: Path, data, chans, opts: ExtractOptions, outs: _Outputs) -> None:
    rgb = np.stack([to_u8(data[c], opts.srgb) for c in chans], -1)
    outs.encode(target, lambda: _encode_png(rgb, outs.level))
    outs.used["rgb"] = chans
    outs.doc["rgb"] = {"transfer": "sRGB-encoded from linear" if opts.srgb else "as stored",
                       "clipped": [0, 1]}


def _add_alpha(target: Path, data, chans, outs: _Outputs) -> None:
    a8 = to_u8(data[chans[0]], False)
    outs.encode(target, lambda: _encode_tiff(a8, outs.level, "alpha"))
    outs.used["alpha"] = chans


def _add_depth(path: Path, target: Path, data, chans, attrs, opts: ExtractOptions,
               outs: _Outputs) -> None:
    z = data[chans[0]]
    dtype = {"auto": np.float16 if z.dtype == np.float16 else np.float32,
             "float16": np.float16, "float32": np.float32}[opts.depth_dtype]
    bg = _layouts.background_depth(z, opts.depth_far)
    if opts.depth_normalised:
        zr = _zrange(attrs)
        if "zmin" not in zr or "zmax" not in zr:
            raise FramebufError(f"{path}: --depth-normalised needs zmin and zmax in the EXR header")
        depth = (zr["zmin"] + z.astype(np.float32) * (zr["zmax"] - zr["zmin"])).astype(dtype)
    else:
        depth = z.astype(dtype)   # a copy even when the type is kept: the background is set below
    depth[bg] = opts.depth_background
    outs.encode(target, lambda: _encode_tiff(depth, outs.level, "depth"))
    outs.used["depth"] = chans
    outs.doc["depth"] = {
        "units": "metres" + (" (from normalised Z and zmin/zmax)" if opts.depth_normalised else
                             " (as stored in the EXR)"),
        "dtype": np.dtype(dtype).name, "background": _json_float(opts.depth_background),
        "background_rule": f"not finite, <= 0 or >= {opts.depth_far:g} in the EXR",
        "background_pixels": int(bg.sum()),
    }


def _add_normals(path: Path, target: Path, data, m, attrs, opts: ExtractOptions,
                 res: ExtractResult, outs: _Outputs) -> None:
    planes = [data[c] for c in m.channels]
    if all(s == 1 for s in m.signs) and m.space != "world" and planes[0].dtype == np.float16:
        n = np.stack(planes, -1)
    else:
        n = np.stack([p.astype(np.float32) * s for p, s in zip(planes, m.signs)], -1)
    null = _null_normals(planes, n)
    n, space = _layouts.camera_normals(n, m.space, attrs.get("worldToCamera"))
    if space != "camera":
        res.warnings.append(f"{path.name}: normals are {space} space ({', '.join(m.channels)}) and "
                            f"the header has no worldToCamera matrix; written as they are")
    n = n.astype(np.float16, copy=False)   # n is this function's own array (a stack or a product)
    n[null] = np.asarray(opts.normals_background, np.float16)
    outs.encode(target, lambda: _encode_tiff(n, outs.level, "normals"))
    outs.used["normals"] = list(m.channels)
    outs.doc["normals"] = {
        "space": space, "axes": "x right, y up, z towards the camera" if space == "camera" else
        "world", "dtype": "float16", "background": list(map(float, opts.normals_background)),
        "background_rule": "null normal vector in the EXR",
        **({"signs": list(m.signs)} if any(s != 1 for s in m.signs) else {}),
    }


def _null_normals(planes, n):
    # null normal (background): every component +-0, tested on the planes' bits without the
    # sign (a reduction over the last axis of (H, W, 3) costs ten times more)
    magnitude = {np.dtype(np.float16): np.uint16(0x7FFF), np.dtype(np.float32): np.uint32(0x7FFFFFFF)}
    if len({pl.dtype for pl in planes}) == 1 and planes[0].dtype in magnitude:
        mask = magnitude[planes[0].dtype]
        either = planes[0].view(mask.dtype) | planes[1].view(mask.dtype) | planes[2].view(mask.dtype)
        return (either & mask) == 0
    return ~np.any(n != 0, axis=-1)


def _run_encoders(tasks, threads) -> list:
    """[(target, encoded bytes)] in the order the tasks were added."""
    # the encoders (libpng, zlib) release the GIL: with threads the files are encoded side by side
    threads = _exrfile._threads() if threads is None else max(1, int(threads))
    if threads > 1 and len(tasks) > 1:
        with ThreadPoolExecutor(threads) as pool:
            futures = [(target, pool.submit(e)) for target, e in tasks]
            return [(target, fut.result()) for target, fut in futures]
    return [(target, e()) for target, e in tasks]


def _json_float(v: float):
    v = float(v)
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


# -- many renders ------------------------------------------------------------------------------

def _warm_up() -> None:
    """What every worker needs, done once in the parent before it forks them: the layouts, the
    half-to-8-bit tables, and the TIFF writer's module (about 30 ms an import)."""
    import tifffile  # noqa: F401

    _layouts.layouts()
    _half_to_u8_table(True), _half_to_u8_table(False)


def _stem(path) -> str:
    name = Path(path).name
    suffix = Path(path).suffix
    return name[:-len(suffix)] if suffix else name


def extract_task(path: str, params):
    """One render in a batch worker: the encoded files come back as bytes (the batch's main
    process writes them), with the input's size, mtime and SHA-256 for the job journal."""
    from ..batch import output_for

    outdir, opts = params
    files: list = []
    out, _ = output_for(path)       # an unreadable input: extract_one says what is wrong with it
    res = extract_one(path, outdir, opts, write=lambda name, data: files.append((name, data)))
    out.ok, out.error, out.warnings, out.seconds, out.detail = (
        res.ok, res.error, res.warnings, res.seconds, res.layout)
    out.files = files if res.ok else []
    return out


def extract_job(outdir, opts: ExtractOptions) -> "Job":
    """``framebuf extract`` as a batch job (:mod:`framebuf.batch`)."""
    from ..batch import Job

    # decoder threads do not change outputs; one per worker process
    shaping = {k: v for k, v in asdict(opts).items() if k != "threads"}
    for k in ("mapping", "clothing_mapping", "classes"):   # a table's content, not just its name
        v = shaping.get(k)
        if v and Path(str(v)).is_file():
            from ..batch.journal import file_sha256

            shaping[k + "_sha256"] = file_sha256(v)
    worker_opts = opts if opts.threads else ExtractOptions(**{**asdict(opts), "threads": 1})
    return Job("extract", extract_task, (str(outdir), worker_opts), shaping, _stem, _warm_up)


def extract_many(paths, outdir, opts: ExtractOptions | None = None, workers: int | None = None,
                 progress: bool | None = None, resume: bool = False, **batch) -> list[ExtractResult]:
    """Extract every render into the folder ``outdir`` through :func:`framebuf.batch.run_job`
    (``workers`` processes, default one per core; ``batch``: ``dask``, ``scheduler``, ``to`` ...).
    Bad files are reported in their result and skipped; the others are all extracted. With
    ``resume`` renders the folder's journal says are done are skipped (their result says so)."""
    from ..batch import run_job

    opts = opts or ExtractOptions()
    paths = [str(p) for p in paths]
    got: dict[str, ExtractResult] = {}

    def collect(out):
        r = ExtractResult(out.source, ok=out.ok, warnings=list(out.warnings), error=out.error,
                          layout=out.detail, seconds=out.seconds)
        r.outputs = [str(Path(outdir) / name) for name, _ in out.files]
        got[out.source] = r

    run_job(extract_job(outdir, opts), paths, output=None if batch.get("to") else str(outdir),
            workers=workers, force=not resume, progress=progress, on_output=collect,
            say=lambda line: None, **batch)
    results = []
    for p in paths:
        r = got.get(os.path.abspath(p))
        if r is None:
            r = ExtractResult(p, ok=True, warnings=["skipped: done by an earlier run"])
        r.source = p
        results.append(r)
    return results
