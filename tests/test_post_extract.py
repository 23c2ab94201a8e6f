"""framebuf extract and the channel layouts, on generated renders of every layout."""

from __future__ import annotations

import json

import numpy as np
import OpenEXR
import pytest

from framebuf.cli import main
from framebuf.errors import FramebufError
from framebuf.post import layouts
from framebuf.post.extract import ExtractOptions, extract_many, extract_one

from helpers import oiio_read
from post_fixtures import (
    CLASSES, WRITERS, expected_labels, write_many_channels, write_vray,
)

LAYOUTS = list(WRITERS)


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    folder = tmp_path_factory.mktemp("renders")
    out = {}
    for name, writer in WRITERS.items():
        path = folder / f"{name}.exr"
        out[name] = (path, writer(path))
    return out


def _srgb(v):
    v = np.clip(v.astype(np.float64), 0, 1)
    return np.floor(np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055) * 255 + 0.5)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layout_is_detected(renders, layout):
    path, truth = renders[layout]
    r = layouts.Render(path)
    assert r.resolved.layout.name == layout
    assert sorted(r.resolved.masks) == sorted(CLASSES)
    assert sorted(r.resolved.clothing_masks) == sorted(truth["clothing"])
    assert {"beauty", "alpha", "depth", "normals"} <= set(r.resolved.roles)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_extract_reproduces_labels_depth_normals(renders, layout, tmp_path):
    path, truth = renders[layout]
    res = extract_one(path, tmp_path)
    assert res.ok, res.error
    stem = tmp_path / layout
    info = json.loads((tmp_path / f"{layout}.info.json").read_text())
    # labels: the independent argmax, and the mapping file says the same numbering
    want, mapping = expected_labels(truth["masks"])
    assert info["segments_mapping"] == mapping
    assert list(info["segments_mapping"]) == ["background", *sorted(CLASSES)]
    seg, spec = oiio_read(f"{stem}.segments.png", "uint16")
    assert spec.nchannels == 1 and spec.format == "uint16"
    np.testing.assert_array_equal(seg[:, :, 0], want)
    # the designed cases: hair/head tie -> hair; nose 0.75 beats head 0.25; ear alone at 0.5 ties bg
    assert {1, 2, 3, 4, 5} <= set(np.unique(want)) and 6 not in set(np.unique(want))  # teeth empty
    if truth["clothing"]:
        cwant, cmap = expected_labels(truth["clothing"])
        assert info["clothing_segments_mapping"] == cmap
        cseg, _ = oiio_read(f"{stem}.clothing_segments.png", "uint16")
        np.testing.assert_array_equal(cseg[:, :, 0], cwant)
    else:
        assert not (tmp_path / f"{layout}.clothing_segments.png").exists()
    # depth: metres as stored, background 0; float16 when the channel is half
    depth, dspec = oiio_read(f"{stem}.depth.tif", "float")
    fg = np.isfinite(truth["depth"])
    half_z = layout == "vray"
    assert dspec.nchannels == 1
    assert dspec.format == ("half" if half_z else "float")
    expect = truth["depth"].astype(np.float16 if half_z else np.float32).astype(np.float32)
    np.testing.assert_array_equal(depth[:, :, 0][fg], expect[fg])
    assert np.all(depth[:, :, 0][~fg] == 0)
    # normals: float16 x3, camera space (OpenGL axes), background (0, 0, 1)
    normals, nspec = oiio_read(f"{stem}.normals.tif", "float")
    assert nspec.nchannels == 3 and nspec.format == "half"
    tol = 0 if layout == "vray" else 2e-3  # world -> camera rotation of half values
    np.testing.assert_allclose(normals[fg], truth["normals"][fg], atol=tol)
    np.testing.assert_array_equal(normals[~fg], np.broadcast_to([0, 0, 1], normals[~fg].shape))
    assert info["extract"]["normals"]["space"] == "camera"
    # alpha and rgb
    alpha, aspec = oiio_read(f"{stem}.alpha.tif", "uint8")
    assert aspec.nchannels == 1 and aspec.format == "uint8"
    np.testing.assert_array_equal(alpha[:, :, 0], np.floor(truth["alpha"] * 255 + 0.5))
    rgb, rspec = oiio_read(f"{stem}.rgb.png", "uint8")
    assert rspec.nchannels == 3 and rspec.format == "uint8"
    np.testing.assert_array_equal(rgb, _srgb(truth["rgb"]))
    # info.json: zmin/zmax from the header, channels used
    if layout == "vray":
        assert info["render"] == {"zmin": 0.0, "zmax": 100.0}
        assert info["extract"]["channels"]["normals"] == ["CameraNormals.R", "CameraNormals.G", "CameraNormals.B"]
        assert info["extract"]["channels"]["segments"]["hair"] == "segmentation.hair"


def test_mirrored_vray_normals_and_float_renders(tmp_path):
    truth = write_vray(tmp_path / "m.exr", normals="normals", dtype=np.float32,
                       compression=OpenEXR.PIZ_COMPRESSION)
    assert extract_one(tmp_path / "m.exr", tmp_path).ok
    n, _ = oiio_read(tmp_path / "m.normals.tif")
    fg = np.isfinite(truth["depth"])
    np.testing.assert_allclose(n[fg], truth["normals"][fg].astype(np.float16), atol=0)
    d, spec = oiio_read(tmp_path / "m.depth.tif")
    assert spec.format == "float"
    np.testing.assert_array_equal(d[:, :, 0][fg], truth["depth"][fg])


def test_world_normals_without_camera_are_reported(tmp_path):
    WRITERS["blender4"](tmp_path / "b.exr", camera=False)
    res = extract_one(tmp_path / "b.exr", tmp_path)
    assert res.ok and any("world space" in w for w in res.warnings)
    info = json.loads((tmp_path / "b.info.json").read_text())
    assert info["extract"]["normals"]["space"] == "world"


def test_options_background_srgb_and_assets(tmp_path):
    truth = write_vray(tmp_path / "o.exr")
    opts = ExtractOptions(assets=("rgb", "depth"), srgb=False, depth_background=float("inf"),
                          depth_dtype="float32")
    assert extract_one(tmp_path / "o.exr", tmp_path, opts).ok
    assert not (tmp_path / "o.segments.png").exists() and not (tmp_path / "o.alpha.tif").exists()
    rgb, _ = oiio_read(tmp_path / "o.rgb.png", "uint8")
    np.testing.assert_array_equal(rgb, np.floor(np.clip(truth["rgb"], 0, 1) * 255 + 0.5))
    d, spec = oiio_read(tmp_path / "o.depth.tif")
    assert spec.format == "float"
    fg = np.isfinite(truth["depth"])
    assert np.all(np.isposinf(d[:, :, 0][~fg]))


def test_named_and_file_mappings(tmp_path):
    truth = write_vray(tmp_path / "f.exr")
    face = json.loads(open(__import__("shaders").__path__[0] + "/data/face.json").read())["table"]
    opts = ExtractOptions(mapping="face", clothing_mapping="clothing")
    res = extract_one(tmp_path / "f.exr", tmp_path, opts)
    assert res.ok, res.error
    info = json.loads((tmp_path / "f.info.json").read_text())
    values = {"background": 0, **{c: face[c] for c in CLASSES}}
    want, mapping = expected_labels(truth["masks"], values)
    assert info["segments_mapping"] == mapping
    seg, _ = oiio_read(tmp_path / "f.segments.png", "uint16")
    np.testing.assert_array_equal(seg[:, :, 0], want)
    assert info["clothing_segments_mapping"]["long sleeve shirt"] == 9
    # a user table missing a class: an error naming it, or background when asked
    table = tmp_path / "mine.json"
    table.write_text(json.dumps({"background": 0, "hair": 7, "head": 8}))
    res = extract_one(tmp_path / "f.exr", tmp_path, ExtractOptions(mapping=str(table), clothing_mapping="clothing"))
    assert not res.ok and "ear_left" in res.error and "--unknown" in res.error
    res = extract_one(tmp_path / "f.exr", tmp_path, ExtractOptions(
        mapping=str(table), clothing_mapping="clothing", unknown="background"))
    assert res.ok and any("ear_left" in w for w in res.warnings)
    seg, _ = oiio_read(tmp_path / "f.segments.png", "uint16")
    assert set(np.unique(seg)) <= {0, 7, 8}
    # two classes of the render sharing one value: refused unless allowed
    table.write_text(json.dumps({"background": 0, **{c: 3 for c in CLASSES}}))
    res = extract_one(tmp_path / "f.exr", tmp_path, ExtractOptions(mapping=str(table), clothing_mapping="clothing"))
    assert not res.ok and "--allow-merge" in res.error
    res = extract_one(tmp_path / "f.exr", tmp_path, ExtractOptions(
        mapping=str(table), clothing_mapping="clothing", allow_merge=True))
    assert res.ok and any("merged" in w for w in res.warnings)


def test_per_image_present_pixels_skips_empty_classes(tmp_path):
    truth = write_vray(tmp_path / "p.exr")
    assert extract_one(tmp_path / "p.exr", tmp_path, ExtractOptions(present="pixels")).ok
    info = json.loads((tmp_path / "p.info.json").read_text())
    assert "teeth" not in info["segments_mapping"]
    assert info["segments_mapping"]["nose"] == 5 - 0  # ear_left, eye_left, hair, head, nose
    assert "trousers" not in info["clothing_segments_mapping"]


def test_existing_info_json_is_updated_not_lost(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_vray(src / "7.exr")
    (src / "7.info.json").write_text(json.dumps({"camera": {"focal_length_mm": 100.0},
                                                 "render": {"wavelength": "visible"}}))
    out = tmp_path / "out"
    out.mkdir()
    assert extract_one(src / "7.exr", out).ok
    info = json.loads((out / "7.info.json").read_text())
    assert info["camera"] == {"focal_length_mm": 100.0}
    assert info["render"] == {"wavelength": "visible", "zmin": 0.0, "zmax": 100.0}
    assert "segments_mapping" in info


def test_read_set_gives_typed_buffers(renders):
    for layout in LAYOUTS:
        path, truth = renders[layout]
        fbs = layouts.read_set(path)
        assert fbs["depth"].datatype.name == "z"
        z = fbs["depth"].data[:, :, 0]
        assert np.all(np.isposinf(z[~np.isfinite(truth["depth"])]))   # +inf = nothing hit
        assert fbs["normals"].datatype.name == "n"
        fg = np.isfinite(truth["depth"])
        np.testing.assert_allclose(fbs["normals"].data[fg], truth["normals"][fg], atol=2e-3)
        hair = fbs["segmentation.hair"]
        assert hair.datatype.name == "a_h"
        np.testing.assert_array_equal(hair.data[:, :, 0], truth["masks"]["hair"])
        assert fbs["beauty"].datatype.name == "rgba_h"


def test_layout_override_and_missing_role(tmp_path):
    write_vray(tmp_path / "v.exr")
    res = extract_one(tmp_path / "v.exr", tmp_path, ExtractOptions(layout="blender4"))
    assert not res.ok and "--layout" in res.error
    with pytest.raises(FramebufError, match="unknown channel layout"):
        layouts.get_layout("maya")


def test_many_with_workers_and_a_corrupt_file(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    paths = []
    for i in range(3):
        write_vray(src / f"{i}.exr")
        paths.append(src / f"{i}.exr")
    data = (src / "1.exr").read_bytes()
    (src / "bad.exr").write_bytes(data[: len(data) // 2])
    (src / "junk.exr").write_bytes(b"not an exr at all")
    paths[1:1] = [src / "bad.exr", src / "junk.exr"]
    out = tmp_path / "out"
    out.mkdir()
    results = extract_many(paths, out, workers=2, progress=False)
    assert [r.ok for r in results] == [True, False, False, True, True]
    for i in range(3):
        assert (out / f"{i}.segments.png").exists() and (out / f"{i}.info.json").exists()
    assert not list(out.glob("bad.*")) and not list(out.glob("*.part"))


def test_cli_reports_bad_files_without_traceback(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(2):
        write_vray(src / f"{i}.exr")
    data = (src / "0.exr").read_bytes()
    (src / "cut.exr").write_bytes(data[: len(data) - 300])
    out = tmp_path / "out"
    rc = main(["extract", str(src / "0.exr"), str(src / "cut.exr"), str(src / "1.exr"),
               "-o", str(out), "-j", "2", "-q"])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert rc != 0
    assert "Traceback" not in text
    assert "extracted 2 of 3" in text and "cut.exr" in text
    assert (out / "0.rgb.png").exists() and (out / "1.rgb.png").exists()


def test_cli_same_name_twice_is_refused(tmp_path, capsys):
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        write_vray(tmp_path / d / "5.exr")
    rc = main(["extract", str(tmp_path / "a/5.exr"), str(tmp_path / "b/5.exr"), "-o", str(tmp_path / "o"), "-q"])
    assert rc == 2 and "same name" in capsys.readouterr().err   # errors: stderr


def test_cli_options_and_list_layouts(tmp_path, capsys):
    write_vray(tmp_path / "c.exr")
    rc = main(["extract", str(tmp_path / "c.exr"), "-o", str(tmp_path / "o"), "--assets", "depth,segments",
               "--mapping", "face", "--clothing-mapping", "clothing", "--depth-background", "nan", "-q"])
    assert rc == 0, capsys.readouterr()
    d, _ = oiio_read(tmp_path / "o/c.depth.tif")
    assert np.isnan(d).any() and not (tmp_path / "o/c.rgb.png").exists()
    assert main(["extract", "--list-layouts"]) == 0
    listing = capsys.readouterr().out
    for name in ("vray", "blender4", "blender5", "arnold", "CameraNormals.R", "Object Index.X"):
        assert name in listing


def test_many_channel_render_round_trip(tmp_path):
    names = write_many_channels(tmp_path / "big.exr", 64, 48, n_masks=12)
    res = extract_one(tmp_path / "big.exr", tmp_path)
    assert res.ok, res.error
    ch = OpenEXR.File(str(tmp_path / "big.exr"), separate_channels=True).channels()
    masks = {n: ch[f"segmentation.{n}"].pixels.astype(np.float32) for n in names}
    want, mapping = expected_labels(masks)
    seg, _ = oiio_read(tmp_path / "big.segments.png", "uint16")
    np.testing.assert_array_equal(seg[:, :, 0], want)


def test_extract_decodes_only_the_assets_channels(tmp_path, monkeypatch):
    """3 assets of a 61-channel render: only their 5 channels are de-interleaved and copied out
    (chunks hold every channel, so all are inflated; none of the other 56 is decoded)."""
    from framebuf.formats import _exrfile
    from post_fixtures import write_render_like

    write_render_like(tmp_path / "r.exr", 32, 48, n_masks=50)
    decoded = []
    real = _exrfile._read_part_native

    def spy(exr, part, want, *args, **kwargs):
        decoded.extend(part.channels[c].name for c in want)
        arrays = real(exr, part, want, *args, **kwargs)
        assert len(arrays) == len(want)
        return arrays

    monkeypatch.setattr(_exrfile, "_read_part_native", spy)
    res = extract_one(tmp_path / "r.exr", tmp_path, ExtractOptions(assets=("rgb", "alpha", "depth")))
    assert res.ok, res.error
    assert len(_exrfile.read_header(tmp_path / "r.exr").parts[0].channels) == 61
    assert sorted(decoded) == ["A", "B", "G", "R", "Z"]
    assert sorted(p.rsplit("/", 1)[-1] for p in res.outputs) == [
        "r.alpha.tif", "r.depth.tif", "r.info.json", "r.rgb.png"]


def test_render_like_segments_match_independent_argmax(tmp_path):
    from post_fixtures import write_render_like

    names = write_render_like(tmp_path / "r.exr", 40, 56, n_masks=12, seed=3)
    res = extract_one(tmp_path / "r.exr", tmp_path)
    assert res.ok, res.error
    ch = OpenEXR.File(str(tmp_path / "r.exr"), separate_channels=True).channels()
    want, _ = expected_labels({n: ch[f"segmentation.{n}"].pixels.astype(np.float32) for n in names})
    seg, _ = oiio_read(tmp_path / "r.segments.png", "uint16")
    np.testing.assert_array_equal(seg[:, :, 0], want)


def test_read_set_names_the_rest_as_framebuf_read_does(renders):
    """Beside its role buffers (beauty, depth, normals ... converted to framebuf's conventions)
    read_set names every other channel group exactly as framebuf.read and framebuf info do."""
    import framebuf

    for layout in LAYOUTS:
        path, _ = renders[layout]
        fbs = layouts.read_set(path)
        plain = framebuf.read(path)
        roles = set(layouts.Render(path).resolved.roles) | {"beauty"}
        taken = {c for b in fbs if b.name in roles or b.name.startswith(("segmentation.", "clothing_segmentation."))
                 for c in b.channels}
        for buf in fbs:
            if buf.name in roles or buf.name.startswith(("segmentation.", "clothing_segmentation.")):
                continue
            match = [p for p in plain if p.name == buf.name]
            assert match and match[0].datatype == buf.datatype, (layout, buf.name)
            assert not set(buf.channels) & taken


@pytest.mark.parametrize("far", [1e4, 100.0, 3.14159, 2048.5, 65504.0, 65520.0, 1e30, float("inf"),
                                 0.0, -3.0, 6e-8, float("nan")])
def test_half_depth_background_on_bits_matches_the_float_rule(far):
    # every half bit pattern: the integer shortcut against the float32 rule it replaces
    halves = np.arange(65536, dtype=np.uint16).view(np.float16)
    with np.errstate(invalid="ignore", over="ignore"):
        f = halves.astype(np.float32)
        expected = ~np.isfinite(f) | (f <= 0) | (f >= far)
    got = layouts.background_depth(halves, far)
    assert np.array_equal(got, expected)
    assert got.sum() == expected.sum() > 0


def test_layout_detection_is_remembered_per_channel_set_and_returns_copies():
    names = ["R", "G", "B", "A", "Z", "segmentation.arm", "segmentation.leg"]
    a = layouts.detect(names)
    b = layouts.detect(list(names))
    assert a is not b and a.masks == b.masks == {"arm": "segmentation.arm", "leg": "segmentation.leg"}
    assert a.layout is b.layout
    a.masks.clear()
    a.problems.append("mine")
    c = layouts.detect(names)
    assert c.masks == b.masks and "mine" not in c.problems
