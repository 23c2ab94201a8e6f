"""Scene execution: buffers from declarations, resolve, and mental ray's order of shaders and files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import framebuf
from framebuf.errors import SceneError
from framebuf.hookspecs import hookimpl
from framebuf.plugins import reset_registry
from framebuf.scene import loads
from framebuf.scene.execute import RenderResult, render_scene
from framebuf.shading import PRIMARY, Param, output_shader
from framebuf.sources.raycast import RayCaster

SCENE = """\
options "opt"
    samples 0 {samples}
    filter box 1 1
{options}
end options
framebuf primitives
    sphere "ball" center 0 0 -5 radius 1 color 0.8 0.4 0.2 1 label 2
    plane "ground" point 0 -1 0 normal 0 1 0 color 0.5 0.5 0.5 1 label 1
end framebuf
camera "cam"
    resolution 16 12
    aspect 1.3333333
    aperture 1
    focal 1
{body}
end camera
"""

PROBES: list = []


@output_shader("t_double", params=[Param("src", "buffer", PRIMARY)], reads=["src"], writes=["src"])
def t_double(ctx, src):
    """Doubles RGB in place: an easily recognised processed image."""
    data = np.array(src.data, np.float32)
    data[:, :, :3] *= 2.0
    src.data = data


@output_shader("t_probe", params=[Param("path", "string", "")])
def t_probe(ctx, path):
    """Records whether a file exists at the moment the shader runs."""
    PROBES.append(Path(path).exists())


class _TestShaders:
    @hookimpl
    def framebuf_output_shaders(self):
        return [t_double.spec, t_probe.spec]


@pytest.fixture(autouse=True)
def test_shaders():
    reset_registry(extra_plugins=[_TestShaders()])
    PROBES.clear()
    yield
    reset_registry()


def scene(body: str, options: str = "", samples: int = 0, name: str = "t.mi"):
    return loads(SCENE.format(body=body, options=options, samples=samples), filename=name)


def run(tmp_path, body, options="", samples=0, **kw) -> RenderResult:
    return render_scene(scene(body, options, samples), tmp_path, **kw)


def pixels(path) -> np.ndarray:
    return next(iter(framebuf.read(path))).data


def samples_of(sc, seed=0):
    batches = list(RayCaster().render(sc, seed=seed))
    return {k: np.concatenate([getattr(b, k) for b in batches]) for k in ("x", "y", "rgba", "z", "tag")}


def test_buffers_are_resolved_from_the_samples(tmp_path):
    body = """
    framebuffer "beauty" datatype "rgba_fp" filename "beauty.ct"
    framebuffer "depth" datatype "z" filename "depth.zt"
    framebuffer "label" datatype "tag" filename "label.tt"
    framebuffer "eight" datatype "rgba"
"""
    res = run(tmp_path, body, samples=1)
    s = samples_of(res.scene)
    pix = (np.floor(s["y"]).astype(int) * 16 + np.floor(s["x"]).astype(int))
    order = np.argsort(pix, kind="stable")
    rgba = s["rgba"][order].reshape(12, 16, 4, 4).mean(axis=2)  # 4 samples per pixel, box filter
    np.testing.assert_allclose(res.buffers["beauty"].data, rgba, rtol=1e-6, atol=1e-7)
    # standard buffers share storage: the 8-bit rgba buffer is a view of the same colour array
    assert res.buffers["eight"].storage is res.buffers["beauty"].storage
    zmin = s["z"][order].reshape(12, 16, 4).min(axis=2)  # depth, filtering off: minimum
    np.testing.assert_array_equal(res.buffers["depth"].data[:, :, 0], zmin)
    last = s["tag"][order].reshape(12, 16, 4)[:, :, -1]  # label, filtering off: last sample
    np.testing.assert_array_equal(res.buffers["label"].data[:, :, 0], last)
    assert set(np.unique(last)) == {0, 1, 2}
    np.testing.assert_allclose(pixels(tmp_path / "beauty.ct"), rgba, rtol=1e-6, atol=1e-7)
    written = {f.path.name: (f.format, f.datatype) for f in res.files}
    assert written == {"beauty.ct": ("ct", "rgba_fp"), "depth.zt": ("zt", "z"), "label.tt": ("tt", "tag")}
    assert all(f.bytes == f.path.stat().st_size for f in res.files)


def test_filtering_flag_reaches_the_resolve(tmp_path):
    minimum = run(tmp_path / "a", 'output "-z" "zt" "d.zt"', samples=1).buffers["z"].data
    average = run(tmp_path / "b", 'output "+z" "zt" "d.zt"', samples=1).buffers["z"].data
    edge = np.isfinite(minimum) & (average > minimum + 1e-3)
    assert edge.any()  # pixels on the sphere's silhouette: the mean of finite depths is farther
    assert np.all(average[np.isfinite(minimum)] >= minimum[np.isfinite(minimum)] - 1e-6)


def test_plus_and_minus_of_one_type_are_separate_buffers(tmp_path):
    res = run(tmp_path, 'output "-z" "zt" "min.zt"\n    output "+z" "zt" "avg.zt"', samples=1)
    lo, hi = res.buffers["z"], res.buffers["+z"]
    assert (lo.filtering, hi.filtering) == (False, True)
    assert lo.storage is not hi.storage
    np.testing.assert_array_equal(pixels(tmp_path / "min.zt"), lo.data)
    np.testing.assert_array_equal(pixels(tmp_path / "avg.zt"), hi.data)
    separate = run(tmp_path / "sep", 'output "+z" "zt" "avg.zt"', samples=1).buffers["z"].data
    np.testing.assert_array_equal(hi.data, separate)
    assert np.any(hi.data > lo.data)


def test_type_the_format_does_not_list_is_converted(tmp_path):
    res = run(tmp_path, 'output "coverage" "exr" "cov.exr"', samples=1)
    (written,) = res.files
    assert written.path.name == "cov.exr" and written.datatype in ("a_h", "a_fp")  # a scalar
    assert any("does not list data type 'coverage'" in w for w in res.warnings)


def test_legacy_file_before_a_shader_gets_the_unprocessed_image(tmp_path):
    body = """
    output "rgba_fp" "ct" "before.ct"
    output "t_double" ()
    output "rgba_fp" "ct" "after.ct"
"""
    res = run(tmp_path, body)
    before, after = pixels(tmp_path / "before.ct"), pixels(tmp_path / "after.ct")
    assert before[:, :, :3].max() > 0.1
    np.testing.assert_allclose(after[:, :, :3], 2 * before[:, :, :3], rtol=1e-6)
    np.testing.assert_array_equal(after[:, :, 3], before[:, :, 3])
    assert [f.path.name for f in res.files] == ["before.ct", "after.ct"]
    assert res.shaders == ["t_double"]


def test_named_buffers_run_every_shader_before_any_file(tmp_path):
    body = f"""
    framebuffer "beauty" datatype "rgba_fp" filename "beauty.ct"
    output "t_probe" ("path" "{tmp_path / 'beauty.ct'}")
    output "t_double" ()
"""
    res = run(tmp_path, body)
    assert PROBES == [False]  # the file did not exist yet while the shaders ran
    unprocessed = render_scene(scene("framebuffer \"beauty\" datatype \"rgba_fp\""), tmp_path / "u")
    np.testing.assert_allclose(pixels(tmp_path / "beauty.ct")[:, :, :3],
                               2 * unprocessed.buffers["beauty"].data[:, :, :3], rtol=1e-6)
    assert res.shaders == ["t_probe", "t_double"]


def test_output_off_disables_shaders_not_files(tmp_path):
    body = """
    framebuffer "beauty" datatype "rgba_fp" filename "beauty.ct"
    output "t_double" ()
"""
    off = run(tmp_path / "off", body, options="    output off")
    on = run(tmp_path / "on", body)
    assert off.shaders == [] and on.shaders == ["t_double"]
    assert any("output off" in w and "t.mi:" in w for w in off.warnings)
    np.testing.assert_allclose(2 * pixels(tmp_path / "off" / "beauty.ct")[:, :, :3],
                               pixels(tmp_path / "on" / "beauty.ct")[:, :, :3], rtol=1e-6)


def test_null_output_exists_during_the_render_and_vanishes(tmp_path):
    stub = tmp_path / "stub.null"
    body = f"""
    output "rgba" "null" "stub.null"
    output "t_probe" ("path" "{stub}")
    output "rgba" "ct" "real.ct"
"""
    res = run(tmp_path, body)
    assert PROBES == [True]
    assert not stub.exists()
    assert res.removed == [stub]
    assert [f.path.name for f in res.files] == ["real.ct"]


def test_null_stub_is_removed_when_the_render_fails(tmp_path):
    class Failing:
        def render(self, scene, *, seed=0, progress=None):
            assert (tmp_path / "stub.null").exists()
            raise RuntimeError("renderer crashed")
            yield  # pragma: no cover

    with pytest.raises(RuntimeError):
        render_scene(scene('output "rgba" "null" "stub.null"'), tmp_path, source=Failing())
    assert not (tmp_path / "stub.null").exists()


def test_buffers_naming_one_exr_share_it(tmp_path):
    body = """
    framebuffer "beauty" datatype "rgba_h" filetype "exr" filename "shot.exr" compression "zip" primary on
    framebuffer "depth" datatype "z" filetype "exr" filename "shot.exr"
    framebuffer "nrm" datatype "n" filename "shot.exr"
    framebuffer "diffuse" datatype "rgba_fp" user on filename "shot.exr"
    framebuffer "preview" datatype "rgb" filetype "png" filename "shot.png"
"""
    res = run(tmp_path, body)
    assert [(f.path.name, f.format, f.datatype) for f in res.files] == [
        ("shot.exr", "exr", "rgba_h,z,n,rgba_fp"), ("shot.png", "png", "rgb")]
    image = framebuf.read_image(tmp_path / "shot.exr")
    channels = [c for layer in image.layers for c in layer.channels]
    assert {"R", "G", "B", "A", "Z", "nrm.X", "nrm.Y", "nrm.Z", "diffuse.R", "diffuse.A"} <= set(channels)
    back = framebuf.read(tmp_path / "shot.exr")
    z = next(b for b in back if b.datatype.name == "z").data
    np.testing.assert_array_equal(z, res.buffers["depth"].data)


def test_legacy_type_list_writes_one_multi_layer_file(tmp_path):
    res = run(tmp_path, 'output "rgba,z" "iff" "cz.iff"')
    assert [(f.path.name, f.datatype) for f in res.files] == [("cz.iff", "rgba,z")]
    kinds = [layer.datatype.name for layer in framebuf.read_image(tmp_path / "cz.iff").layers]
    assert "z" in kinds


def test_user_buffer_fbN(tmp_path):
    res = run(tmp_path, 'output "fb0" "ct" "user0.ct"', options='    frame buffer 0 "rgba_fp"')
    assert res.buffers["fb0"].user
    np.testing.assert_array_equal(pixels(tmp_path / "user0.ct"), 0.0)  # nothing renders into it
    with pytest.raises(SceneError, match=r"t\.mi:\d+:\d+: fb3 names user frame buffer 3"):
        run(tmp_path, 'output "fb3" "ct" "user3.ct"')


@pytest.mark.parametrize("statement, message", [
    ('output "no_such_shader" ()', "unknown output shader 'no_such_shader'"),
    ('framebuffer "nrm" datatype "n" filename "nrm.png"', "format 'png' cannot store"),
    ('output "rgba" "xyz" "f.xyz"', "unknown file format 'xyz'"),
    ('framebuffer "b" datatype "rgba" filename "b.exr" compression "lzma"', "no compression 'lzma'"),
])
def test_runtime_errors_carry_the_statement_location(tmp_path, statement, message):
    body = 'output "rgba" "ct" "first.ct"\n    ' + statement
    with pytest.raises(SceneError) as info:
        run(tmp_path, body)
    assert str(info.value).startswith("t.mi:16:5: ")
    assert message in str(info.value)
    assert not (tmp_path / "first.ct").exists()  # checked before anything is written


def test_shader_failure_is_located(tmp_path):
    with pytest.raises(SceneError, match=r"^t\.mi:15:1: .*t_double.*no_buffer"):
        run(tmp_path, 'output "t_double" ("src" "no_buffer")')


def test_foreign_paths_are_written_under_outdir(tmp_path):
    res = run(tmp_path, 'output "rgba" "ct" "C:\\\\renders\\\\shot.ct"\n    output "rgba" "ct" "sub/x.ct"')
    assert [f.path for f in res.files] == [tmp_path / "shot.ct", tmp_path / "sub" / "x.ct"]
    assert any("shot.ct" in w and "not relative" in w for w in res.warnings)


def test_conversion_options_apply_to_writes(tmp_path):
    res = run(tmp_path, 'output "rgba" "png" "g.png"', options="    gamma 2.2\n    colorclip alpha")
    framebuf.write(res.buffers["rgba"], tmp_path / "ref.png", gamma=2.2, colorclip="alpha")
    framebuf.write(res.buffers["rgba"], tmp_path / "plain.png")
    assert np.array_equal(pixels(tmp_path / "g.png"), pixels(tmp_path / "ref.png"))
    assert not np.array_equal(pixels(tmp_path / "g.png"), pixels(tmp_path / "plain.png"))


def test_window_leaves_the_rest_empty(tmp_path):
    sc = scene('framebuffer "b" datatype "rgba_fp"\n    framebuffer "d" datatype "z"')
    sc.camera.window = (4, 2, 12, 8)  # mental ray raster, y up: rows 4..9 from the top
    res = render_scene(sc, tmp_path)
    colour, depth = res.buffers["b"].data, res.buffers["d"].data[:, :, 0]
    inside = np.zeros((12, 16), bool)
    inside[4:10, 4:12] = True
    assert np.all(colour[~inside] == 0) and np.all(np.isposinf(depth[~inside]))
    # inside, the same pixels as a full render: the jitter depends on the pixel, not the window
    full = render_scene(scene('framebuffer "b" datatype "rgba_fp"\n    framebuffer "d" datatype "z"'),
                        tmp_path / "full")
    np.testing.assert_array_equal(colour[inside], full.buffers["b"].data[inside])
    np.testing.assert_array_equal(depth[inside], full.buffers["d"].data[:, :, 0][inside])
    assert np.isfinite(depth[inside]).sum() > 20


def test_render_scene_takes_a_path_and_reports_progress(tmp_path):
    path = tmp_path / "s.mi"
    path.write_text(SCENE.format(body='output "rgba" "ct" "a.ct"', options="", samples=0))
    calls = []
    res = render_scene(path, tmp_path / "out", progress=lambda d, t: calls.append((d, t)))
    assert (tmp_path / "out" / "a.ct").exists() and res.samples == 16 * 12
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1] == 12 + 2
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
