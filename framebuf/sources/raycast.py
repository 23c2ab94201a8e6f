"""The embedded analytic ray caster: samples for a scene's ``framebuf primitives`` block.

Registered as sample source ``"raycast"``. It exists so that scenes, output shaders and file
writers can be exercised end to end with believable, exactly predictable buffers; it is not a
renderer. Everything below is a convention of this module, chosen to follow mental ray's where
mental ray has one.

Camera (mental ray camera space)
    The camera sits at the origin looking down **-Z**, **+Y** is up, +X to the right; primitive
    positions are given in this space (there are no instance transforms). The film is ``aperture``
    wide and ``aperture / aspect`` high at distance ``focal``; ``focal infinity`` is an orthographic
    camera whose view is ``aperture`` world units wide. A camera-space point ``P`` (``P.z < 0``)
    lands on the film at ``s = focal * P.xy / -P.z`` and on the raster at::

        x = (s.x / aperture + 0.5) * xres + offset_x
        y_up = (s.y / (aperture / aspect) + 0.5) * yres + offset_y      # mental ray raster, y up
        y = yres - y_up                                                 # framebuf memory, y down

    so ``offset X Y`` shifts the picture X pixels right and Y pixels up. ``window XL YL XH YH`` is
    in mental ray's raster (origin lower left), half-open ``[XL, XH) x [YL, YH)``, clipped to the
    image; only pixels inside it are sampled. ``clip NEAR FAR`` keeps hits whose depth lies in
    ``[NEAR, FAR]``. Defaults where the camera is silent: resolution 768 x 576 (mental ray's),
    focal 1, aperture 1, aspect xres / yres.

Samples
    ``samples MIN MAX``: 2^MAX samples per pixel per axis, at least 1, i.e. ``max(1, 2^MAX)^2`` per
    pixel on a stratified grid, each jittered inside its cell. Adaptive sampling (MIN, contrast) is
    not modelled: every pixel gets the MAX count. The jitter comes from a counter-based hash of
    (seed, pixel, sample), so a seed always gives the same samples whatever the batch size.

Per sample
    ``rgba``  premultiplied. Shading is Lambert: ``colour * (ambient + sum over lights of
              max(0, n.l) * light colour)``, ambient 0.15, no shadows. Without scene lights one
              white directional light shines along (0.4, -0.7, -0.6) (from upper left, behind the
              camera). Semi-transparent surfaces are composited front to back (``opacity`` is the
              surface's alpha; back faces of closed shapes count too), up to 16 layers or until
              alpha reaches 1.
    ``z``     mental ray's depth: positive camera-space distance ``-P.z`` of the frontmost hit
              (not the ray length); ``+inf`` for nothing hit.
    ``n``     unit camera-space normal of the frontmost hit, turned to face the camera.
    ``m``     motion of the frontmost hit point over one frame, in raster pixels, as mental ray
              stores motion vectors: ``(dx, dy, 0)`` = raster position of ``P + velocity`` minus
              that of ``P``, with **dy positive upwards** (mental ray raster space; the opposite of
              the memory row direction). Static objects give the null vector.
    ``tag``   the frontmost object's ``label`` (uint32).
    ``object`` 1 + the frontmost primitive's index in ``scene.primitives`` (uint32), for
              Cryptomatte's ``CryptoObject`` / ``CryptoMaterial`` layers. Like ``tag`` it names
              the frontmost surface only: a semi-transparent surface does not split the sample.
    Nothing hit: rgba 0, z +inf, n and m null, tag 0, object 0.

Primitives (``scene.primitives``; parameters, with aliases accepted)
    sphere  ``center`` (``centre``, ``position``), ``radius``
    box     axis-aligned: ``min`` and ``max`` corners, or ``center`` and ``size`` (full edge lengths)
    plane   ``point`` (``origin``, ``position``; or ``height`` for y = height) and ``normal``
            (default +Y: a ground plane)
    all     ``color`` (rgb or rgba), ``opacity`` (default 1; the surface alpha is opacity times the
            colour's a),
            ``label`` (default 0), ``velocity`` (world units per frame, default 0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np
from numba import njit

from ..errors import FramebufError
from ..hookspecs import hookimpl
from ..resolve import SampleBatch
from ..scene.camera import CameraGeometry
from .base import ProgressCallback, SampleSourceSpec

SPHERE, BOX, PLANE = 0, 1, 2
KIND_CODES = {"sphere": SPHERE, "box": BOX, "plane": PLANE, "ground": PLANE}

AMBIENT = 0.15
DEFAULT_LIGHT_DIRECTION = (0.4, -0.7, -0.6)
#: samples per batch the ray caster aims for (a band of whole rows).
BATCH_SAMPLES = 1 << 17


# ------------------------------------------------------------------------------------ scene data
@dataclass
class PrimitiveArrays:
    """Primitives packed for the kernels: one row per primitive."""

    kind: np.ndarray      # int64 (P,)
    geom: np.ndarray      # float64 (P, 6): sphere cx cy cz r; box min max; plane point normal
    color: np.ndarray     # float64 (P, 3)
    opacity: np.ndarray   # float64 (P,)
    label: np.ndarray     # uint32 (P,)
    velocity: np.ndarray  # float64 (P, 3)

    def __len__(self) -> int:
        return int(self.kind.shape[0])


def _param(params: dict, names, default=None):
    for n in names:
        if n in params and params[n] is not None:
            return params[n]
    return default


def _vec(value, n, what, where):
    try:
        vals = [float(v) for v in value]
    except (TypeError, ValueError):
        raise FramebufError(f"{where}: {what} must be {n} numbers, not {value!r}") from None
    if len(vals) != n:
        raise FramebufError(f"{where}: {what} must be {n} numbers, not {len(vals)}")
    return vals


def _where(prim) -> str:
    loc = getattr(prim, "location", None)
    name = getattr(prim, "name", "?")
    head = f"{loc[0]}:{loc[1]}:{loc[2]}: " if loc else ""
    return f"{head}{getattr(prim, 'kind', '?')} {name!r}"


def pack_primitives(primitives) -> PrimitiveArrays:
    """Turn ``scene.primitives`` (objects with ``kind``, ``name``, ``params``) into kernel arrays."""
    prims = list(primitives or [])
    n = len(prims)
    out = PrimitiveArrays(
        np.zeros(n, np.int64), np.zeros((n, 6), np.float64), np.zeros((n, 3), np.float64),
        np.ones(n, np.float64), np.zeros(n, np.uint32), np.zeros((n, 3), np.float64),
    )
    for i, prim in enumerate(prims):
        kind = str(getattr(prim, "kind", "")).lower()
        where = _where(prim)
        if kind not in KIND_CODES:
            raise FramebufError(f"{where}: unknown primitive kind {kind!r}; kinds: sphere, box, plane")
        p = dict(getattr(prim, "params", {}) or {})
        out.kind[i] = KIND_CODES[kind]
        if kind == "sphere":
            c = _vec(_param(p, ("center", "centre", "position"), (0.0, 0.0, 0.0)), 3, "center", where)
            r = float(_param(p, ("radius",), 1.0))
            if not r > 0:
                raise FramebufError(f"{where}: radius must be positive, not {r}")
            out.geom[i, :4] = (*c, r)
        elif kind == "box":
            lo, hi = _param(p, ("min",)), _param(p, ("max",))
            if lo is None or hi is None:
                c = _vec(_param(p, ("center", "centre", "position"), (0.0, 0.0, 0.0)), 3, "center", where)
                s = _vec(_param(p, ("size",), (1.0, 1.0, 1.0)), 3, "size", where)
                lo = [c[k] - abs(s[k]) / 2 for k in range(3)]
                hi = [c[k] + abs(s[k]) / 2 for k in range(3)]
            lo, hi = _vec(lo, 3, "min", where), _vec(hi, 3, "max", where)
            out.geom[i, :3] = np.minimum(lo, hi)
            out.geom[i, 3:] = np.maximum(lo, hi)
        else:
            point = _param(p, ("point", "origin", "position"))
            if point is None:
                point = (0.0, float(_param(p, ("height", "y"), 0.0)), 0.0)
            point = _vec(point, 3, "point", where)
            nrm = np.array(_vec(_param(p, ("normal",), (0.0, 1.0, 0.0)), 3, "normal", where))
            length = float(np.linalg.norm(nrm))
            if not length > 0:
                raise FramebufError(f"{where}: normal must not be the null vector")
            out.geom[i, :3] = point
            out.geom[i, 3:] = nrm / length
        color = _param(p, ("color", "colour"), (0.8, 0.8, 0.8))
        color = [float(v) for v in (color if not isinstance(color, (int, float)) else [color] * 3)]
        if len(color) not in (3, 4):
            raise FramebufError(f"{where}: color must be 3 or 4 numbers, not {len(color)}")
        out.color[i] = color[:3]
        # the colour's own alpha and the opacity multiply (both default to 1)
        opacity = float(_param(p, ("opacity", "alpha"), 1.0)) * (color[3] if len(color) == 4 else 1.0)
        out.opacity[i] = min(max(opacity, 0.0), 1.0)
        label = int(_param(p, ("label", "tag"), 0))
        if not 0 <= label < 2 ** 32:
            raise FramebufError(f"{where}: label must fit in 32 unsigned bits, not {label}")
        out.label[i] = label
        out.velocity[i] = _vec(_param(p, ("velocity", "motion"), (0.0, 0.0, 0.0)), 3, "velocity", where)
    return out


def pack_lights(lights) -> np.ndarray:
    """(L, 6): direction the light travels (unit) and its colour. A default light when none."""
    rows = []
    for light in lights or []:
        d = np.asarray(getattr(light, "direction"), np.float64)
        length = float(np.linalg.norm(d))
        if not length > 0:
            raise FramebufError(f"light {getattr(light, 'name', '?')!r}: direction is the null vector")
        rows.append([*(d / length), *[float(c) for c in getattr(light, "color", (1.0, 1.0, 1.0))]])
    if not rows:
        d = np.asarray(DEFAULT_LIGHT_DIRECTION, np.float64)
        rows.append([*(d / np.linalg.norm(d)), 1.0, 1.0, 1.0])
    return np.ascontiguousarray(np.array(rows, np.float64))


def samples_per_axis(options) -> int:
    """``max(1, 2^MAX)`` from ``samples MIN MAX`` (the MAX count everywhere; see the docstring)."""
    smax = int(getattr(options, "samples_max", 0) if options is not None else 0)
    return 1 << max(0, min(smax, 8))


# ------------------------------------------------------------------------------------ kernels
@njit(cache=True, inline="always")
def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _rand01(seed, pixel, sample, axis):
    """A uniform number in [0, 1) from a counter hash (splitmix64), independent of batching."""
    z = _mix64(seed + np.uint64(0x9E3779B97F4A7C15) * (pixel + np.uint64(1)))
    z = _mix64(z ^ (np.uint64(2) * sample + axis))
    return np.float64(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def _intersect(kind, geom, p, ox, oy, oz, dx, dy, dz, tmin, tmax):
    """Nearest hit of one ray with one primitive in (tmin, tmax]: (t, nx, ny, nz), t = inf on miss.

    The ray is P(t) = o + t d with d not normalised; the normal returned is the geometric one
    (outward for spheres and boxes), not yet turned towards the viewer.
    """
    inf = np.inf
    if kind == 0:  # sphere
        cx, cy, cz, r = geom[p, 0], geom[p, 1], geom[p, 2], geom[p, 3]
        px, py, pz = ox - cx, oy - cy, oz - cz
        a = dx * dx + dy * dy + dz * dz
        b = px * dx + py * dy + pz * dz
        c = px * px + py * py + pz * pz - r * r
        disc = b * b - a * c
        if disc < 0.0:
            return inf, 0.0, 0.0, 0.0
        sq = math.sqrt(disc)
        t = (-b - sq) / a
        if not t > tmin:
            t = (-b + sq) / a
        if not (t > tmin and t <= tmax):
            return inf, 0.0, 0.0, 0.0
        return t, (ox + t * dx - cx) / r, (oy + t * dy - cy) / r, (oz + t * dz - cz) / r
    if kind == 1:  # axis-aligned box, slab test
        t0 = -inf
        t1 = inf
        ax0 = -1
        ax1 = -1
        for ax in range(3):
            o = ox if ax == 0 else (oy if ax == 1 else oz)
            d = dx if ax == 0 else (dy if ax == 1 else dz)
            lo = geom[p, ax]
            hi = geom[p, ax + 3]
            if d == 0.0:
                if o < lo or o > hi:
                    return inf, 0.0, 0.0, 0.0
                continue
            ta = (lo - o) / d
            tb = (hi - o) / d
            if ta > tb:
                ta, tb = tb, ta
            if ta > t0:
                t0 = ta
                ax0 = ax
            if tb < t1:
                t1 = tb
                ax1 = ax
        if t0 > t1:
            return inf, 0.0, 0.0, 0.0
        if t0 > tmin and t0 <= tmax:
            t = t0
            ax = ax0
        elif t1 > tmin and t1 <= tmax:
            t = t1
            ax = ax1
        else:
            return inf, 0.0, 0.0, 0.0
        if ax < 0:
            return inf, 0.0, 0.0, 0.0
        hx = ox + t * dx
        hy = oy + t * dy
        hz = oz + t * dz
        h = hx if ax == 0 else (hy if ax == 1 else hz)
        mid = 0.5 * (geom[p, ax] + geom[p, ax + 3])
        s = 1.0 if h >= mid else -1.0
        if ax == 0:
            return t, s, 0.0, 0.0
        if ax == 1:
            return t, 0.0, s, 0.0
        return t, 0.0, 0.0, s
    # plane: point geom[0:3], unit normal geom[3:6]
    nx, ny, nz = geom[p, 3], geom[p, 4], geom[p, 5]
    denom = dx * nx + dy * ny + dz * nz
    if denom == 0.0:
        return inf, 0.0, 0.0, 0.0
    t = ((geom[p, 0] - ox) * nx + (geom[p, 1] - oy) * ny + (geom[p, 2] - oz) * nz) / denom
    if not (t > tmin and t <= tmax):
        return inf, 0.0, 0.0, 0.0
    return t, nx, ny, nz


@njit(cache=True, inline="always")
def _project(cam, px, py, pz):
    """Raster position (x, y up) of a camera-space point; NaN when it is not in front."""
    focal, aperture, aspect = cam[0], cam[1], cam[2]
    xres, yres = cam[3], cam[4]
    if cam[9] != 0.0:
        sx = px
        sy = py
    else:
        if not pz < 0.0:
            return np.nan, np.nan
        sx = focal * px / -pz
        sy = focal * py / -pz
    rx = (sx / aperture + 0.5) * xres + cam[5]
    ry = (sy / (aperture / aspect) + 0.5) * yres + cam[6]
    return rx, ry


@njit(cache=True)
def _project_many(cam, points, out):
    for i in range(points.shape[0]):
        rx, ry = _project(cam, points[i, 0], points[i, 1], points[i, 2])
        out[i, 0] = rx
        out[i, 1] = ry


@njit(cache=True, inline="always")
def _jitter(useed, pixel, i, j, k, nax, inv):
    """Raster position (x, y down) of sample k of pixel (i, j): its stratum, hash-jittered."""
    u = _rand01(useed, pixel, np.uint64(k), np.uint64(0))
    v = _rand01(useed, pixel, np.uint64(k), np.uint64(1))
    rx = i + ((k % nax) + u) * inv
    ry = j + ((k // nax) + v) * inv
    # u, v < 1, but rounding can still give i + 1: keep the sample in its pixel
    # (the dense batch layout promises it)
    if rx >= i + 1.0:
        rx = np.nextafter(i + 1.0, 0.0)
    if ry >= j + 1.0:
        ry = np.nextafter(j + 1.0, 0.0)
    return rx, ry


@njit(cache=True, inline="always")
def _camera_ray(ortho, focal, film_w, film_h, xres, yres, offx, offy, rx, ry):
    """Origin and direction (ox, oy, oz, dx, dy, dz) of the camera ray through raster (rx, ry)."""
    # raster -> film (mental ray raster is y up)
    fx = ((rx - offx) / xres - 0.5) * film_w
    fy = ((yres - ry - offy) / yres - 0.5) * film_h
    if ortho:
        return fx, fy, 0.0, 0.0, 0.0, -1.0
    # unnormalised so that the ray parameter t is the camera depth -P.z
    return 0.0, 0.0, 0.0, fx / focal, fy / focal, -1.0


@njit(cache=True, inline="always")
def _direct_light(lights, nx, ny, nz):
    """Sum over the lights of max(0, n.l) * light colour, per channel (no shadows)."""
    sr = 0.0
    sg = 0.0
    sb = 0.0
    for li in range(lights.shape[0]):
        # a light's row holds the direction it travels, so the surface faces it when n.d < 0
        ndl = -(nx * lights[li, 0] + ny * lights[li, 1] + nz * lights[li, 2])
        if ndl > 0.0:
            sr += ndl * lights[li, 3]
            sg += ndl * lights[li, 4]
            sb += ndl * lights[li, 5]
    return sr, sg, sb


@njit(cache=True, inline="always")
def _motion(cam, velocity, p, hx, hy, hz):
    """Raster motion (dx, dy up) of point h on primitive p over one frame; null when p is static."""
    vx = velocity[p, 0]
    vy = velocity[p, 1]
    vz = velocity[p, 2]
    if vx != 0.0 or vy != 0.0 or vz != 0.0:
        ax_, ay_ = _project(cam, hx, hy, hz)
        bx_, by_ = _project(cam, hx + vx, hy + vy, hz + vz)
        return bx_ - ax_, by_ - ay_
    return 0.0, 0.0


@njit(cache=True, inline="always")
def _store(s, rgba, z, n, m, tag, obj, r, g, b, a, front_t, nx, ny, nz, mx, my, ftag, fobj):
    """Write sample s of every output channel."""
    rgba[s, 0] = r
    rgba[s, 1] = g
    rgba[s, 2] = b
    rgba[s, 3] = a
    z[s] = front_t
    n[s, 0] = nx
    n[s, 1] = ny
    n[s, 2] = nz
    m[s, 0] = mx
    m[s, 1] = my
    m[s, 2] = 0.0
    tag[s] = ftag
    obj[s] = fobj


@njit(cache=True)
def _cast_row(cam, kinds, geom, color, opacity, label, velocity, lights, ambient, useed,
              nax, x0, x1, y0, j, xs, ys, rgba, z, n, m, tag, obj):
    """Trace every sample of row j (see ``cast_rows``), compositing front to back.

    The sample, layer and primitive loops stay in this one function on purpose. A helper that
    takes arrays and holds a loop (a per-ray trace, a nearest-hit search) got an NRT
    incref/decref pair per array on every call, which Numba's refcount pruning left in place;
    per sample or per layer that cost 15-25% of the ray caster's speed. Per row it is nothing.
    The pairs of the helpers called inside are pruned (checked in the generated code).
    A plain call from ``cast_rows``, not inlined: inlining this body re-types it and cost 2 s
    of the first render's compile (12.5 -> 10.2 s here), for no measurable speed.
    """
    focal, aperture, aspect = cam[0], cam[1], cam[2]
    xres, yres = cam[3], cam[4]
    offx, offy = cam[5], cam[6]
    near, far = cam[7], cam[8]
    ortho = cam[9] != 0.0
    film_w = aperture
    film_h = aperture / aspect
    spp = nax * nax
    uxres = np.uint64(int(xres))
    inv = 1.0 / nax
    for i in range(x0, x1):
        pixel = np.uint64(j) * uxres + np.uint64(i)
        base = ((j - y0) * (x1 - x0) + (i - x0)) * spp
        for k in range(spp):
            s = base + k
            rx, ry = _jitter(useed, pixel, i, j, k, nax, inv)
            xs[s] = rx
            ys[s] = ry
            ox, oy, oz, dx, dy, dz = _camera_ray(ortho, focal, film_w, film_h, xres, yres,
                                                 offx, offy, rx, ry)
            dlen = math.sqrt(dx * dx + dy * dy + dz * dz)
            acc_r = acc_g = acc_b = acc_a = 0.0
            front_t = np.inf
            fnx = fny = fnz = fmx = fmy = 0.0
            ftag = fobj = np.uint32(0)
            tmin = near * (1.0 - 1e-12) if near > 0.0 else 0.0
            for layer in range(16):
                best_t = np.inf
                best_p = -1
                bnx = bny = bnz = 0.0
                for p in range(kinds.shape[0]):
                    t, hx, hy, hz = _intersect(kinds[p], geom, p, ox, oy, oz, dx, dy, dz, tmin, far)
                    if t < best_t:
                        best_t = t
                        best_p = p
                        bnx, bny, bnz = hx, hy, hz
                if best_p < 0 or best_t < near:
                    break
                # face the viewer
                if bnx * dx + bny * dy + bnz * dz > 0.0:
                    bnx, bny, bnz = -bnx, -bny, -bnz
                alpha = opacity[best_p]
                if layer == 0:
                    front_t = best_t
                    fnx, fny, fnz = bnx, bny, bnz
                    ftag = label[best_p]
                    fobj = np.uint32(best_p + 1)
                    fmx, fmy = _motion(cam, velocity, best_p, ox + best_t * dx, oy + best_t * dy,
                                       oz + best_t * dz)
                if alpha > 0.0:
                    sr, sg, sb = _direct_light(lights, bnx, bny, bnz)
                    w = (1.0 - acc_a) * alpha
                    acc_r += w * color[best_p, 0] * (ambient + sr)
                    acc_g += w * color[best_p, 1] * (ambient + sg)
                    acc_b += w * color[best_p, 2] * (ambient + sb)
                    acc_a += w
                if acc_a >= 0.9999:
                    break
                # continue behind this surface; the step scales with depth and ray slope
                tmin = best_t + 1e-9 * (1.0 + best_t) * dlen
            _store(s, rgba, z, n, m, tag, obj, acc_r, acc_g, acc_b, acc_a, front_t, fnx, fny, fnz,
                   fmx, fmy, ftag, fobj)


@njit(cache=True)
def cast_rows(cam, kinds, geom, color, opacity, label, velocity, lights, ambient, seed,
              nax, x0, x1, y0, y1, xs, ys, rgba, z, n, m, tag, obj):
    """Trace every sample of pixels [x0, x1) x [y0, y1) (rows y down) into the output arrays.

    Sample k of pixel (i, j) goes to index ((j - y0) * (x1 - x0) + (i - x0)) * nax^2 + k; the
    stratum of sample k is (k % nax, k // nax), jittered by the counter hash.
    """
    useed = np.uint64(seed)
    for j in range(y0, y1):
        _cast_row(cam, kinds, geom, color, opacity, label, velocity, lights, ambient, useed,
                  nax, x0, x1, y0, j, xs, ys, rgba, z, n, m, tag, obj)


# ------------------------------------------------------------------------------------ the source
class RayCaster:
    """The ``raycast`` sample source (module docstring): ``render(scene, seed=, progress=)``."""

    def __init__(self, batch_samples: int = BATCH_SAMPLES, ambient: float = AMBIENT):
        self.batch_samples = int(batch_samples)
        self.ambient = float(ambient)

    @staticmethod
    def _unpack(scene_or_camera):
        if hasattr(scene_or_camera, "camera") and hasattr(scene_or_camera, "options"):
            scene = scene_or_camera
            if scene.camera is None:
                raise FramebufError(f"{getattr(scene, 'path', 'scene')}: no camera to render from")
            return (scene.camera, scene.options, getattr(scene, "primitives", []),
                    getattr(scene, "lights", []))
        return scene_or_camera, None, [], []

    def plan(self, scene_or_camera):
        """(geometry, samples per axis, rows per batch) the render would use."""
        camera, options, _, _ = self._unpack(scene_or_camera)
        geo = CameraGeometry.from_camera(camera)
        nax = samples_per_axis(options)
        x0, _, x1, _ = geo.window
        per_row = max(1, (x1 - x0) * nax * nax)
        return geo, nax, max(1, self.batch_samples // per_row)

    def render(self, scene_or_camera, *, seed: int = 0,
               progress: ProgressCallback | None = None) -> Iterator[SampleBatch]:
        camera, options, primitives, lights = self._unpack(scene_or_camera)
        geo, nax, rows_per_batch = self.plan(scene_or_camera)
        prims = pack_primitives(primitives)
        light_rows = pack_lights(lights)
        cam = geo.as_array()
        useed = int(seed) & 0xFFFFFFFFFFFFFFFF
        x0, y0, x1, y1 = geo.window
        total = y1 - y0
        if progress is not None:
            progress(0, total)
        spp = nax * nax
        for r0 in range(y0, y1, rows_per_batch):
            r1 = min(y1, r0 + rows_per_batch)
            count = (r1 - r0) * (x1 - x0) * spp
            xs = np.empty(count, np.float64)
            ys = np.empty(count, np.float64)
            rgba = np.empty((count, 4), np.float32)
            z = np.empty(count, np.float32)
            n = np.empty((count, 3), np.float32)
            m = np.empty((count, 3), np.float32)
            tag = np.empty(count, np.uint32)
            obj = np.empty(count, np.uint32)
            if count:
                cast_rows(cam, prims.kind, prims.geom, prims.color, prims.opacity, prims.label,
                          prims.velocity, light_rows, self.ambient, np.uint64(useed), nax,
                          x0, x1, r0, r1, xs, ys, rgba, z, n, m, tag, obj)
            # whole rows, spp samples per pixel in pixel order, each inside its pixel: the dense
            # layout, so the resolver skips pixel lookup (x, y stay for wide filters)
            yield SampleBatch.dense(x0, r0, x1 - x0, r1 - r0, spp, x=xs, y=ys, rgba=rgba, z=z,
                                    n=n, m=m, tag=tag, object=obj)
            if progress is not None:
                progress(r1 - y0, total)


@hookimpl
def framebuf_sample_sources():
    return [SampleSourceSpec(
        "raycast",
        "embedded analytic ray caster: spheres, boxes and planes of the framebuf primitives block",
        RayCaster,
    )]
