"""The dispatcher (format lookup, data-type choice, options, shared storage, attributes) and
``framebuf copy``."""

from __future__ import annotations

import numpy as np
import OpenEXR
import pytest

import framebuf
from framebuf import convert
from framebuf.cli import main
from framebuf.errors import (
    FramebufError,
    UnknownFormatError,
    UnsupportedDataTypeError,
    UnsupportedOptionError,
)
from framebuf.io import channel_names, choose_datatype, find_format

from helpers import make_test_image, oiio_read


# -- format lookup -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, fmt", [
    ("a.png", "png"), ("a.JPG", "jpg"), ("a.jpeg", "jpg"), ("a.tif", "tif"), ("a.tiff", "tif"),
    ("a.bmp", "bmp"), ("a.ppm", "ppm"), ("a.tga", "tga"), ("a.exr", "exr"), ("dir.v2/a.exr", "exr"),
])
def test_format_from_extension(name, fmt):
    assert find_format(None, name).name == fmt


def test_filetype_wins_and_unknown_names_list_the_formats():
    assert find_format("tifu", "x.tif").name == "tifu"
    assert find_format("EXR", "x.png").name == "exr"
    with pytest.raises(UnknownFormatError, match="png"):
        find_format("webp", "x.webp")
    with pytest.raises(UnknownFormatError, match="extension"):
        find_format(None, "x.unknown")


def test_reading_trusts_magic_bytes_over_the_extension(tmp_path):
    img = make_test_image(6, 10, 4)
    wrong = tmp_path / "really_a_png.jpg"
    framebuf.write(img, wrong, filetype="png", datatype="rgba")
    assert framebuf.read_image(wrong).info["format"] == "png"
    exr_as_tif = tmp_path / "x.tif"
    framebuf.write(img, exr_as_tif, filetype="exr")
    assert framebuf.read_image(exr_as_tif).info["format"] == "exr"


# -- data types --------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, buffer_type, written", [
    ("png", "rgba_fp", "rgba"),      # float buffer, 8-bit only format: the default type
    ("png", "rgb", "rgb"),           # listed: kept
    ("jpg", "rgba", "rgb"),
    ("tif", "rgba_fp", "rgba_fp"),   # float stays float where the format has it
    ("tif", "rgba_h", "rgba_fp"),
    ("tif", "rgb_16", "rgb_16"),
    ("exr", "rgba", "rgba"),
    ("exr", "rgbe", "rgb_h"),        # high range stays high range; no alpha to invent
    ("exr", "coverage", "a_fp"),     # 32-bit float stays 32-bit
    ("bmp", "rgba_fp", "rgb"),
    ("tga", "rgb", "rgba"),
])
def test_choose_datatype(fmt, buffer_type, written):
    fbs = framebuf.FrameBufferSet(2, 2)
    buf = fbs.add("b", buffer_type, user=True)
    assert choose_datatype(find_format(fmt), buf, None).name == written


def test_explicit_type_must_be_listed_and_compatible():
    fbs = framebuf.FrameBufferSet(2, 2)
    buf = fbs.add("b", "rgba_fp", user=True)
    with pytest.raises(UnsupportedDataTypeError, match="allowed: rgb, rgba"):
        choose_datatype(find_format("png"), buf, "rgba_16")
    depth = fbs.add("z", "z", user=True)
    with pytest.raises(UnsupportedDataTypeError, match="from a z buffer"):
        choose_datatype(find_format("exr"), depth, "rgba_h")
    with pytest.raises(UnsupportedDataTypeError):
        framebuf.write(depth, "/tmp/never.png")


def test_standard_buffers_share_the_colour_storage(tmp_path):
    """A standard rgb buffer written as rgba keeps the rendered alpha of the shared storage, and
    colorclip sees that alpha (mental ray clips the colour buffer, not the view)."""
    fbs = framebuf.FrameBufferSet(3, 1)
    fbs.add("rgba", "rgba_fp", data=np.array([[[0.5, 0.5, 0.5, 0.5], [0.2, 0.2, 0.2, 0.1],
                                                [1.5, 0.0, 0.0, 1.0]]], np.float32))
    rgb = fbs.add("colour", "rgb")
    framebuf.write(rgb, tmp_path / "a.png", datatype="rgba")
    px, _ = oiio_read(tmp_path / "a.png", "uint8")
    # 0.5 -> 128; A 0.1 raised to max(RGB) = 0.2 -> 51; R 1.5 clipped to 1 -> 255
    np.testing.assert_array_equal(px[0], [[128, 128, 128, 128], [51, 51, 51, 51], [255, 0, 0, 255]])
    framebuf.write(rgb, tmp_path / "b.png", colorclip="alpha")
    px, _ = oiio_read(tmp_path / "b.png", "uint8")
    assert px.shape[2] == 3 and px[0, 1].tolist() == [26, 26, 26]        # RGB clipped to A = 0.1


def test_conversion_options_reach_the_file(tmp_path):
    img = np.full((2, 2, 4), 0.25, np.float32)
    framebuf.write(img, tmp_path / "g.png", datatype="rgba", gamma=2.0)
    assert oiio_read(tmp_path / "g.png", "uint8")[0][0, 0].tolist() == [128] * 4
    framebuf.write(img, tmp_path / "p.png", datatype="rgba", premultiply=False)
    assert oiio_read(tmp_path / "p.png", "uint8")[0][0, 0].tolist() == [255, 255, 255, 64]
    with pytest.raises(FramebufError, match="colorclip"):
        framebuf.write(img, tmp_path / "x.png", colorclip="clamp")


def test_unknown_options_and_compressions_are_refused(tmp_path):
    img = make_test_image(2, 2, 4)
    with pytest.raises(UnsupportedOptionError, match="quality"):
        framebuf.write(img, tmp_path / "a.png", quality=50)
    with pytest.raises(UnsupportedOptionError, match="no compression choice"):
        framebuf.write(img, tmp_path / "a.jpg", compression="rle")
    with pytest.raises(UnsupportedOptionError, match="packbits"):
        framebuf.write(img, tmp_path / "a.tif", compression="jpeg")
    with pytest.raises(UnsupportedOptionError, match="1-100"):
        framebuf.write(img, tmp_path / "a.jpg", quality=101)
    assert list(tmp_path.iterdir()) == []


def test_one_buffer_formats_refuse_several(tmp_path):
    fbs = framebuf.FrameBufferSet(2, 2)
    fbs.add("a", "rgba")
    fbs.add("b", "rgba_fp", user=True)
    with pytest.raises(FramebufError, match="one buffer per file"):
        framebuf.write(fbs, tmp_path / "two.png")


def test_channel_names():
    fbs = framebuf.FrameBufferSet(2, 2)
    beauty = fbs.add("beauty", "rgba")
    diffuse = fbs.add("diffuse", "rgb_fp", user=True)
    dt = framebuf.datatype
    assert channel_names(beauty, dt("rgba"), bare=True) == ("R", "G", "B", "A")
    assert channel_names(diffuse, dt("rgb_fp"), bare=False) == ("diffuse.R", "diffuse.G", "diffuse.B")
    normals = fbs.add("nrm", "n", user=True)
    assert channel_names(normals, dt("n"), bare=False) == ("nrm.X", "nrm.Y", "nrm.Z")


def test_array_write_and_read_back(tmp_path):
    img = make_test_image(5, 7, 4)
    path = framebuf.write(img, tmp_path / "arr.exr", datatype="rgba_fp")
    back = framebuf.read(path)
    np.testing.assert_array_equal(next(iter(back)).data, img)


def test_write_oserror_is_one_framebuf_error(tmp_path):
    img = make_test_image(2, 2, 4)
    with pytest.raises(FramebufError, match="does not exist"):
        framebuf.write(img, tmp_path / "missing" / "a.png")


# -- framebuf copy -----------------------------------------------------------------------------

def run_cli(*argv):
    return main(["copy", *map(str, argv)])


def test_copy_exr_to_png_with_conversion_flags(tmp_path, capsys):
    img = make_test_image(8, 20, 4)
    src = framebuf.write(img, tmp_path / "in.exr", datatype="rgba_fp")
    assert run_cli(src, tmp_path / "out.png", "--gamma", "2.0", "--colorclip", "raw") == 0
    px, _ = oiio_read(tmp_path / "out.png", "uint8")
    want = convert.to_file(img, "rgba_fp", "rgba", convert.ConvertOptions(gamma=2.0, colorclip="raw"))
    np.testing.assert_array_equal(px, want)


def test_copy_type_filetype_compression_quality(tmp_path):
    img = make_test_image(8, 20, 4)
    src = framebuf.write(img, tmp_path / "in.tif", datatype="rgba_16")
    assert run_cli(src, tmp_path / "out.img", "--filetype", "exr", "--type", "rgba_fp",
                   "--compression", "piz", "--option", "tiled=on") == 0
    header = OpenEXR.File(str(tmp_path / "out.img"), header_only=True).header()
    assert header["compression"] == OpenEXR.PIZ_COMPRESSION and header["type"] == OpenEXR.tiledimage
    np.testing.assert_allclose(next(iter(framebuf.read(tmp_path / "out.img"))).data,
                               convert.from_file(convert.to_file(img, "rgba_fp", "rgba_16"), "rgba_16"))
    assert run_cli(src, tmp_path / "q.jpg", "-q", "20") == 0
    assert run_cli(src, tmp_path / "r.jpg", "-q", "95") == 0
    assert (tmp_path / "q.jpg").stat().st_size < (tmp_path / "r.jpg").stat().st_size


def test_copy_multi_buffer_exr_to_one_buffer_format(tmp_path, capsys):
    fbs = framebuf.FrameBufferSet(6, 4)
    fbs.add("beauty", "rgba_h", data=np.full((4, 6, 4), 0.5, np.float32))
    fbs.add("diffuse", "rgba_fp", user=True, data=np.full((4, 6, 4), 0.25, np.float32))
    src = framebuf.write(fbs, tmp_path / "multi.exr")
    assert run_cli(src, tmp_path / "beauty.png") == 0
    assert "writing 'beauty'" in capsys.readouterr().err
    assert oiio_read(tmp_path / "beauty.png", "uint8")[0][0, 0].tolist() == [128] * 4
    assert run_cli(src, tmp_path / "diffuse.png", "--buffer", "diffuse") == 0
    assert oiio_read(tmp_path / "diffuse.png", "uint8")[0][0, 0].tolist() == [64] * 4
    # EXR to EXR keeps every buffer and its channel names
    assert run_cli(src, tmp_path / "again.exr") == 0
    names = {c.name for c in OpenEXR.File(str(tmp_path / "again.exr"), header_only=True).header()["channels"]}
    assert names == {"R", "G", "B", "A", "diffuse.R", "diffuse.G", "diffuse.B", "diffuse.A"}


@pytest.mark.parametrize("argv, message", [
    (["missing.exr", "out.png"], "no such file"),
    (["good.png", "out.webp"], "cannot tell the file format"),
    (["good.png", "out.png", "--type", "rgba_16"], "cannot store data type"),
    (["good.png", "out.png", "--compression", "lzw"], "no compression 'lzw'"),
    (["good.png", "nodir/out.png"], "does not exist"),
    (["good.png", "out.png", "--option", "tiled"], "KEY=VALUE"),
    (["bad.png", "out.png"], "bad.png"),
])
def test_copy_errors_are_one_line(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    framebuf.write(make_test_image(4, 4, 4), tmp_path / "good.png")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    assert run_cli(*argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0 and "Traceback" not in err
    assert not (tmp_path / "out.png").exists()


def test_copy_to_a_folder_is_one_line(tmp_path, capsys):
    framebuf.write(make_test_image(4, 4, 4), tmp_path / "good.png")
    (tmp_path / "dir.png").mkdir()
    assert run_cli(tmp_path / "good.png", tmp_path / "dir.png") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("framebuf copy: error:") and err.count("\n") == 0


# -- issue 15: temporary files of killed writers --------------------------------------------------

def _dead_pid():
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_temporary_name_carries_host_and_pid(tmp_path):
    import os

    from framebuf._atomic import _PART, atomic_output, host_tag

    with atomic_output(tmp_path / "a.b.png") as tmp:
        name = os.path.basename(tmp)
        m = _PART.match(name)
        assert m and name.startswith(".a.b.png.")
        assert (m["host"], int(m["pid"])) == (host_tag(), os.getpid())
        open(tmp, "wb").write(b"x")
    assert (tmp_path / "a.b.png").read_bytes() == b"x"
    assert [p.name for p in tmp_path.iterdir()] == ["a.b.png"]


def test_a_later_write_removes_parts_of_dead_writers_only(tmp_path):
    import os

    from framebuf._atomic import atomic_output, host_tag

    host, dead = host_tag(), _dead_pid()
    stale = tmp_path / f".out.exr.{host}.{dead}.k3j_x9.part"
    live = tmp_path / f".out.exr.{host}.{os.getppid()}.aaaaaa.part"
    elsewhere = tmp_path / f".out.exr.otherhost.{dead}.bbbbbb.part"
    legacy = tmp_path / ".out.exr.cc1234.part"          # before host and pid were in the name
    for p in (stale, live, elsewhere, legacy):
        p.write_bytes(b"partial")
    with atomic_output(tmp_path / "out.exr") as tmp:
        open(tmp, "wb").write(b"new")
    assert not stale.exists()
    assert live.exists() and elsewhere.exists() and legacy.exists()
    assert (tmp_path / "out.exr").read_bytes() == b"new"


def test_part_left_by_a_killed_process_is_cleaned_by_the_next_write(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from framebuf._atomic import atomic_output

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom framebuf._atomic import atomic_output\n"
         f"with atomic_output({str(tmp_path / 'shot.png')!r}) as t:\n"
         "    open(t, 'wb').write(b'half'); print(t, flush=True); time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": root})
    part = child.stdout.readline().strip()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert os.path.exists(part) and f".{child.pid}." in os.path.basename(part)
    with atomic_output(tmp_path / "shot.png") as tmp:
        open(tmp, "wb").write(b"whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shot.png"]
@pytest.mark.parametrize("ext", ["png", "exr", "tga"])
def test_reading_with_an_unknown_option_is_refused_like_writing(tmp_path, ext):
    from framebuf.errors import UnsupportedOptionError

    fbs = framebuf.FrameBufferSet(4, 3)
    buf = fbs.add("beauty", "rgba", data=np.full((3, 4, 4), 0.5, np.float32))
    path = framebuf.write(buf, tmp_path / f"a.{ext}")
    with pytest.raises(UnsupportedOptionError, match="no option 'bogus'"):
        framebuf.write(buf, tmp_path / f"b.{ext}", bogus=1)
    for read in (framebuf.read, framebuf.read_image):
        with pytest.raises(UnsupportedOptionError, match=r"reader has no option 'bogus'; read options: "):
            read(path, bogus=1)
