import numpy as np
import pytest

from framebuf import FrameBufferSet
from framebuf.errors import ShaderError
from framebuf.shading import apply_shader


def _frame():
    fbs = FrameBufferSet(4, 3)
    tag = fbs.add("labels", "tag")
    tag.data[0, 0] = 1
    tag.data[1, 1] = 2
    tag.data[2, 3] = 7  # a label with no name: in the foreground, in no mask
    cov = fbs.add("cov", "coverage")
    cov.data[:] = 0.5
    cov.data[1, 1] = 0.75
    z = fbs.add("Z", "z")
    z.data[1, 1] = 5.0
    fbs.add("nn", "n")
    return fbs


def test_masks_foreground_points_and_attributes():
    fbs = _frame()
    ctx = apply_shader("synthetic_human_layout", fbs, {"names": "ground,ball", "file": "h.exr"})
    ball = fbs["segmentation.ball"]
    assert ball.channels == ("segmentation.ball",) and ball.datatype.name == "a_h"
    expected = np.zeros((3, 4), np.float32)
    expected[1, 1] = 0.75
    assert np.array_equal(ball.data[:, :, 0], expected)
    assert fbs["segmentation.ground"].data[0, 0, 0] == np.float32(0.5)
    fg = fbs["binary_segmentation.foreground"].data[:, :, 0]
    assert (fg[0, 0], fg[1, 1], fg[2, 3], fg[2, 2]) == (0.5, 0.75, 0.5, 0.0)
    # pixel (1, 1) of a 4x3 film 1 wide, focal 1: sx = (1.5/4 - 0.5) * 1, sy = (1.5/3 - 0.5) * 0.75
    assert np.allclose(fbs["CameraPoints"].data[1, 1], [-0.125 * 5, 0.0, -5.0])
    assert np.array_equal(fbs["CameraPoints"].data[0, 0], [0, 0, 0])  # nothing hit: null vector
    assert fbs["nn"].channels == ("CameraNormals.R", "CameraNormals.G", "CameraNormals.B")
    assert fbs.attributes == {"zmin": 0.0, "zmax": 100.0}
    assert fbs["CameraPoints"].file.filename == "h.exr"
    assert ctx.info["segments_mapping"] == {"background": 0, "ground": 1, "ball": 2}


def test_names_are_required_and_unique():
    with pytest.raises(ShaderError, match="names"):
        apply_shader("synthetic_human_layout", _frame(), {})
    with pytest.raises(ShaderError, match="repeats"):
        apply_shader("synthetic_human_layout", _frame(), {"names": "a,a"})


def test_a_frame_without_labels_is_refused_naming_the_parameter():
    fbs = FrameBufferSet(4, 3)
    fbs.add("Z", "z")
    with pytest.raises(ShaderError, match="no label buffer.*'labels'"):
        apply_shader("synthetic_human_layout", fbs, {"names": "a"})
