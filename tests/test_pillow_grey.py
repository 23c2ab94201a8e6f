"""Grey files written by other tools (16-bit label maps, 8-bit masks) keep one channel at their own
depth when read, checked against OpenImageIO reading the same file."""

import numpy as np
from PIL import Image as PILImage

import framebuf
from helpers import oiio_read


def test_16_bit_grey_png_reads_as_s_16(tmp_path):
    labels = (np.arange(48, dtype=np.uint16).reshape(6, 8) * 1361)
    path = tmp_path / "segments.png"
    PILImage.fromarray(labels).save(path)
    layer = framebuf.read_image(path).layers[0]
    assert layer.datatype.name == "s_16" and layer.pixels.dtype == np.uint16
    assert np.array_equal(layer.pixels[:, :, 0], labels)
    theirs, spec = oiio_read(path, "uint16")
    assert spec.nchannels == 1 and np.array_equal(theirs[:, :, 0], labels)


def test_8_bit_grey_reads_as_s(tmp_path):
    mask = (np.arange(20, dtype=np.uint8).reshape(4, 5) * 13)
    for ext in ("png", "bmp", "tga"):
        path = tmp_path / f"mask.{ext}"
        PILImage.fromarray(mask).save(path)
        layer = framebuf.read_image(path).layers[0]
        assert layer.datatype.name == "s", ext
        assert np.array_equal(layer.pixels[:, :, 0], mask), ext
