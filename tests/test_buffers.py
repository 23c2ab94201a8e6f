import numpy as np
import pytest

from framebuf import FrameBufferSet
from framebuf.errors import BufferMismatchError


def test_standard_colour_buffers_share_one_storage():
    fbs = FrameBufferSet(4, 3)
    rgba = fbs.add("beauty", "rgba")
    rgba16 = fbs.add("beauty16", "rgba_16")
    alpha = fbs.add("alpha", "a")
    rgba.data[1, 2] = [0.1, 0.2, 0.3, 0.4]
    assert np.array_equal(rgba16.data[1, 2], np.float32([0.1, 0.2, 0.3, 0.4]))
    assert alpha.data[1, 2, 0] == np.float32(0.4)
    alpha.data[0, 0, 0] = 0.75  # writing through a view reaches the shared colour storage
    assert rgba.data[0, 0, 3] == np.float32(0.75)


def test_user_buffers_are_never_shared():
    fbs = FrameBufferSet(2, 2)
    std = fbs.add("beauty", "rgba")
    user = fbs.add("diffuse", "rgba", user=True)
    user.data[:] = 1.0
    assert std.data.max() == 0.0


def test_empty_values():
    fbs = FrameBufferSet(3, 2)
    assert np.all(np.isinf(fbs.add("z", "z").data))
    assert fbs.add("tag", "tag").data.dtype == np.uint32
    assert fbs.add("n", "n").data.shape == (2, 3, 3)


def test_data_must_match_resolution():
    fbs = FrameBufferSet(4, 4)
    with pytest.raises(BufferMismatchError, match="3x2"):
        fbs.add("bad", "rgba", user=True, data=np.zeros((2, 3, 4)))


def test_primary_is_marked_or_first_standard_colour():
    fbs = FrameBufferSet(2, 2)
    fbs.add("depth", "z")
    fbs.add("user", "rgba", user=True)
    fbs.add("beauty", "rgba_h")
    assert fbs.primary.name == "beauty"
    fbs.add("other", "rgba", user=True, primary=True)
    assert fbs.primary.name == "other"


def test_unknown_buffer_lists_names():
    fbs = FrameBufferSet(2, 2)
    fbs.add("beauty")
    with pytest.raises(BufferMismatchError, match="beauty"):
        fbs["nope"]
