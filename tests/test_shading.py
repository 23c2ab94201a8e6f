"""The output-shader authoring API: declaration, parameter validation, buffer resolution, CLI."""

from __future__ import annotations

import types

import numpy as np
import pytest
from numba import njit

import framebuf
from framebuf import FrameBufferSet, hookimpl
from framebuf.cli import main
from framebuf.errors import ShaderError, ShaderParameterError
from framebuf.plugins import reset_registry
from framebuf.shading import (
    PRIMARY, Param, ShaderContext, ShaderSpec, apply_shader, output_shader, parse_param_string,
    parse_shader_option, validate_params,
)


# -- a complete ~20-line shader, registered like a plugin -----------------------------------------

@njit(cache=True)
def _fade(rgba, z, near, far, out):
    for y in range(rgba.shape[0]):
        for x in range(rgba.shape[1]):
            t = min(max((z[y, x, 0] - near) / (far - near), 0.0), 1.0)
            for c in range(4):
                out[y, x, c] = rgba[y, x, c] * (1.0 - t)


@output_shader("test_depthfade", params=[
    Param("src", "buffer", PRIMARY), Param("depth", "buffer", "z"), Param("dst", "buffer", None),
    Param("near", "scalar", 0.0), Param("far", "scalar", 10.0)],
    reads=["src", "depth"], writes=["dst"], creates={"dst": "src"})
def depthfade(ctx, src, depth, dst, near, far):
    """the manual's depth-fade example as a whole-buffer kernel"""
    out = np.empty(src.data.shape, np.float32)
    _fade(np.ascontiguousarray(src.data), np.ascontiguousarray(depth.data), near, far, out)
    dst.data = out


plugin = types.SimpleNamespace(framebuf_output_shaders=hookimpl(lambda: [depthfade.spec]))


@pytest.fixture
def with_test_shader():
    reset_registry(extra_plugins=[plugin])
    yield
    reset_registry()


def frame(w=4, h=3):
    fbs = FrameBufferSet(w, h)
    fbs.add("beauty", "rgba_fp", data=np.ones((h, w, 4), np.float32))
    fbs.add("z", "z", data=np.arange(w * h, dtype=np.float32).reshape(h, w))
    return fbs


def test_registered_shader_runs_by_name(with_test_shader):
    fbs = frame()
    ctx = apply_shader("test_depthfade", fbs, {"far": 10.0})
    assert ctx.buffer_names == {"src": "beauty", "depth": "z", "dst": "beauty"}  # in place
    # pixel (x=3, y=1): z = 7 -> 1 - 0.7
    assert fbs["beauty"].data[1, 3, 0] == pytest.approx(0.3, abs=1e-6)
    assert fbs["beauty"].data[0, 0, 3] == 1.0


def test_dst_created_as_user_buffer_of_src_type(with_test_shader):
    fbs = frame()
    apply_shader("test_depthfade", fbs, {"dst": "faded", "far": 20.0})
    out = fbs["faded"]
    assert out.user and out.datatype.name == "rgba_fp"
    assert out.data[2, 3, 1] == pytest.approx(1 - 11 / 20, abs=1e-6)
    assert np.all(fbs["beauty"].data == 1.0)  # source untouched


def test_missing_read_buffer_names_shader_and_buffer(with_test_shader):
    fbs = frame()
    with pytest.raises(ShaderError, match=r"'test_depthfade'.*'nodepth'"):
        apply_shader("test_depthfade", fbs, {"depth": "nodepth"})


def test_unknown_and_ill_typed_params(with_test_shader):
    fbs = frame()
    with pytest.raises(ShaderParameterError) as e:
        apply_shader("test_depthfade", fbs, {"radius": 3.0})
    assert e.value.shader == "test_depthfade" and e.value.parameter == "radius"
    with pytest.raises(ShaderParameterError, match="'near'.*number"):
        apply_shader("test_depthfade", fbs, {"near": "close"})
    with pytest.raises(ShaderParameterError, match="'src'"):
        apply_shader("test_depthfade", fbs, {"src": 3})


def test_unknown_shader():
    with pytest.raises(ShaderError, match="unknown output shader 'nope'"):
        apply_shader("nope", frame(), {})


@pytest.mark.parametrize("ptype,value,expected", [
    ("scalar", 4, 4.0), ("float", 2.5, 2.5), ("integer", 3, 3), ("integer", 3.0, 3),
    ("boolean", True, True), ("boolean", 0, False), ("color", (0.1, 0.2, 0.3), (0.1, 0.2, 0.3, 1.0)),
    ("color", [1, 0, 0, 0.5], (1.0, 0.0, 0.0, 0.5)), ("string", "x", "x"), ("buffer", "z", "z"),
])
def test_param_types_accept(ptype, value, expected):
    spec = ShaderSpec("t", lambda ctx, p: None, params=(Param("p", ptype, choices=("a",) if ptype == "enum" else ()),))
    got = validate_params(spec, {"p": value})["p"]
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("ptype,value", [
    ("scalar", "4"), ("scalar", True), ("scalar", float("nan")), ("integer", 2.5), ("boolean", 2),
    ("boolean", "on"), ("color", (1, 2)), ("color", "red"), ("string", 3), ("buffer", 1.0),
    ("enum", "c"), ("enum", 1),
])
def test_param_types_refuse(ptype, value):
    spec = ShaderSpec("t", lambda ctx, p: None, params=(Param("p", ptype, 0, choices=("a", "b") if ptype == "enum" else ()),))
    with pytest.raises(ShaderParameterError) as e:
        validate_params(spec, {"p": value})
    assert (e.value.shader, e.value.parameter) == ("t", "p")


def test_required_param_and_bad_declarations():
    spec = ShaderSpec("t", lambda ctx, p: None, params=(Param("p", "scalar"),))
    with pytest.raises(ShaderParameterError, match="required"):
        validate_params(spec, {})
    with pytest.raises(ShaderError, match="unknown type"):
        Param("p", "vector")
    with pytest.raises(ShaderError, match="not a buffer parameter"):
        ShaderSpec("t", lambda ctx, p: None, params=(Param("p", "scalar", 1.0),), reads=("p",))


def test_primary_default_needs_a_colour_buffer(with_test_shader):
    fbs = FrameBufferSet(2, 2)
    fbs.add("z", "z")
    with pytest.raises(ShaderError, match="primary"):
        apply_shader("test_depthfade", fbs, {})


def test_context_options_and_scene_dir(tmp_path):
    seen = {}

    @output_shader("t_ctx", params=[Param("file", "string", "a.png")])
    def t(ctx, file):
        seen["path"] = ctx.path(file)
        seen["options"] = ctx.options

    base = ShaderContext(frame(), options={"gamma": 2.2}, scene_dir=tmp_path)
    t.spec(frame(), {}, context=base)
    assert seen["path"] == tmp_path / "a.png" and seen["options"] == {"gamma": 2.2}
    t.spec(frame(), {"file": "/abs/b.png"}, context={"scene_dir": str(tmp_path)})
    assert str(seen["path"]) == "/abs/b.png"


def test_shader_exception_becomes_one_line_shader_error():
    @output_shader("t_bad")
    def t(ctx):
        raise ZeroDivisionError("division by zero")

    with pytest.raises(ShaderError, match="'t_bad' failed: ZeroDivisionError"):
        t.spec(frame(), {})


def test_parse_shader_option_and_values():
    name, raw = parse_shader_option("over:color=0.1,0.2,0.3,src=beauty")
    assert name == "over" and raw == {"color": "0.1,0.2,0.3", "src": "beauty"}
    spec = framebuf.registry().shaders["over"]
    assert parse_param_string(spec, "color", raw["color"]) == (0.1, 0.2, 0.3)
    gauss = framebuf.registry().shaders["gauss"]
    assert parse_param_string(gauss, "radius", "3") == 3.0
    with pytest.raises(ShaderParameterError, match="'radius'"):
        parse_param_string(gauss, "radius", "wide")
    with pytest.raises(ShaderParameterError, match="'width'"):
        parse_param_string(gauss, "width", "3")
    assert parse_shader_option("srgb_encode") == ("srgb_encode", {})


def test_every_builtin_shader_registered_from_shaders_package():
    reg = reset_registry()
    expected = {"box", "triangle", "gauss", "mitchell", "lanczos", "over", "premultiply",
                "unpremultiply", "alpha_from_coverage", "depth_composite", "segmentation_to_label",
                "visualise_labels", "visualise_depth", "visualise_normals", "visualise_motion",
                "gamma", "srgb_encode", "srgb_decode", "exposure"}
    assert expected <= set(reg.shaders)
    for name in expected:
        assert reg.origin[("shaders", name)].startswith("shaders.")
    assert {"face", "full_body", "clothing"} <= set(reg.mappings)


# -- CLI -------------------------------------------------------------------------------------------

def test_cli_shaders_lists_params(capsys):
    assert main(["shaders"]) == 0
    out = capsys.readouterr().out
    assert "gauss: gauss post-filter" in out and "radius  scalar  2.0" in out
    assert "segmentation_to_label" in out and "enum(argmax|threshold)" in out
    assert main(["shaders", "--json", "over"]) == 0
    assert '"name": "over"' in capsys.readouterr().out


def test_cli_apply_chain(tmp_path):
    src = tmp_path / "in.exr"
    img = np.zeros((8, 10, 4), np.float32)
    img[:, :, 3] = 0.5
    img[:, :, 0] = 0.25
    fbs = FrameBufferSet(10, 8)
    fbs.add("rgba", "rgba_fp", data=img)
    framebuf.write(fbs["rgba"], src)
    out = tmp_path / "out.exr"
    assert main(["apply", str(src), "--shader", "over:color=0,0,1,1", "--shader", "exposure:stops=1",
                 "-o", str(out)]) == 0
    back = framebuf.read(out).primary.data
    # over: (0.25, 0, 0, 0.5) + 0.5 * (0, 0, 1, 1) = (0.25, 0, 0.5, 1); exposure x2 on RGB
    np.testing.assert_allclose(back[3, 4], [0.5, 0.0, 1.0, 1.0], atol=1e-3)


def test_cli_apply_several_inputs_named_by_stem(tmp_path):
    a, b = tmp_path / "fg.exr", tmp_path / "bg.exr"
    fg = np.zeros((4, 4, 4), np.float32)
    fg[..., 3] = 0.0
    bg = np.full((4, 4, 4), 0.5, np.float32)
    framebuf.write(fg, a)
    framebuf.write(bg, b)
    out = tmp_path / "o.exr"
    assert main(["apply", str(a), str(b), "--shader", "over:src=fg,background=bg,dst=comp",
                 "--buffer", "comp", "-o", str(out)]) == 0
    np.testing.assert_allclose(framebuf.read(out).primary.data, 0.5, atol=1e-3)


@pytest.mark.parametrize("shader,message", [
    ("nosuch", "unknown output shader 'nosuch'"),
    ("gauss:width=3", "shader 'gauss', parameter 'width': unknown parameter"),
    ("gauss:radius=big", "shader 'gauss', parameter 'radius': cannot read 'big'"),
])
def test_cli_apply_errors_are_one_line(tmp_path, capsys, shader, message):
    src = tmp_path / "in.exr"
    framebuf.write(np.zeros((2, 2, 4), np.float32), src)
    assert main(["apply", str(src), "--shader", shader, "-o", str(tmp_path / "o.exr")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cli_apply_labels_warnings_and_skipped_buffers(tmp_path, capsys):
    fbs = FrameBufferSet(4, 2)
    fbs.add("rgba", "rgba_fp")
    fbs.add("segmentation.eyebrows", "a_fp", user=True, data=np.full((2, 4), 0.9, np.float32))
    src = tmp_path / "masks.exr"
    framebuf.write(fbs, src)
    out = tmp_path / "o.exr"
    assert main(["apply", str(src), "--shader", "segmentation_to_label:mapping=full_body", "-o", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == ["framebuf apply: warning: shader 'segmentation_to_label': label mapping 'full_body' "
                   "gives several names one value, so these labels are ambiguous: 89: eyebrows, foot_right"]
    back = framebuf.read(out)
    assert "segmentation.eyebrows" in back
    # the label buffer is stored as a UINT channel (tag), its value the table's for eyebrows
    assert back["segments"].datatype.name == "tag" and set(np.unique(back["segments"].data)) == {89}
