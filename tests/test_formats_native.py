"""mental images native formats (ct st vt wt zt nt mt tt bit cth), our map layout, CATIA picture.

Expected bytes are built by hand from the documented layout (reference 6.11, seed 002): an 8-byte
header ``magic, 0, u16 width, u16 height, u16 version 0``, then big-endian samples, bottom row first,
components interleaved. Nobody packages a reader for these files, so a port of mrViewer's reading
logic (``mrviewer_read``) serves as the independent check.
"""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest

import framebuf
from helpers import buffer
from framebuf.errors import CorruptFileError, FormatUnavailableError, UnsupportedOptionError
from framebuf.formats import mi_map

W, H = 5, 3



def header(magic: int, w: int = W, h: int = H) -> bytes:
    return struct.pack(">BBHHH", magic, 0, w, h, 0)


def bottom_up(rows):
    """Pixels (H, W, C) as a list of pixels in file order: bottom row first, x increasing."""
    return [px for row in rows[::-1] for px in row]


def u8_image(comps: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (H, W, comps))
    if comps == 4:
        img[..., 3] = 255  # opaque, so colorclip rgb leaves the colour alone
    return img


def written_bytes(tmp_path, buf, name, **options) -> bytes:
    path = framebuf.write(buf, tmp_path / name, **options)
    return path.read_bytes()


def mrviewer_read(path):
    """mrViewer's mrayImage logic: header, then bottom-up big-endian interleaved samples."""
    data = open(path, "rb").read()
    magic, w, h = data[0], int.from_bytes(data[2:4], "big"), int.from_bytes(data[4:6], "big")
    return magic, w, h, data[8:]


# -- hand-built bytes, one test per (format, data type) ------------------------------------------------

@pytest.mark.parametrize("dtype, magic", [("rgba", 3), ("rgba_16", 6), ("rgba_fp", 11)])
def test_ct_bytes(tmp_path, dtype, magic):
    ints = u8_image(4)
    if dtype == "rgba":
        values = ints / 255.0
        body = b"".join(struct.pack(">4B", *px) for px in bottom_up(ints))
    elif dtype == "rgba_16":
        ints16 = ints * 257  # exact 16-bit levels
        values = ints16 / 65535.0
        body = b"".join(struct.pack(">4H", *px) for px in bottom_up(ints16))
    else:
        values = (ints / 64.0 - 1.0).astype(np.float32)  # out of [0, 1] on purpose, exact in f32
        body = b"".join(struct.pack(">4f", *px) for px in bottom_up(values))
    buf = buffer(dtype, np.asarray(values, np.float32))
    assert written_bytes(tmp_path, buf, "c.ct", datatype=dtype) == header(magic) + body
    image = framebuf.read_image(tmp_path / "c.ct")
    assert image.layers[0].datatype.name == dtype
    back = framebuf.read(tmp_path / "c.ct")
    np.testing.assert_array_equal(list(back)[0].data, buf.data)


@pytest.mark.parametrize("dtype, magic", [("a", 4), ("a_16", 7), ("a_fp", 15)])
def test_st_bytes(tmp_path, dtype, magic):
    ints = u8_image(1, seed=3)
    if dtype == "a":
        values, body = ints / 255.0, bytes(int(v) for px in bottom_up(ints) for v in px)
    elif dtype == "a_16":
        values = ints * 257 / 65535.0
        body = b"".join(struct.pack(">H", px[0] * 257) for px in bottom_up(ints))
    else:
        values = ints / 8.0
        body = b"".join(struct.pack(">f", px[0] / 8.0) for px in bottom_up(ints))
    buf = buffer(dtype, np.asarray(values, np.float32))
    assert written_bytes(tmp_path, buf, "s.st", datatype=dtype) == header(magic) + body
    back = framebuf.read(tmp_path / "s.st")
    np.testing.assert_array_equal(list(back)[0].data, buf.data)


@pytest.mark.parametrize("fmt, dtype, magic", [("vt", "vta", 5), ("wt", "vts", 16)])
def test_vt_wt_differ_only_in_magic(tmp_path, fmt, dtype, magic):
    rng = np.random.default_rng(5)
    ints = rng.integers(-32767, 32768, (H, W, 2))
    buf = buffer(dtype, (ints / 32767.0).astype(np.float32))
    body = b"".join(struct.pack(">2h", *px) for px in bottom_up(ints))
    assert written_bytes(tmp_path, buf, f"v.{fmt}") == header(magic) + body
    image = framebuf.read_image(tmp_path / f"v.{fmt}")
    assert image.layers[0].datatype.name == dtype
    np.testing.assert_array_equal(image.layers[0].pixels, ints.astype(np.int16))


def test_wt_reads_the_manuals_magic_5(tmp_path):
    ints = np.arange(H * W * 2).reshape(H, W, 2) - 7
    path = tmp_path / "manual.wt"
    path.write_bytes(header(5) + b"".join(struct.pack(">2h", *px) for px in bottom_up(ints)))
    image = framebuf.read_image(path)
    assert image.layers[0].datatype.name == "vts"
    np.testing.assert_array_equal(image.layers[0].pixels, ints)
    assert framebuf.read_image(path, "vt").layers[0].datatype.name == "vta"


def test_zt_bytes_nothing_hit_is_zero(tmp_path):
    z = np.array([[1.5, np.inf, 2.0, 1e6, 0.25],
                  [np.inf, np.inf, 3.0, 4.0, 5.0],
                  [7.0, 8.0, np.inf, 9.0, 10.0]], np.float32)[:, :, None]
    buf = buffer("z", z)
    body = b"".join(struct.pack(">f", 0.0 if np.isinf(px[0]) else px[0]) for px in bottom_up(z))
    assert written_bytes(tmp_path, buf, "d.zt") == header(8) + body
    back = list(framebuf.read(tmp_path / "d.zt"))[0]
    np.testing.assert_array_equal(back.data, z)  # 0 in the file came back as +inf


@pytest.mark.parametrize("fmt, dtype, magic", [("nt", "n", 9), ("mt", "m", 12)])
def test_vector_bytes(tmp_path, fmt, dtype, magic):
    rng = np.random.default_rng(7)
    v = (rng.integers(-64, 64, (H, W, 3)) / 16.0).astype(np.float32)
    buf = buffer(dtype, v)
    body = b"".join(struct.pack(">3f", *px) for px in bottom_up(v))
    assert written_bytes(tmp_path, buf, f"v.{fmt}") == header(magic) + body
    np.testing.assert_array_equal(list(framebuf.read(tmp_path / f"v.{fmt}"))[0].data, v)


def test_tt_bytes(tmp_path):
    tags = np.array([[0, 1, 2, 3, 0xFFFFFFFF], [10, 20, 30, 40, 50], [7, 7, 7, 7, 123456789]],
                    np.uint32)[:, :, None]
    buf = buffer("tag", tags)
    body = b"".join(struct.pack(">I", int(px[0])) for px in bottom_up(tags))
    assert written_bytes(tmp_path, buf, "t.tt") == header(10) + body
    np.testing.assert_array_equal(list(framebuf.read(tmp_path / "t.tt"))[0].data, tags)


def test_bit_packed_msb_first_rows_padded(tmp_path):
    w, h = 10, 2  # 10 pixels -> 2 bytes per row, 6 padding bits
    rows = [[1, 0, 1, 1, 0, 0, 0, 1, 1, 0],   # top
            [0, 1, 0, 0, 0, 0, 0, 0, 0, 1]]   # bottom (stored first)
    buf = buffer("bit", np.array(rows, np.uint8)[:, :, None])
    expected = header(13, w, h) + bytes([0b01000000, 0b01000000, 0b10110001, 0b10000000])
    assert written_bytes(tmp_path, buf, "m.bit") == expected
    np.testing.assert_array_equal(list(framebuf.read(tmp_path / "m.bit"))[0].data[:, :, 0], rows)
    # the mrViewer-compatible variant: one byte per pixel; the reader tells them apart by size
    expected_bytes = header(13, w, h) + bytes(rows[1]) + bytes(rows[0])
    assert written_bytes(tmp_path, buf, "b.bit", packing="bytes") == expected_bytes
    np.testing.assert_array_equal(list(framebuf.read(tmp_path / "b.bit"))[0].data[:, :, 0], rows)
    with pytest.raises(UnsupportedOptionError):
        framebuf.write(buf, tmp_path / "x.bit", packing="nibbles")


def test_bit_one_pixel_wide_reads_either_packing(tmp_path):
    for byte in (0x80, 0x01):
        path = tmp_path / f"one{byte}.bit"
        path.write_bytes(header(13, 1, 2) + bytes([byte, 0]))
        np.testing.assert_array_equal(framebuf.read_image(path).layers[0].pixels[:, 0, 0], [0, 1])


def test_cth_rgbe_bytes(tmp_path):
    # (1, 0.5, 0.25): frexp(1) = 0.5 * 2**1 -> mantissas 0.5*256 = 128, 64, 32, exponent 1+128
    # (0, 0, 0): all zero; (2, 2, 2): frexp(2) = 0.5 * 2**2 -> 128, 128, 128, 130
    rgb = np.array([[[1.0, 0.5, 0.25], [0, 0, 0]], [[2.0, 2.0, 2.0], [1.0, 0.5, 0.25]]], np.float32)
    buf = buffer("rgbe", rgb)
    expected = header(14, 2, 2) + bytes([128, 128, 128, 130, 128, 64, 32, 129,
                                         128, 64, 32, 129, 0, 0, 0, 0])
    assert written_bytes(tmp_path, buf, "h.cth") == expected
    image = framebuf.read_image(tmp_path / "h.cth")
    assert image.layers[0].datatype.name == "rgbe"
    assert image.layers[0].pixels[0, 0].tolist() == [128, 64, 32, 129]


def test_mrviewer_port_reads_our_ct(tmp_path):
    ints = u8_image(4, seed=9)
    path = framebuf.write(buffer("rgba", (ints / 255.0).astype(np.float32)), tmp_path / "m.ct")
    magic, w, h, body = mrviewer_read(path)
    assert (magic, w, h) == (3, W, H)
    pixels = np.frombuffer(body, np.uint8).reshape(h, w, 4)[::-1]  # mrViewer flips bottom-up rows
    np.testing.assert_array_equal(pixels, ints)


def test_native_sniffing_without_extension(tmp_path):
    path = framebuf.write(buffer("z", np.ones((H, W, 1), np.float32)), tmp_path / "d.zt")
    os.rename(path, tmp_path / "noext")
    assert framebuf.read_image(tmp_path / "noext").info["format"] == "zt"


def test_native_refuses_wrong_type_and_size(tmp_path):
    big = framebuf.FrameBufferSet(70000, 1).add("c", "rgba_fp", user=True)
    with pytest.raises(framebuf.FramebufError):
        framebuf.write(big, tmp_path / "big.ct")
    with pytest.raises(framebuf.FramebufError):
        framebuf.write(buffer("rgba", np.zeros((H, W, 4), np.float32)), tmp_path / "c.ct",
                       datatype="rgb_16")


# -- corrupt and truncated native files -------------------------------------------------------------

NATIVE_SAMPLES = [("ct", "rgba", 4), ("ct", "rgba_16", 4), ("ct", "rgba_fp", 4), ("st", "a", 1),
                  ("st", "a_fp", 1), ("vt", "vta", 2), ("wt", "vts", 2), ("zt", "z", 1),
                  ("nt", "n", 3), ("mt", "m", 3), ("tt", "tag", 1), ("bit", "bit", 1),
                  ("cth", "rgbe", 3)]


def _good_native(tmp_path, fmt, dtype, comps):
    rng = np.random.default_rng(11)
    dt = framebuf.datatype(dtype)
    data = rng.random((H, W, comps))
    if dt.kind in ("label", "mask"):
        data = data > 0.5
    return framebuf.write(buffer(dtype, data.astype(dt.dtype)), tmp_path / f"good.{fmt}",
                          datatype=dtype).read_bytes()


@pytest.mark.parametrize("fmt, dtype, comps", NATIVE_SAMPLES)
def test_native_corrupt_inputs(tmp_path, fmt, dtype, comps):
    good = _good_native(tmp_path, fmt, dtype, comps)
    bad = {
        "empty": b"",
        "short header": good[:5],
        "truncated pixels": good[:-1],
        "header only": good[:8],
        "extra bytes": good + b"\0" * 3,
        "bad magic": bytes([99]) + good[1:],
        "nonzero byte 1": good[:1] + b"\x07" + good[2:],
        "bad version": good[:6] + b"\x00\x01" + good[8:],
        "zero width": good[:2] + b"\0\0" + good[4:],
        "bigger height": good[:4] + struct.pack(">H", H + 1) + good[6:],
    }
    for why, data in bad.items():
        path = tmp_path / f"bad.{fmt}"
        path.write_bytes(data)
        with pytest.raises(CorruptFileError):
            framebuf.read(path)
        with pytest.raises(CorruptFileError):
            framebuf.read(path, fmt)


def test_native_fuzz_never_crashes(tmp_path):
    rng = np.random.default_rng(0)
    for fmt, dtype, comps in NATIVE_SAMPLES:
        good = _good_native(tmp_path, fmt, dtype, comps)
        for _ in range(25):
            data = bytearray(good)
            cut = int(rng.integers(0, len(data) + 1))
            data = data[:cut]
            for i in rng.integers(0, max(1, len(data)), 3):
                if data:
                    data[int(i)] = int(rng.integers(0, 256))
            path = tmp_path / f"fuzz.{fmt}"
            path.write_bytes(bytes(data))
            try:
                framebuf.read(path, fmt)
            except CorruptFileError:
                pass


# -- map: this project's layout ----------------------------------------------------------------------

def _map_header(order, w, h, code, comps, sample, sbytes, levels, total):
    head = b"\x89FBMAP\r\n" + (b"II" if order == "<" else b"MM")
    return head + struct.pack(order + "HIIHH4sHHIIQ16x", 1, w, h, code, comps, sample, sbytes,
                              levels, 64, 0, total)


@pytest.mark.parametrize("byteorder, order", [("little", "<"), ("big", ">")])
def test_map_bytes_single_level(tmp_path, byteorder, order):
    ints = u8_image(4, seed=2) * 257
    buf = buffer("rgba_16", (ints / 65535.0).astype(np.float32))
    pixels = b"".join(struct.pack(order + "4H", *px) for row in ints for px in row)  # top row first
    offset = 128  # 64-byte header + one 24-byte level entry, rounded up to the 64-byte alignment
    expected = (_map_header(order, W, H, 1, 4, b"u16\0", 2, 1, offset + len(pixels))
                + struct.pack(order + "QIIQ", offset, W, H, len(pixels)))
    expected += b"\0" * (offset - len(expected)) + pixels
    assert written_bytes(tmp_path, buf, "t.map", byteorder=byteorder) == expected
    back = list(framebuf.read(tmp_path / "t.map"))[0]
    assert back.datatype.name == "rgba_16"
    np.testing.assert_array_equal(back.data, buf.data)


def test_map_pyramid_bytes_and_memmap(tmp_path):
    # 3x2 float scalar: level 1 is 2x1 (odd width: last column repeated), level 2 is 1x1
    a = np.array([[1.0, 2.0, 3.0], [5.0, 6.0, 7.0]], np.float32)
    buf = buffer("a_fp", a[:, :, None])
    lv1 = [(1 + 2 + 5 + 6) / 4, (3 + 3 + 7 + 7) / 4]  # 3.5, 5.0
    lv2 = [(3.5 + 5.0 + 3.5 + 5.0) / 4]               # 4.25
    planes = [struct.pack("<6f", *a.ravel()), struct.pack("<2f", *lv1), struct.pack("<f", *lv2)]
    offsets = [192, 256, 320]  # table ends at 64 + 3 * 24 = 136 -> 192; each plane under 64 bytes
    total = offsets[-1] + 4
    expected = _map_header("<", 3, 2, 19, 1, b"f32\0", 4, 3, total)
    for off, (w, h), plane in zip(offsets, [(3, 2), (2, 1), (1, 1)], planes):
        expected += struct.pack("<QIIQ", off, w, h, len(plane))
    for off, plane in zip(offsets, planes):
        expected += b"\0" * (off - len(expected)) + plane
    assert written_bytes(tmp_path, buf, "p.map", pyramid=True, byteorder="little") == expected
    level1 = mi_map.open_map(tmp_path / "p.map", 1)
    assert isinstance(level1, np.memmap) and level1.shape == (1, 2, 1)
    np.testing.assert_array_equal(level1[0, :, 0], lv1)
    assert framebuf.read_image(tmp_path / "p.map").info["levels"] == ["3x2", "2x1", "1x1"]
    np.testing.assert_array_equal(framebuf.read_image(tmp_path / "p.map", level=2).layers[0].pixels, [[[4.25]]])


def test_map_pyramid_reduces_by_meaning(tmp_path):
    z = np.array([[1.0, np.inf], [np.inf, np.inf]], np.float32)[:, :, None]
    framebuf.write(buffer("z", z), tmp_path / "z.map", pyramid=True)
    assert mi_map.open_map(tmp_path / "z.map", 1)[0, 0, 0] == 1.0  # min: the hit survives
    tags = np.array([[3, 9], [1, 0]], np.uint32)[:, :, None]
    framebuf.write(buffer("tag", tags), tmp_path / "t.map", pyramid=True)
    assert mi_map.open_map(tmp_path / "t.map", 1)[0, 0, 0] == 9  # max, never an average label
    big = buffer("a", np.zeros((1, 2 ** 20, 1), np.float32))  # would need 21 levels
    framebuf.write(big, tmp_path / "wide.map", pyramid=True)
    assert len(framebuf.read_image(tmp_path / "wide.map").info["levels"]) == 20


@pytest.mark.parametrize("dtype", sorted(framebuf.DATATYPES))
def test_map_round_trips_every_type(tmp_path, dtype):
    dt = framebuf.datatype(dtype)
    rng = np.random.default_rng(4)
    data = rng.random((H, W, len(dt.view))).astype(dt.dtype)
    if dt.kind in ("label", "mask"):
        data = rng.integers(0, 2 if dt.kind == "mask" else 10 ** 9, (H, W, 1)).astype(dt.dtype)
    buf = buffer(dtype, data)
    for order in ("native", "big"):
        framebuf.write(buf, tmp_path / "r.map", byteorder=order, pyramid=True)
        image = framebuf.read_image(tmp_path / "r.map")
        assert image.layers[0].datatype.name == dtype
        written = framebuf.convert.to_file(data, dt, dt)
        np.testing.assert_array_equal(image.layers[0].pixels, written)


def test_map_notes_say_it_is_our_layout():
    spec = framebuf.registry().formats["map"]
    assert "NOT mental ray's" in spec.notes and "memmap" in spec.notes


def test_map_corrupt_inputs(tmp_path):
    buf = buffer("rgba_fp", np.random.default_rng(1).random((H, W, 4)).astype(np.float32))
    good = framebuf.write(buf, tmp_path / "g.map", pyramid=True, byteorder="little").read_bytes()
    bad = {
        "empty": b"",
        "truncated": good[:-3],
        "header only": good[:64],
        "bad magic": b"X" + good[1:],
        "bad byte order": good[:8] + b"XX" + good[10:],
        "version": good[:10] + b"\x09\x00" + good[12:],
        "unknown type code": good[:20] + b"\x63\x00" + good[22:],
        "components disagree": good[:22] + b"\x03\x00" + good[24:],
        "no levels": good[:30] + b"\x00\x00" + good[32:],
        "level offset outside": good[:64] + struct.pack("<Q", 1 << 40) + good[72:],
        "misaligned level": good[:64] + struct.pack("<Q", 130) + good[72:],
        "wrong level size": good[:64 + 24 + 8] + struct.pack("<I", 9) + good[64 + 24 + 12:],
    }
    for why, data in bad.items():
        (tmp_path / "bad.map").write_bytes(data)
        with pytest.raises(CorruptFileError):
            framebuf.read(tmp_path / "bad.map", "map")
    (tmp_path / "bad.map").write_bytes(good[:-3])
    with pytest.raises(CorruptFileError):
        mi_map.open_map(tmp_path / "bad.map")


def test_map_refuses_bad_byteorder_option(tmp_path):
    with pytest.raises(UnsupportedOptionError):
        framebuf.write(buffer("a", np.zeros((1, 1, 1), np.float32)), tmp_path / "x.map",
                       byteorder="middle")


# -- CATIA picture --------------------------------------------------------------------------------------

def test_picture_is_listed_but_unavailable(tmp_path):
    spec = framebuf.registry().formats["picture"]
    assert not spec.available and spec.writer is None and spec.reader is None
    assert "not publicly documented" in spec.unavailable_reason
    rgb = buffer("rgb", np.zeros((2, 2, 3), np.float32))
    with pytest.raises(FormatUnavailableError, match="not publicly documented"):
        framebuf.write(rgb, tmp_path / "x.picture")
    with pytest.raises(FormatUnavailableError):
        framebuf.write(rgb, tmp_path / "x.tif", filetype="picture")
    assert not (tmp_path / "x.picture").exists()
    (tmp_path / "y.picture").write_bytes(b"\0" * 16)
    with pytest.raises(FormatUnavailableError):
        framebuf.read(tmp_path / "y.picture")


def test_map_pyramid_option_accepts_text(tmp_path):
    buf = buffer("a_fp", np.ones((4, 4, 1), np.float32))
    framebuf.write(buf, tmp_path / "f.map", pyramid="false")
    assert len(framebuf.read_image(tmp_path / "f.map").info["levels"]) == 1
    framebuf.write(buf, tmp_path / "t.map", pyramid="true")
    assert len(framebuf.read_image(tmp_path / "t.map").info["levels"]) == 3
    with pytest.raises(UnsupportedOptionError):
        framebuf.write(buf, tmp_path / "x.map", pyramid="maybe")
    with pytest.raises(framebuf.FramebufError):
        framebuf.read(tmp_path / "t.map", level=7)


# -- registration: the format table of reference section 5 ------------------------------------------------

@pytest.mark.parametrize("fmt, types, default", [
    ("ct", ("rgba", "rgba_16", "rgba_fp"), "rgba"), ("st", ("a", "a_16", "a_fp"), "a"),
    ("vt", ("vta",), "vta"), ("wt", ("vts",), "vts"), ("zt", ("z",), "z"), ("nt", ("n",), "n"),
    ("mt", ("m",), "m"), ("tt", ("tag",), "tag"), ("bit", ("bit",), "bit"), ("cth", ("rgbe",), "rgbe"),
])
def test_native_registration(fmt, types, default):
    spec = framebuf.registry().formats[fmt]
    assert spec.datatypes == types and spec.default_datatype == default
    assert spec.extensions == (fmt,) and spec.sniff is not None and spec.notes
    assert framebuf.registry().origin[("formats", fmt)] == "framebuf.formats.mi_native"
