"""Softimage Zpic, Alias pix, Quantel PAL/NTSC, Wavefront RLB, and copying between formats.

Expected bytes are built by hand from reference section 6 (header fields with ``struct.pack``, pixel
bytes in the documented order); Quantel files are also decoded by netpbm's ``yuvtoppm`` when it
is installed.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess

import numpy as np
import pytest

import framebuf
from helpers import buffer
from framebuf.errors import CorruptFileError, FramebufError, ImageSizeError



def expect_corrupt(path, data: bytes, filetype=None, **options):
    path.write_bytes(data)
    with pytest.raises(CorruptFileError):
        framebuf.read(path, filetype, **options)


def fuzz(tmp_path, good: bytes, name: str, filetype: str, rounds: int = 30, **options):
    """Truncate and scribble on a good file: reading must succeed or raise CorruptFileError."""
    rng = np.random.default_rng(len(good))
    for _ in range(rounds):
        data = bytearray(good[: int(rng.integers(0, len(good) + 1))])
        for i in rng.integers(0, max(1, len(data)), 3):
            if data:
                data[int(i)] = int(rng.integers(0, 256))
        (tmp_path / name).write_bytes(bytes(data))
        try:
            framebuf.read(tmp_path / name, filetype, **options)
        except CorruptFileError:
            pass


# -- Softimage Zpic ------------------------------------------------------------------------------------

def pic_header(width: int, height: int) -> bytes:
    """A Softimage PIC header (reference 6.1), enough for Zpic to find its size."""
    return (struct.pack(">If", 0x5380F634, 3.71) + b"companion".ljust(80, b"\0") + b"PICT"
            + struct.pack(">HHfHH", width, height, width / height, 3, 0))


ZDATA = np.array([[1.0, np.inf, 2.5], [np.inf, 0.125, 1e5]], np.float32)[:, :, None]


def test_zpic_bytes_and_nothing_hit(tmp_path):
    path = framebuf.write(buffer("z", ZDATA), tmp_path / "shot.Zpic")
    # top row first, big-endian float32, +inf written as 0
    expected = struct.pack(">6f", 1.0, 0.0, 2.5, 0.0, 0.125, 1e5)
    assert path.read_bytes() == expected
    back = framebuf.read(path, width=3, height=2)
    np.testing.assert_array_equal(list(back)[0].data, ZDATA)


def test_zpic_size_from_options_or_companion_pic(tmp_path):
    path = framebuf.write(buffer("z", ZDATA), tmp_path / "shot.Zpic")
    np.testing.assert_array_equal(framebuf.read_image(path, width=3).layers[0].pixels, ZDATA)
    np.testing.assert_array_equal(framebuf.read_image(path, height=2).layers[0].pixels, ZDATA)
    with pytest.raises(FramebufError, match="width and height"):
        framebuf.read(path)  # no size anywhere: a clear refusal
    (tmp_path / "shot.pic").write_bytes(pic_header(3, 2) + b"\0" * 20)
    image = framebuf.read_image(path)
    assert image.info["size_from"] == "companion pic"
    np.testing.assert_array_equal(image.layers[0].pixels, ZDATA)


def test_zpic_corrupt_inputs(tmp_path):
    good = framebuf.write(buffer("z", ZDATA), tmp_path / "g.Zpic").read_bytes()
    for data in (good[:-1], good[:-4], good + b"\0\0\0\0", b"", b"\0\0"):
        expect_corrupt(tmp_path / "bad.Zpic", data, width=3, height=2)
    expect_corrupt(tmp_path / "bad.Zpic", good + b"\0" * 4, width=5)  # 7 values: not whole rows
    (tmp_path / "c.pic").write_bytes(pic_header(3, 2))
    expect_corrupt(tmp_path / "c.Zpic", good[:-4])  # companion says 6 pixels, file has 5
    fuzz(tmp_path, good, "f.Zpic", "Zpic", width=3, height=2)


# -- Alias pix -----------------------------------------------------------------------------------------

def alias_header(w, h, bits):
    return struct.pack(">5H", w, h, 0, 0, bits)


def test_alias_rgb_bytes_with_long_runs(tmp_path):
    w = 300
    img = np.zeros((3, w, 3), np.uint8)
    img[0] = (10, 20, 30)                      # one 300-pixel run: 255 + 45
    img[1, :3] = [(1, 2, 3), (4, 5, 6), (4, 5, 6)]
    img[1, 3:] = (200, 100, 50)                # 297 more: 255 + 42
    img[2, :] = (7, 7, 7)
    img[2, -1] = (8, 8, 8)                     # 299 + 1
    body = b"".join([
        bytes([255, 30, 20, 10]), bytes([45, 30, 20, 10]),                     # row 0 (top)
        bytes([1, 3, 2, 1]), bytes([2, 6, 5, 4]),
        bytes([255, 50, 100, 200]), bytes([42, 50, 100, 200]),                 # row 1
        bytes([255, 7, 7, 7]), bytes([44, 7, 7, 7]), bytes([1, 8, 8, 8]),        # row 2
    ])
    path = framebuf.write(buffer("rgb", img / 255.0), tmp_path / "a.als")
    assert path.read_bytes() == alias_header(w, 3, 24) + body
    image = framebuf.read_image(path)
    assert image.layers[0].datatype.name == "rgb"
    np.testing.assert_array_equal(image.layers[0].pixels, img)


def test_alias_runs_stop_at_row_ends(tmp_path):
    img = np.full((2, 4, 3), 9, np.uint8)  # the same colour everywhere: still one packet per row
    path = framebuf.write(buffer("rgb", img / 255.0), tmp_path / "r.pix")
    assert path.read_bytes() == alias_header(4, 2, 24) + bytes([4, 9, 9, 9]) * 2


def test_alias_matte_variant(tmp_path):
    a = np.zeros((2, 260, 1), np.uint8)
    a[0] = 128
    a[1, :2] = [[5], [6]]
    a[1, 2:] = 255
    body = bytes([255, 128, 5, 128, 1, 5, 1, 6, 255, 255, 3, 255])
    path = framebuf.write(buffer("a", a / 255.0), tmp_path / "m.als", datatype="a")
    assert path.read_bytes() == alias_header(260, 2, 8) + body
    image = framebuf.read_image(path)
    assert image.layers[0].datatype.name == "a"
    np.testing.assert_array_equal(image.layers[0].pixels, a)


def test_alias_reads_runs_crossing_rows(tmp_path):
    # another writer may let a run continue into the next row; we read it like ImageMagick
    path = tmp_path / "cross.pix"
    path.write_bytes(alias_header(2, 2, 24) + bytes([3, 1, 2, 3, 1, 4, 5, 6]))
    pixels = framebuf.read_image(path).layers[0].pixels
    assert pixels.reshape(4, 3).tolist() == [[3, 2, 1]] * 3 + [[6, 5, 4]]


def test_alias_corrupt_inputs(tmp_path):
    good = framebuf.write(buffer("rgb", np.random.default_rng(2).random((4, 9, 3))),
                          tmp_path / "g.als").read_bytes()
    hdr = alias_header(2, 1, 24)
    bad = [
        b"", good[:7], good[:10], good[:-1], good[:-4], good + b"\x01",
        hdr + bytes([0, 1, 2, 3]) + bytes([2, 1, 2, 3]),          # count 0
        hdr + bytes([3, 1, 2, 3]),                                # run past the last pixel
        hdr + bytes([1, 1, 2, 3]),                                # ends one pixel short
        struct.pack(">5H", 2, 1, 0, 0, 16) + bytes([2, 1, 2, 3]),  # 16 bits per pixel
        struct.pack(">5H", 0, 1, 0, 0, 24),                       # empty image
    ]
    for data in bad:
        expect_corrupt(tmp_path / "bad.als", data)
    fuzz(tmp_path, good, "f.als", "alias")


# -- Quantel / Abekas YUV -------------------------------------------------------------------------------

# studio-range BT.601 (Cb, Y, Cr) of the primaries, rounded: the textbook values
YCC = {
    "black": (128, 16, 128), "white": (128, 235, 128), "red": (90, 81, 240),
    "green": (54, 145, 34), "blue": (240, 41, 110),
}
RGB = {"black": (0, 0, 0), "white": (255, 255, 255), "red": (255, 0, 0), "green": (0, 255, 0),
       "blue": (0, 0, 255)}


def quantel_test_image(w: int, h: int) -> np.ndarray:
    """Horizontal bands of pure colours, plus one pair that mixes red and white."""
    img = np.zeros((h, w, 3), np.uint8)
    names = list(RGB)
    for y in range(h):
        img[y] = RGB[names[y * len(names) // h]]
    img[0, 0], img[0, 1] = RGB["red"], RGB["white"]
    return img


def quantel_expected(img: np.ndarray) -> bytes:
    h, w = img.shape[:2]
    names = list(RGB)
    out = bytearray()
    for y in range(h):
        name = names[y * len(names) // h]
        cb, yy, cr = YCC[name]
        row = [cb, yy, cr, yy] * (w // 2)
        if y == 0:
            # red + white: Y 81 and 235; chroma of the mean colour (1, .5, .5):
            # Cb = 128 - 37.797 - 74.203/2 + 112/2 = 109.1 -> 109; Cr = 128 + 112 - 46.893 - 9.107 = 184
            row[:4] = [109, 81, 184, 235]
        out += bytes(row)
    return bytes(out)


@pytest.mark.parametrize("fmt, w, h", [("qntpal", 720, 576), ("qntntsc", 720, 486)])
def test_quantel_bytes(tmp_path, fmt, w, h):
    img = quantel_test_image(w, h)
    path = framebuf.write(buffer("rgb", img / 255.0), tmp_path / f"q.{fmt}")
    data = path.read_bytes()
    assert len(data) == w * h * 2
    assert data == quantel_expected(img)
    back = framebuf.read_image(path)
    assert back.info["format"] == fmt
    ours = back.layers[0].pixels.astype(int)
    diff = np.abs(ours - img.astype(int))
    diff[0, :2] = 0  # the mixed pair shares one chroma (4:2:2), so its colours are not kept
    assert diff.max() <= 2  # pairs of one colour: only 8-bit YCbCr rounding


@pytest.mark.skipif(shutil.which("yuvtoppm") is None, reason="netpbm's yuvtoppm is not installed")
@pytest.mark.parametrize("fmt, w, h", [("qntpal", 720, 576), ("qntntsc", 720, 486)])
def test_quantel_read_by_yuvtoppm(tmp_path, fmt, w, h):
    from PIL import Image as PILImage

    rng = np.random.default_rng(8)
    img = np.repeat(rng.integers(0, 256, (h, w // 2, 3)), 2, axis=1).astype(np.uint8)
    path = framebuf.write(buffer("rgb", img / 255.0), tmp_path / f"n.{fmt}")
    ppm = subprocess.run(["yuvtoppm", str(w), str(h), str(path)], capture_output=True, check=True).stdout
    theirs = np.asarray(PILImage.open(io.BytesIO(ppm)).convert("RGB")).astype(int)
    assert theirs.shape == (h, w, 3)
    # chroma is constant over each pair, so only 8-bit YCbCr rounding is left
    assert np.abs(theirs - img).max() <= 3
    assert np.abs(theirs - img).mean() < 1.0


def test_quantel_other_size_needs_fit(tmp_path):
    red = buffer("rgb", np.tile(np.array([1.0, 0, 0], np.float32), (50, 100, 1)))
    with pytest.raises(ImageSizeError, match="fit=True"):
        framebuf.write(red, tmp_path / "x.qntpal")
    assert not (tmp_path / "x.qntpal").exists()
    path = framebuf.write(red, tmp_path / "x.qntpal", fit=True)
    data = np.frombuffer(path.read_bytes(), np.uint8).reshape(576, 360, 4)
    # 100x50 scales by 7.2 to 720x360, centred: black bars of 108 rows above and below
    assert (data[:108] == (128, 16, 128, 16)).all()
    assert (data[108:468] == (90, 81, 240, 81)).all()
    assert (data[468:] == (128, 16, 128, 16)).all()


def test_quantel_fit_pillarbox_and_shrink(tmp_path):
    img = np.zeros((1152, 720, 3), np.float32)
    img[:, :360] = 1.0  # left half white
    path = framebuf.write(buffer("rgb", img), tmp_path / "tall.qntpal", fit=True)
    data = np.frombuffer(path.read_bytes(), np.uint8).reshape(576, 360, 4)
    # halved to 360x576 and centred: a 180-pixel black bar (90 pairs) each side; the filter
    # (4 taps when halving) blurs only the two pairs at the white/black edge of the picture
    assert (data[:, :90] == (128, 16, 128, 16)).all()
    assert (data[:, 90:179] == (128, 235, 128, 235)).all()
    assert ((16 < data[:, 179, 3]) & (data[:, 179, 3] < 235)).all()
    assert (data[:, 181:] == (128, 16, 128, 16)).all()


def test_quantel_corrupt_inputs(tmp_path):
    for size in (0, 1, 720 * 576 * 2 - 1, 720 * 576 * 2 + 2, 720 * 486 * 2 - 4):
        expect_corrupt(tmp_path / "bad.qntpal", b"\x80" * size)
        expect_corrupt(tmp_path / "bad.qntntsc", b"\x80" * size, "qntntsc")


# -- Wavefront RLB ---------------------------------------------------------------------------------------

RLB_LAYOUT = ">14h16s24s24s24s24si128s128s64s32s32s20s24s8s32s2h4i4h100s"  # URT rlb_header.h


def rlb_header(w: int, h: int) -> bytes:
    window = (0, w - 1, 0, h - 1)
    shorts = window + window + (0, 0, 3, 1, 0, 0)  # frame, storage byte, 3 colour, 1 matte, 0 aux, mask
    texts = (b"", b"", b"", b"", b"", 0, b"", b"", b"framebuf", b"", b"", b"", b"", b"", b"rgb")
    tail = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b"")  # field, filter, magic, 3 sizes, 4 shorts, space
    return struct.pack(RLB_LAYOUT, *shorts, *texts, *tail)


def test_rlb_header_layout_is_740_bytes():
    assert struct.calcsize(RLB_LAYOUT) == 740


def test_rlb_bytes_with_long_runs(tmp_path):
    w = 300
    img = np.zeros((2, w, 4), np.uint8)
    img[0] = (10, 20, 30, 255)                                   # top row: one colour
    img[1, :3] = [(1, 4, 7, 255), (2, 5, 8, 255), (3, 6, 9, 255)]
    img[1, 3:] = (50, 60, 70, 255)                               # bottom row: 3 literals + 297

    def record(packets: bytes) -> bytes:
        return struct.pack(">H", len(packets)) + packets

    def run300(v):  # 128 + 128 + 44 copies: signed counts 127, 127, 43
        return bytes([127, v, 127, v, 43, v])

    def lit3_run297(a, b, c, v):  # 3 literals (count -3 = 253), then 128 + 128 + 41 copies
        return bytes([253, a, b, c, 127, v, 127, v, 40, v])

    bottom = b"".join(record(p) for p in (lit3_run297(1, 2, 3, 50), lit3_run297(4, 5, 6, 60),
                                          lit3_run297(7, 8, 9, 70), run300(255)))
    top = b"".join(record(run300(v)) for v in (10, 20, 30, 255))
    table_end = 740 + 2 * 4
    offsets = struct.pack(">2i", table_end, table_end + len(bottom))  # scanline 0 is the bottom
    expected = rlb_header(w, 2) + offsets + bottom + top
    path = framebuf.write(buffer("rgba", img / 255.0), tmp_path / "w.rlb")
    assert path.read_bytes() == expected
    image = framebuf.read_image(path)
    assert image.layers[0].datatype.name == "rgba"
    np.testing.assert_array_equal(image.layers[0].pixels, img)


def test_rlb_is_not_taken_for_rla(tmp_path):
    img = np.random.default_rng(3).random((4, 6, 4)).astype(np.float32)
    img[..., 3] = 1.0
    path = framebuf.write(buffer("rgba", img), tmp_path / "x.rlb")
    assert framebuf.read_image(path).info["format"] == "rlb"


def test_rlb_corrupt_inputs(tmp_path):
    img = np.random.default_rng(4).random((5, 40, 4)).astype(np.float32)
    good = framebuf.write(buffer("rgba", img), tmp_path / "g.rlb").read_bytes()
    hdr = bytearray(good[:740])
    bad = [b"", good[:100], good[:740], good[:745], good[:-1], good[:-30]]
    for offset, value in [(10, -5), (20, 2), (22, 3), (24, 1), (18, 1)]:  # active right, nchan, matte, aux, storage
        h = bytearray(hdr)
        struct.pack_into(">h", h, offset, value)
        bad.append(bytes(h) + good[740:])
    table = bytearray(good)
    struct.pack_into(">i", table, 740, len(good) + 10)  # scanline offset past the end
    bad.append(bytes(table))
    for data in bad:
        expect_corrupt(tmp_path / "bad.rlb", data)
    fuzz(tmp_path, good, "f.rlb", "rlb")


# -- copying between formats of both "File formats" issues -------------------------------------------------

# (format, data type to write the original as); formats another engineer has not landed yet are skipped
COPY_8BIT = [("png", "rgb"), ("tif", "rgb"), ("rgb", "rgb"), ("iff", "rgb"), ("rla", "rgba"),
             ("rlb", "rgba"), ("pic", "rgba"), ("ct", "rgba"), ("map", "rgb"), ("alias", "rgb"),
             ("ppm", "rgb"), ("tga", "rgba"), ("bmp", "rgb")]
COPY_FLOAT = [("exr", "rgba_fp"), ("tif", "rgba_fp"), ("iff", "rgba_fp"), ("ct", "rgba_fp"),
              ("map", "rgba_fp")]
COPY_DEPTH = [("exr", "z"), ("zt", "z"), ("map", "z"), ("Zpic", "z")]

CW, CH = 24, 10


def _copy_options(fmt):
    return {"width": CW, "height": CH} if fmt == "Zpic" else {}


def _file(tmp_path, fmt, tag):
    spec = framebuf.registry().formats.get(fmt)
    if spec is None or not spec.can_read or not spec.can_write:
        pytest.skip(f"format {fmt} is not registered (yet)")
    return tmp_path / f"{tag}.{spec.extensions[0]}"


def copy_file(src, src_fmt, dst, dst_fmt):
    """What ``framebuf copy`` does: read every buffer, write them in the other format."""
    fbs = framebuf.read(src, src_fmt, **_copy_options(src_fmt))
    framebuf.write(fbs, dst, dst_fmt)


def _pairs(group):
    return [pytest.param(a, ta, b, id=f"{a}-{ta}->{b}") for a, ta in group for b, _tb in group]


def _round_trip(tmp_path, original, src_fmt, src_type, dst_fmt):
    src = _file(tmp_path, src_fmt, "src")
    dst = _file(tmp_path, dst_fmt, "dst")
    framebuf.write(original, src, src_fmt, datatype=src_type)
    copy_file(src, src_fmt, dst, dst_fmt)
    return list(framebuf.read(dst, dst_fmt, **_copy_options(dst_fmt)))[0].data


@pytest.mark.parametrize("src_fmt, src_type, dst_fmt", _pairs(COPY_8BIT))
def test_copy_8bit_rgb_is_lossless(tmp_path, src_fmt, src_type, dst_fmt):
    ints = np.random.default_rng(21).integers(0, 256, (CH, CW, 3))
    ints[:, :15] = (12, 200, 77)  # a run for the RLE formats
    original = buffer("rgb", ints / 255.0)
    out = _round_trip(tmp_path, original, src_fmt, src_type, dst_fmt)
    np.testing.assert_array_equal(np.rint(out[:, :, :3] * 255).astype(int), ints)


@pytest.mark.parametrize("src_fmt, src_type, dst_fmt", _pairs(COPY_FLOAT))
def test_copy_float_rgba_is_identical(tmp_path, src_fmt, src_type, dst_fmt):
    values = (np.random.default_rng(22).random((CH, CW, 4)) * 4 - 1).astype(np.float32)
    original = buffer("rgba_fp", values)
    out = _round_trip(tmp_path, original, src_fmt, src_type, dst_fmt)
    np.testing.assert_array_equal(out, values)


@pytest.mark.parametrize("src_fmt, src_type, dst_fmt", _pairs(COPY_DEPTH))
def test_copy_depth_is_identical(tmp_path, src_fmt, src_type, dst_fmt):
    z = (np.random.default_rng(23).random((CH, CW, 1)) * 100 + 0.5).astype(np.float32)
    z[:3, :5] = np.inf  # nothing hit survives the 0 convention of zt and Zpic
    out = _round_trip(tmp_path, buffer("z", z), src_fmt, src_type, dst_fmt)
    np.testing.assert_array_equal(out, z)


def test_copy_cli(tmp_path):
    pytest.importorskip("framebuf.cli.copy", reason="framebuf copy is not written yet")
    from framebuf.cli import main

    ints = np.random.default_rng(24).integers(0, 256, (CH, CW, 3))
    framebuf.write(buffer("rgb", ints / 255.0), tmp_path / "in.png")
    chain = ["in.png", "a.ct", "b.als", "c.map", "d.rlb", "e.rgb"]
    for src, dst in zip(chain, chain[1:]):
        assert main(["copy", str(tmp_path / src), str(tmp_path / dst)]) == 0, (src, dst)
    out = list(framebuf.read(tmp_path / chain[-1]))[0].data
    np.testing.assert_array_equal(np.rint(out[:, :, :3] * 255).astype(int), ints)
    # format options arrive as text: pyramid=on must build the pyramid, pyramid=off must not
    assert main(["copy", str(tmp_path / "a.ct"), str(tmp_path / "p.map"), "--option", "pyramid=on"]) == 0
    assert framebuf.read_image(tmp_path / "p.map").info["levels"] == ["24x10", "12x5", "6x3", "3x2", "2x1", "1x1"]
    assert main(["copy", str(tmp_path / "a.ct"), str(tmp_path / "q.map"), "--option", "pyramid=off"]) == 0
    assert framebuf.read_image(tmp_path / "q.map").info["levels"] == ["24x10"]
    assert main(["copy", str(tmp_path / "a.ct"), str(tmp_path / "x.zt")]) == 2  # colour is no depth


@pytest.mark.parametrize("name", ["a.ct", "b.als", "c.map", "d.rlb", "e.zt", "f.qntpal"])
def test_info_cli_reads_our_formats(tmp_path, capsys, name):
    pytest.importorskip("framebuf.cli.info", reason="framebuf info is not written yet")
    from framebuf.cli import main

    if name.endswith(".zt"):
        buf = buffer("z", np.full((CH, CW, 1), 2.0))
    elif name.endswith(".qntpal"):
        buf = buffer("rgb", np.zeros((576, 720, 3)))
    else:
        buf = buffer("rgb", np.random.default_rng(1).random((CH, CW, 3)))
    framebuf.write(buf, tmp_path / name)
    assert main(["info", str(tmp_path / name)]) == 0
    out = capsys.readouterr().out
    assert ("720" in out) if name.endswith(".qntpal") else ("24" in out and "10" in out)
    (tmp_path / name).write_bytes((tmp_path / name).read_bytes()[:-5])
    assert main(["info", str(tmp_path / name)]) != 0  # truncated: an error line, no traceback
    err = capsys.readouterr().err
    assert str(tmp_path / name) in err and "Traceback" not in err


def test_huge_declared_sizes_are_refused_before_allocating(tmp_path):
    expect_corrupt(tmp_path / "huge.als", alias_header(65535, 65535, 24) + bytes([255, 1, 2, 3]) * 4)
    head = bytearray(rlb_header(32767, 32767))
    expect_corrupt(tmp_path / "huge.rlb", bytes(head) + b"\0" * 4096)
