"""Generators of multi-channel renders with known contents, in each channel layout.

``make_scene`` builds the truth: coverage masks (overlapping, anti-aliased, one empty, designed
ties), alpha, metric depth (+inf where nothing was hit), camera-space normals (OpenGL axes, null
where nothing was hit), a linear beauty. The ``write_*`` functions store it the way each renderer
names and structures its channels (reference "synthetic-human" 0 and 3), and return the truth *as
stored* (after rounding to the file's sample type), so tests compare exactly.

Mask values are multiples of 1/8: exact in half, and sums exact in float32, so the expected labels
do not depend on summation order.
"""

from __future__ import annotations

import numpy as np
import OpenEXR

OpenEXR_HALF = np.float16

#: face classes (all in the seed's face table) and clothing items (in the clothing table).
CLASSES = ("ear_left", "eye_left", "hair", "head", "nose", "teeth")
CLOTHING = ("long sleeve shirt", "shoe", "trousers")

#: world-to-camera of the Blender/Arnold fixtures: rotation about y by 30 degrees plus a shift,
#: as an OpenEXR (row-vector) matrix.
_ANGLE = np.radians(30.0)
_R = np.array([[np.cos(_ANGLE), 0, -np.sin(_ANGLE)], [0, 1, 0], [np.sin(_ANGLE), 0, np.cos(_ANGLE)]])
WORLD_TO_CAMERA = np.eye(4, dtype=np.float32)
WORLD_TO_CAMERA[:3, :3] = _R
WORLD_TO_CAMERA[3, :3] = (0.1, -0.2, 2.0)


def _q8(v):
    """Round coverage to multiples of 1/8 (exact in half and in float32 sums)."""
    return (np.round(np.clip(v, 0.0, 1.0) * 8) / 8).astype(np.float32)


def make_scene(height: int = 48, width: int = 64) -> dict:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    cx, cy, r = width * 0.5, height * 0.5, min(width, height) * 0.3
    dist = np.hypot(x - cx, y - cy)
    head = _q8(r + 0.5 - dist)                          # anti-aliased disc
    hair = np.zeros_like(head)
    hair[int(cy - r) - 2: int(cy - r) + 5, int(cx - r): int(cx + r)] = 1.0   # overlaps head: tie
    nose = np.zeros_like(head)
    nose[int(cy) + 1: int(cy) + 4, int(cx) - 1: int(cx) + 2] = 0.75
    head = np.where(nose > 0, 0.25, head).astype(np.float32)               # nose wins there
    eye = _q8(2.5 - np.hypot(x - (cx - r * 0.4), y - (cy - r * 0.2)))
    head = np.where(eye > 0, np.minimum(head, 1.0 - eye), head).astype(np.float32)
    ear = np.zeros_like(head)
    ex = int(cx - r) - 3
    ear[int(cy) - 2: int(cy) + 3, ex: ex + 3] = 0.5     # ear 0.5 alone: ties background
    ear[int(cy) - 2: int(cy) + 3, ex + 3: ex + 5] = 0.5
    head[int(cy) - 2: int(cy) + 3, ex + 3: ex + 5] = 0.5  # ear 0.5 + head 0.5: ear (alphabetical)
    masks = {"ear_left": ear, "eye_left": eye, "hair": hair, "head": head, "nose": nose,
             "teeth": np.zeros_like(head)}              # teeth: an empty mask
    shirt = np.zeros_like(head)
    shirt[height - 8:, width // 4: 3 * width // 4] = 1.0
    shoe = np.zeros_like(head)
    shoe[height - 4:, : width // 4 + 2] = 0.625          # overlaps the shirt by 2 columns
    clothing = {"long sleeve shirt": shirt, "shoe": shoe, "trousers": np.zeros_like(head)}
    cover = np.clip(sum(masks.values()) + sum(clothing.values()), 0, 1).astype(np.float32)
    alpha = _q8(cover)
    fg = alpha > 0
    depth = np.where(fg, 1.25 + 0.01 * x + 0.005 * y, np.inf).astype(np.float32)
    nx, ny = (x - cx) / (r + 1), -(y - cy) / (r + 1)   # y up in camera space
    nz = np.sqrt(np.clip(1 - nx ** 2 - ny ** 2, 0, 1))
    normals = np.stack([nx, ny, nz], -1)
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    normals[~fg] = 0.0
    rgb = np.stack([x / width * 1.2, y / height, 0.25 + 0 * x], -1).astype(np.float32) * alpha[..., None]
    zf = np.where(fg, depth, 0.0)
    points = np.where(fg[..., None], normals * 0.1 + np.stack([x, y, -zf], -1), 0.0).astype(np.float32)
    return {"height": height, "width": width, "masks": masks, "clothing": clothing, "alpha": alpha,
            "depth": depth, "normals": normals.astype(np.float32), "rgb": rgb, "points": points}


def expected_labels(masks: dict, values: dict | None = None) -> tuple[np.ndarray, dict]:
    """Independent argmax: planes [background = 1 - sum, classes alphabetically]; np.argmax picks
    the first maximum, so background wins ties, then the alphabetically first class.
    Returns (labels uint16, mapping); ``values`` defaults to the per-image numbering."""
    classes = sorted(masks)
    if values is None:
        values = {"background": 0, **{c: i + 1 for i, c in enumerate(classes)}}
    stack = np.stack([masks[c].astype(np.float32) for c in classes])
    total = np.zeros(stack.shape[1:], np.float32)
    for plane in stack:  # float32 running sum in class order, then 1 - sum exactly (float64)
        total += plane
    bg = (1.0 - total.astype(np.float64))[None]
    idx = np.argmax(np.concatenate([bg, stack.astype(np.float64)]), 0)
    lut = np.array([values["background"]] + [values[c] for c in classes], np.uint16)
    return lut[idx], {k: values[k] for k in ["background", *classes] if k in values}


def _as_file(truth: dict, dtype) -> dict:
    """The truth rounded to the file's sample type, back in float32 (inf stays inf)."""
    out = dict(truth)
    for key in ("alpha", "depth", "normals", "rgb", "points"):
        out[key] = truth[key].astype(dtype).astype(np.float32)
    out["masks"] = {k: v.astype(dtype).astype(np.float32) for k, v in truth["masks"].items()}
    out["clothing"] = {k: v.astype(dtype).astype(np.float32) for k, v in truth["clothing"].items()}
    return out


def _header(compression=OpenEXR.ZIP_COMPRESSION, **extra) -> dict:
    h = {"compression": compression, "type": OpenEXR.scanlineimage}
    h.update(extra)
    return h


def _write(path, header, channels) -> None:
    # OpenEXR.File swaps the dict's arrays in place: hand it copies
    OpenEXR.File(header, {k: np.ascontiguousarray(v).copy() for k, v in channels.items()}).write(str(path))


def _world_normals(n_gl: np.ndarray) -> np.ndarray:
    """Camera (OpenGL axes) -> world through WORLD_TO_CAMERA (row vectors, camera looking down +z)."""
    n_exr = n_gl * np.array([1, 1, -1], np.float32)
    return (n_exr.reshape(-1, 3) @ _R.T).reshape(n_gl.shape).astype(np.float32)


def write_vray(path, height=48, width=64, dtype=np.float16, compression=OpenEXR.ZIP_COMPRESSION,
               normals="CameraNormals", clothing=True, extra=True, depth_background=np.inf) -> dict:
    """The seed's V-Ray names: R G B A, Z, CameraNormals.RGB (or mirrored-x normals.XYZ),
    CameraPoints.RGB, segmentation.<part> and the empty ``segmentation`` pass,
    binary_segmentation.foreground, clothing_segmentation.<item>; zmin/zmax, cryptomatte keys."""
    truth = _as_file(make_scene(height, width), dtype)
    ch = {c: truth["rgb"][..., i] for i, c in enumerate("RGB")}
    ch["A"] = truth["alpha"]
    z = truth["depth"].copy()
    z[~np.isfinite(z)] = depth_background
    ch["Z"] = z
    if normals == "CameraNormals":
        for i, c in enumerate("RGB"):
            ch[f"CameraNormals.{c}"] = truth["normals"][..., i]
    else:
        for i, c in enumerate("XYZ"):
            ch[f"normals.{c}"] = truth["normals"][..., i] * (-1 if c == "X" else 1)
    for i, c in enumerate("RGB"):
        ch[f"CameraPoints.{c}"] = truth["points"][..., i]
    for name, m in truth["masks"].items():
        ch[f"segmentation.{name}"] = m
    ch["segmentation"] = np.zeros((height, width), np.float32)
    ch["binary_segmentation.foreground"] = (truth["alpha"] > 0).astype(np.float32)
    if clothing:
        for name, m in truth["clothing"].items():
            ch[f"clothing_segmentation.{name}"] = m
    else:
        truth["clothing"] = {}
    if extra:
        for c in "RGB":
            ch[f"denoiser.{c}"] = truth["rgb"][..., "RGB".index(c)]
        ch["noiseLevel"] = np.full((height, width), 0.01, np.float32)
    ch = {k: v.astype(dtype) for k, v in ch.items()}
    header = _header(compression, zmin=0.0, zmax=100.0, comments="framebuf test render (V-Ray names)",
                     **{"cryptomatte/881c23b/name": "cryptomatte",
                        "cryptomatte/881c23b/hash": "MurmurHash3_32",
                        "cryptomatte/881c23b/conversion": "uint32_to_float32",
                        "cryptomatte/881c23b/manifest": '{"bunny":"13851a76","default":"42c9679f"}'})
    _write(path, header, ch)
    truth["layout"] = "vray"
    return truth


def _blender_channels(truth, dtype, layer="ViewLayer", long_names=False):
    """{pass: {channel letter: array}} for a Blender render."""
    h, w = truth["height"], truth["width"]
    passes = {"Combined": {**{c: truth["rgb"][..., i] for i, c in enumerate("RGB")}, "A": truth["alpha"]}}
    z = truth["depth"].copy()
    z[~np.isfinite(z)] = 1e10           # Cycles' "nothing hit"
    passes["Depth"] = {"Z": z.astype(np.float32)}
    wn = _world_normals(truth["normals"])
    passes["Normal"] = {c: wn[..., i] for i, c in enumerate("XYZ")}
    passes["Object Index" if long_names else "IndexOB"] = {"X": (truth["alpha"] > 0).astype(np.float32)}
    for name, m in truth["masks"].items():
        passes[f"segmentation_{name}"] = {"X": m}
    for name, m in truth["clothing"].items():
        passes[f"clothing_segmentation_{name}"] = {"X": m}
    out = {}
    for p, chans in passes.items():
        out[f"{layer}.{p}"] = {c: (a if p == "Depth" else a.astype(dtype)) for c, a in chans.items()}
    return out


def write_blender4(path, height=48, width=64, dtype=np.float16, compression=OpenEXR.ZIP_COMPRESSION,
                   camera=True) -> dict:
    """Blender 4.x multilayer, single part: ViewLayer.Combined.R ..., ViewLayer.Depth.Z (float,
    1e10 where nothing was hit), ViewLayer.Normal.X (world space), ViewLayer.IndexOB.X, value AOVs
    ViewLayer.segmentation_<part>.X."""
    truth = _as_file(make_scene(height, width), dtype)
    truth["depth"] = make_scene(height, width)["depth"]  # depth is float32 in Blender files
    ch = {}
    for layer, chans in _blender_channels(truth, dtype).items():
        for c, a in chans.items():
            ch[f"{layer}.{c}"] = a
    extra = {"worldToCamera": WORLD_TO_CAMERA} if camera else {}
    _write(path, _header(compression, **extra), ch)
    truth["layout"] = "blender4"
    return truth


def write_blender5(path, height=48, width=64, dtype=np.float16, compression=OpenEXR.ZIP_COMPRESSION,
                   camera=True) -> dict:
    """Blender 5.x multi-part: one part per pass (``ViewLayer.Depth`` holding ``Z``), long pass
    names (``Object Index``)."""
    truth = _as_file(make_scene(height, width), dtype)
    truth["depth"] = make_scene(height, width)["depth"]
    parts = []
    extra = {"worldToCamera": WORLD_TO_CAMERA} if camera else {}
    for layer, chans in _blender_channels(truth, dtype, long_names=True).items():
        parts.append(OpenEXR.Part(_header(compression, **extra),
                                  {c: np.ascontiguousarray(a).copy() for c, a in chans.items()}, name=layer))
    OpenEXR.File(parts).write(str(path))
    truth["layout"] = "blender5"
    return truth


def write_arnold(path, height=48, width=64, dtype=np.float16, compression=OpenEXR.ZIP_COMPRESSION) -> dict:
    """Arnold: R G B A, Z (float, inf where nothing was hit), N.X/Y/Z and P.X/Y/Z world space,
    float AOVs segmentation_<part>; worldToCamera in the header."""
    truth = _as_file(make_scene(height, width), dtype)
    truth["depth"] = make_scene(height, width)["depth"]
    ch = {c: truth["rgb"][..., i].astype(dtype) for i, c in enumerate("RGB")}
    ch["A"] = truth["alpha"].astype(dtype)
    ch["Z"] = truth["depth"]
    wn = _world_normals(truth["normals"])
    for i, c in enumerate("XYZ"):
        ch[f"N.{c}"] = wn[..., i].astype(dtype)
        ch[f"P.{c}"] = truth["points"][..., i].astype(dtype)
    for name, m in truth["masks"].items():
        ch[f"segmentation_{name}"] = m.astype(dtype)
    truth["clothing"] = {}
    _write(path, _header(compression, worldToCamera=WORLD_TO_CAMERA), ch)
    truth["layout"] = "arnold"
    return truth


WRITERS = {"vray": write_vray, "blender4": write_blender4, "blender5": write_blender5,
           "arnold": write_arnold}


def write_many_channels(path, height=512, width=512, n_masks=50, seed=0,
                        compression=OpenEXR.ZIP_COMPRESSION) -> list[str]:
    """A benchmark render: 61 half channels (RGBA, Z, CameraNormals, CameraPoints, 50 masks).

    Masks are anti-aliased discs scattered over the frame (overlapping), the beauty a gradient
    with a little noise, as a denoised render looks. Returns the mask class names."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    ch = {}
    base = np.stack([x / width, y / height, 0.5 * (x + y) / (width + height)], -1)
    base += rng.normal(0, 0.01, base.shape)
    names = [f"part_{i:02d}" for i in range(n_masks)]
    total = np.zeros((height, width), np.float32)
    for name in names:
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(width * 0.04, width * 0.15)
        m = np.clip(r + 0.5 - np.hypot(x - cx, y - cy), 0, 1)
        ch[f"segmentation.{name}"] = m.astype(np.float16)
        total += m
    alpha = np.clip(total, 0, 1)
    for i, c in enumerate("RGB"):
        ch[c] = (base[..., i] * alpha).astype(np.float16)
    ch["A"] = alpha.astype(np.float16)
    ch["Z"] = np.where(alpha > 0, 1.0 + 0.002 * x + 0.001 * y, np.inf).astype(np.float16)
    n = np.stack([(x - width / 2) / width, (height / 2 - y) / height, np.full_like(x, 0.8)], -1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    for i, c in enumerate("RGB"):
        ch[f"CameraNormals.{c}"] = (n[..., i] * (alpha > 0)).astype(np.float16)
        ch[f"CameraPoints.{c}"] = (n[..., i] * 1.5).astype(np.float16)
    _write(path, _header(compression, zmin=0.0, zmax=100.0), ch)
    return names


def render_like_masks(height=512, width=512, n_masks=50, seed=0) -> np.ndarray:
    """(n_masks, H, W) float32 coverage that partitions the frame into ``n_masks`` regions.

    The regions are Voronoi cells of jittered seeds in a smoothly warped plane (curved borders,
    as body parts or objects are), and every pixel holds the box-filtered coverage of the cells
    it touches: exactly 1 inside a cell, 0 away from it, and a soft anti-aliased ramp about one
    to two pixels wide across each border. The planes sum to 1 (up to float rounding)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64) + 0.5
    s = max(height, width)
    # smooth low-frequency warp (a few pixels to a few tens of pixels), gradient well below 1
    wx = x + 0.04 * s * np.sin(2 * np.pi * (y / s * 1.3 + rng.uniform()))
    wy = y + 0.04 * s * np.sin(2 * np.pi * (x / s * 1.1 + rng.uniform()))
    # seeds on a jittered grid: cells of comparable size, as parts of a segmented figure
    g = int(np.ceil(np.sqrt(n_masks)))
    cells = rng.permutation(g * g)[:n_masks]
    sx = (cells % g + rng.uniform(0.15, 0.85, n_masks)) / g * width
    sy = (cells // g + rng.uniform(0.15, 0.85, n_masks)) / g * height
    d2 = (wx[None] - sx[:, None, None]) ** 2 + (wy[None] - sy[:, None, None]) ** 2
    order = np.argsort(d2, axis=0)[:2]
    a, b = order[0], order[1]
    pa = np.stack([sx[a], sy[a]], -1)
    pb = np.stack([sx[b], sy[b]], -1)
    # distance (in pixels) from the pixel centre to the a/b bisector, on a's side
    da = np.take_along_axis(d2, a[None], 0)[0]
    db = np.take_along_axis(d2, b[None], 0)[0]
    h = (db - da) / (2 * np.linalg.norm(pa - pb, axis=-1))
    # box filter of a straight edge over a pixel (width ~1.5 px once warped): coverage of a
    cov_a = np.clip(0.5 + h / 1.5, 0.5, 1.0)
    masks = np.zeros((n_masks, height, width), np.float32)
    rows, cols = np.indices((height, width))
    masks[a, rows, cols] = cov_a
    masks[b, rows, cols] += 1.0 - cov_a
    return masks


def write_render_like(path, height=512, width=512, n_masks=50, seed=0,
                      compression=OpenEXR.ZIP_COMPRESSION) -> list[str]:
    """A render as a segmentation dataset's renderer leaves it: 61 half channels (R G B A, Z,
    CameraNormals.RGB, CameraPoints.RGB, ``n_masks`` masks ``segmentation.<part>``).

    The masks partition the frame with soft one-to-two-pixel borders (:func:`render_like_masks`:
    mostly exactly 0 or 1); depth is a smooth surface, normals its gradient, the beauty a
    per-part albedo lit by those normals (smooth, as a denoised render), blended across the
    borders by coverage. Returns the mask class names."""
    rng = np.random.default_rng(seed + 1000)
    masks = render_like_masks(height, width, n_masks, seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    u, v = x / width, y / height
    z = (2.0 + 0.6 * np.sin(3.1 * u + 0.7) * np.cos(2.3 * v) + 0.4 * u).astype(np.float32)
    gy, gx = np.gradient(z * width)
    n = np.stack([-gx / width * 2, gy / height * 2, np.ones_like(z)], -1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    light = np.array([0.4, 0.5, 0.77], np.float32)
    shade = np.clip(n @ (light / np.linalg.norm(light)), 0, 1)[..., None]
    albedo = rng.uniform(0.05, 0.9, (n_masks, 3)).astype(np.float32)
    rgb = np.einsum("khw,kc->hwc", masks, albedo) * (0.15 + 0.85 * shade)
    names = [f"part_{i:02d}" for i in range(n_masks)]
    ch = {c: rgb[..., i].astype(np.float16) for i, c in enumerate("RGB")}
    ch["A"] = np.ones((height, width), np.float16)
    ch["Z"] = z.astype(np.float16)
    pts = np.stack([(u - 0.5) * z, (0.5 - v) * z, -z], -1)
    for i, c in enumerate("RGB"):
        ch[f"CameraNormals.{c}"] = n[..., i].astype(np.float16)
        ch[f"CameraPoints.{c}"] = pts[..., i].astype(np.float16)
    for name, m in zip(names, masks):
        ch[f"segmentation.{name}"] = m.astype(np.float16)
    _write(path, _header(compression, zmin=float(z.min()), zmax=float(z.max())), ch)
    return names
