"""over, premultiply/unpremultiply, alpha_from_coverage, depth_composite: hand-computed pixels."""

from __future__ import annotations

import numpy as np
import pytest

import framebuf
from framebuf import FrameBufferSet
from framebuf.errors import ShaderError
from framebuf.shading import apply_shader

INF = np.inf


def fg_set():
    fbs = FrameBufferSet(3, 2)
    px = np.array([[[0.5, 0.25, 0.0, 0.5], [0, 0, 0, 0], [1, 1, 1, 1]],
                   [[0.2, 0.2, 0.2, 0.25], [0.1, 0.0, 0.0, 0.1], [0, 0, 0, 0]]], np.float32)
    fbs.add("beauty", "rgba_fp", data=px)
    return fbs, px


def test_over_constant_colour():
    fbs, _ = fg_set()
    apply_shader("over", fbs, {"color": (0.0, 0.0, 1.0)})  # alpha defaults to 1
    out = fbs["beauty"].data
    np.testing.assert_allclose(out[0, 0], [0.5, 0.25, 0.5, 1.0])   # (1 - 0.5) * blue added
    np.testing.assert_allclose(out[0, 1], [0, 0, 1, 1])             # empty pixel: background
    np.testing.assert_allclose(out[0, 2], [1, 1, 1, 1])             # opaque: foreground
    np.testing.assert_allclose(out[1, 0], [0.2, 0.2, 0.95, 1.0])


def test_over_another_buffer_into_new_dst():
    fbs, px = fg_set()
    bg = np.full((2, 3, 4), 0.5, np.float32)
    fbs.add("plate", "rgba_fp", user=True, data=bg)
    apply_shader("over", fbs, {"background": "plate", "dst": "comp"})
    expected = px + (1 - px[:, :, 3:4]) * bg
    np.testing.assert_allclose(fbs["comp"].data, expected, atol=1e-7)
    np.testing.assert_array_equal(fbs["beauty"].data, px)


def test_over_image_file_relative_to_scene_dir(tmp_path):
    fbs, px = fg_set()
    bg = np.zeros((2, 3, 4), np.float32)
    bg[..., 1] = 1.0
    bg[..., 3] = 1.0
    framebuf.write(bg, tmp_path / "plate.exr")
    apply_shader("over", fbs, {"file": "plate.exr"}, context={"scene_dir": tmp_path})
    np.testing.assert_allclose(fbs["beauty"].data[0, 0], [0.5, 0.75, 0.0, 1.0], atol=1e-3)
    with pytest.raises(ShaderError, match="3x2"):
        framebuf.write(np.zeros((5, 5, 4), np.float32), tmp_path / "small.exr")
        apply_shader("over", fbs, {"file": str(tmp_path / "small.exr")})


def test_over_needs_alpha():
    fbs = FrameBufferSet(2, 2)
    fbs.add("rgb", "rgb_fp")
    with pytest.raises(ShaderError, match="no alpha"):
        apply_shader("over", fbs, {})


def test_premultiply_roundtrip_and_zero_alpha():
    fbs = FrameBufferSet(3, 1)
    px = np.array([[[0.8, 0.4, 0.2, 0.5], [0.3, 0.3, 0.3, 0.0], [1.0, 2.0, 3.0, 1.0]]], np.float32)
    fbs.add("beauty", "rgba_fp", data=px)
    apply_shader("premultiply", fbs, {"dst": "pre"})
    np.testing.assert_allclose(fbs["pre"].data[0], [[0.4, 0.2, 0.1, 0.5], [0, 0, 0, 0], [1, 2, 3, 1]])
    apply_shader("unpremultiply", fbs, {})
    np.testing.assert_allclose(fbs["beauty"].data[0], [[1.6, 0.8, 0.4, 0.5], [0.3, 0.3, 0.3, 0.0], [1, 2, 3, 1]])


def test_alpha_from_coverage():
    fbs = FrameBufferSet(2, 1)
    fbs.add("beauty", "rgba_fp", data=np.array([[[1, 1, 1, 1], [0.5, 0.5, 0.5, 1]]], np.float32))
    fbs.add("coverage", "coverage", data=np.array([[0.25, 1.0]], np.float32))
    apply_shader("alpha_from_coverage", fbs, {"dst": "a"})
    np.testing.assert_allclose(fbs["a"].data[0], [[1, 1, 1, 0.25], [0.5, 0.5, 0.5, 1]])
    apply_shader("alpha_from_coverage", fbs, {"scale": True})
    np.testing.assert_allclose(fbs["beauty"].data[0], [[0.25, 0.25, 0.25, 0.25], [0.5, 0.5, 0.5, 1]])


def two_renders(labels=True):
    """Render A and render B of one 4x1 frame, B's buffers in the same set."""
    fbs = FrameBufferSet(4, 1)
    fbs.add("beauty", "rgba_fp", data=np.array([[[1, 0, 0, 1]] * 4], np.float32))
    fbs.add("z", "z", data=np.array([[1.0, 5.0, 3.0, INF]], np.float32))
    fbs.add("n", "n", data=np.array([[[1, 0, 0]] * 4], np.float32))
    if labels:
        fbs.add("tag", "tag", data=np.array([[1, 1, 1, 0]], np.uint32))
    fbs.add("beauty_b", "rgba_fp", user=True, data=np.array([[[0, 1, 0, 1]] * 4], np.float32))
    fbs.add("z_b", "z", user=True, data=np.array([[2.0, 4.0, 3.0, 7.0]], np.float32))
    fbs.add("n_b", "n", user=True, data=np.array([[[0, 1, 0]] * 4], np.float32))
    if labels:
        fbs.add("tag_b", "tag", user=True, data=np.array([[2, 2, 2, 2]], np.uint32))
    return fbs


def check_merged(fbs):
    # pixel 0: A nearer (1 < 2); pixel 1: B nearer (4 < 5); pixel 2: tie -> A; pixel 3: A hit nothing
    takes_b = np.array([False, True, False, True])
    np.testing.assert_array_equal(fbs["z"].data[0, :, 0], [1.0, 4.0, 3.0, 7.0])
    np.testing.assert_array_equal(fbs["beauty"].data[0, :, 1], takes_b.astype(np.float32))
    np.testing.assert_array_equal(fbs["n"].data[0, :, 1], takes_b.astype(np.float32))
    if "tag" in fbs:
        np.testing.assert_array_equal(fbs["tag"].data[0, :, 0], [1, 2, 1, 2])


def test_depth_composite_from_buffers():
    fbs = two_renders()
    ctx = apply_shader("depth_composite", fbs, {"colour_b": "beauty_b", "depth_b": "z_b",
                                                "normal_b": "n_b", "label_b": "tag_b"})
    assert ctx.info["pixels_taken"] == 2
    check_merged(fbs)


def test_depth_composite_from_file(tmp_path):
    fbs = two_renders(labels=False)  # EXR stores no tag type (mental ray's format table)
    second = FrameBufferSet(4, 1)
    for mine, theirs in (("beauty", "beauty_b"), ("z", "z_b"), ("n", "n_b")):
        second.add(mine, fbs[theirs].datatype, user=mine != "beauty", data=fbs[theirs].data)
    framebuf.write(second, tmp_path / "b.exr")
    apply_shader("depth_composite", fbs, {"file": "b.exr"}, context={"scene_dir": tmp_path})
    check_merged(fbs)


def test_depth_composite_needs_the_followers():
    fbs = two_renders()
    with pytest.raises(ShaderError, match="no label buffer"):
        apply_shader("depth_composite", fbs, {"colour_b": "beauty_b", "depth_b": "z_b", "normal_b": "n_b"})
