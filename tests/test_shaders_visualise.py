"""visualise_*: labels, depth, normals and motion to colour, against hand-computed pixels."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

from framebuf import FrameBufferSet
from framebuf.errors import ShaderError
from framebuf.shading import apply_shader
from shaders.visualise import GOLDEN, label_colour


def test_labels_palette():
    fbs = FrameBufferSet(3, 1)
    fbs.add("tag", "tag", data=np.array([[0, 1, 7]], np.uint32))
    apply_shader("visualise_labels", fbs, {})
    out = fbs["labels_rgb"].data[0]
    assert fbs["labels_rgb"].datatype.name == "rgba"
    np.testing.assert_array_equal(out[0], [0, 0, 0, 0])
    for i, v in ((1, 1), (2, 7)):
        expected = colorsys.hsv_to_rgb((v * GOLDEN) % 1.0, 0.65, 0.95)
        np.testing.assert_allclose(out[i, :3], expected, atol=1e-6)
        assert out[i, 3] == 1.0
    assert label_colour(7) == pytest.approx(tuple(out[2]))
    colours = {label_colour(v) for v in range(1, 40)}
    assert len(colours) == 39  # distinct


def test_depth_auto_range_and_nothing_hit():
    fbs = FrameBufferSet(4, 1)
    fbs.add("z", "z", data=np.array([[2.0, 4.0, 6.0, np.inf]], np.float32))
    ctx = apply_shader("visualise_depth", fbs, {})
    assert (ctx.info["zmin"], ctx.info["zmax"]) == (2.0, 6.0)
    np.testing.assert_allclose(fbs["depth_rgb"].data[0], [[0, 0, 0, 1], [0.5, 0.5, 0.5, 1], [1, 1, 1, 1], [0, 0, 0, 0]])
    apply_shader("visualise_depth", fbs, {"zmin": 0.0, "zmax": 8.0, "invert": True, "dst": "d2"})
    np.testing.assert_allclose(fbs["d2"].data[0, :3, 0], [0.75, 0.5, 0.25])


def test_depth_nothing_hit_anywhere():
    fbs = FrameBufferSet(2, 1)
    fbs.add("z", "z")  # all +inf
    apply_shader("visualise_depth", fbs, {})
    assert np.all(fbs["depth_rgb"].data == 0)


def test_normals():
    fbs = FrameBufferSet(3, 1)
    fbs.add("n", "n", data=np.array([[[0, 0, 1], [-1, 0, 0], [0, 0, 0]]], np.float32))
    apply_shader("visualise_normals", fbs, {})
    np.testing.assert_allclose(fbs["normals_rgb"].data[0], [[0.5, 0.5, 1, 1], [0, 0.5, 0.5, 1], [0, 0, 0, 0]])


def test_motion():
    fbs = FrameBufferSet(3, 1)
    fbs.add("m", "m", data=np.array([[[2, 0, 0], [0, 1, 0], [0, 0, 0]]], np.float32))
    ctx = apply_shader("visualise_motion", fbs, {})
    assert ctx.info["scale"] == 2.0
    out = fbs["motion_rgb"].data[0]
    np.testing.assert_allclose(out[0], [1, 0, 0, 1], atol=1e-6)          # +x: red, full length
    np.testing.assert_allclose(out[1, :3], colorsys.hsv_to_rgb(0.25, 1, 0.5), atol=1e-6)
    np.testing.assert_allclose(out[2], [0, 0, 0, 1])


def test_wrong_source_kind():
    fbs = FrameBufferSet(2, 1)
    fbs.add("beauty", "rgba_fp")
    with pytest.raises(ShaderError, match="no depth buffer"):
        apply_shader("visualise_depth", fbs, {})
    with pytest.raises(ShaderError, match="not a normal"):
        apply_shader("visualise_normals", fbs, {"src": "beauty"})
