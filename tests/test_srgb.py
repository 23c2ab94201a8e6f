import numpy as np
import pytest

from framebuf import srgb


def test_scalar_and_array_forms_agree_and_invert():
    x = np.concatenate([np.linspace(0, 0.01, 201), np.linspace(0, 1, 1001), [srgb.LINEAR_LIMIT]])
    enc = srgb.encode(x)
    assert np.allclose(enc, [srgb.encode_scalar(v) for v in x], rtol=0, atol=1e-15)
    assert np.allclose(srgb.decode(enc), [srgb.decode_scalar(v) for v in enc], rtol=0, atol=1e-15)
    assert np.allclose(srgb.decode(enc), x, atol=1e-12)


@pytest.mark.parametrize("linear, encoded", [(0.0, 0.0), (1.0, 1.0), (0.002, 0.02584),
                                             (0.5, 0.735356983)])
def test_values_from_the_standard(linear, encoded):
    assert srgb.encode_scalar(linear) == pytest.approx(encoded, abs=1e-6)
