"""Make non-colour buffers visible: labels, depth, normals and motion to RGBA colour.

Each writes a colour buffer (created as a user ``rgba`` buffer when missing, so it lands in 8-bit
files by default); ``src`` defaults to the set's first buffer of the right kind.

``visualise_labels``
    A deterministic palette: label ``v`` gets hue ``frac(v * 0.618033988749895)`` (golden-ratio
    steps, so neighbouring values get far-apart hues), saturation 0.65, value 0.95. Label 0
    (nothing / background) is ``(0, 0, 0, 0)``. The same label has the same colour in every image.
``visualise_depth``
    ``(z - zmin) / (zmax - zmin)`` clipped to [0, 1] as grey (``invert=on``: near is white).
    ``zmin``/``zmax`` default to the smallest and largest finite depth in the frame. Pixels where
    nothing was hit (``+inf``) or the depth is NaN are ``(0, 0, 0, 0)``.
``visualise_normals``
    ``(n + 1) / 2`` per component; the null vector (nothing hit) is ``(0, 0, 0, 0)``.
``visualise_motion``
    Direction as hue (``atan2(y, x)``, red = +x), length as value: ``|(x, y)| / scale`` clipped to 1,
    saturation 1; ``scale`` defaults to the longest motion in the frame. Zero motion is black.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from framebuf.errors import ShaderError
from framebuf.hookspecs import hookimpl
from framebuf.shading import Param, output_shader

from ._common import f32

GOLDEN = 0.618033988749895


@njit(cache=True, inline="always")
def _hsv(h, s, v, out, i):
    h6 = (h - math.floor(h)) * 6.0
    sector = int(h6) % 6
    f = h6 - math.floor(h6)
    p = v * (1.0 - s)
    q = v * (1.0 - s * f)
    t = v * (1.0 - s * (1.0 - f))
    if sector == 0:
        r, g, b = v, t, p
    elif sector == 1:
        r, g, b = q, v, p
    elif sector == 2:
        r, g, b = p, v, t
    elif sector == 3:
        r, g, b = p, q, v
    elif sector == 4:
        r, g, b = t, p, v
    else:
        r, g, b = v, p, q
    out[i, 0] = r
    out[i, 1] = g
    out[i, 2] = b
    out[i, 3] = 1.0


@njit(cache=True)
def _labels(tags, out):
    for i in range(tags.shape[0]):
        v = tags[i]
        if v == 0:
            for c in range(4):
                out[i, c] = 0.0
        else:
            _hsv(float(v) * GOLDEN, 0.65, 0.95, out, i)


def label_colour(value: int) -> tuple[float, float, float, float]:
    """The palette entry of one label value (for legends and tests)."""
    out = np.zeros((1, 4), np.float32)
    _labels(np.array([value], np.uint32), out)
    return tuple(float(c) for c in out[0])


@njit(cache=True)
def _finite_range(z):
    lo = np.inf
    hi = -np.inf
    for i in range(z.shape[0]):
        v = z[i]
        if v < np.inf and v > -np.inf:  # also false for NaN
            if v < lo:
                lo = v
            if v > hi:
                hi = v
    return lo, hi


@njit(cache=True)
def _depth(z, zmin, zmax, invert, out):
    span = zmax - zmin
    scale = 1.0 / span if span > 0.0 else 0.0
    for i in range(z.shape[0]):
        v = z[i]
        if not (v < np.inf and v > -np.inf):
            for c in range(4):
                out[i, c] = 0.0
            continue
        g = (v - zmin) * scale
        g = min(max(g, 0.0), 1.0)
        if invert:
            g = 1.0 - g
        out[i, 0] = g
        out[i, 1] = g
        out[i, 2] = g
        out[i, 3] = 1.0


@njit(cache=True)
def _normals(n, out):
    for i in range(n.shape[0]):
        if n[i, 0] == 0.0 and n[i, 1] == 0.0 and n[i, 2] == 0.0:
            for c in range(4):
                out[i, c] = 0.0
            continue
        for c in range(3):
            out[i, c] = (n[i, c] + 1.0) * 0.5
        out[i, 3] = 1.0


@njit(cache=True)
def _max_length(m):
    best = 0.0
    for i in range(m.shape[0]):
        l2 = m[i, 0] * m[i, 0] + m[i, 1] * m[i, 1]
        if l2 > best:
            best = l2
    return math.sqrt(best)


@njit(cache=True)
def _motion(m, scale, out):
    inv = 1.0 / scale if scale > 0.0 else 0.0
    for i in range(m.shape[0]):
        x = m[i, 0]
        y = m[i, 1]
        length = math.sqrt(x * x + y * y)
        v = min(length * inv, 1.0)
        h = math.atan2(y, x) / (2.0 * math.pi)
        _hsv(h, 1.0, v, out, i)


def _source(ctx, buf, storage: str, what: str):
    if buf is None:
        for b in ctx.buffers:
            if b.datatype.storage == storage and b.datatype.kind != "colour":
                return b
        raise ShaderError(
            f"shader {ctx.shader!r}: no {what} buffer in the set; buffers: {', '.join(ctx.buffers.names)}"
        )
    if buf.datatype.storage != storage or buf.datatype.kind == "colour":
        raise ShaderError(f"shader {ctx.shader!r}: src {buf.name!r} is {buf.datatype.name}, not a {what} buffer")
    return buf


def _write(dst, rgba_n4):
    if dst.datatype.kind not in ("colour", "shared-exponent colour"):
        raise ShaderError(f"dst {dst.name!r} is {dst.datatype.name}, not a colour buffer")
    dst.data = rgba_n4.reshape(dst.height, dst.width, 4)[:, :, : dst.data.shape[2]]


def _params(dst_default):
    return [Param("src", "buffer", None, doc="default: the set's first buffer of that kind"),
            Param("dst", "buffer", dst_default, doc="colour buffer to write")]


@output_shader("visualise_labels", params=_params("labels_rgb"), reads=["src"], writes=["dst"],
               creates={"dst": "rgba"})
def visualise_labels(ctx, src, dst):
    """labels -> distinct colours (golden-ratio hues; 0 is transparent black)"""
    src = _source(ctx, src, "label", "label (tag)")
    out = np.empty((src.height * src.width, 4), np.float32)
    _labels(np.ascontiguousarray(src.data).reshape(-1), out)
    _write(dst, out)


@output_shader("visualise_depth",
               params=_params("depth_rgb") + [
                   Param("zmin", "scalar", -1.0, doc="near end (default: smallest finite depth)"),
                   Param("zmax", "scalar", -1.0, doc="far end (default: largest finite depth)"),
                   Param("invert", "boolean", False, doc="near is white")],
               reads=["src"], writes=["dst"], creates={"dst": "rgba"})
def visualise_depth(ctx, src, dst, zmin, zmax, invert):
    """depth -> grey, normalised by zmin/zmax; nothing hit is transparent black"""
    src = _source(ctx, src, "depth", "depth")
    z = f32(src).reshape(-1)
    lo, hi = _finite_range(z)
    zmin = lo if zmin < 0 else zmin
    zmax = hi if zmax < 0 else zmax
    ctx.info["zmin"], ctx.info["zmax"] = float(zmin), float(zmax)
    out = np.empty((z.shape[0], 4), np.float32)
    if math.isfinite(zmin) and math.isfinite(zmax):
        _depth(z, zmin, zmax, invert, out)
    else:
        out[:] = 0.0  # nothing was hit anywhere
    _write(dst, out)


@output_shader("visualise_normals", params=_params("normals_rgb"), reads=["src"], writes=["dst"],
               creates={"dst": "rgba"})
def visualise_normals(ctx, src, dst):
    """normals -> (n + 1) / 2; null vectors are transparent black"""
    src = _source(ctx, src, "normal", "normal (n)")
    out = np.empty((src.height * src.width, 4), np.float32)
    _normals(f32(src).reshape(-1, 3), out)
    _write(dst, out)


@output_shader("visualise_motion",
               params=_params("motion_rgb") + [
                   Param("scale", "scalar", -1.0, doc="length shown at full brightness (default: longest)")],
               reads=["src"], writes=["dst"], creates={"dst": "rgba"})
def visualise_motion(ctx, src, dst, scale):
    """motion -> hue = direction, brightness = length"""
    src = _source(ctx, src, "motion", "motion (m)")
    m = f32(src).reshape(-1, 3)
    if scale < 0:
        scale = _max_length(m)
    ctx.info["scale"] = float(scale)
    out = np.empty((m.shape[0], 4), np.float32)
    _motion(m, float(scale), out)
    _write(dst, out)


@hookimpl
def framebuf_output_shaders():
    return [visualise_labels.spec, visualise_depth.spec, visualise_normals.spec, visualise_motion.spec]
