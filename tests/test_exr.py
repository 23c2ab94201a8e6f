"""OpenEXR: several buffers per file, channel names and pixel types, compressions, tiles, header
attributes, reading foreign and multi-part files. Checked with the OpenEXR module and OIIO."""

from __future__ import annotations

import numpy as np
import OpenEXR
import pytest

import framebuf
from framebuf import convert
from framebuf.errors import UnsupportedDataTypeError, UnsupportedOptionError
from framebuf.formats import exr

from conftest import make_test_image, oiio_read

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
    exr._threads()
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
