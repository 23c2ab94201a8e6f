"""Bad input and failed output, over every registered format.

* A truncated or corrupt file of any readable format gives CorruptFileError naming the file and
  what is wrong: never another exception, a crash or a hang (images are tiny; each decode runs
  under an alarm).
* A resolution a format cannot hold is refused before anything is written (ImageSizeError).
* Every write is atomic: a failing writer leaves no file and does not clobber a good one.
"""

from __future__ import annotations

import contextlib
import os
import signal

import numpy as np
import pytest

import framebuf
from framebuf.errors import CorruptFileError, FramebufError, ImageSizeError
from framebuf.formats.base import FormatSpec
from framebuf.hookspecs import hookimpl
from framebuf.io import atomic_output
from framebuf.plugins import registry, reset_registry

from test_formats import READ_OPTIONS, sample_data

DECODE_SECONDS = 10


@contextlib.contextmanager
def time_limit(seconds: int):
    """Fail (instead of hanging the suite) when a decode takes longer than ``seconds``."""
    def expire(signum, frame):
        raise TimeoutError(f"decode took more than {seconds} s")
    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _readable():
    for spec in sorted(registry().formats.values(), key=lambda s: s.name.lower()):
        if spec.available and spec.can_read and spec.can_write:
            yield pytest.param(spec.name, id=spec.name)


def small_file(tmp_path, fmt: str):
    """A small valid file of ``fmt`` in its default type; returns (path, read options)."""
    spec = registry().formats[fmt]
    width, height = spec.fixed_size or (40, 12)
    fbs = framebuf.FrameBufferSet(width, height)
    dt = spec.default_datatype
    buf = fbs.add("beauty", dt, user=True, data=sample_data(dt, height, width))
    ext = spec.extensions[0] if spec.extensions else "out"
    path = tmp_path / f"good.{ext}"
    framebuf.write(buf, path, filetype=fmt)
    options = READ_OPTIONS[fmt](width, height) if fmt in READ_OPTIONS else {}
    return path, options


def decode(path, fmt, options):
    with time_limit(DECODE_SECONDS):
        return framebuf.read_image(path, filetype=fmt, **options)


def expect_corrupt(path, fmt, options, what):
    with pytest.raises(CorruptFileError) as info:
        decode(path, fmt, options)
    assert str(path) in str(info.value), f"{fmt} {what}: message does not name the file"
    assert info.value.reason, f"{fmt} {what}: no reason given"


@pytest.mark.parametrize("fmt", list(_readable()))
def test_truncated_files_are_corrupt(tmp_path, fmt):
    good, options = small_file(tmp_path, fmt)
    data = good.read_bytes()
    decode(good, fmt, options)                         # the intact file reads
    for cut in sorted({0, 1, 10, len(data) // 3, len(data) // 2, len(data) - 1}):
        bad = tmp_path / f"cut{cut}{good.suffix}"
        bad.write_bytes(data[:cut])
        expect_corrupt(bad, fmt, options, f"truncated to {cut} of {len(data)} bytes")


@pytest.mark.parametrize("fmt", list(_readable()))
def test_flipped_bytes_decode_or_are_corrupt(tmp_path, fmt):
    """A damaged byte may still decode (pixels are just different) or be detected; any other
    exception, a hang or a crash is a bug."""
    good, options = small_file(tmp_path, fmt)
    data = bytearray(good.read_bytes())
    rng = np.random.default_rng(11)
    # every header byte of the common layouts, and a spread over the rest
    positions = sorted({*range(0, min(len(data), 20)), *rng.integers(0, len(data), 16).tolist()})
    for pos in positions:
        for flip in (0xFF,):
            bad_bytes = bytearray(data)
            bad_bytes[pos] ^= flip
            bad = tmp_path / f"flip{good.suffix}"
            bad.write_bytes(bytes(bad_bytes))
            try:
                image = decode(bad, fmt, options)
            except CorruptFileError as exc:
                assert str(bad) in str(exc)
                continue
            except FramebufError as exc:
                # a readable-but-unsupported variant (e.g. a header now saying 12-bit samples)
                assert str(bad) in str(exc) or fmt in str(exc), f"{fmt} byte {pos}: {exc}"
                continue
            assert image.layers and all(layer.pixels.ndim == 3 for layer in image.layers), (
                f"{fmt}: byte {pos} ^ {flip:#x} decoded to no layers")


@pytest.mark.parametrize("fmt", list(_readable()))
def test_garbage_and_wrong_format_are_corrupt(tmp_path, fmt):
    _, options = small_file(tmp_path, fmt)
    spec = registry().formats[fmt]
    ext = spec.extensions[0] if spec.extensions else "out"
    junk = tmp_path / f"junk.{ext}"
    junk.write_bytes(bytes(range(256)) * 3)
    try:
        decode(junk, fmt, options)
    except CorruptFileError as exc:
        assert str(junk) in str(exc)
    except FramebufError as exc:
        assert str(junk) in str(exc) or fmt in str(exc)
    # headerless formats may take any bytes of the right size; that is not a bug


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(CorruptFileError, match="empty.png"):
        framebuf.read(empty)
    with pytest.raises(FramebufError, match="no such file"):
        framebuf.read(tmp_path / "missing.exr")
    with pytest.raises(FramebufError, match="folder"):
        framebuf.read(tmp_path)


# -- sizes -------------------------------------------------------------------------------------

def _size_cases():
    for spec in sorted(registry().formats.values(), key=lambda s: s.name.lower()):
        if spec.available and spec.can_write and not spec.fixed_size:
            yield pytest.param(spec.name, id=spec.name)


@pytest.mark.parametrize("fmt", list(_size_cases()))
def test_too_wide_is_refused_before_writing(tmp_path, fmt):
    spec = registry().formats[fmt]
    width = spec.max_width + 1
    if width > 10_000_000:
        pytest.skip(f"{fmt} holds {spec.max_width} pixels a row; not allocated in a test")
    fbs = framebuf.FrameBufferSet(width, 1)
    buf = fbs.add("beauty", spec.default_datatype, user=True)
    path = tmp_path / "wide.out"
    with pytest.raises(ImageSizeError, match=str(spec.max_width)):
        framebuf.write(buf, path, filetype=fmt)
    assert not path.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("fmt, ok", [("png", True), ("tif", True), ("exr", True), ("tga", False),
                                     ("jpg", False), ("bmp", True), ("ppm", True)])
def test_70000_pixels_wide(tmp_path, fmt, ok):
    """Formats with 16-bit size fields (TGA) or libjpeg's limit refuse; the others write it."""
    img = np.zeros((1, 70000, 4), np.float32)
    path = tmp_path / f"wide.{fmt}"
    if ok:
        framebuf.write(img, path, filetype=fmt)
        assert framebuf.read_image(path).layers[0].width == 70000
    else:
        with pytest.raises(ImageSizeError):
            framebuf.write(img, path, filetype=fmt)
        assert not path.exists()


def test_fixed_size_formats_refuse_other_sizes(tmp_path):
    fixed = [s for s in registry().formats.values() if s.fixed_size and s.can_write]
    for spec in fixed:
        fbs = framebuf.FrameBufferSet(10, 10)
        buf = fbs.add("beauty", spec.default_datatype, user=True)
        with pytest.raises(ImageSizeError):
            framebuf.write(buf, tmp_path / "q.out", filetype=spec.name)


# -- atomic output -----------------------------------------------------------------------------

class FailingFormat:
    """A plugin whose writer writes half a file, then fails."""

    @hookimpl
    def framebuf_formats(self):
        def writer(path, image, options):
            with open(path, "wb") as fh:
                fh.write(b"PARTIAL" * 100)
            raise FramebufError("disk on fire")
        return [FormatSpec(name="failing", description="fails halfway", extensions=("fail",),
                           datatypes=("rgba",), default_datatype="rgba", writer=writer)]


@pytest.fixture
def failing_format():
    reset_registry(extra_plugins=[FailingFormat()])
    try:
        yield
    finally:
        reset_registry()


def test_failing_writer_leaves_no_file(tmp_path, failing_format):
    path = tmp_path / "out.fail"
    with pytest.raises(FramebufError, match="disk on fire"):
        framebuf.write(np.zeros((4, 4, 4), np.float32), path)
    assert list(tmp_path.iterdir()) == []                 # no partial file, no temporary left


def test_failing_writer_keeps_the_old_file(tmp_path, failing_format):
    path = tmp_path / "out.fail"
    path.write_bytes(b"the good file")
    with pytest.raises(FramebufError):
        framebuf.write(np.zeros((4, 4, 4), np.float32), path)
    assert path.read_bytes() == b"the good file"
    assert [p.name for p in tmp_path.iterdir()] == ["out.fail"]


def test_real_writer_failure_keeps_the_old_file(tmp_path):
    """An EXR header attribute of a type EXR cannot store fails inside the writer."""
    good = tmp_path / "frame.exr"
    framebuf.write(np.ones((4, 4, 4), np.float32), good)
    before = good.read_bytes()
    fbs = framebuf.FrameBufferSet(4, 4, attributes={"bad": object()})
    fbs.add("beauty", "rgba_h")
    with pytest.raises(FramebufError, match="bad"):
        framebuf.write(fbs, good)
    assert good.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["frame.exr"]


def test_atomic_output_keeps_permissions_sane(tmp_path):
    target = tmp_path / "x.bin"
    with atomic_output(target) as tmp:
        assert os.path.dirname(tmp) == str(tmp_path)
        with open(tmp, "wb") as fh:
            fh.write(b"ok")
    assert target.read_bytes() == b"ok"
    mode = target.stat().st_mode & 0o777
    assert mode & 0o600 == 0o600                          # not mkstemp's private 0600-only mask
