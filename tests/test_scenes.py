"""Every scene in scenes/: rendered once per module, every output read back and checked.

Generic checks (parametrised over the folder, so a new scene is covered automatically): each file
the render reports exists with its size, in its format, with the camera's size, the channels and
sample types of its data types; read with OpenImageIO where it knows the format, else with
framebuf's own reader. The dry-run plan names the same files.

Specific checks compare pixels with values worked out by hand from the scene: the camera formula
of ``framebuf.sources.raycast`` projects the primitives of ``scenes/_objects.mi``, and a ray cast
in the test (a few lines of numpy, independent of the Numba kernels) gives the depth, normal and
motion bounds over a pixel.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import framebuf
from framebuf.scene import load
from framebuf.scene.execute import plan_scene, render_scene

from helpers import oiio_read

SCENES_DIR = Path(__file__).resolve().parent.parent / "scenes"
SCENES = sorted(p.stem for p in SCENES_DIR.glob("*.mi") if not p.name.startswith("_"))
SEED = 3

#: framebuf format name -> OpenImageIO's format name, for the formats OIIO reads.
OIIO_FORMATS = {
    "exr": "openexr", "png": "png", "tif": "tiff", "tifu": "tiff", "rgb": "sgi", "iff": "iff",
    "rla": "rla", "pic": "softimage", "hdr": "hdr", "ppm": "pnm", "tga": "targa", "bmp": "bmp",
    "jpg": "jpeg",
}
#: a data type's sample type -> the OIIO pixel type of its channels (most formats).
OIIO_SAMPLE = {"u8": "uint8", "u16": "uint16", "f16": "half", "f32": "float", "u32": "uint"}


# ------------------------------------------------------------------------------------ rendering
@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """scene name -> RenderResult, each scene rendered at most once per module."""
    cache = {}

    def get(name):
        if name not in cache:
            out = tmp_path_factory.mktemp(name)
            cache[name] = render_scene(load(SCENES_DIR / f"{name}.mi"), out, seed=SEED)
        return cache[name]

    return get


def by_name(result, name):
    return next(f for f in result.files if f.path.name == name)


def oiio_channels(path):
    """{channel name: float array (h, w)} and the spec, through OpenImageIO."""
    px, spec = oiio_read(path, "float")
    return {n: px[:, :, i] for i, n in enumerate(spec.channelnames)}, spec


# ------------------------------------------------------------------------------------ geometry
@dataclass
class Cam:
    """The ray caster's camera (module docstring of framebuf.sources.raycast), in numpy."""

    xres: int
    yres: int
    focal: float
    aperture: float
    aspect: float

    @classmethod
    def of(cls, scene):
        c = scene.camera
        return cls(int(c.resolution[0]), int(c.resolution[1]), c.focal, c.aperture, c.aspect)

    def project(self, p):
        """Raster (x, y down) of a camera-space point."""
        sx, sy = self.focal * p[0] / -p[2], self.focal * p[1] / -p[2]
        x = (sx / self.aperture + 0.5) * self.xres
        y_up = (sy / (self.aperture / self.aspect) + 0.5) * self.yres
        return x, self.yres - y_up

    def pixel(self, p):
        x, y = self.project(p)
        return int(math.floor(x)), int(math.floor(y))

    def rays(self, i, j, n=9):
        """Directions through an n x n grid of points covering pixel (i, j), corners included."""
        t = np.linspace(0.0, 1.0, n)
        x, y = np.meshgrid(i + t, j + t)
        sx = (x / self.xres - 0.5) * self.aperture
        sy = ((self.yres - y) / self.yres - 0.5) * (self.aperture / self.aspect)
        return np.stack([sx.ravel(), sy.ravel(), np.full(sx.size, -self.focal)], axis=1)

    def motion(self, points, velocity):
        """Raster motion (dx, dy up) of camera-space points moving by ``velocity``."""
        out = []
        for p in points:
            x0, y0 = self.project(p)
            x1, y1 = self.project(p + np.asarray(velocity))
            out.append((x1 - x0, -(y1 - y0)))
        return np.array(out)


def hit_sphere(dirs, centre, radius):
    """Front hit points and unit normals (facing the camera) of rays from the origin."""
    c = np.asarray(centre, float)
    a = (dirs * dirs).sum(1)
    b = dirs @ c
    disc = b * b - a * (c @ c - radius * radius)
    assert (disc > 0).all(), "every ray of the pixel must hit the sphere"
    t = (b - np.sqrt(disc)) / a
    p = dirs * t[:, None]
    return p, (p - c) / radius


def sphere_bounds(cam, scene, name, pixel=None):
    """The pixel of a sphere's centre and (points, normals) of the sphere over that pixel."""
    prim = primitive(scene, name)
    i, j = pixel or cam.pixel(prim.params["center"])
    p, n = hit_sphere(cam.rays(i, j), prim.params["center"], prim.params["radius"])
    return (i, j), p, n


def primitive(scene, name):
    return next(p for p in scene.primitives if p.name == name)


def crate_interior(cam, scene, margin=3):
    """Pixels well inside the crate's front face (z = max z of the box), away from the glass."""
    prim = primitive(scene, "crate")
    lo, hi = prim.params["min"], prim.params["max"]
    x0, y1 = cam.project((lo[0], lo[1], hi[2]))
    x1, y0 = cam.project((hi[0], hi[1], hi[2]))
    glass = primitive(scene, "glass")
    gx, gy = cam.project(glass.params["center"])
    ys = slice(int(math.ceil(max(y0, gy + 0.3 * cam.yres))) + margin, int(y1) - margin)
    xs = slice(int(math.ceil(x0)) + margin, int(x1) - margin)
    return ys, xs, -hi[2]


def edge_pixels(labels):
    """Pixels whose 3x3 neighbourhood holds more than one label."""
    p = np.pad(labels, 1, mode="edge")
    h, w = labels.shape
    same = np.ones((h, w), bool)
    for dy in range(3):
        for dx in range(3):
            same &= p[dy:dy + h, dx:dx + w] == labels
    return ~same


SKY = (1, 1)  # (x, y): top-left corner, above the horizon and clear of every object


# ------------------------------------------------------------------------------------ generic
def expected_oiio_types(fmt, datatypes):
    types = []
    for name in datatypes:
        dt = framebuf.datatype(name)
        if fmt == "exr":
            # EXR has no 8-bit samples: a, rgb, rgba are HALF holding k/255
            # tag is UINT, as every renderer's EXR ids
            types += ["half" if dt.sample in ("u8", "f16") else
                      "uint" if dt.sample == "u32" else "float"] * dt.components
        elif fmt == "hdr":
            types += ["float"] * 3  # RGBE decodes to float RGB
        else:
            types += [OIIO_SAMPLE[dt.sample]] * dt.components
    return types


@pytest.mark.parametrize("name", SCENES)
def test_every_output_is_in_its_format_type_and_size(rendered, name):
    result = rendered(name)
    scene = result.scene
    w, h = scene.camera.resolution
    assert result.files, f"{name} wrote no files"
    assert (result.buffers.width, result.buffers.height) == (w, h)
    for f in result.files:
        assert f.path.is_file(), f.path
        assert f.path.stat().st_size == f.bytes > 0
        assert f.path.parent == result.outdir or result.outdir in f.path.parents
        datatypes = f.datatype.split(",")
        if f.format in OIIO_FORMATS:
            import OpenImageIO as oiio

            inp = oiio.ImageInput.open(str(f.path))
            assert inp is not None, oiio.geterror()
            try:
                spec = inp.spec()
                assert inp.format_name() == OIIO_FORMATS[f.format], f.path.name
                assert (spec.width, spec.height) == (w, h), f.path.name
                want = expected_oiio_types(f.format, datatypes)
                got = [str(t) for t in spec.channelformats] or [str(spec.format)] * spec.nchannels
                assert spec.nchannels == len(want), (f.path.name, list(spec.channelnames))
                assert Counter(got) == Counter(want), (f.path.name, got, want)
                if not spec.deep:       # deep pixels: tests/test_deep.py reads them
                    px = inp.read_image(0, spec.nchannels, "float")
                    assert px is not None and np.asarray(px).shape[:2] == (h, w)
            finally:
                inp.close()
        else:
            image = framebuf.read_image(f.path)
            assert image.info["format"] == f.format, f.path.name
            assert [layer.datatype.name for layer in image.layers] == datatypes
            for layer in image.layers:
                assert layer.pixels.shape == (h, w, layer.datatype.components)
                assert layer.pixels.dtype == layer.datatype.file_dtype


@pytest.mark.parametrize("name", SCENES)
def test_dry_run_plans_exactly_the_files_written(rendered, name):
    result = rendered(name)
    planned, _ = plan_scene(result.scene, result.outdir)
    files = [(p.path, p.format) for p in planned if p.format != "null"]
    assert sorted(files) == sorted((f.path, f.format) for f in result.files)
    assert sorted(p.path for p in planned if p.format == "null") == sorted(result.removed)
    for p in result.removed:
        assert not p.exists()


def test_the_folder_has_every_scene_the_tests_name():
    assert {"demo", "filtered_output", "depth_rules", "normal_rules", "motion_rules",
            "label_rules", "multibuffer_exr", "legacy_formats", "synthetic_human",
            "example_plugin"} <= set(SCENES)


# ------------------------------------------------------------------------------------ labels
def test_label_rules(rendered):
    result = rendered("label_rules")
    scene, cam = result.scene, Cam.of(result.scene)
    mx = framebuf.read(by_name(result, "labels_max.tt").path)["tag"].data[:, :, 0]
    last = framebuf.read(by_name(result, "labels_last.tt").path)["tag"].data[:, :, 0]
    cov = oiio_channels(by_name(result, "coverage.exr").path)[0]["A"]
    assert mx.dtype == last.dtype == np.uint32
    for name, label in (("ball", 2), ("glass", 4)):
        i, j = cam.pixel(primitive(scene, name).params["center"])
        assert mx[j, i] == last[j, i] == label, name
        assert cov[j, i] == 1.0
    ys, xs, _ = crate_interior(cam, scene)
    assert (mx[ys, xs] == 3).all() and (last[ys, xs] == 3).all()
    assert (mx[-3:, :] == 1).all(), "bottom rows see the ground"
    assert mx[SKY[1], SKY[0]] == last[SKY[1], SKY[0]] == 0 and cov[SKY[1], SKY[0]] == 0.0
    assert set(np.unique(mx)) == {0, 1, 2, 3, 4}
    # + keeps the maximum, - the last sample: never above the maximum, different on some edges
    assert (mx >= last).all()
    differ = mx != last
    assert differ.sum() > 20
    edges = edge_pixels(mx)
    assert (edges[differ]).all(), "labels differ only on edge pixels"
    # coverage: multiples of 1/16 (16 samples), 1 inside objects, partial only on edges
    assert np.allclose(cov * 16, np.rint(cov * 16))
    partial = (cov > 0) & (cov < 1)
    assert partial.sum() > 50
    assert edges[partial].all()
    assert (cov[~edges & (mx != 0)] == 1.0).all()
    assert (cov[mx == 0] == 0.0).all()
    assert (cov[differ] < 1).all(), "a pixel with two labels cannot be fully covered by one"


# ------------------------------------------------------------------------------------ depth
def test_depth_rules(rendered):
    result = rendered("depth_rules")
    scene, cam = result.scene, Cam.of(result.scene)
    path_zt = by_name(result, "depth_min.zt").path
    zmin = framebuf.read(path_zt)["z"].data[:, :, 0]
    zavg = oiio_channels(by_name(result, "depth_avg.exr").path)[0]["Z"]
    # zt's convention, from the raw bytes: 0 where nothing was hit (+inf in memory), bottom row first
    raw = path_zt.read_bytes()
    assert raw[0] == 8 and int.from_bytes(raw[2:4], "big") == cam.xres
    disk = np.frombuffer(raw[8:], ">f4").reshape(cam.yres, cam.xres)[::-1]
    assert np.isposinf(zmin[SKY[1], SKY[0]]) and disk[SKY[1], SKY[0]] == 0.0
    assert ((disk == 0) == np.isinf(zmin)).all()
    assert np.array_equal(disk[disk != 0], zmin[disk != 0])
    # the same pixels are hit in both; the minimum never exceeds the average
    hit = np.isfinite(zmin)
    assert (np.isfinite(zavg) == hit).all() and (~hit).sum() > 100
    assert (zmin[hit] <= zavg[hit]).all()
    # silhouettes (label edges of the same camera, from label_rules.mi): the minimum is the
    # nearer object, the average a blend, so there it is strictly less; inside ball and crate the
    # depth barely changes across a pixel
    labels = framebuf.read(by_name(rendered("label_rules"), "labels_max.tt").path)["tag"].data[:, :, 0]
    edges = edge_pixels(labels)
    assert (zmin[edges & hit] < zavg[edges & hit]).sum() > 100
    assert (zmin[edges & hit] < zavg[edges & hit] - 0.5).sum() > 20
    ball = primitive(scene, "ball").params
    bx, by = cam.project(ball["center"])
    yy, xx = np.mgrid[0:cam.yres, 0:cam.xres]
    core = (xx + 0.5 - bx) ** 2 + (yy + 0.5 - by) ** 2 < 10 ** 2  # half the ball's ~23 px radius
    assert (labels[core] == 2).all() and (zavg[core] - zmin[core]).max() < 0.05
    # crate front face: a plane at constant depth
    ys, xs, z_face = crate_interior(cam, scene)
    assert np.allclose(zmin[ys, xs], z_face, rtol=1e-6) and np.allclose(zavg[ys, xs], z_face, rtol=1e-6)
    # the ball's centre pixel: the sphere's front surface, within the spread over the pixel
    (i, j), p, _ = sphere_bounds(cam, scene, "ball")
    depths = -p[:, 2]
    lo, hi = depths.min() - 1e-4, depths.max() + 1e-4
    assert lo <= zmin[j, i] <= zavg[j, i] <= hi
    c, r = primitive(scene, "ball").params["center"], primitive(scene, "ball").params["radius"]
    assert abs(zavg[j, i] - (-c[2] - r)) < 0.03  # centre distance minus radius


# ------------------------------------------------------------------------------------ normals
def test_normal_rules(rendered):
    result = rendered("normal_rules")
    scene, cam = result.scene, Cam.of(result.scene)
    avg = framebuf.read(by_name(result, "normals_avg.nt").path)["n"].data
    ch = oiio_channels(by_name(result, "normals_last.exr").path)[0]
    last = np.stack([ch["X"], ch["Y"], ch["Z"]], axis=2)
    la, ll = np.linalg.norm(avg, axis=2), np.linalg.norm(last, axis=2)
    # background: null vector in both
    assert (avg[SKY[1], SKY[0]] == 0).all() and (last[SKY[1], SKY[0]] == 0).all()
    assert (la == 0).sum() > 100
    # "-n" is one sample's normal: unit length wherever something was hit
    assert np.allclose(ll[ll > 0], 1.0, atol=1e-5)
    # "+n" averages: never longer than 1, clearly shorter on some edges
    assert (la <= 1 + 1e-5).all()
    short = (la > 0) & (la < 0.95)
    assert short.sum() > 20
    # the ground (bottom rows): straight up; the crate's front face: towards the camera
    assert np.allclose(avg[-3:], (0, 1, 0), atol=1e-6) and np.allclose(last[-3:], (0, 1, 0), atol=1e-6)
    ys, xs, _ = crate_interior(cam, scene)
    assert np.allclose(avg[ys, xs], (0, 0, 1), atol=1e-6)
    assert np.allclose(last[ys, xs], (0, 0, 1), atol=1e-6)
    # the ball's centre pixel: the sphere's normal over the pixel
    (i, j), _, n = sphere_bounds(cam, scene, "ball")
    for v in (avg[j, i], last[j, i]):
        assert ((n.min(0) - 1e-3 <= v) & (v <= n.max(0) + 1e-3)).all(), (v, n.min(0), n.max(0))
    assert la[j, i] > 0.999


# ------------------------------------------------------------------------------------ motion
def test_motion_rules(rendered):
    result = rendered("motion_rules")
    scene, cam = result.scene, Cam.of(result.scene)
    avg = framebuf.read(by_name(result, "motion_avg.mt").path)["m"].data
    ch = oiio_channels(by_name(result, "motion_last.exr").path)[0]
    last = np.stack([ch["X"], ch["Y"], ch["Z"]], axis=2)
    # the ball moves right: dx from the projection, dy 0
    ball = primitive(scene, "ball")
    (i, j), p, _ = sphere_bounds(cam, scene, "ball")
    mv = cam.motion(p, ball.params["velocity"])
    for v in (avg[j, i], last[j, i]):
        assert mv[:, 0].min() - 1e-3 <= v[0] <= mv[:, 0].max() + 1e-3, (v, mv[:, 0].min(), mv[:, 0].max())
        assert abs(v[1]) < 1e-5 and v[2] == 0
    assert avg[j, i, 0] > 15  # 1.2 * 0.6 / 4.02 * 96 pixels
    # the glass moves down: dy negative (mental ray raster, y up), dx 0
    glass = primitive(scene, "glass")
    (i, j), p, _ = sphere_bounds(cam, scene, "glass")
    mv = cam.motion(p, glass.params["velocity"])
    v = avg[j, i]
    assert mv[:, 1].min() - 1e-3 <= v[1] <= mv[:, 1].max() + 1e-3 and v[1] < -4
    assert abs(v[0]) < 1e-5
    # static: the crate, the ground, and the sky (nothing hit)
    ys, xs, _ = crate_interior(cam, scene)
    assert (avg[ys, xs] == 0).all() and (last[ys, xs] == 0).all()
    assert (avg[-3:] == 0).all() and (avg[SKY[1], SKY[0]] == 0).all()
    # motion exactly where some sample saw the ball or the glass: the label_rules render has the
    # same camera, objects and seed (so the same samples); its "+tag" keeps the maximum label,
    # which is 2 or 4 exactly there (the crate hides the glass, the ball overlaps nothing)
    labels = framebuf.read(by_name(rendered("label_rules"), "labels_max.tt").path)["tag"].data[:, :, 0]
    moving = np.linalg.norm(avg, axis=2) > 0
    assert moving.sum() > 100
    assert np.array_equal(moving, np.isin(labels, (2, 4)))


# ------------------------------------------------------------------------------------ filtered
def box_filter(img, r):
    """(2r+1)^2 mean with the taps outside the image dropped (independent of shaders/filters)."""
    h, w, _ = img.shape
    p = np.pad(img.astype(np.float64), ((r, r), (r, r), (0, 0)))
    ones = np.pad(np.ones((h, w, 1)), ((r, r), (r, r), (0, 0)))
    s = sum(p[dy:dy + h, dx:dx + w] for dy in range(2 * r + 1) for dx in range(2 * r + 1))
    n = sum(ones[dy:dy + h, dx:dx + w] for dy in range(2 * r + 1) for dx in range(2 * r + 1))
    return s / n


def quantise_rgba(px):
    """colorclip rgb (RGB to [0,1], then A to [max(R,G,B), 1]) and 8-bit rounding."""
    rgb = np.clip(px[:, :, :3], 0, 1)
    a = np.clip(np.maximum(px[:, :, 3], rgb.max(axis=2)), 0, 1)
    return np.rint(np.concatenate([rgb, a[:, :, None]], axis=2) * 255).astype(np.int64)


def test_filtered_output(rendered):
    from framebuf.shading import apply_shader

    result = rendered("filtered_output")
    assert [f.path.name for f in result.files] == ["unfiltered.tif", "filtered.tif"]
    unf = oiio_read(by_name(result, "unfiltered.tif").path, "uint8")[0].astype(np.int64)
    fil = oiio_read(by_name(result, "filtered.tif").path, "uint8")[0].astype(np.int64)
    assert (unf != fil).any(axis=2).sum() > 1000, "the filter changed the picture"
    beauty = result.buffers["rgba"].data
    # in memory: fb0 is the 5x5 box of the beauty (radius 2), the beauty itself untouched
    assert np.allclose(result.buffers["fb0"].data, box_filter(beauty, 2), atol=1e-5)
    # on disk: each file is its float buffer clipped and quantised (exactly, up to rounding)
    assert np.abs(unf - quantise_rgba(beauty)).max() <= 1
    assert np.abs(fil - quantise_rgba(box_filter(beauty, 2))).max() <= 1
    # the shader re-run on the pixels read back: equal within 8-bit rounding wherever no
    # neighbour was clipped on the way to the unfiltered file (the shader saw unclipped floats)
    back = framebuf.read(by_name(result, "unfiltered.tif").path)
    apply_shader("box", back, {"src": "rgba", "dst": "again", "radius": 2.0})
    again = np.rint(np.clip(back["again"].data, 0, 1) * 255).astype(np.int64)
    over = beauty[:, :, :3].max(axis=2) > np.minimum(beauty[:, :, 3], 1.0)
    near_clip = box_filter(over[:, :, None].astype(float), 2)[:, :, 0] > 0
    assert over.sum() > 0 and (~near_clip).sum() > 0.8 * near_clip.size
    assert np.abs(fil - again)[~near_clip].max() <= 1
    assert np.array_equal(again, np.rint(box_filter(unf / 255.0, 2) * 255))


# ------------------------------------------------------------------------------------ multi EXR
def test_multibuffer_exr(rendered):
    result = rendered("multibuffer_exr")
    scene, cam = result.scene, Cam.of(result.scene)
    f = by_name(result, "multi.exr")
    ch, spec = oiio_channels(f.path)
    types = dict(zip(spec.channelnames, (str(t) for t in spec.channelformats)))
    assert types == {
        "R": "half", "G": "half", "B": "half", "A": "half",
        "diffuse.R": "float", "diffuse.G": "float", "diffuse.B": "float", "diffuse.A": "float",
        "Z": "float", "normal.X": "float", "normal.Y": "float", "normal.Z": "float",
    }
    assert spec.getattribute("compression") == "zip"
    beauty = np.stack([ch[c] for c in "RGBA"], axis=2)
    diffuse = np.stack([ch["diffuse." + c] for c in "RGBA"], axis=2)
    # diffuse = box radius 1 of the (float) beauty; the file's beauty is that rounded to half
    assert np.allclose(diffuse, box_filter(beauty, 1), atol=2e-3)
    assert np.abs(diffuse - beauty).max() > 0.1
    ys, xs, z_face = crate_interior(cam, scene)
    assert np.allclose(ch["Z"][ys, xs], z_face, rtol=1e-6)
    assert np.allclose(ch["normal.Z"][ys, xs], 1.0) and np.allclose(ch["normal.X"][ys, xs], 0.0)
    assert np.isposinf(ch["Z"][SKY[1], SKY[0]]) and beauty[SKY[1], SKY[0]].tolist() == [0, 0, 0, 0]


# ------------------------------------------------------------------------------------ legacy
def test_legacy_formats(rendered):
    result = rendered("legacy_formats")
    cam = Cam.of(result.scene)
    expected = {  # file -> (framebuf format, OIIO format or None, data type)
        "tour.pic": ("pic", "softimage", "rgba"), "tour.rgb": ("rgb", "sgi", "rgba"),
        "tour16.rgb": ("rgb", "sgi", "rgba_16"), "tour.iff": ("iff", "iff", "rgba"),
        "tour.rla": ("rla", "rla", "rgba"), "tour.hdr": ("hdr", "hdr", "rgbe"),
        "tour.ppm": ("ppm", "pnm", "rgb"), "tour.tga": ("tga", "targa", "rgba"),
        "tour.bmp": ("bmp", "bmp", "rgb"), "tour.jpg": ("jpg", "jpeg", "rgb"),
        "tour.als": ("alias", None, "rgb"), "tour.ct": ("ct", None, "rgba"),
        "tour.exr": ("exr", "openexr", "rgba_h"),
    }
    assert {f.path.name: (f.format, f.datatype) for f in result.files} == {
        k: (v[0], v[2]) for k, v in expected.items()}
    # the null output existed during the render and is gone
    assert [p.name for p in result.removed] == ["tour.null"]
    assert not (result.outdir / "tour.null").exists()
    assert sorted(p.name for p in result.outdir.iterdir()) == sorted(expected)
    # every file holds the same picture as the ppm (8-bit rgb, no alpha), up to its precision
    ref = oiio_read(result.outdir / "tour.ppm", "uint8")[0].astype(int)
    assert ref[SKY[1], SKY[0]].tolist() == [0, 0, 0] and ref.max() > 200
    for name, (fmt, oiio_name, dt) in expected.items():
        path = result.outdir / name
        if oiio_name is None:
            px = framebuf.read_image(path).layers[0].pixels.astype(int)
        else:
            px = oiio_read(path, "uint16" if dt == "rgba_16" else "uint8")[0].astype(int)
            if dt == "rgba_16":
                px = np.rint(px / 257.0).astype(int)
        assert px.shape[:2] == (cam.yres, cam.xres)
        err = px[:, :, :3] - ref
        if fmt == "jpg":  # lossy: a PSNR, not a bound per pixel
            assert 10 * np.log10(255.0 ** 2 / np.mean(err.astype(float) ** 2)) > 30
        else:
            tol = 3 if fmt == "hdr" else (1 if fmt == "exr" or dt == "rgba_16" else 0)
            assert np.abs(err).max() <= tol, name
    # the format options reached the files
    from PIL import Image as PILImage

    jpg = PILImage.open(result.outdir / "tour.jpg")
    tables = {q: PILImage.open(_jpeg_bytes(jpg, q)).quantization for q in (75, 90)}
    assert jpg.quantization == tables[90] != tables[75], "quality 90 applied"
    raw = (result.outdir / "tour.pic").read_bytes()
    assert raw[88:92] == b"PICT"
    assert int.from_bytes(raw[100:102], "big") == 2, "fields word: 2 = even"
    assert framebuf.read_image(result.outdir / "tour.pic").info["field"] == "even"
    import OpenImageIO as oiio

    inp = oiio.ImageInput.open(str(result.outdir / "tour.exr"))
    assert inp.spec().getattribute("compression") == "pxr24"
    inp.close()


def _jpeg_bytes(img, quality):
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return buf


# ------------------------------------------------------------------------------------ human
def test_synthetic_human(rendered):
    result = rendered("synthetic_human")
    scene, cam = result.scene, Cam.of(result.scene)
    ch, spec = oiio_channels(by_name(result, "human.exr").path)
    names = ["ground", "ball", "crate", "glass"]
    assert sorted(spec.channelnames) == sorted(
        ["R", "G", "B", "A", "Z"] + [f"CameraNormals.{c}" for c in "RGB"]
        + [f"CameraPoints.{c}" for c in "RGB"] + [f"segmentation.{n}" for n in names]
        + ["binary_segmentation.foreground"])
    assert spec.getattribute("zmin") == 0.0 and spec.getattribute("zmax") == 100.0
    masks = np.stack([ch[f"segmentation.{n}"] for n in names], axis=2)
    total = masks.sum(axis=2)
    assert masks.min() >= 0 and (total <= 1 + 1e-3).all()
    assert ((masks > 0).sum(axis=2) <= 1).all(), "one class per pixel"
    assert np.allclose(ch["binary_segmentation.foreground"], total, atol=1e-3)
    i, j = cam.pixel(primitive(scene, "ball").params["center"])
    assert ch["segmentation.ball"][j, i] == 1.0 and total[j, i] == 1.0
    assert (masks[SKY[1], SKY[0]] == 0).all() and ch["binary_segmentation.foreground"][SKY[1], SKY[0]] == 0
    assert np.isposinf(ch["Z"][SKY[1], SKY[0]])
    assert (ch["segmentation.ground"][-3:] == 1).all()
    partial = (total > 0) & (total < 1)
    assert partial.sum() > 20
    # CameraPoints on the crate's front face: (sx d / focal, sy d / focal, -d), d = 5.3
    ys, xs, z_face = crate_interior(cam, scene)
    assert (ch["segmentation.crate"][ys, xs] == 1).all()
    yy, xx = np.mgrid[ys, xs]
    sx = ((xx + 0.5) / cam.xres - 0.5) * cam.aperture
    sy = ((cam.yres - (yy + 0.5)) / cam.yres - 0.5) * cam.aperture / cam.aspect
    assert np.allclose(ch["CameraPoints.R"][ys, xs], sx * z_face / cam.focal, atol=1e-4)
    assert np.allclose(ch["CameraPoints.G"][ys, xs], sy * z_face / cam.focal, atol=1e-4)
    assert np.allclose(ch["CameraPoints.B"][ys, xs], -z_face, atol=1e-4)
    assert np.allclose(ch["CameraNormals.B"][ys, xs], 1.0)


# ------------------------------------------------------------------------------------ demo
def test_demo(rendered):
    result = rendered("demo")
    scene, cam = result.scene, Cam.of(result.scene)
    rows = result.table()
    assert [r["file"] for r in rows] == ["demo.exr", "demo_labels.tt", "demo_coverage.exr",
                                         "demo.png", "demo_soft.png", "demo16.tif"]
    for r in rows:
        assert (result.outdir / r["file"]).is_file()
    ch, spec = oiio_channels(result.outdir / "demo.exr")
    assert sorted(spec.channelnames) == sorted(
        list("RGBA") + ["Z"] + [f"normals.{c}" for c in "XYZ"] + [f"motion.{c}" for c in "XYZ"])
    assert spec.getattribute("compression") == "piz"
    png = oiio_read(result.outdir / "demo.png", "uint8")[0].astype(int)
    soft = oiio_read(result.outdir / "demo_soft.png", "uint8")[0].astype(int)
    assert (png != soft).any(axis=2).sum() > 1000, "the gauss shader softened the copy"
    # the 8-bit PNG is the half beauty quantised
    beauty = np.stack([ch[c] for c in "RGBA"], axis=2)
    assert np.abs(png - quantise_rgba(beauty)).max() <= 1
    # labels and motion at the ball's centre; the soft copy is smoother than the beauty
    labels = framebuf.read(result.outdir / "demo_labels.tt")["tag"].data[:, :, 0]
    i, j = cam.pixel(primitive(scene, "ball").params["center"])
    assert labels[j, i] == 2 and labels[SKY[1], SKY[0]] == 0
    assert ch["motion.X"][j, i] > 0 and ch["motion.Y"][j, i] == 0
    grad = lambda a: (np.diff(a[:, :, :3], axis=1) ** 2).sum()  # noqa: E731 - edge energy
    assert grad(soft) < 0.5 * grad(png)
    tif, tspec = oiio_read(result.outdir / "demo16.tif", "uint16")
    assert tif.shape == (cam.yres, cam.xres, 3) and tif.max() > 255
    assert np.abs(tif.astype(float) / 65535 - np.clip(beauty[:, :, :3], 0, 1)).max() < 1e-3
