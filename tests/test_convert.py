"""mental ray's conversion rules (reference 2.3 and 4), each against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from framebuf import convert
from framebuf.convert import ConvertOptions, from_file, rgbe_decode, rgbe_encode, to_file
from framebuf.datatypes import DATATYPES, datatype
from framebuf.errors import FramebufError, UnsupportedDataTypeError


def px(*values):
    """One pixel as a (1, 1, C) float32 buffer."""
    return np.array(values, np.float32).reshape(1, 1, -1)


def conv(values, dst, src="rgba_fp", **opts):
    return to_file(px(*values) if not isinstance(values, np.ndarray) else values, src, dst,
                   ConvertOptions(**opts))


# -- colorclip ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mode, rgba, expected", [
    # rgb: RGB to [0,1], then A to [max(R,G,B), 1]
    ("rgb", (1.5, 0.5, -0.2, 0.3), (1.0, 0.5, 0.0, 1.0)),
    ("rgb", (0.2, 0.4, 0.1, 0.3), (0.2, 0.4, 0.1, 0.4)),
    ("rgb", (0.2, 0.4, 0.1, 1.7), (0.2, 0.4, 0.1, 1.0)),
    # alpha: A to [0,1], then RGB to [0, A]
    ("alpha", (1.5, 0.5, -0.2, 0.3), (0.3, 0.3, 0.0, 0.3)),
    ("alpha", (0.9, 0.5, 0.2, 1.7), (0.9, 0.5, 0.2, 1.0)),
    ("alpha", (0.9, 0.5, 0.2, -0.5), (0.0, 0.0, 0.0, 0.0)),
    # raw: each component on its own
    ("raw", (1.5, 0.5, -0.2, 0.3), (1.0, 0.5, 0.0, 0.3)),
])
def test_colorclip_modes(mode, rgba, expected):
    got = conv(rgba, "rgba_16", colorclip=mode)
    # the float32 value times 65535, rounded half up (0.3 -> 19660.5008 -> 19661)
    want = np.floor(np.float32(expected) * np.float32(65535) + np.float32(0.5)).astype(np.uint16)
    np.testing.assert_array_equal(got.reshape(4), want)
    np.testing.assert_allclose(convert.colorclip(px(*rgba), mode).reshape(4), expected, atol=1e-7)


def test_colorclip_8bit_values_by_hand():
    # 0.5 * 255 = 127.5 rounds up to 128; 0.1 * 255 = 25.5000004 -> 26; A raised to max(RGB) = 0.4
    assert conv((0.2, 0.4, 0.1, 0.3), "rgba").reshape(4).tolist() == [51, 102, 26, 102]
    assert conv((1.5, 0.5, -0.2, 0.3), "rgba").reshape(4).tolist() == [255, 128, 0, 255]


def test_colorclip_does_not_touch_float_or_half():
    v = (1.5, -0.25, 3.0, 0.3)
    np.testing.assert_array_equal(conv(v, "rgba_fp").reshape(4), np.float32(v))
    np.testing.assert_array_equal(conv(v, "rgba_h", colorclip="alpha").reshape(4), np.float16(v))


def test_alpha_only_target_sees_the_rgb_clip():
    # an 'a' file of an rgba buffer gets the alpha after colorclip rgb: max(R, G, B) = 0.8
    assert conv((0.8, 0.1, 0.1, 0.2), "a").reshape(-1).tolist() == [204]
    assert conv((0.8, 0.1, 0.1, 0.2), "a", colorclip="raw").reshape(-1).tolist() == [51]


# -- premultiply -------------------------------------------------------------------------------

def test_premultiply_off_divides_by_alpha():
    v = (0.2, 0.1, 0.05, 0.5)
    np.testing.assert_allclose(conv(v, "rgba_fp", premultiply=False).reshape(4), (0.4, 0.2, 0.1, 0.5))
    # 0.4*255 = 102, 0.2*255 = 51, 0.1*255 = 25.5 -> 26, 0.5*255 = 127.5 -> 128
    assert conv(v, "rgba", premultiply=False).reshape(4).tolist() == [102, 51, 26, 128]
    # alpha 0 keeps the colour as it is (no division by zero)
    np.testing.assert_allclose(conv((0.2, 0.1, 0.0, 0.0), "rgba_fp", premultiply=False).reshape(4),
                               (0.2, 0.1, 0.0, 0.0))


def test_premultiply_off_is_ignored_with_colorclip_raw():
    v = (0.2, 0.1, 0.05, 0.5)
    assert conv(v, "rgba", premultiply=False, colorclip="raw").reshape(4).tolist() == [51, 26, 13, 128]
    assert ConvertOptions(premultiply=False, colorclip="raw").premultiplied_output


# -- desaturate --------------------------------------------------------------------------------

def test_desaturate_keeps_luminance_and_hue_direction():
    r, g, b = 1.5, 0.5, 0.5
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b                 # 0.7126
    t = (1.0 - y) / (r - y)                                   # the largest component lands on 1
    want = (1.0, y + (g - y) * t, y + (b - y) * t)            # (1, 0.6350, 0.6350)
    got = convert.desaturate(px(r, g, b)).reshape(3)
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert got @ convert.LUMA == pytest.approx(y, abs=1e-6)
    q = conv((r, g, b, 1.0), "rgba_16", desaturate=True).reshape(4)
    np.testing.assert_allclose(q[:3], np.array(want) * 65535, atol=1)
    # without desaturate the components are clamped one by one
    assert conv((r, g, b, 1.0), "rgba").reshape(4).tolist() == [255, 128, 128, 255]


def test_desaturate_negative_and_extreme_colours():
    r, g, b = 0.8, 0.6, -0.4
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b                 # 0.57032
    t = y / (y - b)                                          # the smallest component lands on 0
    np.testing.assert_allclose(convert.desaturate(px(r, g, b)).reshape(3),
                               (y + (r - y) * t, y + (g - y) * t, 0.0), atol=1e-6)
    # a grey brighter than white becomes white, darker than black becomes black
    np.testing.assert_allclose(convert.desaturate(px(2.0, 1.0, 0.0)).reshape(3), (1, 1, 1))
    np.testing.assert_allclose(convert.desaturate(px(0.5, -0.5, 0.5)).reshape(3), (0, 0, 0))
    # in-range colours are untouched
    np.testing.assert_array_equal(convert.desaturate(px(0.1, 0.2, 0.3)), px(0.1, 0.2, 0.3))


def test_desaturate_only_for_quantised_targets():
    v = (1.5, 0.5, 0.5, 1.0)
    np.testing.assert_array_equal(conv(v, "rgba_fp", desaturate=True).reshape(4), np.float32(v))


# -- gamma -------------------------------------------------------------------------------------

def test_gamma_raises_rgb_and_alpha_to_one_over_g():
    v = (0.25, 0.25, 0.0625, 0.25)
    # sqrt: 0.5 -> 128, 0.25 -> 63.75 -> 64
    assert conv(v, "rgba", gamma=2.0).reshape(4).tolist() == [128, 128, 64, 128]
    assert conv(v, "rgba_16", gamma=2.0).reshape(4).tolist() == [32768, 32768, 16384, 32768]
    assert conv((0.25,), "a", src="a_fp", gamma=2.0).reshape(-1).tolist() == [128]


def test_gamma_never_on_float_half_or_rgbe():
    v = (0.25, 0.25, 0.0625, 0.25)
    np.testing.assert_array_equal(conv(v, "rgba_fp", gamma=2.0).reshape(4), np.float32(v))
    np.testing.assert_array_equal(conv(v, "rgba_h", gamma=2.0).reshape(4), np.float16(v))
    np.testing.assert_array_equal(conv(v, "rgbe", gamma=2.0), conv(v, "rgbe"))


# -- dither ------------------------------------------------------------------------------------

def test_dither_adds_at_most_one_step_and_keeps_the_mean():
    flat = np.full((64, 64, 4), 0.3, np.float32)             # 0.3 * 255 = 76.5
    plain = to_file(flat, "rgba_fp", "rgba")
    assert np.all(plain == 77)
    d = to_file(flat, "rgba_fp", "rgba", ConvertOptions(dither=True, colorclip="raw"))
    assert set(np.unique(d)) == {76, 77}
    assert d.mean() == pytest.approx(76.5, abs=0.05)
    d16 = to_file(flat, "rgba_fp", "rgba_16", ConvertOptions(dither=True, colorclip="raw"))
    assert np.abs(d16.astype(int) - round(0.3 * 65535)).max() <= 1
    # reproducible: the same seed gives the same file
    np.testing.assert_array_equal(d, to_file(flat, "rgba_fp", "rgba",
                                             ConvertOptions(dither=True, colorclip="raw")))


@pytest.mark.parametrize("dst", ["rgba_fp", "rgb_h", "a_h", "rgbe"])
def test_dither_never_on_float_half_or_rgbe(dst):
    flat = np.full((16, 16, 4), 0.3, np.float32)
    np.testing.assert_array_equal(to_file(flat, "rgba_fp", dst, ConvertOptions(dither=True)),
                                  to_file(flat, "rgba_fp", dst))


# -- quantisation, half, float -----------------------------------------------------------------

def test_quantise_rounds_to_nearest_and_maps_nan_to_zero():
    v = np.array([0.0, 0.5, 1.0, 1.5 / 255, 2.0, -1.0, np.nan], np.float32).reshape(1, -1, 1)
    assert to_file(v, "a_fp", "a").reshape(-1).tolist() == [0, 128, 255, 2, 255, 0, 0]
    assert to_file(v, "a_fp", "a_16").reshape(-1).tolist() == [0, 32768, 65535, 386, 65535, 0, 0]
    nan_px = px(np.nan, 0.5, 0.5, 1.0)
    assert conv(nan_px, "rgba").reshape(4).tolist() == [0, 128, 128, 255]


def test_half_rounding_and_overflow():
    got = conv((1 / 3, 65504.0, 70000.0, -2.5), "rgba_h").reshape(4)
    assert got.dtype == np.float16
    assert got[0] == np.float16(0.333251953125)
    assert got[1] == 65504.0 and np.isposinf(got[2]) and got[3] == -2.5


def test_to_half_is_bit_identical_to_numpy():
    bits = np.arange(0, 2**32, 65521, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    with np.errstate(all="ignore"):
        want = x.astype(np.float16)
    got = convert.to_half(x)
    same = (want.view(np.uint16) == got.view(np.uint16)) | (np.isnan(want) & np.isnan(got))
    assert same.all()
    # exact ties between neighbouring halves round to even
    h = np.arange(0, 0x7BFF, dtype=np.uint16).view(np.float16).astype(np.float64)
    mid = ((h[:-1] + h[1:]) / 2).astype(np.float32)
    np.testing.assert_array_equal(convert.to_half(mid).view(np.uint16), mid.astype(np.float16).view(np.uint16))


def test_out_of_range_float_survives_float_types():
    v = (3.5, -0.25, 1e6, 2.0)
    np.testing.assert_array_equal(conv(v, "rgba_fp").reshape(4), np.float32(v))
    np.testing.assert_array_equal(conv(v, "rgb_fp").reshape(3), np.float32(v[:3]))
    assert conv((-7.0,), "a_fp", src="a_fp").reshape(-1).tolist() == [-7.0]
    depth = np.array([[[0.5], [np.inf], [1e9]]], np.float32)
    np.testing.assert_array_equal(to_file(depth, "z", "z"), depth)
    normals = np.array([[[-1.0, 0.5, 2.0]]], np.float32)
    np.testing.assert_array_equal(to_file(normals, "n", "m"), normals)


# -- RGBE --------------------------------------------------------------------------------------

@pytest.mark.parametrize("rgb, rgbe", [
    ((1.0, 0.5, 0.25), (128, 64, 32, 129)),     # 1 = 0.5 * 2**1: scale 0.5 * 256 / 1 = 128
    ((0.0, 0.0, 3.0), (0, 0, 192, 130)),        # 3 = 0.75 * 2**2: scale 0.75 * 256 / 3 = 64
    ((0.0, 0.0, 0.0), (0, 0, 0, 0)),
    ((1e-40, 0.0, 0.0), (0, 0, 0, 0)),          # below 1e-32: black
    ((-1.0, 0.5, 0.5), (0, 128, 128, 128)),     # negative clipped: 0.5 = 0.5 * 2**0
])
def test_rgbe_encoding_by_hand(rgb, rgbe):
    assert rgbe_encode(np.array(rgb, np.float32)).tolist() == list(rgbe)


def test_rgbe_decoding_by_hand_and_precision():
    # (byte + 0.5) * 2**(E - 136)
    np.testing.assert_array_equal(rgbe_decode(np.array([128, 64, 32, 129], np.uint8)),
                                  np.float32([128.5 / 128, 64.5 / 128, 32.5 / 128]))
    assert rgbe_decode(np.array([10, 10, 10, 0], np.uint8)).tolist() == [0, 0, 0]
    rng = np.random.default_rng(3)
    rgb = (rng.random((500, 3)) * np.float32(10.0) ** rng.integers(-3, 4, (500, 1))).astype(np.float32)
    back = rgbe_decode(rgbe_encode(rgb))
    peak = rgb.max(axis=1, keepdims=True)
    assert np.all(np.abs(back - rgb) <= peak / 128)        # one mantissa step of the largest
    # rgbe drops alpha and does not clip
    assert to_file(px(2.0, 1.0, 0.5, 0.1), "rgba_fp", "rgbe").reshape(4).tolist() == [128, 64, 32, 130]


# -- widening and compatibility ---------------------------------------------------------------

def test_partial_buffers_are_widened():
    rgb = px(0.2, 0.4, 0.6)
    assert to_file(rgb, "rgb_fp", "rgba").reshape(4).tolist() == [51, 102, 153, 255]   # A = 1
    assert to_file(px(0.4), "a_fp", "rgba").reshape(4).tolist() == [102] * 4             # v,v,v,v
    assert to_file(px(0.4), "a_fp", "a").reshape(-1).tolist() == [102]
    assert to_file(px(0.2, 0.4, 0.6, 0.8), "rgba_fp", "rgb").reshape(3).tolist() == [51, 102, 153]


def test_compatible_conversions():
    c = lambda a, b: convert.compatible(datatype(a), datatype(b))
    assert c("rgba_fp", "rgb") and c("rgb", "rgbe") and c("a", "rgba_h") and c("n", "m")
    assert c("z", "a_fp") and c("coverage", "a") and c("a_fp", "z")
    assert not c("tag", "rgba") and not c("rgba", "z") and not c("n", "rgb") and not c("vta", "rgba")
    with pytest.raises(UnsupportedDataTypeError):
        to_file(px(1.0), "tag", "rgba")


def test_options_are_validated():
    with pytest.raises(FramebufError, match="colorclip"):
        ConvertOptions(colorclip="none")
    with pytest.raises(FramebufError, match="gamma"):
        ConvertOptions(gamma=0)


# -- the fused kernel and the numpy reference agree ----------------------------------------------

@pytest.mark.parametrize("opts", [
    ConvertOptions(), ConvertOptions(colorclip="alpha"), ConvertOptions(colorclip="raw"),
    ConvertOptions(premultiply=False), ConvertOptions(gamma=2.2), ConvertOptions(desaturate=True),
    ConvertOptions(premultiply=False, colorclip="alpha", gamma=1.8, desaturate=True),
], ids=lambda o: f"{o.colorclip}-p{int(o.premultiply)}-g{o.gamma}-d{int(o.desaturate)}")
@pytest.mark.parametrize("dst", ["rgba", "rgb", "a", "rgba_16", "rgb_16", "a_16"])
def test_kernel_matches_numpy_reference(opts, dst):
    rng = np.random.default_rng(5)
    v = (rng.random((40, 50, 4)) * 3 - 1).astype(np.float32)
    v[3, 3, 1] = np.nan
    dt = datatype(dst)
    levels = 255 if dt.sample == "u8" else 65535
    ref = convert.quantise(convert._colour_rules(v, dt, opts)[..., list(dt.view)], levels, dt.file_dtype)
    got = to_file(v, "rgba_fp", dst, opts)
    # desaturate is computed in float64 by the reference and pow() may differ by an ulp between
    # numpy and LLVM: one step apart at most there; everything else is exact
    tol = 1 if opts.desaturate or opts.gamma != 1.0 else 0
    assert np.abs(ref.astype(int) - got.astype(int)).max() <= tol


@pytest.mark.parametrize("name", [n for n, t in DATATYPES.items() if t.sample in ("u8", "u16", "f16", "f32")])
def test_from_file_inverts_to_file(name):
    dt = datatype(name)
    v = np.linspace(0, 1, 7 * len(dt.view), dtype=np.float32).reshape(1, 7, len(dt.view))
    back = from_file(to_file(v, dt, dt), dt)
    step = {"u8": 0.5 / 255, "u16": 0.5 / 65535, "f16": 1e-3, "f32": 0}[dt.sample]
    assert np.abs(back - v).max() <= step + 1e-7


def test_rgbe_kernel_matches_the_numpy_definition():
    from framebuf.convert import rgbe_encode_reference

    rng = np.random.default_rng(7)
    rgb = (rng.standard_normal((20000, 3)) * np.exp(rng.uniform(-90, 90, (20000, 1)))).astype(np.float32)
    rgb[:8] = [[np.nan, 1, 2], [np.inf, 0, 0], [-1, -2, -3], [0, 0, 0], [1e-33, 0, 0],
               [3e38, 1, 1], [255.9, 0, 0], [1e-30, 1e-31, 0]]
    assert np.array_equal(rgbe_encode(rgb), rgbe_encode_reference(rgb))
    assert np.array_equal(rgbe_encode(rgb.reshape(100, 200, 3)),
                          rgbe_encode_reference(rgb).reshape(100, 200, 4))
