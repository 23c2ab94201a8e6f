"""Mitsuba 3 as a sample source: path-traced samples of a real renderer, sample by sample.

Registered as sample source ``"mitsuba"``; needs the optional extra (``pip install
'framebuf[mitsuba]'``, which pulls ``mitsuba`` and ``drjit`` from PyPI). Without it the source is
still listed, and asking for it raises one :class:`~framebuf.errors.FramebufError` saying how to
install it. The module imports Mitsuba only when a source is built.

Options (``framebuf render SCENE --source mitsuba --source-option KEY=VALUE``)
    ``variant``    ``auto`` (default), ``scalar_rgb`` or ``llvm_ad_rgb``. ``scalar_rgb`` needs no
                   LLVM and always works: one Mitsuba call per sample from a Python loop.
                   ``llvm_ad_rgb`` traces a whole batch per call, but Dr.Jit's LLVM backend aborts
                   the *process* (SIGABRT, not a Python exception) with an unsuitable libLLVM (15
                   and 16 do, 19 works), so a vectorised variant is first run on a tiny scene in a
                   child process (:func:`probe_variant`); ``auto`` uses it only when that probe
                   succeeded and falls back to ``scalar_rgb`` otherwise, and naming it when the
                   probe fails is an error. Probe results are kept in
                   ``~/.cache/framebuf/mitsuba-probe.json``, keyed by the Mitsuba and Dr.Jit
                   versions and the libLLVM files present.
    ``scene``      ``FILE.xml``: render this Mitsuba scene (its shapes, materials, emitters,
                   integrator and first sensor) instead of the ``.mi`` file's primitives, into the
                   ``.mi`` file's frame buffers and output statements (the ``.mi`` camera gives
                   only the resolution, window and sample count). Without an integrator, Mitsuba's
                   default ``path``. Shapes are matched by identity, so unnamed ones (Mitsuba
                   gives them all the id ``""``) keep their own labels.
    ``labels``     for ``scene=``: the table from Mitsuba shape ids to labels (``tag``), either
                   ``ID:LABEL,ID:LABEL...`` or a JSON file ``{"ID": LABEL}``. Without a table every
                   shape gets its position in ``scene.shapes()`` plus one; with a table, shapes it
                   does not name get 0 (a warning names them).
    ``max_depth``  path length of the path tracer for ``.mi`` scenes (default 5).

Samples
    The sample positions are framebuf's own, the ray caster's exactly: ``samples MIN MAX`` gives
    ``max(1, 2^MAX)^2`` stratified jittered samples per pixel from the same counter hash, so a
    seed gives the same positions with either source. For a ``.mi`` scene the camera rays are the
    ray caster's too (mental ray camera space: camera at the origin looking down -Z, focal,
    aperture, aspect, offset, orthographic ``focal infinity``, ``clip``); Mitsuba intersects
    them and path-traces them. For an XML scene the rays come from the scene's sensor
    (``sensor.sample_ray`` at ``(x / xres, y / yres)``).

Per sample
    ``rgba``  Mitsuba's radiance estimate for the ray (``integrator.sample``), premultiplied; alpha
              is Mitsuba's ``valid`` flag (1 when the path hit something the film counts), so a
              semi-transparent surface gives alpha 1 on some samples and 0 on others and the
              pixel average is the coverage. Noisy, as a path tracer is.
    ``z``     positive camera-space depth of the first hit, ``-P.z`` in mental ray camera space
              (not the ray length), as the ray caster gives it; ``+inf`` for nothing hit. For an
              XML scene: the sensor's local z.
    ``n``     unit camera-space shading normal (``si.sh_frame.n``) turned to face the camera.
    ``m``     motion over one frame in raster pixels, dy positive upwards, from the primitives'
              ``velocity`` (the ray caster's rule: raster position of ``P + velocity`` minus that
              of ``P``). Mitsuba 3.9 has no animated transforms or motion blur, so the colour is
              not motion-blurred, and XML scenes (whose motion framebuf does not know) give the
              null vector.
    ``tag``   the first hit's label (from the primitive, or the ``labels`` table); 0 for nothing
              hit. Coverage follows from it in the resolver, as for every source.
    Every sample's random numbers come from a sampler seeded with a hash of (seed, pixel,
    sample) in ``scalar_rgb`` (independent of batching) and of (seed, first row of the batch)
    in vectorised variants, so a seed and a variant always give the same image.

``.mi`` primitives as a Mitsuba scene (:func:`scene_dict`)
    sphere -> ``sphere``; box -> ``cube`` scaled and moved to the box; plane -> a ``rectangle``
    large enough to reach the far clip everywhere in view. ``color`` -> a two-sided ``diffuse``
    BSDF, wrapped in ``mask`` when the opacity (times the colour's alpha) is below 1. Each light
    -> a ``directional`` emitter whose irradiance is pi times its colour, and the ray caster's
    ambient term -> a ``constant`` environment of radiance 0.15 hidden from camera rays, so a white
    surface facing a light is as bright as the ray caster makes it (plus Mitsuba's shadows and
    inter-reflection). Without lights the ray caster's default light is used.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
from numba import njit

from ..errors import FramebufError
from ..hookspecs import hookimpl
from ..resolve import SampleBatch
from .base import ProgressCallback, SampleSourceSpec
# jitter_rows inlines the ray caster's _jitter and _mix64: after editing them, touch this file too
# (HACKING.md, Numba: the cache checks only the caller's source file)
from ..scene.camera import CameraGeometry
from .raycast import (
    AMBIENT, DEFAULT_LIGHT_DIRECTION, _jitter, _mix64, _project_many,
    pack_primitives, samples_per_axis,
)

INSTALL_HINT = ("the mitsuba sample source needs Mitsuba 3, which is not installed: "
                "pip install 'framebuf[mitsuba]'")
SCALAR = "scalar_rgb"
VECTOR_VARIANTS = ("llvm_ad_rgb",)
VARIANTS = ("auto", SCALAR) + VECTOR_VARIANTS
#: samples per batch (a band of whole rows), as for the ray caster.
BATCH_SAMPLES = 1 << 16
DEFAULT_MAX_DEPTH = 5
PROBE_TIMEOUT = 120.0


def import_mitsuba():
    """``(mitsuba, drjit)``, or the one-line install hint as a FramebufError."""
    try:
        import drjit
        import mitsuba
    except ImportError:
        raise FramebufError(INSTALL_HINT) from None
    return mitsuba, drjit


# ------------------------------------------------------------------------------------ variant probe
_PROBE_CODE = r"""
import sys
import drjit as dr
import mitsuba as mi
mi.set_variant(sys.argv[1])
scene = mi.load_dict({
    "type": "scene", "integrator": {"type": "path", "max_depth": 3, "hide_emitters": True},
    "env": {"type": "constant", "radiance": {"type": "rgb", "value": 0.2}},
    "sun": {"type": "directional", "direction": [0, -1, -1]},
    "ball": {"type": "sphere", "center": [0, 0, -3], "radius": 1.0,
             "bsdf": {"type": "mask", "opacity": 0.5, "material": {"type": "diffuse"}}},
}, optimize=False)
n = 64
x = dr.linspace(mi.Float, -0.5, 0.5, n)
ray = mi.Ray3f(mi.Point3f(0, 0, 0), dr.normalize(mi.Vector3f(x, 0.1, -1)))
si = scene.ray_intersect(ray)
sampler = mi.load_dict({"type": "independent"})
sampler.seed(1, n)
L, valid, _ = scene.integrator().sample(scene, sampler, ray)
m = dr.maximum(L.x, 0.0)
t = dr.select(si.is_valid(), si.t, 0.0)
dr.eval(m, t)
hits = dr.count(si.is_valid())
total = dr.sum(t)
hits, total = (hits, total) if isinstance(hits, int) else (hits[0], total[0])
print("framebuf-probe-ok", hits, total)
"""


def _probe_key(variant: str) -> str:
    mi, dr = import_mitsuba()
    libs = []
    for folder in ("/usr/lib", "/usr/lib64", "/usr/local/lib", "/usr/lib/x86_64-linux-gnu",
                   "/usr/lib/aarch64-linux-gnu", "/opt/homebrew/lib"):
        try:
            names = sorted(n for n in os.listdir(folder) if n.startswith("libLLVM"))
        except OSError:
            continue
        for n in names:
            try:
                st = os.stat(os.path.join(folder, n))
                libs.append(f"{folder}/{n}:{st.st_size}:{int(st.st_mtime)}")
            except OSError:
                pass
    text = "|".join([_PROBE_CODE, variant, mi.__version__, dr.__version__, sys.executable,
                     os.environ.get("DRJIT_LIBLLVM_PATH", ""), *libs])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "framebuf" / "mitsuba-probe.json"


_probed: dict[str, tuple[bool, str]] = {}


def probe_variant(variant: str, *, use_cache: bool = True) -> tuple[bool, str]:
    """Whether ``variant`` runs here: ``(ok, reason)``, from a child process, never in this one.

    ``scalar_rgb`` needs no probe. The child renders a few rays of a tiny scene with the same
    calls the source makes; a crash (the LLVM abort), a timeout or wrong output is a no.
    """
    if variant == SCALAR:
        return True, "scalar variants need no probe"
    key = _probe_key(variant)
    if key in _probed:
        return _probed[key]
    cache = _cache_path()
    stored = {}
    if use_cache:
        try:
            stored = json.loads(cache.read_text())
        except (OSError, ValueError):
            stored = {}
        if key in stored and isinstance(stored[key], list) and len(stored[key]) == 2:
            _probed[key] = (bool(stored[key][0]), str(stored[key][1]))
            return _probed[key]
    try:
        proc = subprocess.run([sys.executable, "-c", _PROBE_CODE, variant], capture_output=True,
                              text=True, timeout=PROBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        result = (False, f"{variant} probe timed out after {PROBE_TIMEOUT:.0f} s")
    else:
        out = proc.stdout.split()
        # 42 of the 64 rays hit the ball; any answer in between shows the kernels ran
        if (proc.returncode == 0 and len(out) == 3 and out[0] == "framebuf-probe-ok"
                and out[1].isdigit() and 0 < int(out[1]) < 64):
            result = (True, f"{variant} ran a probe render in a child process")
        else:
            lines = [ln for ln in (proc.stderr or "").splitlines() if ln.strip()]
            why = next((ln for ln in lines if "LLVM ERROR" in ln), lines[-1] if lines else "")
            result = (False, f"{variant} probe failed (exit {proc.returncode}): {why.strip()[:200]}")
    _probed[key] = result
    stored[key] = list(result)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(stored, indent=1))
        os.replace(tmp, cache)
    except OSError:
        pass
    return result


def choose_variant(requested: str) -> str:
    """The variant to render with (see the module docstring)."""
    requested = str(requested or "auto")
    if requested not in VARIANTS:
        raise FramebufError(f"mitsuba variant {requested!r} is not supported; variants: "
                            f"{', '.join(VARIANTS)}")
    if requested == SCALAR:
        return SCALAR
    mi, _ = import_mitsuba()
    candidates = VECTOR_VARIANTS if requested == "auto" else (requested,)
    for v in candidates:
        if v not in mi.variants():
            if requested != "auto":
                raise FramebufError(f"mitsuba variant {v!r} is not in this Mitsuba build; it has "
                                    f"{', '.join(mi.variants())}")
            continue
        ok, why = probe_variant(v)
        if ok:
            return v
        if requested != "auto":
            raise FramebufError(f"mitsuba variant {v} does not run here: {why}; use "
                                f"--source-option variant={SCALAR}")
    return SCALAR


# ------------------------------------------------------------------------------------ kernels
@njit(cache=True)
def jitter_rows(seed, nax, xres, x0, x1, y0, y1, xs, ys, seeds):
    """The ray caster's sample positions for pixels [x0, x1) x [y0, y1), in its order, and a
    32-bit sampler seed per sample from the same counter hash (independent of batching)."""
    spp = nax * nax
    width = x1 - x0
    uxres = np.uint64(xres)
    inv = 1.0 / nax
    for j in range(y0, y1):
        for i in range(x0, x1):
            pixel = np.uint64(j) * uxres + np.uint64(i)
            base = ((j - y0) * width + (i - x0)) * spp
            for k in range(spp):
                s = base + k
                rx, ry = _jitter(seed, pixel, i, j, k, nax, inv)
                xs[s] = rx
                ys[s] = ry
                h = _mix64(_mix64(seed ^ np.uint64(0xD1B54A32D192ED03)) + pixel * np.uint64(4099)
                           + np.uint64(k))
                seeds[s] = h >> np.uint64(32)


def camera_rays(geo: CameraGeometry, xs, ys):
    """World (= mental ray camera) rays through raster positions: origin on the near plane, unit
    direction, maxt reaching the far plane, and the ray length per unit of depth."""
    film_w, film_h = geo.aperture, geo.aperture / geo.aspect
    near, far = geo.clip
    fx = ((xs - geo.offset[0]) / geo.xres - 0.5) * film_w
    fy = ((geo.yres - ys - geo.offset[1]) / geo.yres - 0.5) * film_h
    n = xs.shape[0]
    o = np.zeros((n, 3), np.float64)
    d = np.zeros((n, 3), np.float64)
    if geo.orthographic:
        o[:, 0], o[:, 1], o[:, 2] = fx, fy, -near
        d[:, 2] = -1.0
        per_depth = np.ones(n)
    else:
        d[:, 0], d[:, 1], d[:, 2] = fx / geo.focal, fy / geo.focal, -1.0
        per_depth = np.sqrt((d * d).sum(axis=1))
        o = d * near
        d = d / per_depth[:, None]
    maxt = (far - near) * per_depth
    return o, d, maxt


# ------------------------------------------------------------------------------------ scene
@dataclass
class PreparedScene:
    """A loaded Mitsuba scene and what framebuf knows about it."""

    scene: object
    integrator: object
    labels: np.ndarray              # uint32 label per shape index
    shapes: list                    # scene.shapes(), kept alive: a hit's si.shape *is* one of them
    velocity: np.ndarray            # (shapes, 3) world units per frame (zero when unknown)
    sensor: object | None = None    # XML scenes: the camera rays come from it
    to_camera: np.ndarray = field(default_factory=lambda: np.eye(4))  # world -> mental ray camera


def _frame_matrix(normal) -> np.ndarray:
    """3x3 rotation taking +z to ``normal`` (unit)."""
    nz = np.asarray(normal, np.float64)
    helper = np.array([1.0, 0.0, 0.0]) if abs(nz[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    sx = np.cross(helper, nz)
    sx /= np.linalg.norm(sx)
    sy = np.cross(nz, sx)
    return np.stack([sx, sy, nz], axis=1)


def _plane_extent(geo: CameraGeometry) -> float:
    """Distance from the origin that covers every point in view up to the far clip."""
    far = geo.clip[1]
    xs = np.array([0.0, geo.xres, 0.0, geo.xres])
    ys = np.array([0.0, 0.0, geo.yres, geo.yres])
    o, d, maxt = camera_rays(geo, xs, ys)
    return float(np.max(np.linalg.norm(o + d * maxt[:, None], axis=1))) + far * 1e-3


def scene_dict(primitives, lights, geo: CameraGeometry, max_depth: int = DEFAULT_MAX_DEPTH):
    """The Mitsuba scene dictionary of a ``framebuf primitives`` block (module docstring) and the
    packed primitives (shape ``p{i}`` is primitive ``i``)."""
    mi, _ = import_mitsuba()
    T = mi.ScalarTransform4f
    prims = pack_primitives(primitives)
    extent = _plane_extent(geo)
    d = {
        "type": "scene",
        "integrator": {"type": "path", "max_depth": int(max_depth), "hide_emitters": True},
        "ambient": {"type": "constant", "radiance": {"type": "rgb", "value": AMBIENT}},
    }
    for i in range(len(prims)):
        g = prims.geom[i]
        bsdf = {"type": "twosided", "material": {
            "type": "diffuse", "reflectance": {"type": "rgb", "value": prims.color[i].tolist()}}}
        if prims.opacity[i] < 1.0:
            bsdf = {"type": "mask", "opacity": float(prims.opacity[i]), "material": bsdf}
        kind = int(prims.kind[i])
        if kind == 0:
            shape = {"type": "sphere", "center": g[:3].tolist(), "radius": float(g[3])}
        elif kind == 1:
            centre, half = (g[:3] + g[3:]) / 2, (g[3:] - g[:3]) / 2
            half = np.maximum(half, 1e-9)
            shape = {"type": "cube", "to_world": T().translate(centre.tolist()) @ T().scale(half.tolist())}
        else:
            point, normal = g[:3], g[3:]
            # centred on the point of the plane nearest the camera, whose distance is at most
            # ``extent`` from every plane point in view: half-size ``extent`` covers them all
            centre = normal * float(np.dot(point, normal))
            size = extent
            m = np.eye(4)
            m[:3, :3] = _frame_matrix(normal) @ np.diag([size, size, 1.0])
            m[:3, 3] = centre
            shape = {"type": "rectangle", "to_world": T(m)}
        shape["bsdf"] = bsdf
        d[f"p{i}"] = shape
    rows = list(lights or [])
    light_rows = []
    for light in rows:
        direction = np.asarray(light.direction, np.float64)
        if not np.linalg.norm(direction) > 0:
            raise FramebufError(f"light {light.name!r}: direction is the null vector")
        light_rows.append((direction, tuple(float(c) for c in light.color)))
    if not light_rows:
        light_rows.append((np.asarray(DEFAULT_LIGHT_DIRECTION, np.float64), (1.0, 1.0, 1.0)))
    for k, (direction, colour) in enumerate(light_rows):
        d[f"light{k}"] = {"type": "directional", "direction": (direction / np.linalg.norm(direction)).tolist(),
                          "irradiance": {"type": "rgb", "value": [math.pi * c for c in colour]}}
    return d, prims


def parse_label_table(text) -> dict[str, int]:
    """``ID:LABEL,ID:LABEL`` or a JSON file of ``{"ID": LABEL}``."""
    if text is None or text == "":
        return {}
    if isinstance(text, dict):
        items = text.items()
    elif str(text).endswith(".json") or Path(str(text)).is_file():
        try:
            data = json.loads(Path(str(text)).read_text())
        except OSError as exc:
            raise FramebufError(f"{text}: cannot read the label table: {exc.strerror}") from None
        except ValueError as exc:
            raise FramebufError(f"{text}: the label table is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise FramebufError(f"{text}: the label table must be a JSON object {{\"id\": label}}")
        items = data.items()
    else:
        items = []
        for part in str(text).split(","):
            if not part.strip():
                continue
            sid, sep, value = part.rpartition(":")
            if not sep or not sid.strip():
                raise FramebufError(f"labels: {part!r} is not ID:LABEL")
            items.append((sid.strip(), value.strip()))
    table = {}
    for sid, value in items:
        try:
            label = int(value)
        except (TypeError, ValueError):
            raise FramebufError(f"labels: the label of {sid!r} must be an integer, not {value!r}") from None
        if not 0 <= label < 2 ** 32:
            raise FramebufError(f"labels: the label of {sid!r} must fit in 32 unsigned bits")
        table[str(sid)] = label
    return table


#: Mitsuba sensor space (x left, y up, z forward) -> mental ray camera space (x right, y up, -z).
_MITSUBA_TO_MR = np.diag([-1.0, 1.0, -1.0, 1.0])


def load_xml_scene(path, labels=None) -> PreparedScene:
    mi, _ = import_mitsuba()
    p = Path(path)
    if not p.is_file():
        raise FramebufError(f"{path}: no such Mitsuba scene file")
    try:
        scene = mi.load_file(str(p), optimize=False)
    except Exception as exc:  # Mitsuba raises RuntimeError with its own multi-line text
        first = next((ln for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
        raise FramebufError(f"{path}: Mitsuba cannot load the scene: {first.strip()}") from None
    sensors = scene.sensors()
    if not sensors:
        raise FramebufError(f"{path}: the Mitsuba scene has no sensor to render from")
    shapes = list(scene.shapes())
    ids = {s.id() for s in shapes}
    table = parse_label_table(labels)
    if table:
        unknown = sorted(set(table) - set(ids))
        if unknown:
            raise FramebufError(f"labels: {path} has no shape {', '.join(map(repr, unknown))}; "
                                f"its shapes: {', '.join(sorted(repr(i) for i in ids if i))}")
        unlabelled = sorted({s.id() or "(no id)" for s in shapes if s.id() not in table})
        if unlabelled:
            warnings.warn(f"mitsuba: shapes without a label get 0: {', '.join(map(repr, unlabelled))}",
                          stacklevel=2)
        label_arr = np.array([table.get(s.id(), 0) for s in shapes], np.uint32)
    else:
        label_arr = np.arange(1, len(shapes) + 1, dtype=np.uint32)
    sensor = sensors[0]
    world = np.array(sensor.world_transform().matrix, np.float64)
    to_camera = _MITSUBA_TO_MR @ np.linalg.inv(world)
    integrator = scene.integrator() or mi.load_dict({"type": "path"})   # Mitsuba's default
    return PreparedScene(scene, integrator, label_arr, shapes,
                         np.zeros((len(shapes), 3)), sensor, to_camera)


def prepare_mi_scene(primitives, lights, geo, max_depth) -> PreparedScene:
    mi, _ = import_mitsuba()
    d, prims = scene_dict(primitives, lights, geo, max_depth)
    try:
        scene = mi.load_dict(d, optimize=False)
    except Exception as exc:
        first = next((ln for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
        raise FramebufError(f"mitsuba: cannot build the scene: {first.strip()}") from None
    shapes = list(scene.shapes())
    order = [int(s.id()[1:]) for s in shapes]          # shape index -> primitive index
    return PreparedScene(scene, scene.integrator(), prims.label[order].astype(np.uint32), shapes,
                         prims.velocity[order])


# ------------------------------------------------------------------------------------ tracing
@dataclass
class Traced:
    """Per-sample results of one batch (world space)."""

    t: np.ndarray        # float64, inf on a miss
    n: np.ndarray        # (N, 3) world shading normal, zero on a miss
    shape: np.ndarray    # int64 shape index, -1 on a miss
    L: np.ndarray        # (N, 3) radiance
    valid: np.ndarray    # float32 0/1


def trace_scalar(mi, prepared: PreparedScene, o, d, maxt, seeds) -> Traced:
    """One Mitsuba call per sample (``scalar_rgb``)."""
    count = o.shape[0]
    t = np.full(count, np.inf)
    n = np.zeros((count, 3))
    shape = np.full(count, -1, np.int64)
    L = np.zeros((count, 3))
    valid = np.zeros(count, np.float32)
    scene, integrator = prepared.scene, prepared.integrator
    # by identity, not id(): shapes without an id in an XML file all have the id ""
    index = {shp: k for k, shp in enumerate(prepared.shapes)}
    sampler = mi.load_dict({"type": "independent"})
    Ray3f, Point3f, Vector3f = mi.Ray3f, mi.Point3f, mi.Vector3f
    ol, dl, ml, sl = o.tolist(), d.tolist(), maxt.tolist(), seeds.tolist()
    for s in range(count):
        ray = Ray3f(Point3f(*ol[s]), Vector3f(*dl[s]), ml[s], 0.0, [])
        si = scene.ray_intersect(ray)
        if si.is_valid():
            t[s] = si.t
            nn = si.sh_frame.n
            n[s] = (nn[0], nn[1], nn[2])
            shape[s] = index[si.shape]
        sampler.seed(sl[s])
        rad, ok, _ = integrator.sample(scene, sampler, ray)
        if ok:
            L[s] = (rad[0], rad[1], rad[2])
            valid[s] = 1.0
    return Traced(t, n, shape, L, valid)


def sensor_rays_scalar(mi, sensor, u, v):
    count = u.shape[0]
    o = np.empty((count, 3))
    d = np.empty((count, 3))
    maxt = np.empty(count)
    Point2f = mi.Point2f
    half = Point2f(0.5, 0.5)
    for s, (a, b) in enumerate(zip(u.tolist(), v.tolist())):
        ray, _ = sensor.sample_ray(0.0, 0.5, Point2f(a, b), half)
        o[s] = (ray.o[0], ray.o[1], ray.o[2])
        d[s] = (ray.d[0], ray.d[1], ray.d[2])
        maxt[s] = ray.maxt
    return o, d, maxt


def _np(x):
    return np.asarray(x, np.float64)


def trace_vector(mi, dr, prepared: PreparedScene, o, d, maxt, seed32) -> Traced:
    """One Mitsuba call per batch (vectorised variants)."""
    count = o.shape[0]
    F = mi.Float
    ray = mi.Ray3f(mi.Point3f(F(o[:, 0]), F(o[:, 1]), F(o[:, 2])),
                   mi.Vector3f(F(d[:, 0]), F(d[:, 1]), F(d[:, 2])), F(maxt), F(0.0), mi.Color0f())
    si = prepared.scene.ray_intersect(ray)
    hit = si.is_valid()
    index = mi.Int32(-1)
    for k, shp in enumerate(prepared.shapes):
        index = dr.select(hit & (si.shape == mi.ShapePtr(shp)), k, index)
    nn = si.sh_frame.n
    sampler = mi.load_dict({"type": "independent"})
    sampler.seed(dr.opaque(mi.UInt32, int(seed32)), count)  # opaque: one kernel for every batch
    L, ok, _ = prepared.integrator.sample(prepared.scene, sampler, mi.RayDifferential3f(ray))
    dr.eval(si.t, nn, index, L, ok)
    hit_np = np.asarray(hit, bool)
    t = np.where(hit_np, _np(si.t), np.inf)
    n = np.stack([_np(nn.x), _np(nn.y), _np(nn.z)], axis=1) * hit_np[:, None]
    okn = np.asarray(ok, bool)
    rad = np.stack([_np(L.x), _np(L.y), _np(L.z)], axis=1) * okn[:, None]
    return Traced(t, n, np.asarray(index, np.int64), rad, okn.astype(np.float32))


def sensor_rays_vector(mi, sensor, u, v):
    F = mi.Float
    ray, _ = sensor.sample_ray(F(0.0), F(0.5), mi.Point2f(F(u), F(v)), mi.Point2f(0.5, 0.5))
    o = np.stack([_np(ray.o.x), _np(ray.o.y), _np(ray.o.z)], axis=1)
    d = np.stack([_np(ray.d.x), _np(ray.d.y), _np(ray.d.z)], axis=1)
    maxt = np.broadcast_to(_np(ray.maxt), (u.shape[0],)).copy()
    return o, d, maxt


# ------------------------------------------------------------------------------------ the source
class MitsubaSource:
    """The ``mitsuba`` sample source (module docstring): ``render(scene, seed=, progress=)``."""

    def __init__(self, variant: str = "auto", scene: str | None = None, labels=None,
                 max_depth=DEFAULT_MAX_DEPTH, batch_samples=BATCH_SAMPLES):
        import_mitsuba()
        try:
            self.max_depth = int(max_depth)
            self.batch_samples = max(1, int(batch_samples))
        except (TypeError, ValueError):
            raise FramebufError(f"mitsuba: max_depth and batch_samples must be integers, not "
                                f"{max_depth!r}, {batch_samples!r}") from None
        self.variant = choose_variant(variant)
        self.xml = scene
        self.labels = labels
        if labels and not scene:
            raise FramebufError("mitsuba: the labels table maps the shape ids of a scene=FILE.xml; "
                                "a .mi scene's primitives carry their own labels")
        self.timings: dict[str, float] = {}

    def render(self, scene_or_camera, *, seed: int = 0,
               progress: ProgressCallback | None = None) -> Iterator[SampleBatch]:
        import time

        from .raycast import RayCaster

        mi, dr = import_mitsuba()
        mi.set_variant(self.variant)
        camera, options, primitives, lights = RayCaster._unpack(scene_or_camera)
        geo = CameraGeometry.from_camera(camera)
        nax = samples_per_axis(options)
        t0 = time.perf_counter()
        if self.xml:
            prepared = load_xml_scene(self.xml, self.labels)
            film = prepared.sensor.film().size()
            if abs(film[0] / film[1] - geo.xres / geo.yres) > 1e-3 * geo.xres / geo.yres:
                warnings.warn(f"mitsuba: {self.xml}'s film is {film[0]}x{film[1]}, the .mi camera "
                              f"{geo.xres}x{geo.yres}: the picture is stretched to the .mi aspect",
                              stacklevel=2)
        else:
            prepared = prepare_mi_scene(primitives, lights, geo, self.max_depth)
        self.timings = {"load": time.perf_counter() - t0, "trace": 0.0}
        vector = self.variant != SCALAR
        cam = geo.as_array()
        useed = np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)
        x0, y0, x1, y1 = geo.window
        spp = nax * nax
        per_row = max(1, (x1 - x0) * spp)
        rows_per_batch = max(1, self.batch_samples // per_row)
        total = y1 - y0
        if progress is not None:
            progress(0, total)
        for r0 in range(y0, y1, rows_per_batch):
            r1 = min(y1, r0 + rows_per_batch)
            count = (r1 - r0) * (x1 - x0) * spp
            xs = np.empty(count, np.float64)
            ys = np.empty(count, np.float64)
            seeds = np.empty(count, np.uint64)
            if count:
                jitter_rows(useed, nax, geo.xres, x0, x1, r0, r1, xs, ys, seeds)
            t1 = time.perf_counter()
            values = self._samples(mi, dr, prepared, geo, cam, xs, ys, seeds, vector, r0, useed)
            self.timings["trace"] += time.perf_counter() - t1
            yield SampleBatch.dense(x0, r0, x1 - x0, r1 - r0, spp, x=xs, y=ys, **values)
            if progress is not None:
                progress(r1 - y0, total)

    def _samples(self, mi, dr, prepared, geo, cam, xs, ys, seeds, vector, row, useed):
        count = xs.shape[0]
        if prepared.sensor is None:
            o, d, maxt = camera_rays(geo, xs, ys)
        elif vector:
            o, d, maxt = sensor_rays_vector(mi, prepared.sensor, xs / geo.xres, ys / geo.yres)
        else:
            o, d, maxt = sensor_rays_scalar(mi, prepared.sensor, xs / geo.xres, ys / geo.yres)
        if count == 0:
            tr = Traced(np.zeros(0), np.zeros((0, 3)), np.zeros(0, np.int64), np.zeros((0, 3)),
                        np.zeros(0, np.float32))
        elif vector:
            batch_seed = int(_batch_seed(useed, np.uint64(row)))
            tr = trace_vector(mi, dr, prepared, o, d, maxt, batch_seed)
        else:
            tr = trace_scalar(mi, prepared, o, d, maxt, seeds)
        hit = tr.shape >= 0
        p_world = o + d * np.where(hit, tr.t, 0.0)[:, None]
        M = prepared.to_camera
        p_cam = p_world @ M[:3, :3].T + M[:3, 3]
        z = np.where(hit, -p_cam[:, 2], np.inf).astype(np.float32)
        # face the viewer, then into camera space
        flip = np.where((tr.n * d).sum(axis=1) > 0.0, -1.0, 1.0)
        n_cam = (tr.n * flip[:, None]) @ M[:3, :3].T
        length = np.linalg.norm(n_cam, axis=1)
        n_cam = np.where(length[:, None] > 0, n_cam / np.maximum(length, 1e-30)[:, None], 0.0)
        shape = np.where(hit, tr.shape, 0)
        tag = np.where(hit, prepared.labels[shape] if len(prepared.labels) else 0, 0).astype(np.uint32)
        m = np.zeros((count, 3), np.float32)
        vel = prepared.velocity[shape] * hit[:, None] if len(prepared.velocity) else np.zeros((count, 3))
        moving = np.flatnonzero(np.any(vel != 0.0, axis=1))
        if moving.size:
            a = np.empty((moving.size, 2))
            b = np.empty((moving.size, 2))
            _project_many(cam, np.ascontiguousarray(p_cam[moving]), a)
            _project_many(cam, np.ascontiguousarray(p_cam[moving] + vel[moving]), b)
            m[moving, :2] = b - a
        rgba = np.empty((count, 4), np.float32)
        rgba[:, :3] = tr.L
        rgba[:, 3] = tr.valid
        return {"rgba": rgba, "z": z, "n": n_cam.astype(np.float32), "m": m, "tag": tag}


@njit(cache=True)
def _batch_seed(seed, row):
    return _mix64(_mix64(seed ^ np.uint64(0x632BE59BD9B4E019)) + row) >> np.uint64(32)


@hookimpl
def framebuf_sample_sources():
    return [SampleSourceSpec(
        "mitsuba",
        "Mitsuba 3 path tracer (optional extra framebuf[mitsuba]): .mi primitives or a Mitsuba XML scene",
        MitsubaSource,
    )]
