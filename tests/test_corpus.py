"""Every real .mi file of the shared corpus loads, and yields the output setup its README row states."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from framebuf.datatypes import datatype
from framebuf.scene import FileOutput, FrameBufferDecl, ShaderOutput, load

CORPUS = Path(__file__).resolve().parents[2] / "shared/corpus/mi"
FILES = sorted(CORPUS.glob("*.mi")) if CORPUS.is_dir() else []

pytestmark = pytest.mark.skipif(not FILES, reason=f"corpus not found at {CORPUS}")

_cache: dict[str, object] = {}


def scene(name):
    if name not in _cache:
        _cache[name] = load(CORPUS / name)
    return _cache[name]


def T(name):
    return datatype(name)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_file_loads(path):
    s = load(path)
    assert s.path == str(path)
    s.describe()  # never raises


def test_corpus_has_all_17_files():
    assert len(FILES) == 17


def test_large_file_parses_fast():
    # best of three, so a busy machine (other suites running) does not make this flaky
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        load(CORPUS / "test.mi")
        best = min(best, time.perf_counter() - t0)
    assert best < 1.0


def test_test_mi_3dsmax_echo():
    s = scene("test.mi")
    c = s.camera
    assert c.name == "Camera001|Camera"   # found through render -> "Camera001|Instance"
    assert c.mode == "named" and c.outputs == []
    (fb,) = c.framebuffers.values()
    assert fb.name == "FB_NAME_MAIN"
    assert fb.datatype == T("rgba_16") and fb.filtering is True
    assert fb.filename == r"C:\Users\Administrator\Desktop\first_img.tga"
    assert (fb.filetype, fb.compression) == ("tga", "rle")
    assert fb.useopacity is True and fb.premultiplied is True and fb.primary is True and fb.user is False
    assert c.resolution == (640, 480) and c.aspect == 1.33333
    assert c.window == (0, 0, 639, 479) and c.offset == (0.0, 0.0)
    assert c.clip == (0.1, 1e30) and c.frame == (0, 0.0)
    assert (c.focal, c.aperture) == (1.71086, 1.41732)
    o = s.options
    assert o.name == "SceneOptions|SceneOptions"
    assert (o.filter, o.filter_width, o.filter_height) == ("gauss", 2.0, 2.0)
    assert (o.samples_min, o.samples_max) == (-1, 1)
    assert o.get_extra("samples collect") == (4,) and o.get_extra("samples motion") == (1,)
    assert o.get_extra("contrast") == (0.01,) * 4 and o.get_extra("time contrast") == (0.2,) * 4
    assert o.dither is False and o.premultiply is True and o.colorclip == "raw"
    assert o.gamma == 1.0 and o.output_shaders_enabled is True
    assert o.get_extra("data") == ("Global|Data",)
    assert o.get_extra("finalgather file") == (r"D:\max_project\sceneassets\renderassets\temp.fgm",)
    assert o.string_options["samples quality"] == (0.25,)
    assert o.string_options["samples error cutoff"] == (0.003393, 0.001009, 0.01)
    assert o.string_options["finalgather mode"] == ("automatic",)
    assert o.string_options["unified sampling"] == (1,)
    assert s.skipped["link"] == 13 and s.skipped["instance"] == 7 and s.skipped["object"] == 4
    assert s.output_shader_decls() == {}
    assert s.shader_decls["max_base_GBuffer_lens"].apply == ["lens"]
    assert "Default Material|MtlProxy(material)|Texmap" in s.shader_instances


def test_figure1_legacy_png():
    s = scene("figure1.mi")
    c = s.camera
    assert c.mode == "legacy"
    (out,) = c.outputs
    assert isinstance(out, FileOutput)
    assert (out.types, out.format, out.filename, out.option) == ([(T("rgba"), True)], "png", "figure1.png", None)
    assert c.resolution == (320, 240) and c.aspect == 1.333 and c.frame == (15, 15.0)
    o = s.options
    assert (o.filter, o.filter_width, o.filter_height) == ("box", 1.0, 1.0)
    assert (o.samples_min, o.samples_max) == (2, 2)
    assert o.get_extra("trace depth") == (5, 5, 10) and o.string_options["irradiance particles"] == (False,)
    # base.mi and architectural.mi sit next to it; tut_objects.mi does not exist
    assert [Path(p).name for p in s.includes] == ["base.mi", "architectural.mi"]
    assert any('"tut_objects.mi": file not found' in w for w in s.warnings)
    assert set(s.output_shader_decls()) == {"mia_exposure_simple", "mia_exposure_photographic"}
    assert s.skipped["instance"] == 63 and s.skipped["color texture"] == 7


def test_scene_mi_camera_before_options():
    s = scene("scene.mi")
    (out,) = s.camera.outputs
    assert (out.types, out.format, out.filename) == ([(T("rgb"), None)], "jpg", "out.jpg")
    c = s.camera
    assert (c.focal, c.aperture, c.aspect, c.resolution) == (50.0, 42.0, 1.0, (400, 400))
    assert (s.options.samples_min, s.options.samples_max) == (-2, 2)
    assert s.options.get_extra("jitter") == (1.0,) and s.options.get_extra("shadow") == (False,)
    assert s.skipped["$include (MetaSL/MDL)"] == 3


def test_fractal_bump_format_only_output():
    s = scene("fractal_bump.mi")
    (out,) = s.camera.outputs
    assert (out.types, out.format, out.filename) == ([], "pic", "msl_image.pic")
    c = s.camera
    assert c.frame == (1, None) and c.aspect is None and c.resolution == (500, 424)
    assert (c.focal, c.aperture) == (50.0, 44.0)
    assert (s.options.samples_min, s.options.samples_max) == (0, 1)
    assert s.options.get_extra("contrast") == (0.1, 0.1, 0.1)
    assert s.options.get_extra("face both") == ()
    assert s.skipped["link"] == 2
    assert "mia_material_x" in s.shader_decls and not s.output_shader_decls()


def test_cube_maya_named_buffers_and_output_shaders():
    s = scene("cube.mi")
    c = s.camera
    assert c.name == "perspShape" and c.mode == "named"
    assert list(c.framebuffers) == ["mayaGlow", "mayaColor"]
    glow, color = c.framebuffers.values()
    assert (glow.datatype, glow.filtering, glow.user, glow.filename) == (T("rgba_h"), True, True, None)
    assert (color.datatype, color.filtering, color.primary) == (T("rgba_h"), True, True)
    assert (color.filetype, color.compression, color.filename) == ("png", "zips", "images/cube.0001.png")
    order = [st.name if isinstance(st, FrameBufferDecl) else (st.instance or st.shader) for st in c.statements()]
    assert order == ["mayaGlow", "shaderGlow1:perspShape", "mayaColor", "maya_colormgt"]
    first, second = c.outputs
    assert isinstance(first, ShaderOutput) and first.instance == "shaderGlow1:perspShape"
    assert first.shader == "maya_shaderglow" and first.params["glowType"] == 1
    assert first.params["autoExposure"] is True
    assert second.shader == "maya_colormgt" and second.params == {
        "frameBuffer": "mayaColor",
        "colorTransform": "NativeViewingTpl_scenelinearRec709sRGB22gamma_FORWARD",
    }
    # the instance's declaration comes from the included mayabase.mi
    assert s.shader_decls["maya_shaderglow"].is_output
    assert c.resolution == (800, 333) and c.aspect == 2.4024 and c.frame == (1, 1.0)
    o = s.options
    assert o.name == "miDefaultOptions"
    assert o.colorclip == "raw" and o.dither is True and o.premultiply is True and o.gamma == 1.0
    assert (o.filter, o.filter_width, o.filter_height) == ("gauss", 3.0, 3.0)
    assert (o.samples_min, o.samples_max) == (-2, 0)
    assert o.output_shaders_enabled is True
    assert o.get_extra("traversal adskTraversal") == () and o.get_extra("state") == ("[...]",)
    assert o.string_options["maya shader glow buffer"] == ("mayaGlow",)
    assert [Path(p).name for p in s.includes] == ["mayabase.mi", "base.mi", "architectural.mi"]
    assert s.skipped["link"] == 8 and s.skipped["incremental"] == 1


def test_cornell_box_four_exr_buffers():
    s = scene("cornell_box.mi")
    c = s.camera
    assert c.mode == "named" and c.outputs == []
    fbs = c.framebuffers
    assert list(fbs) == ["primary", "aov_direct_diffuse", "aov_direct_specular", "aov_reflection"]
    assert fbs["primary"].datatype == T("rgba_h") and fbs["primary"].primary and not fbs["primary"].user
    for name in list(fbs)[1:]:
        fb = fbs[name]
        assert fb.datatype == T("rgb_h") and fb.user and not fb.primary and fb.filtering is True
        assert fb.filename == f"mental_ray_{name}.exr" and fb.filetype is None
    assert fbs["primary"].filename == "mental_ray.exr"
    assert c.primary_buffer() is fbs["primary"]
    assert (c.focal, c.aperture, c.aspect, c.resolution) == (45.0, 32.0, 1.0, (500, 500))
    o = s.options
    assert (o.filter, o.filter_width) == ("gauss", 2.0) and o.colorclip == "raw" and o.dither is False
    assert o.get_extra("diagnostic samples") == (True,)
    assert o.string_options["samples quality"] == (1.0,)


@pytest.mark.parametrize("name, outputs, total", [
    ("production.mi", {"mip_motionblur", "mip_motion_vector"}, 15),
    ("lume.mi", {"Adjustments", "BumpCapture", "Glare"}, 23),
    ("architectural.mi", {"mia_exposure_simple", "mia_exposure_photographic"}, 14),
    ("3dsmaxhair.mi", {"shaveMRRenderComp", "shaveMRHairComp"}, 11),
    ("exr_shaders.mi", {"gg_exr"}, 2),
    ("crystalcg_base.mi", {"ccg_output_exr", "ccg_output_bezier_clamp"}, 30),
    ("mayabase.mi", {"maya_shaderglow", "maya_postlightmap"}, 145),
    ("base.mi", set(), 78),
    ("contour.mi", set(), 19),
])
def test_output_shader_declarations(name, outputs, total):
    s = scene(name)
    assert set(s.output_shader_decls(contour=False)) == outputs
    assert len(s.shader_decls) == total
    assert s.camera is None


def test_declaration_details():
    arch = scene("architectural.mi").shader_decls
    for n in ("mia_exposure_simple", "mia_exposure_photographic"):
        assert arch[n].apply == ["lens", "output"]
    lume = scene("lume.mi")
    assert lume.shader_decls["Adjustments"].parallel is True
    assert lume.shader_decls["BumpCapture"].params[0].name == "Store in RGB Channels"
    assert lume.skipped["declare phenomenon"] == 3
    prod = scene("production.mi")
    mv = prod.shader_decls["mip_motion_vector"]
    assert mv.param("result_fb").type == "string"
    assert {"blur_fb", "depth_fb", "motion_fb"} <= {p.name for p in prod.shader_decls["mip_motionblur"].params}
    assert prod.skipped["declare phenomenon"] == 1
    hair = scene("3dsmaxhair.mi").shader_decls
    assert hair["shaveMRRenderComp"].return_type.type == "color"
    exr = scene("exr_shaders.mi").shader_decls
    assert exr["gg_exr"].return_type.type == "color"
    assert [p.name for p in exr["gg_exr"].params] == ["padding", "pixeltype", "compression"]
    assert exr["mrl_exr_file"].return_type.type == "struct"


def test_contour_output_shaders_apply_contour():
    s = scene("contour.mi")
    assert set(s.output_shader_decls()) == {"contour_only", "contour_composite", "contour_ps"}
    assert all(d.apply == ["contour"] for d in s.shader_decls.values())
    assert s.shader_decls["contour_only"].return_type is None
    assert s.skipped["min version"] == 1 and s.skipped["max version"] == 1


def test_files_without_scene_content():
    std = scene("standard.mi")
    assert std.skipped == {"registry": 1} and std.camera is None and not std.shader_decls
    matte = scene("MattePasses.mi")
    assert matte.skipped == {"declare phenomenon": 1} and matte.camera is None and not matte.shader_decls
