"""Hand-built files for each reader fix checked against the third-party corpus (TGA, HDR,
Netpbm, TIFF, PNG, RLA bit depths)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import tifffile

import framebuf
from framebuf.errors import CorruptFileError, FormatUnavailableError


def _tga(path, itype, bits, attr, body, cmap=b"", cmbits=0, cmlen=0, width=3, height=2):
    head = struct.pack("<BBBHHBHHHHBB", 0, 1 if cmap else 0, itype, 0, cmlen, cmbits, 0, 0,
                       width, height, bits, attr)
    path.write_bytes(head + cmap + body)
    return path


def test_tga_rle_packet_crossing_a_scanline(tmp_path):
    # 3x2 grey, top-left origin: one run of 4 pixels (value 10) crosses into row 1, then 2 literals
    body = bytes([0x80 | 3, 10, 1, 20, 30])
    p = _tga(tmp_path / "cross.tga", 11, 8, 0x20, body)
    layer = framebuf.read_image(p).layers[0]
    assert layer.datatype.name == "s"
    assert layer.pixels[:, :, 0].tolist() == [[10, 10, 10], [10, 20, 30]]


def test_tga_16_bit_colour_map_and_bottom_origin(tmp_path):
    # two 15-bit entries: pure red (0x7C00) and pure blue (0x001F); rows stored bottom-up
    cmap = struct.pack("<HH", 0x7C00, 0x001F)
    p = _tga(tmp_path / "cmap.tga", 1, 8, 0x00, bytes([0, 0, 0, 1, 1, 1]), cmap, 16, 2)
    px = framebuf.read_image(p).layers[0].pixels
    assert px.shape == (2, 3, 3)
    assert px[0].tolist() == [[0, 0, 255]] * 3        # file row 1 (blue) is the top row
    assert px[1].tolist() == [[255, 0, 0]] * 3


def test_tga_16_bit_pixels_scale_5_bits_and_drop_the_attribute_bit(tmp_path):
    v = (1 << 15) | (31 << 10) | (16 << 5) | 1       # attribute bit, R 31, G 16, B 1
    p = _tga(tmp_path / "c16.tga", 2, 16, 0x21, struct.pack("<H", v), width=1, height=1)
    layer = framebuf.read_image(p).layers[0]
    assert layer.datatype.name == "rgb"
    assert layer.pixels[0, 0].tolist() == [255, round(16 * 255 / 31), round(255 / 31)]


def test_tga_truncated_rle_is_corrupt(tmp_path):
    p = _tga(tmp_path / "cut.tga", 10, 24, 0x20, bytes([0x05, 1, 2, 3]))
    with pytest.raises(CorruptFileError, match="runs past the end"):
        framebuf.read(p)


def _hdr(path, res: bytes, pixels: np.ndarray):
    """Flat RGBE scanlines in file order under resolution line ``res``."""
    path.write_bytes(b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n" + res + b"\n" + pixels.tobytes())
    return path


@pytest.mark.parametrize("res, raw_shape, upright", [
    (b"-Y 2 +X 3", (2, 3), lambda a: a),
    (b"+Y  2   +X 3", (2, 3), lambda a: a[::-1]),
    (b"-Y 2 -X 3", (2, 3), lambda a: a[:, ::-1]),
    (b"+Y 2 -X 3", (2, 3), lambda a: a[::-1, ::-1]),
    (b"+X 3 -Y 2", (3, 2), lambda a: a.transpose(1, 0, 2)),
    (b"+X 3 +Y 2", (3, 2), lambda a: a.transpose(1, 0, 2)[::-1]),
    (b"-X 3 +Y 2", (3, 2), lambda a: a.transpose(1, 0, 2)[::-1, ::-1]),
    (b"-X 3 -Y 2", (3, 2), lambda a: a.transpose(1, 0, 2)[:, ::-1]),
])
def test_hdr_orientations_are_turned_upright(tmp_path, res, raw_shape, upright):
    raw = np.zeros(raw_shape + (4,), np.uint8)
    raw[..., 0] = np.arange(raw.shape[0] * raw.shape[1]).reshape(raw_shape) + 1
    raw[..., 3] = 128
    layer = framebuf.read_image(_hdr(tmp_path / "o.hdr", res, raw)).layers[0]
    assert layer.pixels.shape == (2, 3, 4)
    assert np.array_equal(layer.pixels, upright(raw))


def test_hdr_plus_x_plus_y_follows_radiance_pix2loc(tmp_path):
    # "+X 3 +Y 2": scanline i is column x = i, its pixel j is y = j counted from the bottom
    raw = np.zeros((3, 2, 4), np.uint8)
    raw[0, 0] = (9, 0, 0, 128)                       # first scanline, first pixel: bottom left
    px = framebuf.read_image(_hdr(tmp_path / "p.hdr", b"+X 3 +Y 2", raw)).layers[0].pixels
    assert px[1, 0].tolist() == [9, 0, 0, 128] and int(px.sum()) == 9 + 128


def test_hdr_without_magic_line_but_with_format_line(tmp_path):
    rgbe = np.array([[[128, 64, 32, 129]]], np.uint8)
    p = tmp_path / "nomagic.hdr"
    p.write_bytes(b"          \nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 1\n" + rgbe.tobytes())
    assert framebuf.read_image(p).layers[0].pixels.tolist() == rgbe.tolist()
    p.write_bytes(b"#?OTHER\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 1\n" + rgbe.tobytes())
    with pytest.raises(CorruptFileError, match="not a Radiance"):
        framebuf.read(p)


@pytest.mark.parametrize("name, data, dt, expected", [
    ("a.pbm", b"P1\n3 2\n1 0 1\n0 1 0\n", "s", [[0, 255, 0], [255, 0, 255]]),
    ("a.pbm", b"P4\n3 2\n" + bytes([0b10100000, 0b01000000]), "s", [[0, 255, 0], [255, 0, 255]]),
    ("a.pgm", b"P2\n# comment\n3 1\n15\n0 5 15\n", "s", [[0, 85, 255]]),
    ("a.pgm", b"P5 2 1 65535\n" + struct.pack(">HH", 0, 4660), "s_16", [[0, 4660]]),
    ("a.pgm", b"P5 2 1 1023\n" + struct.pack(">HH", 1023, 512), "s_16",
     [[65535, round(512 * 65535 / 1023)]]),
])
def test_netpbm_grey_and_bitmaps(tmp_path, name, data, dt, expected):
    p = tmp_path / name
    p.write_bytes(data)
    layer = framebuf.read_image(p).layers[0]
    assert layer.datatype.name == dt
    assert layer.pixels[:, :, 0].tolist() == expected


def test_netpbm_ascii_and_16_bit_colour(tmp_path):
    p = tmp_path / "c.ppm"
    p.write_bytes(b"P3 1 1 65535 1 2 65535\n")
    layer = framebuf.read_image(p).layers[0]
    assert layer.datatype.name == "rgb_16" and layer.pixels[0, 0].tolist() == [1, 2, 65535]


def test_pgm_is_read_only(tmp_path):
    with pytest.raises(FormatUnavailableError, match="only be read"):
        framebuf.write(np.zeros((2, 2, 3), np.float32), tmp_path / "x.pgm")


def test_tiff_min_is_white_and_2_bit_scaling(tmp_path):
    p = tmp_path / "w.tif"
    tifffile.imwrite(p, np.array([[0, 1, 2, 3]], np.uint8), photometric="miniswhite", bitspersample=2)
    layer = framebuf.read_image(p).layers[0]
    assert layer.pixels[0, :, 0].tolist() == [255, 170, 85, 0]


def test_tiff_12_bit_and_32_bit_integers_fill_their_range(tmp_path):
    p = tmp_path / "12.tif"
    tifffile.imwrite(p, np.array([[0, 4095, 2048]], np.uint16), photometric="minisblack", bitspersample=12)
    assert framebuf.read_image(p).layers[0].pixels[0, :, 0].tolist() == [0, 65535, round(2048 * 65535 / 4095)]
    p = tmp_path / "32.tif"
    tifffile.imwrite(p, np.array([[0, 2**32 - 1, 2**31]], np.uint32), photometric="minisblack")
    fbs = framebuf.read(p)
    assert np.allclose(next(iter(fbs)).data[0, :, 0], [0.0, 1.0, 0.5])


def test_tiff_palette_becomes_rgb(tmp_path):
    cmap = np.zeros((3, 256), np.uint16)
    cmap[:, 1] = (65535, 0, 257 * 128)
    p = tmp_path / "p.tif"
    tifffile.imwrite(p, np.array([[0, 1]], np.uint8), photometric="palette", colormap=cmap)
    layer = framebuf.read_image(p).layers[0]
    assert layer.datatype.name == "rgb" and layer.pixels[0].tolist() == [[0, 0, 0], [255, 0, 128]]


def test_tiff_cmyk_becomes_rgb(tmp_path):
    p = tmp_path / "k.tif"
    tifffile.imwrite(p, np.array([[[0, 255, 0, 0], [166, 166, 183, 166]]], np.uint8), photometric="separated")
    px = framebuf.read_image(p).layers[0].pixels
    assert px[0].tolist() == [[255, 0, 255], [31, 31, 25]]     # (1 - C)(1 - K), OIIO's values


def test_tiff_orientation_is_reported_not_applied(tmp_path):
    p = tmp_path / "o.tif"
    data = np.arange(6, dtype=np.uint8).reshape(2, 3, 1).repeat(3, axis=2)
    tifffile.imwrite(p, data, photometric="rgb", extratags=[(274, "H", 1, 6, True)])
    fbs = framebuf.read(p)
    assert fbs.attributes["Orientation"] == 6
    assert next(iter(fbs)).data.shape[:2] == (2, 3)


def test_png_16_bit_rgb_is_kept(tmp_path):
    from PIL import Image as PILImage  # noqa: F401 - Pillow cannot write 16-bit RGB; use imagecodecs
    import imagecodecs
    px = np.array([[[1, 2, 65535], [4660, 0, 300]]], np.uint16)
    p = tmp_path / "c16.png"
    p.write_bytes(imagecodecs.png_encode(px))
    layer = framebuf.read_image(p).layers[0]
    assert layer.datatype.name == "rgb_16" and np.array_equal(layer.pixels, px)


def test_png_grey_trns_becomes_alpha(tmp_path):
    from PIL import Image as PILImage
    p = tmp_path / "g.png"
    PILImage.fromarray(np.array([[0, 7, 255]], np.uint8)).save(p, transparency=7)
    layer = framebuf.read_image(p).layers[0]
    assert layer.datatype.name == "rgba"
    assert layer.pixels[0].tolist() == [[0, 0, 0, 255], [7, 7, 7, 0], [255, 255, 255, 255]]


def test_rla_10_bit_samples_are_scaled():
    from framebuf.formats.rla import _scale_bits
    got = _scale_bits(np.array([0, 1023, 512, 2000], np.uint16), 10, "x.rla")
    assert got.tolist() == [0, 65535, round(512 * 65535 / 1023), 65535]
