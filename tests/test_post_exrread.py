"""The selective EXR reader against the OpenEXR binding, and its handling of damaged files."""

from __future__ import annotations

import numpy as np
import OpenEXR
import pytest

from framebuf.errors import CorruptFileError, FramebufError
from framebuf.post import exrread

H, W = 37, 53  # odd sizes: partial last chunk and tiles


def _channels():
    rng = np.random.default_rng(7)
    mask = np.zeros((H, W), np.float16)
    mask[5:12, 3:40] = 0.625
    return {
        "R": rng.random((H, W)).astype(np.float16),
        "Z": (rng.random((H, W)) * 100).astype(np.float32),
        "id": rng.integers(0, 2 ** 31, (H, W)).astype(np.uint32),
        "segmentation.hair": mask,
        "zz.last": np.linspace(-1, 1, H * W, dtype=np.float32).reshape(H, W),
    }


COMPRESSIONS = {
    "none": OpenEXR.NO_COMPRESSION, "rle": OpenEXR.RLE_COMPRESSION, "zips": OpenEXR.ZIPS_COMPRESSION,
    "zip": OpenEXR.ZIP_COMPRESSION, "piz": OpenEXR.PIZ_COMPRESSION, "pxr24": OpenEXR.PXR24_COMPRESSION,
}


@pytest.mark.parametrize("tiled", [False, True], ids=["scanline", "tiled"])
@pytest.mark.parametrize("comp", list(COMPRESSIONS))
def test_selected_channels_match_the_openexr_binding(tmp_path, comp, tiled):
    ch = _channels()
    header = {"compression": COMPRESSIONS[comp],
              "type": OpenEXR.tiledimage if tiled else OpenEXR.scanlineimage}
    if tiled:
        t = OpenEXR.TileDescription()
        t.xSize, t.ySize = 16, 8
        header["tiles"] = t
    path = tmp_path / f"c_{comp}.exr"
    OpenEXR.File(header, {k: v.copy() for k, v in ch.items()}).write(str(path))
    exr = exrread.read_header(path)
    assert exr.parts[0].compression == comp and exr.tiled == tiled
    assert [c.name for c in exr.parts[0].channels] == sorted(ch)
    wanted = ["zz.last", "R", "id", "segmentation.hair"]  # not in file order, Z left out
    got = exrread.read_channels(path, wanted)
    assert list(got) == wanted
    ref = OpenEXR.File(str(path), separate_channels=True).channels()
    for name in wanted:
        assert got[name].dtype == ch[name].dtype
        assert got[name].shape == (H, W)
        np.testing.assert_array_equal(got[name], ref[name].pixels)
        if comp != "pxr24":  # pxr24 is lossy for float
            np.testing.assert_array_equal(got[name], ch[name])


def test_data_window_offset_and_types(tmp_path):
    ch = _channels()
    path = tmp_path / "dw.exr"
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage,
              "dataWindow": (np.array([10, 20], np.int32), np.array([10 + W - 1, 20 + H - 1], np.int32)),
              "displayWindow": (np.array([0, 0], np.int32), np.array([99, 99], np.int32))}
    OpenEXR.File(header, {k: v.copy() for k, v in ch.items()}).write(str(path))
    exr = exrread.read_header(path)
    part = exr.parts[0]
    assert part.data_window == (10, 20, 10 + W - 1, 20 + H - 1)
    assert part.display_window == (0, 0, 99, 99)
    assert {c.name: c.pixel_type for c in part.channels}["id"] == "uint"
    got = exrread.read_channels(path)
    for name, arr in ch.items():
        np.testing.assert_array_equal(got[name], arr)


def test_multipart_reads_only_named_parts_with_layer_names(tmp_path):
    a = np.full((H, W), 0.5, np.float16)
    z = np.arange(H * W, dtype=np.float32).reshape(H, W)
    parts = [OpenEXR.Part({"compression": OpenEXR.ZIP_COMPRESSION}, {"R": a.copy(), "G": a.copy()},
                          name="ViewLayer.Combined"),
             OpenEXR.Part({"compression": OpenEXR.PIZ_COMPRESSION}, {"Z": z.copy()}, name="ViewLayer.Depth")]
    path = tmp_path / "mp.exr"
    OpenEXR.File(parts).write(str(path))
    exr = exrread.read_header(path)
    assert exr.multipart and [p.name for p in exr.parts] == ["ViewLayer.Combined", "ViewLayer.Depth"]
    assert list(exr.channel_index()) == ["ViewLayer.Combined.G", "ViewLayer.Combined.R", "ViewLayer.Depth.Z"]
    got = exrread.read_channels(path, ["ViewLayer.Combined.R"])
    np.testing.assert_array_equal(got["ViewLayer.Combined.R"], a)
    got = exrread.read_channels(path, ["ViewLayer.Depth.Z"])  # PIZ part: through the binding
    np.testing.assert_array_equal(got["ViewLayer.Depth.Z"], z)


def test_unknown_channel_lists_the_channels(tmp_path):
    path = tmp_path / "x.exr"
    OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION}, {"R": np.zeros((4, 4), np.float16)}).write(str(path))
    with pytest.raises(FramebufError, match="no channel 'Q'.*channels: R"):
        exrread.read_channels(path, ["Q"])


def _good(tmp_path):
    path = tmp_path / "good.exr"
    OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION},
                 {k: v.copy() for k, v in _channels().items()}).write(str(path))
    return path, path.read_bytes()


@pytest.mark.parametrize("cut", [3, 40, 300, -200, -1])
def test_truncated_files_raise_corrupt_file_error(tmp_path, cut):
    path, data = _good(tmp_path)
    bad = tmp_path / "cut.exr"
    bad.write_bytes(data[:cut])
    with pytest.raises(CorruptFileError) as info:
        exr = exrread.read_header(bad)
        exrread.read_channels(bad, None, exr=exr)
    assert str(bad) in str(info.value)


def test_damaged_chunk_and_bad_magic(tmp_path):
    path, data = _good(tmp_path)
    exr = exrread.read_header(path)
    with open(path, "rb") as fh:
        first = int(exrread._offsets(exr, exr.parts[0], fh)[0])
    damaged = bytearray(data)
    for i in range(first + 12, first + 60):
        damaged[i] ^= 0xA5
    bad = tmp_path / "damaged.exr"
    bad.write_bytes(bytes(damaged))
    with pytest.raises(CorruptFileError, match="damaged|inflate|match"):
        exrread.read_channels(bad)
    other = tmp_path / "text.exr"
    other.write_bytes(b"hello world, not an image")
    with pytest.raises(CorruptFileError, match="magic"):
        exrread.read_header(other)


def test_check_chunks_reports_truncation(tmp_path):
    path, data = _good(tmp_path)
    assert exrread.check_chunks(exrread.read_header(path)) == []
    bad = tmp_path / "cut.exr"
    bad.write_bytes(data[:-100])
    assert any("truncated" in p for p in exrread.check_chunks(exrread.read_header(bad)))
