"""The embedded ray caster, checked against hand calculations of the camera and the primitives."""

from __future__ import annotations

import math

import numpy as np
import pytest

from framebuf.errors import FramebufError
from framebuf.plugins import registry
from framebuf.resolve import SampleBatch
from framebuf.scene.model import Camera, Light, Options, Primitive, Scene
from framebuf.sources.base import SampleSourceSpec, get_source
from framebuf.scene.camera import CameraGeometry
from framebuf.sources.raycast import RayCaster, samples_per_axis

RES = 33  # odd: the optical axis passes through the centre of pixel 16


def make_scene(*prims, res=(RES, RES), samples_max=1, lights=(), **camera):
    cam = Camera("cam", resolution=res, aperture=camera.pop("aperture", 1.0),
                 focal=camera.pop("focal", 1.0), aspect=camera.pop("aspect", res[0] / res[1]),
                 **camera)
    return Scene(path="test.mi", camera=cam, options=Options(samples_max=samples_max),
                 primitives=list(prims), lights=list(lights))


def sphere(center=(0.0, 0.0, -5.0), radius=1.0, label=7, **params):
    p = {"center": center, "radius": radius, "color": (1.0, 0.5, 0.25, 1.0), "opacity": 1.0,
         "label": label, "velocity": (0.0, 0.0, 0.0)}
    p.update(params)
    return Primitive("sphere", f"s{label}", p)


def render(scene, seed=0, **kw) -> SampleBatch:
    batches = list(RayCaster(**kw).render(scene, seed=seed))
    cat = lambda name: np.concatenate([getattr(b, name) for b in batches])
    return SampleBatch(x=cat("x"), y=cat("y"), rgba=cat("rgba"), z=cat("z"), n=cat("n"),
                       m=cat("m"), tag=cat("tag"))


def rays(b: SampleBatch, res=RES, aperture=1.0, focal=1.0, aspect=1.0):
    """Independent camera model: direction with -z = 1 for each sample (y up in camera space)."""
    sx = (b.x / res - 0.5) * aperture
    sy = ((res - b.y) / res - 0.5) * aperture / aspect
    return np.stack([sx / focal, sy / focal, -np.ones_like(sx)], axis=1)


def sphere_depth(d, c=(0.0, 0.0, -5.0), r=1.0):
    """Camera depth of the nearest hit of rays t*d with the sphere; nan on a miss."""
    c = np.asarray(c)
    a = (d * d).sum(1)
    b = (d * c).sum(1)
    disc = b * b - a * ((c * c).sum() - r * r)
    return np.where(disc >= 0, (b - np.sqrt(np.maximum(disc, 0))) / a, np.nan)


def test_registered_as_a_sample_source():
    spec = registry().sources["raycast"]
    assert isinstance(spec, SampleSourceSpec)
    assert isinstance(get_source("raycast"), RayCaster)
    with pytest.raises(FramebufError, match="unknown sample source 'nope'; sources: .*raycast"):
        get_source("nope")


def test_samples_per_pixel_follow_samples_max():
    assert [samples_per_axis(Options(samples_max=k)) for k in (-2, 0, 1, 2)] == [1, 1, 2, 4]
    b = render(make_scene(res=(4, 3), samples_max=2))
    assert len(b) == 4 * 3 * 16
    # every pixel gets one sample in each of its 4 x 4 strata
    px, py = np.floor(b.x).astype(int), np.floor(b.y).astype(int)
    sx, sy = np.floor((b.x - px) * 4).astype(int), np.floor((b.y - py) * 4).astype(int)
    cells = set(zip(px, py, sx, sy))
    assert len(cells) == len(b)


def test_sphere_label_inside_silhouette_and_exact_depth():
    b = render(make_scene(sphere()))
    d = rays(b)
    expected = sphere_depth(d)
    hit = np.isfinite(expected)
    assert 100 < hit.sum() < len(b)
    # label and depth where the independent model hits, background elsewhere
    # (samples within a hair of the silhouette are left out of the comparison)
    a = (d * d).sum(1)
    c = np.array([0.0, 0.0, -5.0])
    miss_dist = np.sqrt(np.maximum((c * c).sum() - (d @ c) ** 2 / a, 0))
    clear = np.abs(miss_dist - 1.0) > 1e-6
    assert np.all(b.tag[hit & clear] == 7)
    assert np.all(b.tag[~hit & clear] == 0)
    np.testing.assert_allclose(b.z[hit & clear], expected[hit & clear], rtol=1e-6)


def test_depth_at_centre_pixel_is_distance_minus_radius():
    b = render(make_scene(sphere(), samples_max=0))
    centre = (np.floor(b.x) == 16) & (np.floor(b.y) == 16)
    assert centre.sum() == 1
    # one sample within half a pixel of the axis: the sphere is nearly flat there
    assert b.z[centre][0] == pytest.approx(4.0, abs=2e-3)


def test_normals_face_the_camera_and_are_unit():
    b = render(make_scene(sphere()))
    hit = b.tag == 7
    n = b.n[hit]
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-5)
    assert np.all((n * -rays(b)[hit]).sum(1) > 0)
    # the hit point minus the centre, over the radius, is the normal
    p = rays(b)[hit] * b.z[hit][:, None]
    np.testing.assert_allclose(n, (p - [0.0, 0.0, -5.0]) / 1.0, atol=1e-5)
    centre = hit & (np.abs(b.x - 16.5) < 0.5) & (np.abs(b.y - 16.5) < 0.5)
    np.testing.assert_allclose(b.n[centre], [[0.0, 0.0, 1.0]] * centre.sum(), atol=0.07)


def test_background_values():
    b = render(make_scene(sphere(center=(0.0, 0.0, -50.0), radius=0.1)))
    bg = b.tag == 0
    assert bg.sum() > 0.9 * len(b)
    assert np.all(b.rgba[bg] == 0)
    assert np.all(np.isposinf(b.z[bg]))
    assert np.all(b.n[bg] == 0) and np.all(b.m[bg] == 0)


def test_motion_is_projected_velocity_in_pixels_y_up():
    v = (0.5, 0.25, 0.0)
    scene = make_scene(sphere(velocity=v))
    b = render(scene)
    hit = b.tag == 7
    p = rays(b)[hit] * b.z[hit][:, None]
    # perspective: dx = focal * vx / depth / aperture * xres (the velocity has no z component)
    np.testing.assert_allclose(b.m[hit, 0], 0.5 / b.z[hit] * RES, rtol=1e-5)
    np.testing.assert_allclose(b.m[hit, 1], 0.25 / b.z[hit] * RES, rtol=1e-5)  # up is positive
    assert np.all(b.m[hit, 2] == 0)
    # the same through CameraGeometry.project, whose rows grow downwards
    geo = CameraGeometry.from_camera(scene.camera)
    a, c = geo.project(p), geo.project(p + v)
    np.testing.assert_allclose(b.m[hit, 0], c[:, 0] - a[:, 0], rtol=1e-5)
    np.testing.assert_allclose(b.m[hit, 1], -(c[:, 1] - a[:, 1]), rtol=1e-5)
    # a static object has the null motion vector
    assert np.all(render(make_scene(sphere())).m == 0)


def test_motion_towards_the_camera_is_exact_not_linearised():
    b = render(make_scene(sphere(center=(1.0, 0.0, -5.0), velocity=(0.0, 0.0, 1.0))))
    hit = b.tag == 7
    p = rays(b)[hit] * b.z[hit][:, None]
    q = p + [0.0, 0.0, 1.0]
    expected = (q[:, 0] / -q[:, 2] - p[:, 0] / -p[:, 2]) * RES
    np.testing.assert_allclose(b.m[hit, 0], expected, rtol=1e-5)


def test_seeded_determinism_and_batching():
    scene = make_scene(sphere(), Primitive("plane", "g", {"point": (0, -1, 0), "normal": (0, 1, 0),
                                                           "color": (0.5, 0.5, 0.5, 1.0), "label": 1}))
    a, b = render(scene, seed=3), render(scene, seed=3, batch_samples=50)
    c = render(scene, seed=4)
    for name in ("x", "y", "rgba", "z", "n", "m", "tag"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.x, c.x)


def test_progress_reports_rows():
    calls = []
    list(RayCaster(batch_samples=RES * 4 * 5).render(make_scene(), progress=lambda d, t: calls.append((d, t))))
    assert calls[0] == (0, RES) and calls[-1] == (RES, RES)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and len(calls) > 3


def test_lambert_shading_and_premultiplied_alpha():
    light = Light("sun", direction=(0.0, 0.0, -1.0))  # shines along the view direction
    b = render(make_scene(sphere(color=(1.0, 0.5, 0.25, 1.0), opacity=0.5), lights=[light]))
    hit = b.tag == 7
    # alpha from both surfaces of the half-opaque sphere: 1 - 0.5^2
    np.testing.assert_allclose(b.rgba[hit, 3], 0.75, rtol=1e-6)
    # front: n.l = n_z; the back face (normal turned to the viewer) is lit by the same light
    assert np.all(b.rgba[hit, 0] <= 0.75 * 1.15 + 1e-6)
    np.testing.assert_allclose(b.rgba[hit, 1] / b.rgba[hit, 0], 0.5, rtol=1e-5)


def test_opaque_front_object_hides_the_back_one():
    back = Primitive("box", "b", {"min": (-3, -3, -20), "max": (3, 3, -19), "color": (0, 1, 0, 1),
                                  "label": 9})
    b = render(make_scene(sphere(), back))
    d = rays(b)
    front = np.isfinite(sphere_depth(d))
    assert np.all(b.tag[front] == 7)
    assert np.any(b.tag == 9)
    np.testing.assert_allclose(b.z[b.tag == 9], 19.0, rtol=1e-6)  # the box's front face


def test_offset_shifts_right_and_up():
    geo0 = CameraGeometry.from_camera(make_scene().camera)
    geo = CameraGeometry.from_camera(make_scene(offset=(3.0, 2.0)).camera)
    p = [[0.3, -0.2, -4.0]]
    np.testing.assert_allclose(geo.project(p) - geo0.project(p), [[3.0, -2.0]])
    b = render(make_scene(sphere(), offset=(3.0, 2.0)))
    cx = b.x[b.tag == 7].mean()
    cy = b.y[b.tag == 7].mean()
    assert cx == pytest.approx(16.5 + 3.0, abs=0.3) and cy == pytest.approx(16.5 - 2.0, abs=0.3)


def test_window_renders_only_its_rectangle():
    # mental ray window: x 4..10, y 20..30 counted from the bottom -> rows 3..13 from the top
    scene = make_scene(sphere(), window=(4, 20, 10, 30))
    assert CameraGeometry.from_camera(scene.camera).window == (4, 3, 10, 13)
    b = render(scene)
    assert len(b) == 6 * 10 * 4
    assert b.x.min() >= 4 and b.x.max() < 10 and b.y.min() >= 3 and b.y.max() < 13


def test_clip_near_cuts_the_front_of_the_sphere():
    b = render(make_scene(sphere(), clip=(4.5, 100.0), samples_max=0))
    centre = (np.floor(b.x) == 16) & (np.floor(b.y) == 16)
    assert b.z[centre][0] == pytest.approx(6.0, abs=2e-3)  # the inside of the far side
    far = render(make_scene(sphere(), clip=(0.1, 3.0)))
    assert np.all(far.tag == 0)


def test_orthographic_camera():
    b = render(make_scene(sphere(), focal=math.inf, aperture=4.0))
    hit = b.tag == 7
    r = np.hypot(b.x[hit] - 16.5, b.y[hit] - 16.5)
    assert r.max() <= 1.0 / 4.0 * RES + 1e-9
    # parallel rays: depth = 5 - sqrt(1 - (x^2 + y^2))
    wx = (b.x[hit] / RES - 0.5) * 4.0
    wy = ((RES - b.y[hit]) / RES - 0.5) * 4.0
    np.testing.assert_allclose(b.z[hit], 5.0 - np.sqrt(1.0 - wx ** 2 - wy ** 2), rtol=1e-5)


def test_bad_primitive_is_a_located_error():
    bad = Primitive("sphere", "s", {"center": (0, 0, -5), "radius": -1.0}, location=("x.mi", 3, 5))
    with pytest.raises(FramebufError, match=r"x\.mi:3:5: sphere 's': radius must be positive"):
        render(make_scene(bad))
