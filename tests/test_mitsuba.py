"""The Mitsuba 3 sample source: two independent intersectors (Mitsuba's and the ray caster's) must
agree on the same scene, sample positions and camera; the colour is Mitsuba's own."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from framebuf.errors import FramebufError
from framebuf.scene import load, loads
from framebuf.scene.execute import render_scene
from framebuf.sources.base import get_source
from framebuf.sources.raycast import RayCaster

ROOT = Path(__file__).resolve().parent.parent

mi = pytest.importorskip("mitsuba", reason="the mitsuba extra is not installed")

from framebuf.sources import mitsuba as fbmi  # noqa: E402


def small_demo(res=(96, 72)):
    scene = load(ROOT / "scenes" / "demo.mi")
    scene.camera.resolution = res
    return scene


def concat(batches):
    out = {k: np.concatenate([b.values[k] for b in batches]) for k in batches[0].values}
    out["x"] = np.concatenate([b.x for b in batches])
    out["y"] = np.concatenate([b.y for b in batches])
    return out


@pytest.fixture(scope="module")
def demo_renders(tmp_path_factory):
    """demo.mi at 96 x 72 (16 samples per pixel) with each source."""
    scene = small_demo()
    out = {}
    for name, source in (("raycast", RayCaster()), ("mitsuba", fbmi.MitsubaSource(variant="scalar_rgb"))):
        out[name] = render_scene(scene, tmp_path_factory.mktemp(name), seed=5, source=source)
    return out


def test_demo_scene_agrees_with_the_ray_caster(demo_renders):
    """The acceptance criterion of the Mitsuba source, on resolved pixels."""
    rc, mt = demo_renders["raycast"].buffers, demo_renders["mitsuba"].buffers
    tag_r, tag_m = rc["labels"].data[..., 0], mt["labels"].data[..., 0]
    same = tag_r == tag_m
    assert same.mean() >= 0.995
    assert set(np.unique(tag_m)) == {0, 1, 2, 3, 4}
    z_r, z_m = rc["depth"].data[..., 0], mt["depth"].data[..., 0]
    # nothing hit: the same pixels, +inf in both
    assert np.array_equal(np.isinf(z_r), np.isinf(z_m))
    hit = same & np.isfinite(z_r)
    rel = np.abs(z_m[hit] - z_r[hit]) / z_r[hit]
    assert np.median(rel) < 1e-3
    assert np.percentile(rel, 99) < 1e-3
    n_r, n_m = rc["normals"].data, mt["normals"].data
    assert np.abs(n_m[hit] - n_r[hit]).max() < 1e-3
    m_r, m_m = rc["motion"].data, mt["motion"].data
    assert np.abs(m_m[hit] - m_r[hit]).max() < 1e-3
    assert np.abs(m_m[tag_m == 2][:, 0]).min() > 1.0          # the ball moves right
    cov_r, cov_m = rc["cover"].data[..., 0], mt["cover"].data[..., 0]
    assert np.abs(cov_r - cov_m)[same].max() < 1e-6


def test_colour_is_mitsubas_own(demo_renders):
    rc, mt = demo_renders["raycast"].buffers, demo_renders["mitsuba"].buffers
    c_r, c_m = rc["beauty"].data.astype(np.float64), mt["beauty"].data.astype(np.float64)
    tags = mt["labels"].data[..., 0]
    # nothing hit within the colour filter's reach (mitchell 4 4): nothing in the colour either
    from scipy.ndimage import binary_erosion

    empty = binary_erosion(np.isinf(mt["depth"].data[..., 0]), np.ones((5, 5), bool))
    assert empty.sum() > 1000 and np.all(c_m[empty] == 0)
    # path-traced: noisy, with shadows, so not the ray caster's smooth Lambert picture ...
    assert np.abs(c_m - c_r).mean() > 0.01
    # ... but the same materials and lights: the red ball is red, the blue crate blue
    ball, crate = c_m[tags == 2].mean(0), c_m[tags == 3].mean(0)
    assert ball[0] > 2 * ball[1] and ball[0] > 2 * ball[2]
    assert crate[2] > 1.5 * crate[0]
    # opaque surfaces cover the pixel; the half-transparent glass ball lets some samples through
    inside = lambda label: binary_erosion(tags == label, np.ones((5, 5), bool))
    assert np.all(c_m[inside(3)][:, 3] > 0.99)
    # in front of the sky (the top rows) each of its two surfaces stops a quarter of the samples
    # (opacity 0.5 times the colour's alpha 0.5): 1 - 0.75^2 = 0.4375 in both sources
    glass_sky = inside(4) & (np.arange(tags.shape[0])[:, None] < tags.shape[0] * 0.3)
    assert glass_sky.sum() > 20
    assert abs(c_r[glass_sky][:, 3].mean() - 0.4375) < 0.02
    assert abs(c_m[glass_sky][:, 3].mean() - 0.4375) < 0.05
    # similar overall brightness: the same light and ambient scale
    assert 0.6 < c_m[..., :3].mean() / c_r[..., :3].mean() < 1.6


def test_samples_are_the_ray_casters_positions_and_deterministic():
    scene = small_demo((20, 15))
    src = fbmi.MitsubaSource(variant="scalar_rgb", batch_samples=700)
    a = concat(list(src.render(scene, seed=9)))
    r = concat(list(RayCaster().render(scene, seed=9)))
    assert np.array_equal(a["x"], r["x"]) and np.array_equal(a["y"], r["y"])
    # the same seed: the same samples, whatever the batch size
    b = concat(list(fbmi.MitsubaSource(variant="scalar_rgb").render(scene, seed=9)))
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    c = concat(list(src.render(scene, seed=10)))
    assert not np.array_equal(a["rgba"], c["rgba"])
    assert np.array_equal(a["tag"] > 0, np.isfinite(a["z"]))
    assert a["tag"].dtype == np.uint32 and a["rgba"].dtype == np.float32


def test_progress_counts_rows():
    calls = []
    scene = small_demo((16, 12))
    list(fbmi.MitsubaSource(variant="scalar_rgb", batch_samples=16 * 16 * 5).render(
        scene, progress=lambda d, t: calls.append((d, t))))
    assert calls[0] == (0, 12) and calls[-1] == (12, 12)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_clip_and_window_follow_the_camera():
    scene = small_demo((32, 24))
    scene.camera.clip = (0.1, 5.5)          # the crate starts at depth 5.3, the glass at 6.3
    scene.camera.window = (8, 4, 24, 20)
    a = concat(list(fbmi.MitsubaSource(variant="scalar_rgb").render(scene)))
    r = concat(list(RayCaster().render(scene)))
    assert np.array_equal(a["x"], r["x"])
    assert len(a["x"]) == 16 * 16 * 16
    assert np.mean(a["tag"] == r["tag"]) > 0.995
    hit = np.isfinite(a["z"])
    assert a["z"][hit].max() <= 5.5 and 4 not in set(a["tag"])


XML = """<scene version="3.0.0">
    <integrator type="path"><integer name="max_depth" value="3"/></integrator>
    <sensor type="perspective">
        <float name="fov" value="{fov}"/>
        <string name="fov_axis" value="x"/>
        <transform name="to_world"><lookat origin="0, 0, 0" target="0, 0, -1" up="0, 1, 0"/></transform>
        <film type="hdrfilm"><integer name="width" value="40"/><integer name="height" value="30"/></film>
    </sensor>
    <emitter type="directional"><vector name="direction" value="0.3, -1, -0.5"/></emitter>
    <shape type="sphere" id="ball">
        <point name="center" x="-0.5" y="0.2" z="-5"/><float name="radius" value="1"/>
        <bsdf type="diffuse"/>
    </shape>
    <shape type="sphere" id="moon">
        <point name="center" x="1.4" y="0.5" z="-8"/><float name="radius" value="1.2"/>
        <bsdf type="diffuse"/>
    </shape>
    <shape type="rectangle" id="floor">
        <transform name="to_world"><scale value="2000"/><rotate x="1" angle="-90"/><translate y="-1"/></transform>
        <bsdf type="diffuse"/>
    </shape>
</scene>
"""

MI_EQUIVALENT = """
options "o" samples 0 1 end options
framebuf primitives
    plane  "floor" point 0 -1 0 normal 0 1 0 label 10
    sphere "ball"  center -0.5 0.2 -5 radius 1 label 20
    sphere "moon"  center 1.4 0.5 -8 radius 1.2 label 30
end framebuf
camera "cam"
    resolution 40 30
    aperture 1.0
    focal 1.25
    clip 0.01 1500
    framebuffer "depth" datatype "z"
    framebuffer "lab" datatype "tag"
end camera
"""


def test_xml_scene_with_a_label_table(tmp_path):
    """A Mitsuba XML scene and its .mi equivalent (same camera, same shapes) rendered by the two
    intersectors: the sensor's camera space and the id table come out as the ray caster's."""
    fov = math.degrees(2 * math.atan(0.5 / 1.25))
    xml = tmp_path / "scene.xml"
    xml.write_text(XML.format(fov=fov))
    scene = loads(MI_EQUIVALENT, filename="eq.mi")
    src = fbmi.MitsubaSource(variant="scalar_rgb", scene=str(xml), labels="floor:10,ball:20,moon:30")
    a = concat(list(src.render(scene, seed=2)))
    r = concat(list(RayCaster().render(scene, seed=2)))
    # the XML floor ends at 2000 units, the .mi plane at the far clip (1500): a sliver of a row
    same = a["tag"] == r["tag"]
    assert same.mean() > 0.995
    assert set(np.unique(a["tag"])) == {0, 10, 20, 30}
    hit = same & np.isfinite(r["z"])
    assert np.mean(np.isinf(a["z"]) == np.isinf(r["z"])) > 0.995
    assert np.median(np.abs(a["z"][hit] - r["z"][hit]) / r["z"][hit]) < 1e-4
    assert np.abs(a["n"][hit] - r["n"][hit]).max() < 1e-3
    assert not np.any(a["m"])
    # JSON table; an unlisted shape gets 0 and a warning
    table = tmp_path / "labels.json"
    table.write_text('{"ball": 7}')
    with pytest.warns(UserWarning, match="'floor', 'moon'"):
        b = concat(list(fbmi.MitsubaSource(variant="scalar_rgb", scene=str(xml),
                                           labels=str(table)).render(scene, seed=2)))
    assert set(np.unique(b["tag"])) == {0, 7}
    # no table: shapes numbered in scene order from 1
    c = concat(list(fbmi.MitsubaSource(variant="scalar_rgb", scene=str(xml)).render(scene, seed=2)))
    assert set(np.unique(c["tag"])) == {0, 1, 2, 3}


def test_bad_xml_and_tables_are_one_line_errors(tmp_path):
    scene = loads(MI_EQUIVALENT, filename="eq.mi")
    bad = tmp_path / "bad.xml"
    bad.write_text("<scene version='3.0.0'><shape type='nope'/></scene>")
    with pytest.raises(FramebufError, match="bad.xml: Mitsuba cannot load the scene"):
        list(fbmi.MitsubaSource(variant="scalar_rgb", scene=str(bad)).render(scene))
    with pytest.raises(FramebufError, match="no such Mitsuba scene file"):
        list(fbmi.MitsubaSource(variant="scalar_rgb", scene=str(tmp_path / "none.xml")).render(scene))
    xml = tmp_path / "scene.xml"
    xml.write_text(XML.format(fov=40))
    with pytest.raises(FramebufError, match="has no shape 'rock'"):
        list(fbmi.MitsubaSource(variant="scalar_rgb", scene=str(xml), labels="rock:3").render(scene))
    with pytest.raises(FramebufError, match="is not ID:LABEL"):
        fbmi.parse_label_table("ball")
    with pytest.raises(FramebufError, match="must be an integer"):
        fbmi.parse_label_table("ball:x")
    with pytest.raises(FramebufError, match="labels table maps the shape ids"):
        fbmi.MitsubaSource(variant="scalar_rgb", labels="a:1")
    with pytest.raises(FramebufError, match="variant 'cuda_rgb' is not supported"):
        fbmi.MitsubaSource(variant="cuda_rgb")


def test_vectorised_variant_is_probed_in_a_child_process(monkeypatch):
    ok, why = fbmi.probe_variant("llvm_ad_rgb", use_cache=False)
    # whatever this machine's libLLVM does, this process is still alive and has an answer
    assert isinstance(ok, bool) and why
    assert fbmi.choose_variant("auto") == ("llvm_ad_rgb" if ok else "scalar_rgb")
    assert fbmi.choose_variant("scalar_rgb") == "scalar_rgb"
    monkeypatch.setattr(fbmi, "probe_variant", lambda v, **kw: (False, "LLVM ERROR: Cannot select"))
    assert fbmi.choose_variant("auto") == "scalar_rgb"
    with pytest.raises(FramebufError, match="does not run here: LLVM ERROR.*variant=scalar_rgb"):
        fbmi.choose_variant("llvm_ad_rgb")


def test_vectorised_variant_agrees_with_scalar():
    ok, why = fbmi.probe_variant("llvm_ad_rgb")
    if not ok:
        pytest.skip(f"no vectorised Mitsuba variant here: {why}")
    scene = small_demo((24, 18))
    s = concat(list(fbmi.MitsubaSource(variant="scalar_rgb").render(scene, seed=1)))
    v = concat(list(fbmi.MitsubaSource(variant="llvm_ad_rgb").render(scene, seed=1)))
    assert np.mean(s["tag"] == v["tag"]) > 0.999
    hit = (s["tag"] == v["tag"]) & np.isfinite(s["z"])
    assert np.abs(s["z"][hit] - v["z"][hit]).max() < 1e-3
    assert np.abs(s["n"][hit] - v["n"][hit]).max() < 1e-3
    again = concat(list(fbmi.MitsubaSource(variant="llvm_ad_rgb").render(scene, seed=1)))
    assert np.array_equal(v["rgba"], again["rgba"])


SMALL_MI = """
options "o" samples 0 0 end options
framebuf primitives
    sphere "ball" center 0 0 -4 radius 1 color 1 0.2 0.1 1 label 2
end framebuf
camera "cam"
    resolution 24 18
    framebuffer "beauty" datatype "rgba" filetype "png" filename "out.png"
    framebuffer "lab" datatype "tag" filetype "tt" filename "out.tt"
end camera
"""


def test_cli_renders_with_source_options(tmp_path, capsys):
    from framebuf.cli import main

    scene = tmp_path / "s.mi"
    scene.write_text(SMALL_MI)
    assert main(["render", str(scene), "-o", str(tmp_path / "out"), "--source", "mitsuba",
                 "--source-option", "variant=scalar_rgb", "--source-option", "max_depth=2"]) == 0
    assert "with mitsuba" in capsys.readouterr().out
    assert (tmp_path / "out" / "out.png").stat().st_size > 0
    assert main(["render", str(scene), "-o", str(tmp_path / "out"), "--source", "mitsuba",
                 "--source-option", "colour=red"]) == 2
    err = capsys.readouterr().err
    assert "sample source 'mitsuba' has no option colour; its options: variant, scene" in err
    assert main(["render", str(scene), "-o", str(tmp_path / "out"), "--source", "mitsuba",
                 "--source-option", "variant"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err
    assert isinstance(get_source("mitsuba", variant="scalar_rgb"), fbmi.MitsubaSource)


def test_without_the_extra_one_line_says_how_to_install(tmp_path):
    """Mitsuba hidden from the import system: exit 2 and one line naming the extra."""
    scene = tmp_path / "s.mi"
    scene.write_text(SMALL_MI)
    code = ("import sys; sys.modules['mitsuba'] = None; sys.modules['drjit'] = None\n"
            "from framebuf.cli import main\n"
            f"sys.exit(main(['render', {str(scene)!r}, '-o', {str(tmp_path)!r}, '--source', 'mitsuba']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "pip install 'framebuf[mitsuba]'" in lines[0] and "Traceback" not in proc.stderr


@pytest.mark.parametrize("camera", [{"focal": math.inf, "aperture": 8.0}, {"offset": (5.0, -3.0)},
                                    {"aspect": 2.0}], ids=["orthographic", "offset", "aspect"])
def test_camera_variants_agree_with_the_ray_caster(camera):
    scene = small_demo((40, 30))
    for key, value in camera.items():
        setattr(scene.camera, key, value)
    a = concat(list(fbmi.MitsubaSource(variant="scalar_rgb").render(scene)))
    r = concat(list(RayCaster().render(scene)))
    same = a["tag"] == r["tag"]
    assert same.mean() > 0.995
    hit = same & np.isfinite(r["z"])
    assert np.abs(a["z"][hit] - r["z"][hit]).max() < 1e-3
    assert np.abs(a["n"][hit] - r["n"][hit]).max() < 1e-3
    assert np.abs(a["m"][hit] - r["m"][hit]).max() < 1e-3


def test_a_bare_camera_sees_nothing():
    from framebuf.scene.model import Camera

    v = concat(list(fbmi.MitsubaSource(variant="scalar_rgb").render(Camera("c", resolution=(8, 6)))))
    assert len(v["z"]) == 48 and np.isinf(v["z"]).all()
    assert not v["tag"].any() and not v["rgba"].any() and not v["n"].any()


def test_xml_shapes_without_ids_keep_their_own_labels(tmp_path):
    """Mitsuba gives every unnamed shape the id "": hits are matched to shapes by identity."""
    xml = tmp_path / "unnamed.xml"
    xml.write_text("""<scene version="3.0.0">
        <sensor type="perspective"><float name="fov" value="60"/>
            <film type="hdrfilm"><integer name="width" value="16"/><integer name="height" value="8"/></film>
        </sensor>
        <shape type="sphere"><point name="center" x="1.2" y="0" z="5"/></shape>
        <shape type="sphere"><point name="center" x="-1.2" y="0" z="5"/></shape>
    </scene>""")
    scene = loads('camera "c" resolution 16 8 framebuffer "t" datatype "tag" end camera', filename="c.mi")
    v = concat(list(fbmi.MitsubaSource(variant="scalar_rgb", scene=str(xml)).render(scene)))
    x = v["x"]
    # Mitsuba's sensor space has +x to the left: the sphere at x = +1.2 is on the left of the picture
    assert set(v["tag"][(x < 6)]) == {0, 1} and set(v["tag"][(x > 10)]) == {0, 2}
    hit = v["tag"] > 0
    assert np.abs(v["z"][hit].min() - 4.0) < 0.05       # sphere centres at depth 5, radius 1
