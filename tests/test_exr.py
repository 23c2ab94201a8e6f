"""OpenEXR: several buffers per file, channel names and pixel types, compressions, tiles, header
attributes, reading foreign and multi-part files. Checked with the OpenEXR module and OIIO."""

from __future__ import annotations

import numpy as np
import OpenEXR
import pytest

import framebuf
from framebuf import convert
from framebuf.errors import UnsupportedOptionError
from framebuf.formats import exr

from helpers import make_test_image, oiio_read

H, W = 24, 150


def channel_types(path) -> dict:
    with_pixels = OpenEXR.File(str(path), separate_channels=True)
    return {name: ch.type() for name, ch in with_pixels.channels().items()}


def header(path) -> dict:
    return OpenEXR.File(str(path), header_only=True).header()


@pytest.fixture
def frame():
    """A render's buffers: primary beauty, standard depth, user buffers of every EXR kind."""
    img = make_test_image(H, W, 4)
    fbs = framebuf.FrameBufferSet(W, H)
    fbs.add("beauty", "rgba_h", data=img, primary=True)
    fbs.add("depth", "z", data=1.0 + 10 * np.abs(img[:, :, :1]))
    fbs.add("diffuse", "rgba_fp", user=True, data=img * 2)
    fbs.add("spec", "rgb_h", user=True, data=img[:, :, :3] * 0.5)
    fbs.add("mask", "a_fp", user=True, data=img[:, :, 3:])
    fbs.add("normals", "n", user=True, data=img[:, :, :3] * 2 - 1)
    fbs.add("motion", "m", user=True, data=img[:, :, :3] - 0.5)
    fbs.add("zuser", "z", user=True, data=img[:, :, :1] + 5)
    return fbs


def test_multi_buffer_channel_names_and_pixel_types(tmp_path, frame):
    path = framebuf.write(frame, tmp_path / "all.exr")
    types = channel_types(path)
    HALF, FLOAT = OpenEXR.HALF, OpenEXR.FLOAT
    assert types == {
        "R": HALF, "G": HALF, "B": HALF, "A": HALF,                       # primary: bare
        "Z": FLOAT,                                                       # standard depth: bare
        "diffuse.R": FLOAT, "diffuse.G": FLOAT, "diffuse.B": FLOAT, "diffuse.A": FLOAT,
        "spec.R": HALF, "spec.G": HALF, "spec.B": HALF,
        "mask.A": FLOAT,
        "normals.X": FLOAT, "normals.Y": FLOAT, "normals.Z": FLOAT,
        "motion.X": FLOAT, "motion.Y": FLOAT, "motion.Z": FLOAT,
        "zuser.Z": FLOAT,                                                 # user depth: prefixed
    }
    assert header(path)["compression"] == OpenEXR.RLE_COMPRESSION      # mental ray's default
    assert header(path)["type"] == OpenEXR.scanlineimage


def test_multi_buffer_values_round_trip(tmp_path, frame):
    path = framebuf.write(frame, tmp_path / "all.exr")
    back = framebuf.read(path)
    assert {b.name: b.datatype.name for b in back} == {
        "beauty": "rgba_h", "depth": "z", "diffuse": "rgba_fp", "spec": "rgb_h", "mask": "a_fp",
        "normals": "n", "motion": "m", "zuser": "z"}
    for buf in frame:
        want = convert.from_file(convert.to_file(buf.data, buf.datatype, buf.datatype), buf.datatype)
        np.testing.assert_array_equal(back[buf.name].data, want, err_msg=buf.name)
    # an independent reader sees the same primary pixels
    px, spec = oiio_read(path, "half", unassociated=False)
    names = list(spec.channelnames)
    rgba = np.stack([px[:, :, names.index(c)] for c in "RGBA"], -1)
    np.testing.assert_array_equal(rgba, convert.to_file(frame["beauty"].data, "rgba_h", "rgba_h"))


@pytest.mark.parametrize("dt, pixel_type", [
    ("a", "HALF"), ("rgb", "HALF"), ("rgba", "HALF"), ("a_h", "HALF"), ("rgb_h", "HALF"),
    ("rgba_h", "HALF"), ("a_fp", "FLOAT"), ("rgb_fp", "FLOAT"), ("rgba_fp", "FLOAT"),
    ("z", "FLOAT"), ("n", "FLOAT"), ("m", "FLOAT"),
])
def test_pixel_type_of_every_data_type(tmp_path, dt, pixel_type):
    comps = len(framebuf.datatype(dt).view)
    path = framebuf.write(make_test_image(8, 20, comps), tmp_path / "t.exr", datatype=dt)
    assert set(channel_types(path).values()) == {getattr(OpenEXR, pixel_type)}
    assert framebuf.read_image(path).layers[0].datatype.name == dt


def test_eight_bit_types_hold_quantised_values(tmp_path):
    img = make_test_image(8, 40, 4)
    path = framebuf.write(img, tmp_path / "q.exr", datatype="rgba")
    stored = np.stack([OpenEXR.File(str(path), separate_channels=True).channels()[c].pixels
                       for c in "RGBA"], -1)
    k = convert.to_file(img, "rgba_fp", "rgba")
    np.testing.assert_array_equal(stored, (k / np.float32(255)).astype(np.float16))
    np.testing.assert_array_equal(framebuf.read_image(path).layers[0].pixels, k)


def test_tag_is_written_as_uint(tmp_path):
    # ids are UINT in every renderer's EXR; mental ray's table has no tag for EXR (an extension)
    import OpenImageIO as oiio

    fbs = framebuf.FrameBufferSet(4, 3)
    labels = np.arange(12, dtype=np.uint32).reshape(3, 4, 1) * 1_000_003
    fbs.add("labels", "tag", user=True, data=labels)
    path = framebuf.write(fbs["labels"], tmp_path / "ids.exr")
    spec = oiio.ImageInput.open(str(path)).spec()
    assert [str(f) for f in spec.channelformats] in (["uint"], []) and str(spec.format) == "uint"
    assert np.array_equal(oiio_read(path, "uint32")[0][:, :, 0], labels[:, :, 0])
    back = framebuf.read(path)["labels"]
    assert back.datatype.name == "tag" and np.array_equal(back.data, labels)


@pytest.mark.parametrize("comp", list(exr.WRITE_COMPRESSIONS))
def test_compressions_are_written_and_named(tmp_path, comp):
    img = make_test_image(H, W, 4)
    path = framebuf.write(img, tmp_path / f"{comp}.exr", datatype="rgba_fp", compression=comp)
    assert header(path)["compression"] == exr.COMPRESSIONS[comp]
    assert framebuf.read_image(path).info["compression"] == comp
    back = framebuf.read_image(path).layers[0].pixels
    if comp in ("none", "rle", "zip", "zips", "piz"):
        np.testing.assert_array_equal(back, img)                          # lossless on float
    elif comp == "pxr24":
        np.testing.assert_allclose(back, img, rtol=2e-5, atol=1e-30)     # 24-bit float mantissa
    else:
        assert np.abs(back - img).mean() < 0.02                          # lossy block codecs


def test_compression_names_are_case_insensitive_and_checked(tmp_path):
    path = framebuf.write(make_test_image(4, 4, 4), tmp_path / "c.exr", compression="PIZ")
    assert header(path)["compression"] == OpenEXR.PIZ_COMPRESSION
    with pytest.raises(UnsupportedOptionError, match="compressions"):
        framebuf.write(make_test_image(4, 4, 4), tmp_path / "d.exr", compression="lzma")
    assert not (tmp_path / "d.exr").exists()


@pytest.mark.parametrize("size, want", [(None, (32, 32)), (16, (16, 16)), ("64x8", (64, 8))])
def test_tiled_output(tmp_path, size, want):
    img = make_test_image(40, 70, 4)
    opts = {"tiled": True} if size is None else {"tiled": "on", "tile_size": size}
    path = framebuf.write(img, tmp_path / "tiled.exr", datatype="rgba_h", compression="zip", **opts)
    h = header(path)
    assert h["type"] == OpenEXR.tiledimage
    assert (h["tiles"].xSize, h["tiles"].ySize) == want
    np.testing.assert_array_equal(framebuf.read_image(path).layers[0].pixels,
                                  img.astype(np.float16))
    px, spec = oiio_read(path, "half")
    assert spec.tile_width == want[0]
    np.testing.assert_array_equal(px, img.astype(np.float16))


def test_bad_tile_size_is_refused(tmp_path):
    with pytest.raises(UnsupportedOptionError, match="tile_size"):
        framebuf.write(make_test_image(4, 4, 4), tmp_path / "t.exr", tiled=True, tile_size="0")


@pytest.mark.parametrize("options", [{"tile_size": "abc"}, {"tile_size": "0"},
                                     {"tile_size": "16", "tiled": "off"}, {"tiled": "maybe"}])
def test_tile_options_are_never_ignored(tmp_path, options):
    """A bad tile_size is refused even on scanline output, and tile_size with tiled=off too."""
    with pytest.raises(UnsupportedOptionError, match="tile_size|tiled"):
        framebuf.write(make_test_image(4, 4, 4), tmp_path / "t.exr", **options)
    assert not (tmp_path / "t.exr").exists()


def test_tile_size_alone_asks_for_tiles(tmp_path):
    path = framebuf.write(make_test_image(40, 70, 4), tmp_path / "t.exr", tile_size="16x8")
    h = header(path)
    assert h["type"] == OpenEXR.tiledimage and (h["tiles"].xSize, h["tiles"].ySize) == (16, 8)


def test_header_attributes_round_trip(tmp_path):
    img = make_test_image(8, 16, 4)
    fbs = framebuf.FrameBufferSet(16, 8, attributes={
        "zmin": 0.25, "zmax": 1000.0, "comments": "rendered by framebuf", "frame": 12,
        "owner": "test", "offset": (1.5, -2.0), "window": ((1, 2), (9, 10))})
    fbs.add("beauty", "rgba_h", data=img)
    path = framebuf.write(fbs, tmp_path / "attrs.exr")
    h = header(path)
    assert h["zmin"] == 0.25 and h["zmax"] == 1000.0
    assert h["comments"] == "rendered by framebuf" and h["owner"] == "test" and h["frame"] == 12
    np.testing.assert_array_equal(h["offset"], np.float32([1.5, -2.0]))
    np.testing.assert_array_equal(h["window"][0], [1, 2])
    np.testing.assert_array_equal(h["window"][1], [9, 10])
    back = framebuf.read(path)
    assert back.attributes["zmin"] == 0.25 and back.attributes["comments"] == "rendered by framebuf"
    assert "framebufTypes" not in back.attributes and "compression" not in back.attributes
    # OIIO sees the attributes as typed header entries
    _, spec = oiio_read(path)
    assert spec.getattribute("zmax") == 1000.0
    assert spec.getattribute("ImageDescription") == "rendered by framebuf"
    # a copy keeps them
    framebuf.write(back, tmp_path / "copy.exr")
    assert header(tmp_path / "copy.exr")["zmax"] == 1000.0


def test_foreign_channel_grouping(tmp_path):
    """A file another renderer wrote: names and pixel types decide the data types."""
    h, w = 6, 9
    rng = np.random.default_rng(2)
    f16 = lambda: rng.random((h, w)).astype(np.float16)
    f32 = lambda: rng.random((h, w)).astype(np.float32)
    channels = {
        "R": f16(), "G": f16(), "B": f16(), "A": f16(),
        "Z": f16(),                                          # half depth still becomes z
        "velocity.X": f32(), "velocity.Y": f32(), "velocity.Z": f32(),
        "N.X": f32(), "N.Y": f32(), "N.Z": f32(),
        "crypto.id": rng.integers(0, 2**32, (h, w), dtype=np.uint64).astype(np.uint32),
        "light.R": f32(), "light.G": f32(), "light.B": f32(),
        "matte": f16(),
    }
    path = tmp_path / "foreign.exr"
    OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION}, dict(channels)).write(str(path))
    layers = {layer.name: layer for layer in framebuf.read_image(path).layers}
    kinds = {name: layer.datatype.name for name, layer in layers.items()}
    assert kinds == {"rgba": "rgba_h", "Z": "z", "velocity": "m", "N": "n", "crypto": "tag",
                     "light": "rgb_fp", "matte": "a_h"}
    np.testing.assert_array_equal(layers["crypto"].pixels[:, :, 0], channels["crypto.id"])
    np.testing.assert_array_equal(layers["velocity"].pixels[:, :, 2], channels["velocity.Z"])
    np.testing.assert_array_equal(layers["Z"].pixels[:, :, 0], channels["Z"].astype(np.float32))


def test_multi_part_files_are_read(tmp_path):
    h, w = 5, 7
    beauty = {c: np.full((h, w), v, np.float16) for c, v in zip("RGBA", (0.25, 0.5, 0.75, 1.0))}
    depth = {"Z": np.arange(h * w, dtype=np.float32).reshape(h, w)}
    # Part swaps the arrays of the dict it gets for Channel objects: hand it copies
    parts = [OpenEXR.Part({"compression": OpenEXR.ZIP_COMPRESSION}, dict(beauty), "beauty"),
             OpenEXR.Part({"compression": OpenEXR.PIZ_COMPRESSION}, dict(depth), "depth")]
    path = tmp_path / "parts.exr"
    OpenEXR.File(parts).write(str(path))
    image = framebuf.read_image(path)
    assert image.info["parts"] == 2
    kinds = {layer.name: (layer.datatype.name, layer.channels) for layer in image.layers}
    # buffers are named after their parts; channels keep the names they have inside the part
    assert kinds == {"beauty": ("rgba_h", ("R", "G", "B", "A")), "depth": ("z", ("Z",))}
    assert [(layer.part, image.parts[layer.part].name, image.parts[layer.part].compression)
            for layer in image.layers] == [(0, "beauty", "zip"), (1, "depth", "piz")]
    z = next(layer for layer in image.layers if layer.name == "depth").pixels
    np.testing.assert_array_equal(z[:, :, 0], depth["Z"])


def test_threads_are_on():
    from framebuf.formats import _exrfile

    _exrfile._threads()
    assert OpenEXR.global_thread_count() >= 1


def test_array_dict_is_not_reused(tmp_path):
    """OpenEXR.File swaps the arrays of the dict it gets; writing twice must give equal files."""
    img = make_test_image(8, 16, 4)
    fbs = framebuf.FrameBufferSet(16, 8)
    buf = fbs.add("beauty", "rgba_fp", user=True, data=img)
    a = framebuf.write(buf, tmp_path / "a.exr")
    b = framebuf.write(buf, tmp_path / "b.exr")
    assert a.read_bytes() == b.read_bytes()
    np.testing.assert_array_equal(buf.data, img)


# -- real files kept whole (corpus at ../shared; skipped with its path when absent) ------------

from pathlib import Path  # noqa: E402
import json  # noqa: E402
import warnings as _warnings  # noqa: E402

from framebuf.cli import main  # noqa: E402
from framebuf.errors import DroppedWarning, FramebufError  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared/corpus/images"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"image corpus not found at {CORPUS}")


def _binding_channels(path):
    f = OpenEXR.File(str(path), separate_channels=True)
    return [{n: (c.pixels.copy(), c.xSampling, c.ySampling) for n, c in p.channels.items()} for p in f.parts]


@needs_corpus
def test_sub_sampled_chroma_is_kept_through_a_copy(tmp_path):
    src = CORPUS / "openexr-images/Chromaticities/Rec709_YC.exr"
    fbs = framebuf.read(src)
    assert {b.name: b.sampling for b in fbs} == {"Y": None, "RY": (2, 2), "BY": (2, 2)}
    out = tmp_path / "yc.exr"
    assert main(["copy", str(src), str(out)]) == 0
    want, got = _binding_channels(src)[0], _binding_channels(out)[0]
    assert sorted(want) == sorted(got) == ["BY", "RY", "Y"]
    for name, (pixels, xs, ys) in want.items():
        assert got[name][1:] == (xs, ys)
        assert np.array_equal(got[name][0].view(np.uint16), pixels.view(np.uint16)), name
    # luminance=rgb: R = (RY + 1) Y, B = (BY + 1) Y at the sample positions
    rgb = framebuf.read(src, luminance="rgb")
    assert [b.name for b in rgb] == ["rgb"]
    y, ry = want["Y"][0].astype(np.float32), want["RY"][0].astype(np.float32)
    np.testing.assert_allclose(rgb["rgb"].data[0:2:2, 0:2:2, 0], ((ry[0, 0] + 1) * y[0, 0]).reshape(1, 1),
                               rtol=1e-6)


@needs_corpus
@pytest.mark.parametrize("name", ["cryptomatte/sample_images/debug_images/multichannel.exr",
                                  "cryptomatte/sample_images/cornellBox_CryptoWildcard.0001.exr"])
def test_apply_keeps_every_cryptomatte_key(tmp_path, name):
    """Arnold's and V-Ray's samples: a shader changes the buffer it writes and nothing else."""
    src = CORPUS / name
    out = tmp_path / "graded.exr"
    assert main(["apply", str(src), "--shader", "gamma:gamma=2.2", "-o", str(out)]) in (0,)
    import OpenImageIO as oiio

    def attributes(path):
        spec = oiio.ImageInput.open(str(path)).spec()
        return {p.name: repr(p.value) for p in spec.extra_attribs if p.name.startswith("cryptomatte/")}, spec

    (want, src_spec), (got, out_spec) = attributes(src), attributes(out)
    assert len(want) >= 3 and got == want
    assert (out_spec.tile_width, out_spec.x, out_spec.y, out_spec.full_width) == \
        (src_spec.tile_width, src_spec.x, src_spec.y, src_spec.full_width)
    assert list(out_spec.channelnames) == list(src_spec.channelnames)
    assert [str(f) for f in out_spec.channelformats] == [str(f) for f in src_spec.channelformats]


@needs_corpus
@pytest.mark.parametrize("name", ["openexr-images/Beachball/multipart.0001.exr",
                                  "gaffer/python/GafferImageTest/images/channelTestMultiViewNukeCompat.exr",
                                  "cryptomatte/sample_images/debug_images/multichannel.exr",
                                  "openexr-images/MultiView/Adjuster.exr"])
def test_every_buffer_info_lists_is_accepted_by_copy(tmp_path, capsys, name):
    src = CORPUS / name
    assert main(["info", str(src), "--json"]) == 0
    (doc,) = json.loads(capsys.readouterr().out)
    names = [b["buffer"] for b in doc["buffers"]]
    assert names and len(names) == len(set(names))
    fbs = framebuf.read(src)
    assert names == fbs.names
    for i, buf in enumerate(names):
        out = tmp_path / f"{i}.exr"
        assert main(["copy", str(src), str(out), "--buffer", buf]) == 0, capsys.readouterr().err
        back = framebuf.read(out)
        (only,) = list(back)
        assert only.channels == fbs[buf].channels and only.pixel_types == fbs[buf].pixel_types
        assert np.array_equal(only.data[:, :, :], fbs[buf].data[
            back.origin[1] - fbs.origin[1]: back.origin[1] - fbs.origin[1] + back.height,
            back.origin[0] - fbs.origin[0]: back.origin[0] - fbs.origin[0] + back.width], equal_nan=True)


@needs_corpus
def test_read_options_select_parts_views_buffers_channels_and_levels():
    multi = CORPUS / "openexr-images/Beachball/multipart.0001.exr"
    left = framebuf.read(multi, views="left")
    assert {b.view for b in left} == {"left"} and "rgba_left" in left and "rgba_right" not in left
    part = framebuf.read(multi, parts="depth_right")
    assert part.names == ["depth_right"] and part.data_window == (654, 245, 1530, 1120)
    assert framebuf.read(multi, buffers="rgba_left,depth_left").names == ["depth_left", "rgba_left"]
    assert framebuf.read(multi, channels="depth_left.Z").names == ["depth_left"]
    with pytest.raises(FramebufError, match="no view 'middle'; views: left, right"):
        framebuf.read(multi, views="middle")
    with pytest.raises(FramebufError, match="read options: parts, views"):
        framebuf.read(multi, colour="yes")
    mip = CORPUS / "openexr-images/MultiResolution/Bonita.exr"
    level2 = framebuf.read(mip, level=2)
    assert (level2.width, level2.height) == (550 >> 2, 832 >> 2)
    import OpenImageIO as oiio
    want = oiio.ImageBuf(str(mip), 0, 2).get_pixels(oiio.FLOAT)
    np.testing.assert_array_equal(level2["rgb"].data, want)
    with pytest.raises(FramebufError, match="no level"):
        framebuf.read(mip, level=12)


@needs_corpus
def test_mip_levels_are_dropped_aloud_when_pixels_change(tmp_path):
    src = CORPUS / "openexr-images/MultiResolution/MirrorPattern.exr"
    fbs = framebuf.read(src)
    fbs["rgb"].data = fbs["rgb"].data * 0.5
    with pytest.warns(DroppedWarning, match="mip/rip levels .* not kept \\(the pixels changed\\)"):
        framebuf.write(fbs, tmp_path / "half.exr")
    import OpenImageIO as oiio
    inp = oiio.ImageInput.open(str(tmp_path / "half.exr"))
    assert inp.seek_subimage(0, 0) and not inp.seek_subimage(0, 1)    # one level, whole
    with _warnings.catch_warnings():
        _warnings.simplefilter("error", DroppedWarning)
        framebuf.write(framebuf.read(src), tmp_path / "same.exr")     # unchanged: levels kept


def test_typed_attributes_survive(tmp_path):
    """double stays double, m33d stays m33d, v2i stays v2i; an unknown type keeps its bytes."""
    fbs = framebuf.FrameBufferSet(3, 2)
    fbs.add("rgba", "rgba_h", data=np.ones((2, 3, 4), np.float32))
    path = framebuf.write(fbs, tmp_path / "a.exr", attributes={
        "focal": np.float64(35.125), "m": np.eye(3), "v": np.array([3, 4], np.int32), "names": ["a", "b"]})
    back = framebuf.read(path)
    assert back.parts[0].attribute_types == {"focal": "float", "m": "m33d", "v": "v2i", "names": "stringvector",
                                              **{k: back.parts[0].attribute_types[k] for k in
                                                 ("pixelAspectRatio", "screenWindowCenter", "screenWindowWidth")}}
    back.parts[0].attribute_types["focal"] = "double"
    again = framebuf.read(framebuf.write(back, tmp_path / "b.exr"))
    assert again.parts[0].attribute_types["focal"] == "double" and again.attributes["focal"] == 35.125


@needs_corpus
def test_display_window_read_option_and_formats_without_windows(tmp_path):
    src = CORPUS / "openexr-images/DisplayWindow/t08.exr"       # 400x300+30+40 in 501x401
    data = framebuf.read(src)
    assert (data.origin, data.display_window, data.width) == ((30, 40), (0, 0, 500, 400), 400)
    full = framebuf.read(src, window="display")
    assert full.data_window == (0, 0, 500, 400) and full["rgb"].window == (30, 40, 429, 339)
    np.testing.assert_array_equal(full["rgb"].data[40:340, 30:430], data["rgb"].data)
    assert not full["rgb"].data[:40].any() and not full["rgb"].data[:, 430:].any()
    # an EXR written from the expanded set has the file's own data window again
    again = framebuf.read(framebuf.write(full, tmp_path / "again.exr"))
    assert again.data_window == data.data_window
    np.testing.assert_array_equal(again["rgb"].data, data["rgb"].data)
    # a PNG holds no windows: said, and the display frame is there when asked for
    with pytest.warns(DroppedWarning, match="png stores no data/display windows"):
        framebuf.write(data, tmp_path / "data.png")
    with _warnings.catch_warnings():
        _warnings.simplefilter("error", DroppedWarning)
        framebuf.write(framebuf.read(src, window="display"), tmp_path / "frame.png")
    with pytest.raises(FramebufError, match="window must be data or display"):
        framebuf.read(src, window="both")


def test_apply_with_two_inputs_keeps_the_first_files_structure(tmp_path):
    fg = framebuf.FrameBufferSet(8, 4)
    fg.add("fg", "rgba_h", user=True, data=np.full((4, 8, 4), 0.5, np.float32))
    framebuf.write(fg, tmp_path / "fg.exr", compression="zip")
    plate = framebuf.FrameBufferSet(8, 4)
    plate.add("plate", "rgb_fp", user=True, data=np.full((4, 8, 3), 0.25, np.float32))
    framebuf.write(plate, tmp_path / "plate.exr", compression="piz", tiled=True)
    out = tmp_path / "comp.exr"
    assert main(["apply", str(tmp_path / "fg.exr"), str(tmp_path / "plate.exr"),
                 "--shader", "over:src=fg,background=plate,dst=comp", "-o", str(out)]) == 0
    back = framebuf.read(out)
    assert (back.parts[0].compression, back.parts[0].kind, len(back.parts)) == ("zip", "scanlineimage", 1)
    chans = {b.name: (b.channels, b.pixel_types[0]) for b in back}
    # the second file's bare R G B would clash with the first's: named after its buffer instead
    assert chans == {"fg": (("R", "G", "B", "A"), "half"), "comp": (("comp.R", "comp.G", "comp.B", "comp.A"), "half"),
                     "plate": (("plate.R", "plate.G", "plate.B"), "float")}
    np.testing.assert_allclose(back["comp"].data[0, 0], [0.5 + 0.25 * 0.5, 0.625, 0.625, 1.0])


@needs_corpus
def test_a_new_buffer_in_a_multi_part_set_gets_its_own_part(tmp_path):
    fbs = framebuf.read(CORPUS / "openexr-images/Beachball/multipart.0001.exr")
    fbs.add("leftcopy", "rgba_h", user=True, data=fbs["rgba_left"].data.copy())
    back = framebuf.read(framebuf.write(fbs, tmp_path / "bb.exr"))
    assert len(back.parts) == 11 and back.parts[back["leftcopy"].part].name == "leftcopy"
    np.testing.assert_array_equal(back["leftcopy"].data, fbs["rgba_left"].data)   # nothing cropped


def test_hostile_sizes_are_refused_before_allocating(tmp_path):
    # a 64x1 ZIP file whose header then claims a data window 2^31-1 wide
    fbs = framebuf.FrameBufferSet(64, 1)
    fbs.add("rgba", "rgba_h", data=np.zeros((1, 64, 4), np.float32))
    path = framebuf.write(fbs, tmp_path / "small.exr", compression="zip")
    data = bytearray(path.read_bytes())
    at = data.index(b"dataWindow\0box2i\0") + len(b"dataWindow\0box2i\0") + 4
    data[at + 8: at + 12] = (2**31 - 2).to_bytes(4, "little")
    (tmp_path / "wide.exr").write_bytes(bytes(data))
    with pytest.raises(FramebufError, match="claims .* bytes|cover|window"):
        framebuf.read(tmp_path / "wide.exr")
    # two tiny parts 40000 pixels apart: the padded union would be gigabytes
    parts = [OpenEXR.Part({"compression": OpenEXR.ZIP_COMPRESSION, "dataWindow": (np.int32([x, x]), np.int32([x + 7, x])),
                           "displayWindow": (np.int32([0, 0]), np.int32([7, 0]))},
                          {"R": np.zeros((1, 8), np.float16)}, f"p{x}") for x in (0, 40000)]
    OpenEXR.File(parts).write(str(tmp_path / "far.exr"))
    with pytest.raises(FramebufError, match="GiB for 16 stored pixels; read parts one at a time"):
        framebuf.read(tmp_path / "far.exr")
    assert framebuf.read(tmp_path / "far.exr", parts="p40000").data_window == (40000, 40000, 40007, 40000)


@needs_corpus
def test_a_truncated_piz_file_is_one_line_not_a_page_of_library_errors(tmp_path, capfd):
    cut = tmp_path / "cut.exr"
    cut.write_bytes((CORPUS / "openexr-images/ScanLines/Desk.exr").read_bytes()[:3000])
    assert main(["copy", str(cut), str(tmp_path / "out.exr")]) == 2
    err = capfd.readouterr().err
    assert err == f"framebuf copy: error: {cut}: part 0: chunk offset table points outside the file (truncated or incomplete?)\n"
    assert not (tmp_path / "out.exr").exists()
