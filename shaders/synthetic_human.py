"""``synthetic_human_layout``: lay a render out as the synthetic-human service's multi-channel EXR.

From a render's label, coverage, depth and normal buffers it makes what that service's EXR holds
(seed 000, "EXR File"): one ``segmentation.<part>`` mask per named label, the
``binary_segmentation.foreground`` mask, ``CameraPoints.R/G/B`` (camera-space position of each
pixel's surface), ``CameraNormals.R/G/B`` (the normal buffer renamed), and the ``zmin``/``zmax``
header attributes. With ``file`` set, every created buffer is marked to be written into that file,
so it lands beside the beauty (``R G B A``) and ``Z`` that the scene sends there.

Masks: a pixel's mask for label *k* is the coverage of the object the pixel stores when that
object's label is *k* (coverage is "the fraction of the pixel's samples that hit the object whose
label the pixel stores"), and 0 otherwise; without a coverage buffer the masks are binary. So the
masks of one pixel sum to at most 1, and 1 - sum is the background term the label shader uses.

CameraPoints follows the ray caster's camera (``framebuf.sources.raycast``): camera at the origin
looking down -Z, +Y up, film ``aperture`` wide and ``aperture / aspect`` high at distance
``focal``. A pixel centre at depth d (positive camera-space distance) is
``(sx * d / focal, sy * d / focal, -d)`` with ``sx, sy`` its film position. Nothing hit gives the
null vector.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from framebuf.buffers import FileProperties
from framebuf.hookspecs import hookimpl
from framebuf.shading import Param, output_shader

from ._common import find_kind


@njit(cache=True)
def _masks_from_labels(tag, coverage, use_coverage, slot_of_label, masks, foreground):
    """tag (H,W) uint32; slot_of_label maps a label to its mask index or -1; masks (K,H,W)."""
    h, w = tag.shape
    nlut = slot_of_label.shape[0]
    for y in range(h):
        for x in range(w):
            label = tag[y, x]
            if label == 0:
                continue
            c = coverage[y, x] if use_coverage else 1.0
            foreground[y, x] = c
            if label < nlut:
                k = slot_of_label[label]
                if k >= 0:
                    masks[k, y, x] = c


@njit(cache=True)
def _camera_points(depth, focal, film_w, film_h, out):
    h, w = depth.shape
    for y in range(h):
        sy = ((h - (y + 0.5)) / h - 0.5) * film_h
        for x in range(w):
            d = depth[y, x]
            if not (d > 0.0 and d < np.inf):
                out[y, x, 0] = 0.0
                out[y, x, 1] = 0.0
                out[y, x, 2] = 0.0
                continue
            sx = ((x + 0.5) / w - 0.5) * film_w
            out[y, x, 0] = sx * d / focal
            out[y, x, 1] = sy * d / focal
            out[y, x, 2] = -d


@output_shader(
    "synthetic_human_layout",
    params=[
        Param("labels", "buffer", None, doc="tag buffer (default: the set's first)"),
        Param("coverage", "buffer", None, doc="coverage buffer (default: the set's first; else binary masks)"),
        Param("depth", "buffer", None, doc="depth buffer for CameraPoints (default: the set's first z)"),
        Param("normals", "buffer", None, doc="normal buffer, renamed CameraNormals.R/G/B (default: first n)"),
        Param("names", "string", "", doc="comma-separated part names of labels 1, 2, 3 ..."),
        Param("zmin", "scalar", 0.0, doc="EXR header zmin (metres)"),
        Param("zmax", "scalar", 100.0, doc="EXR header zmax (metres)"),
        Param("focal", "scalar", 1.0, doc="camera focal distance"),
        Param("aperture", "scalar", 1.0, doc="camera film width"),
        Param("aspect", "scalar", 0.0, doc="camera aspect (0: width / height)"),
        Param("file", "string", "", doc="EXR file the created buffers are written to"),
    ],
    reads=["labels", "coverage", "depth", "normals"],
)
def synthetic_human_layout(ctx, labels, coverage, depth, normals, names, zmin, zmax, focal,
                           aperture, aspect, file):
    """masks, foreground, CameraPoints and zmin/zmax in the synthetic-human EXR layout"""
    fbs = ctx.buffers
    labels = labels or find_kind(ctx, "label", "labels", True)
    coverage = coverage or find_kind(ctx, "coverage", "coverage", False)
    depth = depth or find_kind(ctx, "depth", "depth", False)
    normals = normals or find_kind(ctx, "normal", "normals", False)
    parts = [p.strip() for p in names.split(",") if p.strip()]
    if not parts:
        raise ctx.error("parameter 'names' lists no part names (labels 1, 2, 3 ... in order)")
    if len(set(parts)) != len(parts):
        raise ctx.error(f"parameter 'names' repeats a part name: {names!r}")

    def file_props():
        return FileProperties(filename=file, filetype="exr") if file else FileProperties()

    tag = np.ascontiguousarray(labels.data[:, :, 0])
    cov = (np.ascontiguousarray(coverage.data[:, :, 0], dtype=np.float32) if coverage is not None
           else np.zeros(tag.shape, np.float32))
    slot = np.full(len(parts) + 1, -1, np.int64)
    slot[1:] = np.arange(len(parts))
    masks = np.zeros((len(parts),) + tag.shape, np.float32)
    foreground = np.zeros(tag.shape, np.float32)
    _masks_from_labels(tag, cov, coverage is not None, slot, masks, foreground)
    for k, part in enumerate(parts):
        name = f"segmentation.{part}"
        fbs.add(name, "a_h", user=True, data=masks[k], file=file_props()).channels = (name,)
    fg = "binary_segmentation.foreground"
    fbs.add(fg, "a_h", user=True, data=foreground, file=file_props()).channels = (fg,)

    if depth is not None:
        h, w = tag.shape
        film_h = aperture / (aspect if aspect > 0 else w / h)
        points = np.zeros((h, w, 3), np.float32)
        _camera_points(np.ascontiguousarray(depth.data[:, :, 0], dtype=np.float32),
                       float(focal), float(aperture), float(film_h), points)
        fbs.add("CameraPoints", "n", user=True, data=points, file=file_props()).channels = (
            "CameraPoints.R", "CameraPoints.G", "CameraPoints.B")
    if normals is not None:
        normals.channels = ("CameraNormals.R", "CameraNormals.G", "CameraNormals.B")
    fbs.attributes["zmin"] = float(zmin)
    fbs.attributes["zmax"] = float(zmax)
    ctx.info["segments_mapping"] = {"background": 0, **{p: i + 1 for i, p in enumerate(parts)}}


@hookimpl
def framebuf_output_shaders():
    return [synthetic_human_layout.spec]
