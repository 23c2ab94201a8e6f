"""The .mi front end: every statement form of reference section 2, the preprocessor, the primitives
extension, and every error with its exact file:line:column."""

from __future__ import annotations

import math
import textwrap

import pytest

from framebuf.datatypes import datatype
from framebuf.errors import FramebufError, SceneError
from framebuf.scene import (
    ClearOutputs, FileOutput, InterfaceRef, ShaderOutput, ShaderRef, load, loads,
)


def parse(text, **kw):
    return loads(textwrap.dedent(text), filename="s.mi", **kw)


def error_of(text, **kw) -> SceneError:
    with pytest.raises(SceneError) as ei:
        parse(text, **kw)
    return ei.value


def T(name):
    return datatype(name)


# ---------------------------------------------------------------------------------------------------
# options


def test_options_reference_example():
    s = parse("""\
        options "opt"
            samples -1 2
            filter mitchell 4.0 4.0
            colorclip alpha
            premultiply on
            dither on
            gamma 1.0
            frame buffer 0 "+rgba_fp"
        end options
        """)
    o = s.options
    assert o.name == "opt"
    assert (o.samples_min, o.samples_max, o.samples_defaults) == (-1, 2, None)
    assert (o.filter, o.filter_clip, o.filter_width, o.filter_height) == ("mitchell", False, 4.0, 4.0)
    assert o.colorclip == "alpha"
    assert o.premultiply is True and o.dither is True and o.gamma == 1.0
    assert o.user_buffers == {0: (T("rgba_fp"), True)}
    assert o.location == ("s.mi", 1, 1)


def test_options_defaults_without_block():
    o = parse('link "base.so"\n').options
    assert o.name is None
    assert (o.samples_min, o.samples_max) == (-2, 0)
    assert (o.filter, o.filter_width, o.filter_height) == ("box", 1.0, 1.0)
    assert o.colorclip == "rgb" and o.premultiply is True and o.desaturate is False
    assert o.dither is False and o.gamma == 1.0 and o.output_shaders_enabled is True


@pytest.mark.parametrize("stmt, expected", [
    ("samples 2", (0, 2, None)),
    ("samples -2 0", (-2, 0, None)),
    ("samples 0 2 -3 5", (0, 2, (-3, 5))),
])
def test_samples_forms(stmt, expected):
    o = parse(f'options "o" {stmt} end options').options
    assert (o.samples_min, o.samples_max, o.samples_defaults) == expected


@pytest.mark.parametrize("stmt, expected", [
    ("filter box", ("box", False, 1.0, 1.0)),
    ("filter triangle", ("triangle", False, 2.0, 2.0)),
    ("filter gauss", ("gauss", False, 3.0, 3.0)),
    ("filter mitchell", ("mitchell", False, 4.0, 4.0)),
    ("filter lanczos", ("lanczos", False, 4.0, 4.0)),
    ("filter gauss 2.5", ("gauss", False, 2.5, 2.5)),
    ("filter box 1. 2", ("box", False, 1.0, 2.0)),
    ("filter clip mitchell", ("mitchell", True, 4.0, 4.0)),
    ("filter clip lanczos 3 2", ("lanczos", True, 3.0, 2.0)),
    # a framebuf extension: the pixel-filter table's new row reaches scenes with no parser edit
    ("filter blackman_harris", ("blackman_harris", False, 3.0, 3.0)),
])
def test_filter_forms(stmt, expected):
    o = parse(f'options "o"\n {stmt}\n end options').options
    assert (o.filter, o.filter_clip, o.filter_width, o.filter_height) == expected


def test_options_flags_and_recorded_statements():
    s = parse("""\
        options "o"
            colorclip raw
            desaturate on
            premultiply off
            dither true
            gamma 2.2
            output off
            contrast 0.1 0.1 0.1
            time contrast 0.2 0.2 0.2 0.2
            trace depth 4 6 6
            samples collect 4
            samples motion 1
            luminance weight 0.21 0.72 0.07
            jitter 1.0
            shadow segments
            face both
            acceleration bsp2
            finalgather file "D:\\fg\\x.fgm"
            finalgather filter 1
            traversal adskTraversal
            "samples quality" 0.25 0.25 0.25 0.25
            "finalgather mode" "automatic"
            "gi" on
            data "Global|Data"
            state [ "maya_state" ("x" "y"), "adskFrameBufferState" () ]
            diagnostic samples off
        end options
        """)
    o = s.options
    assert o.colorclip == "raw" and o.desaturate is True and o.premultiply is False
    assert o.dither is True and o.gamma == 2.2 and o.output_shaders_enabled is False
    assert o.get_extra("contrast") == (0.1, 0.1, 0.1)
    assert o.get_extra("time contrast") == (0.2, 0.2, 0.2, 0.2)
    assert o.get_extra("trace depth") == (4, 6, 6)
    assert o.get_extra("samples collect") == (4,)
    assert o.get_extra("samples motion") == (1,)
    assert o.get_extra("luminance weight") == (0.21, 0.72, 0.07)
    assert o.get_extra("shadow segments") == ()
    assert o.get_extra("acceleration bsp2") == ()
    assert o.get_extra("finalgather file") == ("D:\\fg\\x.fgm",)
    assert o.get_extra("finalgather filter") == (1,)
    assert o.get_extra("traversal adskTraversal") == ()
    assert o.get_extra("data") == ("Global|Data",)
    assert o.get_extra("state") == ("[...]",)
    assert o.get_extra("diagnostic samples") == (False,)
    # the filter statement was not confused with "finalgather filter"
    assert o.filter == "box"
    assert o.string_options == {
        "samples quality": (0.25, 0.25, 0.25, 0.25), "finalgather mode": ("automatic",), "gi": (True,),
    }


def test_frame_buffer_user_buffers():
    o = parse("""\
        options "o"
            frame buffer 0 "+rgba_fp"
            frame buffer 1 "-z"
            frame buffer 2 "tag"
            frame buffer 3 ""
        end options
        """).options
    assert o.user_buffers == {
        0: (T("rgba_fp"), True),
        1: (T("z"), False),
        2: (T("tag"), False),   # no prefix: padding ("-") per reference 2.3
        3: (None, False),       # empty type: mental ray chooses
    }


# ---------------------------------------------------------------------------------------------------
# camera geometry and framebuffers


NAMED = """\
camera "cam"
    resolution 640 480
    aspect 1.3333
    aperture 1.0
    focal 1.5
    framebuffer "beauty"
        datatype "rgba_h"
        primary on
        filetype "exr"
        filename "shot.0001.exr"
        compression "piz"
    framebuffer "depth"
        datatype "z"
        filtering off
        filetype "exr"
        filename "shot.0001.exr"
    framebuffer "diffuse"
        datatype "rgba_fp"
        user on
        filetype "exr"
        filename "shot.0001.exr"
    framebuffer "preview"
        datatype "rgb"
        filetype "jpg"
        filename "shot.0001.jpg"
        quality 90
end camera
"""


def test_named_framebuffers_reference_example():
    s = loads(NAMED, "s.mi")
    c = s.camera
    assert c.mode == "named" and s.mode == "named"
    assert (c.resolution, c.aspect, c.aperture, c.focal) == ((640, 480), 1.3333, 1.0, 1.5)
    assert list(c.framebuffers) == ["beauty", "depth", "diffuse", "preview"]
    b, d, u, p = c.framebuffers.values()
    assert (b.datatype, b.primary, b.filetype, b.filename, b.compression) == (T("rgba_h"), True, "exr", "shot.0001.exr", "piz")
    assert b.filtering is None and b.effective_filtering is True
    assert (d.datatype, d.filtering, d.effective_filtering) == (T("z"), False, False)
    assert (u.datatype, u.user, u.primary) == (T("rgba_fp"), True, False)
    assert (p.datatype, p.quality, p.filename) == (T("rgb"), 90, "shot.0001.jpg")
    assert b.location == ("s.mi", 6, 5)
    assert c.primary_buffer() is b
    assert c.outputs == []


def test_framebuffer_every_property_and_inversions():
    c = parse("""\
        camera "c"
            framebuffer "a"
                datatype "rgba_16" filtering true filename "C:\\out\\a.tif" filetype "tif"
                colorprofile "sRGB" compression "zip" quality 80 dod on dpi 300 field "even"
                primary true useopacity on user off premultiplied off tiled on
            framebuffer "b" useprimary off
            framebuffer "c" autofill on
            framebuffer "d"
            field 1
        end camera
        """).camera
    a = c.framebuffers["a"]
    assert a.datatype == T("rgba_16") and a.filtering is True
    assert a.filename == "C:\\out\\a.tif" and a.filetype == "tif"
    assert (a.colorprofile, a.compression, a.quality, a.dod, a.dpi, a.field) == ("sRGB", "zip", 80, True, 300.0, "even")
    assert (a.primary, a.useopacity, a.user, a.premultiplied, a.tiled) == (True, True, False, False, True)
    assert c.framebuffers["b"].user is True       # useprimary off == user on
    assert c.framebuffers["c"].user is False      # autofill on == user off
    d = c.framebuffers["d"]
    assert d.datatype == T("rgba") and d.filtering is None and d.filename is None   # defaults
    assert c.field == 1                          # "field 1" is the camera statement, not a property


def test_repeated_framebuffer_edits_the_same_buffer():
    c = parse("""\
        camera "c"
            framebuffer "main" datatype "rgba"
            resolution 10 10
            framebuffer "main" filename "x.png" datatype "rgba_16"
        end camera
        """).camera
    assert list(c.framebuffers) == ["main"]
    fb = c.framebuffers["main"]
    assert (fb.datatype, fb.filename, fb.location) == (T("rgba_16"), "x.png", ("s.mi", 2, 5))


def test_camera_geometry_statements():
    c = parse("""\
        camera "c"
            resolution 320 240
            aspect 1.333
            aperture 1.25952
            focal infinity
            clip 0.1 1e+30
            window 0 0 319 239
            offset 0.5 -1
            frame 15 15.
            field 2
            lens = "exposure_photographic"
            environment = "sky"
            volume = "vol"
            lens "mia_exposure_simple" ("gain" 0.2) "other" ()
            data "perspShape:fbdata"
            stereo off
        end camera
        """).camera
    assert c.resolution == (320, 240) and c.aspect == 1.333 and c.aperture == 1.25952
    assert c.focal == math.inf
    assert c.clip == (0.1, 1e30)
    assert c.window == (0, 0, 319, 239) and c.offset == (0.5, -1.0)
    assert c.frame == (15, 15.0) and c.field == 2
    assert c.mode == "legacy"


def test_camera_defaults():
    c = parse('camera "c" end camera').camera
    assert c.resolution is None and c.frame == (0, None) and c.clip == (0.0001, 1000000.0)
    assert c.effective_aspect == 1.0


# ---------------------------------------------------------------------------------------------------
# output statements


LEGACY = """\
options "opt"
    frame buffer 0 "+rgba_fp"
end options
camera "cam"
    resolution 320 240
    output "+rgba" "rgb" "raw.rgb"
    output "rgba,+z" "out_depthfade" ("near" 10.0, "far" 100.0)
    output "tif" "faded.tif"
    output "fb0" "ct" "user0.ct"
    output "-z" "zt" "depth.zt"
    output "rgba_h" "exr" compress "zip" "faded.exr"
    output "pic" even "field.pic"
    output "contour,rgba" "contour_only" ()
    output "rgb" "contours.rgb"
    output colorprofile "sRGB" "png" "p.png"
    output colorprofile "lin" "rgba_16" "png" quality 50 "q.png"
    output "jpg" quality 90 "q.jpg"
    output "pic" odd "o.pic"
    output "exr" dod "d.exr"
    output "tif" dpi 72.5 "d.tif"
end camera
"""


def test_legacy_outputs_reference_example():
    s = loads(LEGACY, "s.mi")
    c = s.camera
    assert c.mode == "legacy" and c.framebuffers == {}
    o = c.outputs
    assert [type(x).__name__ for x in o] == ["FileOutput", "ShaderOutput"] + ["FileOutput"] * 5 + ["ShaderOutput"] + ["FileOutput"] * 7
    assert o[0] == FileOutput([(T("rgba"), True)], "rgb", "raw.rgb", None, None, ("s.mi", 6, 5), o[0].seq)
    assert o[1].shader == "out_depthfade" and o[1].params == {"near": 10.0, "far": 100.0}
    assert o[1].types == [(T("rgba"), None), (T("z"), True)]
    assert (o[2].types, o[2].format, o[2].filename) == ([], "tif", "faded.tif")
    assert (o[3].types, o[3].format) == ([("fb0", None)], "ct")
    assert o[4].types == [(T("z"), False)] and o[4].format == "zt"
    assert (o[5].types, o[5].format, o[5].option, o[5].filename) == ([(T("rgba_h"), None)], "exr", ("compress", "zip"), "faded.exr")
    assert (o[6].types, o[6].format, o[6].option, o[6].filename) == ([], "pic", ("even", True), "field.pic")
    assert o[7].shader == "contour_only" and o[7].types == [("contour", None), (T("rgba"), None)] and o[7].params == {}
    assert (o[8].format, o[8].filename, o[8].types) == ("rgb", "contours.rgb", [])
    assert (o[9].colorprofile, o[9].format, o[9].filename) == ("sRGB", "png", "p.png")
    assert (o[10].colorprofile, o[10].types, o[10].option, o[10].filename) == ("lin", [(T("rgba_16"), None)], ("quality", 50), "q.png")
    assert o[11].option == ("quality", 90) and o[12].option == ("odd", True)
    assert o[13].option == ("dod", True) and o[14].option == ("dpi", 72.5)
    assert [x.seq for x in o] == sorted(x.seq for x in o)
    assert s.options.user_buffers[0] == (T("rgba_fp"), True)


def test_shader_output_between_framebuffers_keeps_camera_order():
    s = parse("""\
        declare shader "my_glow" (string "src", string "dst", scalar "radius") version 1 end declare
        camera "cam"
            resolution 320 240
            framebuffer "beauty" datatype "rgba" filetype "tif" filename "a.tif"
            output "my_glow" ("src" "beauty", "dst" "glow", "radius" 4.0)
            framebuffer "glow"   datatype "rgba" user on filetype "tif" filename "b.tif"
            output "my_glow" ("src" "glow", "dst" "beauty", "radius" 1)
        end camera
        """)
    c = s.camera
    kinds = [(type(x).__name__, getattr(x, "name", None)) for x in c.statements()]
    assert kinds == [("FrameBufferDecl", "beauty"), ("ShaderOutput", None), ("FrameBufferDecl", "glow"), ("ShaderOutput", None)]
    assert c.outputs[0].params == {"src": "beauty", "dst": "glow", "radius": 4.0}
    assert c.outputs[0].location == ("s.mi", 5, 5)
    d = s.shader_decls["my_glow"]
    assert [(p.name, p.type) for p in d.params] == [("src", "string"), ("dst", "string"), ("radius", "scalar")]
    assert d.version == 1 and not d.is_output


def test_output_assignment_resolves_named_instance():
    s = parse("""\
        shader "glow1:persp" "maya_shaderglow" ("glowType" 1, "glowColor" 1. 1. 1., "autoExposure" on)
        camera "c"
            framebuffer "mayaGlow" datatype "rgba_h" filtering on user on
            output = "glow1:persp"
            output = "missing"
        end camera
        """)
    a, b = s.camera.outputs
    assert isinstance(a, ShaderOutput) and a.instance == "glow1:persp"
    assert a.shader == "maya_shaderglow"
    assert a.params == {"glowType": 1, "glowColor": (1.0, 1.0, 1.0), "autoExposure": True}
    assert b.shader is None and b.instance == "missing"
    assert any('s.mi:5:5: output = "missing"' in w for w in s.warnings)


def test_bare_output_clears_everything_before_it():
    c = parse("""\
        camera "c"
            framebuffer "a" filename "a.png"
            output "png" "x.png"
            output
            output "rgb" "jpg" "y.jpg"
        end camera
        """).camera
    assert c.framebuffers == {}
    assert isinstance(c.outputs[0], ClearOutputs) and c.outputs[0].location == ("s.mi", 4, 5)
    assert isinstance(c.outputs[1], FileOutput) and c.outputs[1].filename == "y.jpg"


def test_incremental_camera_edits_and_first_output_replaces():
    s = parse("""\
        camera "c"
            resolution 10 10
            output "png" "a.png"
        end camera
        incremental camera "c"
            output "png" "b.png"
        end camera
        """)
    c = s.camera
    assert c.resolution == (10, 10)
    assert [o.filename for o in c.outputs] == ["b.png"]


def test_typed_shader_output_with_user_buffer_names():
    o = parse('camera "c" output "fb2,-tag,+n" "collect" ("x" 1) end camera').camera.outputs[0]
    assert o.types == [("fb2", None), (T("tag"), False), (T("n"), True)]


# ---------------------------------------------------------------------------------------------------
# declarations and shader instances


def test_declare_shader_forms():
    s = parse("""\
        declare shader
            color #: shortname "x"
            "gg_exr" (
                integer "padding" default 4,  #: min 0 max 8
                string "compression",
                array light "lights",
                color texture "map",
                struct "s" { boolean "on" default off, color "c" default 0 0 0 1 },
                array struct "items" { scalar "w" }
            )
            version 3
            apply lens, output
            parallel
            gui "gui_gg_exr" {
                control "Global" "Global" ( "uiName" "EXR", "hidden" )
                control "apply output" "x" ( "hidden" )
            }
        end declare
        declare shader struct { color "result", scalar "alpha" } "tex" () apply texture end declare
        declare shader "noret" () apply contour end declare
        declare phenomenon material "ph" (color "c")
            shader "a" "mib_color_mix" ("color_0" = interface "c")
            material "m" "a" end material
            root material "m"
        end declare
        declare data "d" (integer "x") version 1 end declare
        """)
    d = s.shader_decls["gg_exr"]
    assert d.return_type.type == "color" and d.version == 3 and d.apply == ["lens", "output"] and d.parallel
    assert d.is_output
    names = [(p.name, p.type, p.array) for p in d.params]
    assert names == [("padding", "integer", False), ("compression", "string", False), ("lights", "light", True),
                     ("map", "color texture", False), ("s", "struct", False), ("items", "struct", True)]
    assert d.params[0].default == 4
    assert [(f.name, f.default) for f in d.params[4].fields] == [("on", False), ("c", (0, 0, 0, 1))]
    t = s.shader_decls["tex"]
    assert t.return_type.type == "struct" and [f.name for f in t.return_type.fields] == ["result", "alpha"]
    assert s.shader_decls["noret"].return_type is None
    assert set(s.output_shader_decls()) == {"gg_exr"}
    assert "ph" not in s.shader_decls
    assert s.skipped["declare phenomenon"] == 1 and s.skipped["declare data"] == 1


def test_shader_instance_parameter_values():
    s = parse("""\
        shader "inst" "decl" (
            "i" 3, "f" -1.5e-3, "b" on, "t" true, "c" 1 0.5 0 1, "s" "text \\"q\\" C:\\dir",
            "m" "line1
        line2",
            "ref" = "other", "if" = interface "x.y",
            "arr" [ 1, 2, 3 ], "empty" [], "sarr" [ {"w" 1}, {"w" 2} ],
            "st" { "a" 1, "b" { "c" off } },
            "trailing" 0,
        )
        """)
    p = s.shader_instances["inst"].params
    assert p["i"] == 3 and p["f"] == -1.5e-3 and p["b"] is True and p["t"] is True
    assert p["c"] == (1, 0.5, 0, 1)
    assert p["s"] == 'text "q" C:\\dir'
    assert p["m"] == "line1\nline2"
    assert p["ref"] == ShaderRef("other") and p["if"] == InterfaceRef("x.y")
    assert p["arr"] == [1, 2, 3] and p["empty"] == [] and p["sarr"] == [{"w": 1}, {"w": 2}]
    assert p["st"] == {"a": 1, "b": {"c": False}}
    assert s.shader_instances["inst"].shader == "decl"


# ---------------------------------------------------------------------------------------------------
# statements parsed past


def test_skipped_statements_are_counted_in_one_warning():
    s = parse("""\
        verbose on
        link "base.so"
        link "x.dll"
        mi "x.mi"
        min version "3.7"
        max version "3.11.99"
        registry "{X}" link "a.dll" mi "a.mi" end registry
        color texture "t1" "./textures/girl brown.bmp"
        local filter 0.8 scalar texture "t2" "b.map"
        data "Global|Data" "max_SceneData" ( "a" 1, "b" [ 0 ] )
        object "o|x(1)" visible on
            group "g" 0 0 0 1 1 1 v 0 v 1 p "m" 0 1 end group
        end object
        instance "cam-i" "cam" transform 1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1 () end instance
        instgroup "all" "cam-i" end instgroup
        light "l" = "s" origin 0 0 0 end light
        material "m" opaque "mib_illum_phong" ( "a" 1 ) shadow = "x" end material
        incremental shader "s" "decl" ()
        delete "x"
        camera "cam" output "png" "a.png" end camera
        render "all" "cam-i" "opt"
        """)
    assert s.camera.outputs[0].filename == "a.png"
    assert s.skipped == {
        "verbose": 1, "link": 2, "mi": 1, "min version": 1, "max version": 1, "registry": 1,
        "color texture": 1, "scalar texture": 1, "data": 1, "object": 1, "instance": 1, "instgroup": 1,
        "light": 1, "material": 1, "incremental": 1, "delete": 1, "render": 1,
    }
    summary = [w for w in s.warnings if w.startswith("parsed past")]
    assert len(summary) == 1
    assert "link (2)" in summary[0] and "instance (1)" in summary[0]
    assert s.render == ("all", "cam-i", "opt")
    assert "s" in s.shader_instances


def test_render_statement_picks_camera_and_options():
    s = parse("""\
        options "a" samples 1 1 end options
        options "b" samples 2 2 end options
        camera "c1" resolution 1 1 end camera
        camera "c2" resolution 2 2 end camera
        instance "c1-i" "c1" end instance
        render "root" "c1-i" "a"
        """)
    assert s.camera.name == "c1" and s.options.name == "a"
    assert set(s.cameras) == {"c1", "c2"}


def test_crlf_input_gives_the_same_model_and_locations():
    lf = NAMED + 'declare shader "x" (integer "a") apply output end declare\n'
    a = loads(lf, "s.mi")
    b = loads(lf.replace("\n", "\r\n"), "s.mi")
    assert a.camera == b.camera
    assert a.shader_decls == b.shader_decls
    e = error_of('camera "c"\r\n  resolution 10 x\r\nend camera\r\n')
    assert str(e).startswith("s.mi:2:17: ")


def test_names_with_bars_colons_spaces_and_parentheses():
    c = parse('camera "Camera001|Camera" framebuffer "a b:c|d(e)" filename "x y.png" end camera').camera
    assert c.name == "Camera001|Camera" and list(c.framebuffers) == ["a b:c|d(e)"]


# ---------------------------------------------------------------------------------------------------
# preprocessor


def test_includes_relative_angle_and_search_path(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "lib").mkdir()
    (tmp_path / "sub" / "decls.mi").write_text('declare shader "o1" () apply output end declare\n$include "inner.mi"\n')
    (tmp_path / "sub" / "inner.mi").write_text('declare shader "o2" () apply output end declare\n')
    (tmp_path / "lib" / "sys.mi").write_text('declare shader "o3" () apply output end declare\n')
    (tmp_path / "main.mi").write_text('$include "sub/decls.mi"\n$include <sys.mi>\ncamera "c" output "o1" () end camera\n')
    s = load(tmp_path / "main.mi", include_path=[tmp_path / "lib"])
    assert set(s.output_shader_decls()) == {"o1", "o2", "o3"}
    assert s.shader_decls["o2"].location[0].endswith("inner.mi")
    assert len(s.includes) == 3


def test_missing_include_is_a_warning_by_default_and_an_error_when_strict(tmp_path):
    (tmp_path / "m.mi").write_text('link "x"\n  $include "nothere.mi"\n$include <sys.mi>\ncamera "c" end camera\n')
    s = load(tmp_path / "m.mi")
    assert s.camera.name == "c"
    missing = [w for w in s.warnings if "file not found" in w]
    assert len(missing) == 2 and f"{tmp_path / 'm.mi'}:2:3:" in missing[0]
    with pytest.raises(SceneError) as ei:
        load(tmp_path / "m.mi", strict_includes=True)
    assert str(ei.value).startswith(f"{tmp_path / 'm.mi'}:2:3: $include \"nothere.mi\": file not found")


def test_metasl_includes_are_not_read(tmp_path):
    (tmp_path / "red.msl").write_text("shader red { this is not mi }")
    (tmp_path / "m.mi").write_text('$include "red.msl"\ncamera "c" end camera\n')
    s = load(tmp_path / "m.mi")
    assert s.skipped["$include (MetaSL/MDL)"] == 1
    assert any("MetaSL/MDL" in w for w in s.warnings)


def test_include_guard_with_ifndef_and_set(tmp_path):
    (tmp_path / "lib.mi").write_text(
        '$ifndef "lib_included"\nset "lib_included" "true"\n'
        'declare shader "g" () apply output end declare\nlink "once"\n$endif # guard\n')
    (tmp_path / "m.mi").write_text('$include "lib.mi"\n$include "lib.mi"\n')
    s = load(tmp_path / "m.mi")
    assert s.skipped["link"] == 1
    assert "g" in s.output_shader_decls()


def test_ifdef_else_and_defines():
    text = '$ifdef "HQ"\noptions "o" samples 2 end options\n$else\noptions "o" samples 0 end options\n$endif\n'
    assert parse(text).options.samples_max == 0
    assert parse(text, defines={"HQ": "1"}).options.samples_max == 2
    nested = '$ifndef "A"\n $ifdef "B"\n link "x"\n $else\n link "y" link "z"\n $endif\n$endif\n'
    assert parse(nested).skipped["link"] == 2
    assert parse(nested, defines={"A": ""}).skipped["link"] == 0


def test_include_cycle_is_an_error(tmp_path):
    (tmp_path / "a.mi").write_text('$include "a.mi"\n')
    with pytest.raises(SceneError, match="nested more than"):
        load(tmp_path / "a.mi")


def test_unreadable_scene_is_a_scene_error(tmp_path):
    with pytest.raises(SceneError, match=r"nope\.mi:1:1: cannot read scene"):
        load(tmp_path / "nope.mi")


# ---------------------------------------------------------------------------------------------------
# errors: file:line:col and what was expected


@pytest.mark.parametrize("text, prefix, fragment", [
    ('camera "c"\n  output "rgb" "jpg" "out.jpg\nend camera\n', "s.mi:2:22:", "unterminated string: expected a closing '\"', found end of file"),
    ('camera "c"\n  output "rgb" "jpg "out.jpg"\nend camera\n', "s.mi:2:25:", "unexpected character '.'"),
    ('shader "s" "d" (\n  "a" (1, 2)\n', "s.mi:2:7:", "expected a parameter value, found '('"),
    ('data "x" "d" ( "a" [ 1, 2 )\n', "s.mi:1:27:", "expected ']' to close '[' at line 1, column 20, found ')'"),
    ('object "o"\n  group ( 1 2\nend object\n', "s.mi:4:1:", "expected ')' to close '(' at line 2, column 9, found end of file"),
    ('camera "c"\n  output "rgba,zz" "tif" "a.tif"\nend camera\n', "s.mi:2:10:", "unknown data type 'zz' in output statement; valid types: rgba, rgba_16"),
    ('camera "c"\n  framebuffer "a" datatype "rgbx"\nend camera\n', "s.mi:2:28:", "unknown data type 'rgbx' in framebuffer 'a'; valid types: rgba"),
    ('options "o"\n  frame buffer 0 "+q"\nend options\n', "s.mi:2:18:", "unknown data type 'q'"),
    ('camera "c"\n  resolution 1.2.3 4\nend camera\n', "s.mi:2:14:", "bad number '1.2.3'"),
    ('camera "c"\n  aspect 4x\nend camera\n', "s.mi:2:10:", "bad number '4x'"),
    ('options "o"\n  samples 1 2\n', "s.mi:3:1:", "expected 'end options' to close 'options' at line 1, column 1, found end of file"),
    ('camera "c"\n  resolution 1 2\n', "s.mi:3:1:", "expected 'end camera' to close 'camera' at line 1, column 1, found end of file"),
    ('declare shader "x" (integer "a")\n apply output\n', "s.mi:3:1:", "expected 'end declare' to close 'declare' at line 1, column 1"),
    ('declare shader "x" (integer "a"\n', "s.mi:2:1:", "expected ')' to close the parameter declarations, found end of file"),
    ('instance "i" "o"\n transform\n', "s.mi:3:1:", "expected 'end instance' to close 'instance' at line 1, column 1"),
    ('link "x"\nbogus "y"\n', "s.mi:2:1:", "expected a top-level statement (options, camera, declare, shader, ...), found 'bogus'"),
    ('"x"\n', "s.mi:1:1:", "expected a top-level statement"),
    ('options "o"\n  wibble 3\nend options\n', "s.mi:2:3:", "expected an options statement or 'end options', found 'wibble'"),
    ('camera "c"\n  zoom 3\nend camera\n', "s.mi:2:3:", "expected a camera statement or 'end camera', found 'zoom'"),
    ('camera "c"\n  framebuffer "a" primary maybe\nend camera\n', "s.mi:2:27:", "expected on or off after 'primary', found 'maybe'"),
    ('options "o" colorclip bright end options\n', "s.mi:1:23:", "expected rgb, alpha or raw after 'colorclip', found 'bright'"),
    ('options "o" filter sinc end options\n', "s.mi:1:20:", "expected a filter name (box, triangle, gauss, mitchell, lanczos, blackman_harris), found 'sinc'"),
    ('options "o" filter clip box end options\n', "s.mi:1:25:", "expected a filter name after 'filter clip' (mitchell, lanczos), found 'box'"),
    ('options "o" samples 1 2 3 end options\n', "s.mi:1:13:", "expected 1, 2 or 4 numbers after 'samples', found 3"),
    ('options "o" samples 1.5 end options\n', "s.mi:1:21:", "expected an integer sample limit, found number 1.5"),
    ('end camera\n', "s.mi:1:1:", "found 'end camera' without a matching block"),
    ('$endif\n', "s.mi:1:1:", "found $endif without $ifdef or $ifndef"),
    ('$ifndef "x"\nlink "a"\n', "s.mi:3:1:", "expected $endif for $ifndef at line 1, found end of file"),
    ('$define "x"\n', "s.mi:1:1:", "expected $include, $ifdef, $ifndef, $else, $endif or $lookup, found $define"),
    ('$include\nlink "x"\n', "s.mi:2:1:", "expected a file name (\"file\" or <file>) after $include, found 'link'"),
    ('link "x" ; link "y"\n', "s.mi:1:10:", "unexpected character ';'"),
    ('camera "c"\n  output "rgb" "jpg" quality "x" "a.jpg"\nend camera\n', "s.mi:2:30:", "expected an integer quality after 'quality', found string \"x\""),
    ('camera "c"\n  output "z" "d.zt"\nend camera\n', "s.mi:2:10:", "expected a file format, found data type \"z\""),
    ('camera "c"\n  output colorprofile "p" "sh" ()\nend camera\n', "s.mi:2:32:", "colorprofile only applies to file outputs"),
    ('camera "c"\n  output "png"\nend camera\n', "s.mi:3:1:", "expected a quoted file name, file format or shader name after string \"png\", found 'end'"),
    ('shader "s" "d" ("a" 1 "b" 2)\n', "s.mi:1:23:", "expected ',' or ')' after the value of parameter \"a\", found string \"b\""),
    ('declare shader "x" (floaty "a") end declare\n', "s.mi:1:21:", "expected a parameter type"),
    ('declare shader "x" () apply output bogus end declare\n', "s.mi:1:36:", "expected version, apply, parallel, gui or 'end declare', found 'bogus'"),
    ('declare widget "x"\n', "s.mi:1:9:", "expected 'shader', 'phenomenon' or 'data' after 'declare', found 'widget'"),
    ("data \"x\" 'abc'\n", "s.mi:1:10:", "expected an even number of hex digits"),
])
def test_errors_are_located(text, prefix, fragment):
    e = error_of(text)
    msg = str(e)
    assert msg.startswith(prefix + " "), msg
    assert fragment in msg, msg
    assert isinstance(e, FramebufError)
    assert (e.file, e.line, e.column) == ("s.mi", int(prefix.split(":")[1]), int(prefix.split(":")[2]))


def test_error_in_included_file_names_that_file(tmp_path):
    (tmp_path / "inc.mi").write_text('declare shader "x" (\n  integer "a" default 1.2.3\n) end declare\n')
    (tmp_path / "m.mi").write_text('$include "inc.mi"\n')
    with pytest.raises(SceneError) as ei:
        load(tmp_path / "m.mi")
    assert ei.value.file.endswith("inc.mi") and (ei.value.line, ei.value.column) == (2, 23)


# ---------------------------------------------------------------------------------------------------
# framebuf primitives extension


PRIMS = """\
camera "c" resolution 64 48 output "rgba" "png" "a.png" end camera
framebuf primitives
    sphere "ball" center 0 0 -5 radius 1 color 1 0.2 0.2 1 opacity 0.5 label 3 velocity 0.5 0 0
    box "crate" min -1 -1 -8 max 1 1 -6 color 0.2 0.4 1 label 4
    plane "ground" point 0 -1 0 normal 0 1 0
    light "sun" direction -1 -1 -1 color 1 0.9 0.8
end framebuf
framebuf primitives
    sphere "s2" radius 2 center 1 2 3
end framebuf
"""


def test_primitives_extension():
    s = loads(PRIMS, "s.mi")
    kinds = [(p.kind, p.name) for p in s.primitives]
    assert kinds == [("sphere", "ball"), ("box", "crate"), ("plane", "ground"), ("sphere", "s2")]
    ball, crate, ground, s2 = s.primitives
    assert ball.params == {"center": (0.0, 0.0, -5.0), "radius": 1.0, "color": (1.0, 0.2, 0.2, 1.0),
                           "opacity": 0.5, "label": 3, "velocity": (0.5, 0.0, 0.0)}
    assert crate.params["color"] == (0.2, 0.4, 1.0, 1.0) and crate.params["label"] == 4
    assert crate.params["min"] == (-1.0, -1.0, -8.0) and crate.params["max"] == (1.0, 1.0, -6.0)
    assert ground.params == {"point": (0.0, -1.0, 0.0), "normal": (0.0, 1.0, 0.0), "color": (0.8, 0.8, 0.8, 1.0),
                             "opacity": 1.0, "label": 0, "velocity": (0.0, 0.0, 0.0)}
    assert ball.location == ("s.mi", 3, 5)
    assert s2.params["center"] == (1.0, 2.0, 3.0)
    (sun,) = s.lights
    assert sun.direction == (-1.0, -1.0, -1.0) and sun.color == (1.0, 0.9, 0.8)
    assert "framebuf primitives: 4 primitive(s), 1 light(s)" in s.describe()


@pytest.mark.parametrize("text, prefix, fragment", [
    ('framebuf primitives\n  sphere "s" center 0 0 0\nend framebuf\n', "s.mi:2:3:", "expected 'radius' for sphere 's'"),
    ('framebuf primitives\n  sphere "s" center 0 0 radius 1\nend framebuf\n', "s.mi:2:25:", "expected 3 numbers after 'center'"),
    ('framebuf primitives\n  box "b" min 0 0 0 max 1 1 1 shiny 3\nend framebuf\n', "s.mi:2:31:", "expected a box parameter (min, max, color, opacity, label, velocity, material), found 'shiny'"),
    ('framebuf primitives\n  cone "c"\nend framebuf\n', "s.mi:2:3:", "expected sphere, box, plane, light or 'end framebuf', found 'cone'"),
    ('framebuf primitives\n  sphere "s" center 0 0 0 radius 1 label 1.5\nend framebuf\n', "s.mi:2:36:", "expected a non-negative integer label"),
    ('framebuf primitives\n  sphere "s" center 0 0 0 radius 0\nend framebuf\n', "s.mi:2:3:", "expected a positive radius"),
    ('framebuf primitives\n  light "l" color 1 1 1\nend framebuf\n', "s.mi:3:1:", "expected 'direction' for light 'l'"),
    ('framebuf shapes\n', "s.mi:1:10:", "expected 'primitives', found 'shapes'"),
    ('framebuf primitives\n  plane "p" point 0 0 0 normal 0 1 0\n', "s.mi:3:1:", "expected 'end framebuf' to close 'framebuf' at line 1, column 1"),
])
def test_primitive_errors(text, prefix, fragment):
    msg = str(error_of(text))
    assert msg.startswith(prefix + " "), msg
    assert fragment in msg, msg


# ---------------------------------------------------------------------------------------------------
# describe


def test_describe_named_and_legacy():
    named = loads(NAMED, "s.mi").describe()
    assert "mode: named frame buffers" in named
    assert "framebuffer 'beauty': rgba_h, filtering on, primary -> file \"shot.0001.exr\" format exr compression piz" in named
    assert "framebuffer 'depth': z, filtering off -> file" in named
    assert "quality 90" in named
    legacy = loads(LEGACY, "s.mi").describe()
    assert "mode: legacy output statements" in legacy
    lines = legacy.splitlines()
    first = next(i for i, line in enumerate(lines) if "raw.rgb" in line)
    assert "output file \"raw.rgb\": format rgb, type +rgba" in lines[first]
    assert "output shader out_depthfade on rgba,+z" in lines[first + 1]
    assert "user buffer fb0: +rgba_fp" in legacy
    assert "no camera" in parse('link "x"').describe()
