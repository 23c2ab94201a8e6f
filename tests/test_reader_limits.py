"""Hand-built hostile headers, one or more per reader: each is refused with the specific error
(CorruptFileError when the file cannot hold what it declares, MemoryBudgetError when it could but
the memory budget is smaller) and quickly, before anything of the declared size is allocated."""

from __future__ import annotations

import struct
import time
import zlib

import numpy as np
import pytest

import framebuf
from framebuf.errors import CorruptFileError, FramebufError, MemoryBudgetError
from framebuf.formats import _exrfile

FAST = 2.0          # seconds; each of these took 13-19 s or ended in MemoryError before


def refused(path, error, match, **options):
    start = time.perf_counter()
    with pytest.raises(error, match=match):
        framebuf.read_image(path, **options)
    assert time.perf_counter() - start < FAST


def small(tmp_path, name, **write):
    path = tmp_path / name
    fbs = framebuf.FrameBufferSet(16, 8)
    fbs.add("beauty", "rgba", user=True, data=np.full((8, 16, 4), 0.5, np.float32))
    framebuf.write(fbs["beauty"], path, **write)
    return path


# -- EXR ---------------------------------------------------------------------------------------

def _set_attribute(data: bytes, name: str, value: bytes, typ: bytes | None = None) -> bytes:
    key = name.encode() + b"\0"
    pos = data.index(key, 8)
    tend = data.index(b"\0", pos + len(key))
    (size,) = struct.unpack_from("<i", data, tend + 1)
    typ = data[pos + len(key):tend] if typ is None else typ
    return (data[:pos + len(key)] + typ + b"\0" + struct.pack("<i", len(value)) + value
            + data[tend + 5 + size:])


@pytest.mark.parametrize("window", [(0, 0, 99999, 99999), (0, 0, 2**31 - 1, 0)])
def test_exr_huge_data_window_is_refused_before_decoding(tmp_path, window):
    good = small(tmp_path, "good.exr", compression="zip")
    data = _set_attribute(good.read_bytes(), "dataWindow", struct.pack("<4i", *window))
    bad = tmp_path / "bad.exr"
    bad.write_bytes(data)
    # 100000 rows need 6250 offsets (50 KB) this file does not have; 2^31 x 1 has one chunk,
    # but even at deflate's best ratio its pixels cannot fit in the bytes after the header
    refused(bad, CorruptFileError, "offset table|declares at least")


def test_exr_window_the_file_could_hold_is_over_the_budget(tmp_path, monkeypatch):
    good = small(tmp_path, "good.exr", compression="zip")
    monkeypatch.setenv("FRAMEBUF_MEMORY_BUDGET", "1K")
    refused(good, MemoryBudgetError, "over the memory budget of 1.0 KiB")


@pytest.mark.parametrize("name, typ, value", [
    ("channels", b"string", b"RGBA"),             # was AttributeError: 'str' has no attribute 'name'
    ("dataWindow", b"v2i", struct.pack("<2i", 3, 4)),   # was ValueError: too many values to unpack
    ("compression", b"string", b"zip"),
    ("lineOrder", b"int", struct.pack("<i", 0)),
])
def test_exr_structural_attribute_of_the_wrong_type(tmp_path, name, typ, value):
    good = small(tmp_path, "good.exr", compression="zip")
    bad = tmp_path / "bad.exr"
    bad.write_bytes(_set_attribute(good.read_bytes(), name, value, typ))
    with pytest.raises(CorruptFileError, match=f"attribute '{name}' has type '{typ.decode()}'"):
        _exrfile.read_header(bad)
    from framebuf.cli.info import describe
    with pytest.raises(CorruptFileError):
        describe(str(bad))


def test_exr_tiles_attribute_as_a_string(tmp_path):
    """was TypeError: string indices must be integers (tile_levels)"""
    good = small(tmp_path, "good.exr", compression="zip", tiled=True, tile_size=8)
    bad = tmp_path / "bad.exr"
    bad.write_bytes(_set_attribute(good.read_bytes(), "tiles", b"abcdefghi", b"string"))
    with pytest.raises(CorruptFileError, match="attribute 'tiles' has type 'string'"):
        framebuf.read_image(bad)


def test_exr_tile_size_zero(tmp_path):
    good = small(tmp_path, "good.exr", compression="zip", tiled=True, tile_size=8)
    bad = tmp_path / "bad.exr"
    bad.write_bytes(_set_attribute(good.read_bytes(), "tiles", struct.pack("<IIB", 0, 8, 0)))
    refused(bad, CorruptFileError, "tile size 0x8")


def test_read_set_turns_memory_error_into_a_framebuf_error(tmp_path, monkeypatch):
    from framebuf.post import layouts
    good = small(tmp_path, "good.exr", compression="zip")

    def exhausted(self, everything=True):
        raise MemoryError()
    monkeypatch.setattr(layouts.Render, "framebuffers", exhausted)
    with pytest.raises(MemoryBudgetError, match="ran out of memory"):
        layouts.read_set(good)


# -- TIFF --------------------------------------------------------------------------------------

def _tiff(width: int, height: int, strip: bytes, compression: int = 1) -> bytes:
    """A little-endian RGB 8-bit TIFF with one strip and hand-set dimensions."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, compression),
               (262, 3, 1, 2), (273, 4, 1, 0), (277, 3, 1, 3), (278, 4, 1, height),
               (279, 4, 1, len(strip))]
    ifd_size = 2 + 12 * len(entries) + 4
    data_at = 8 + ifd_size
    out = bytearray(b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", len(entries)))
    for tag, typ, count, value in entries:
        value = data_at if tag == 273 else value
        out += struct.pack("<HHI", tag, typ, count) + struct.pack("<I" if typ == 4 else "<HH", value,
                                                                   *(() if typ == 4 else (0,)))
    out += struct.pack("<I", 0) + strip
    return bytes(out)


def test_tiff_reference_file_reads(tmp_path):
    path = tmp_path / "ok.tif"
    path.write_bytes(_tiff(4, 2, bytes(range(24))))
    px = framebuf.read_image(path).layers[0].pixels
    assert px.shape == (2, 4, 3) and px[1, 3].tolist() == [21, 22, 23]


@pytest.mark.parametrize("width, height, compression", [
    (100000, 100000, 1), (2**31, 64, 8), (65535, 65535, 32773)])
def test_tiff_huge_dimensions_are_refused_fast(tmp_path, width, height, compression):
    path = tmp_path / "bad.tif"
    path.write_bytes(_tiff(width, height, bytes(3000), compression))
    refused(path, CorruptFileError, "declares at least")


# -- PNG ---------------------------------------------------------------------------------------

def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(width: int, height: int, rows: int | None = None) -> bytes:
    rows = height if rows is None else rows
    raw = b"".join(b"\0" + bytes(3 * width) for _ in range(rows))
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b""))


def test_png_built_here_reads(tmp_path):
    path = tmp_path / "ok.png"
    path.write_bytes(_png(5, 3))
    assert framebuf.read_image(path).layers[0].pixels.shape == (3, 5, 3)


def test_png_declaring_a_million_rows_of_a_small_file(tmp_path):
    """was read as mostly zeros without complaint"""
    path = tmp_path / "bad.png"
    data = _png(10, 1_000_000, rows=40)
    assert len(data) < 2000
    path.write_bytes(data)
    refused(path, CorruptFileError, "declares at least|ends after")


def test_png_rows_missing_at_the_end(tmp_path):
    path = tmp_path / "short.png"
    path.write_bytes(_png(10, 50, rows=40))
    refused(path, CorruptFileError, "image data ends after 1240 of 1550 bytes")


def test_png_chunk_length_of_4_gib(tmp_path):
    """was MemoryError"""
    data = bytearray(_png(5, 3))
    idat = data.index(b"IDAT") - 4
    data[idat:idat + 4] = b"\xff\xff\xff\xff"
    path = tmp_path / "bad.png"
    path.write_bytes(bytes(data))
    refused(path, CorruptFileError, "chunk b'IDAT' at byte 33 declares 4294967295 bytes")


# -- run-length formats: a file the size check lets through, over the budget -------------------

def test_pic_long_runs_over_the_budget(tmp_path, monkeypatch):
    """A 16x8 PIC is tiny; with a 1 KiB budget its 2 KiB float image is refused before allocating
    (the 655 KB file of long runs asked for 16 GiB the same way)."""
    path = small(tmp_path, "good.pic")
    framebuf.read_image(path)
    monkeypatch.setenv("FRAMEBUF_MEMORY_BUDGET", "1K")
    refused(path, MemoryBudgetError, "16x8 image of 4 channels needs 2.0 KiB")


def test_pic_header_beyond_any_run_length(tmp_path):
    good = small(tmp_path, "good.pic").read_bytes()
    head = bytearray(good)
    w_at = struct.calcsize(">If80s4s")             # magic, version, comment, PICT, then w, h
    head[w_at:w_at + 4] = struct.pack(">HH", 65535, 65535)
    path = tmp_path / "bad.pic"
    path.write_bytes(bytes(head))
    refused(path, CorruptFileError, "cannot hold 65535 scanlines|declares at least")


@pytest.mark.parametrize("name", ["good.tga", "good.rgb", "good.iff", "good.rla", "good.hdr",
                                  "good.als", "good.rlb", "good.ppm", "good.bmp", "good.jpg",
                                  "good.ct", "good.map", "good.tif", "good.png"])
def test_readers_check_the_budget(tmp_path, monkeypatch, name):
    path = small(tmp_path, name)
    framebuf.read_image(path)
    monkeypatch.setenv("FRAMEBUF_MEMORY_BUDGET", "256")
    with pytest.raises(MemoryBudgetError, match="over the memory budget"):
        framebuf.read_image(path)


def test_budget_error_is_a_framebuf_error():
    assert issubclass(MemoryBudgetError, FramebufError)


def test_exr_piz_window_within_its_ratio_is_over_the_budget(tmp_path, monkeypatch):
    """PIZ may compress further than the size check assumes, so a large window of a small PIZ
    file reaches the budget check, which refuses it before the OpenEXR binding allocates."""
    good = small(tmp_path, "good.exr", compression="piz")
    data = _set_attribute(good.read_bytes(), "dataWindow", struct.pack("<4i", 0, 0, 4095, 7))
    bad = tmp_path / "wide.exr"
    bad.write_bytes(data)
    monkeypatch.setenv("FRAMEBUF_MEMORY_BUDGET", "64K")
    refused(bad, MemoryBudgetError, r"4096x8, 4 channels\) needs 512\.0 KiB")


@pytest.mark.parametrize("count", [-5, 0])
def test_exr_chunk_count_below_one(tmp_path, count):
    """was ValueError: read length must be non-negative (found by bench/fuzz.py)"""
    import OpenEXR
    parts = [OpenEXR.Part({"compression": OpenEXR.ZIP_COMPRESSION}, {"Z": np.zeros((4, 4), np.float32)}, n)
             for n in ("a", "b")]
    path = tmp_path / "two.exr"
    OpenEXR.File(parts).write(str(path))
    data = _set_attribute(path.read_bytes(), "chunkCount", struct.pack("<i", count))
    path.write_bytes(data)
    refused(path, CorruptFileError, f"part 0 declares {count} chunks")


def test_jpeg_frame_larger_than_its_scan(tmp_path):
    """libjpeg fills missing MCUs with grey and only warns (found by bench/fuzz.py: 24x65407
    declared in an 843-byte file read as 4.7 MB of pixels)."""
    data = bytearray(small(tmp_path, "good.jpg").read_bytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 7] = (65000).to_bytes(2, "big")
    path = tmp_path / "tall.jpg"
    path.write_bytes(bytes(data))
    refused(path, CorruptFileError, r"16x65000, 3 components")
