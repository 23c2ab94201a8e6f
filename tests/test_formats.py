"""The cross-format harness: every registered format x every data type it lists.

Each case writes an image with flat areas, gradients, a run longer than 128 pixels, noise and
out-of-range values (``make_test_image``), reads it back with OpenImageIO (the independent reader)
and with our own reader, and compares: exactly for integer and float samples, half-exactly for
half, within RGBE precision for RGBE, by PSNR for the lossy formats.

New formats are covered as soon as they register. A format no independent reader knows is listed
in ``NO_INDEPENDENT_READER`` (its own tests compare hand-built bytes) and is still checked against
our reader here.
"""

from __future__ import annotations

import numpy as np
import pytest

import framebuf
from framebuf import convert
from framebuf.datatypes import datatype
from framebuf.plugins import registry

from helpers import make_test_image, oiio_read

#: formats OpenImageIO cannot read; their own tests check hand-built bytes
NO_INDEPENDENT_READER = {
    "alias": "OIIO has no Alias pix reader",
    "Zpic": "no reader exists for Softimage Zpic",
    "rlb": "OIIO reads RLA, not Wavefront RLB",
    "qntpal": "OIIO has no Abekas/Quantel YUV reader",
    "qntntsc": "OIIO has no Abekas/Quantel YUV reader",
    "picture": "CATIA PICTURE is not available",
    "map": "mental images native",
    **{f: "mental images native" for f in ("ct", "st", "vt", "wt", "zt", "nt", "mt", "tt", "bit", "cth")},
}

#: (format, data type) pairs OIIO reads differently from the file's meaning
OIIO_CANNOT = {
    ("iff", "rgba_fp"): "OIIO's IFF reader has no float RGBA",
    ("iff", "a"): "OIIO's IFF reader wants RGB(A)",
    ("iff", "a_16"): "OIIO's IFF reader wants RGB(A)",
    ("iff", "a_fp"): "OIIO's IFF reader wants RGB(A)",
    ("iff", "z"): "OIIO's IFF reader has no depth-only image",
    ("rla", "z"): "OIIO's RLA reader needs a colour channel",
}

#: (format, data type) pairs the harness cannot write alone, with the test that covers them
WRITE_ELSEWHERE = {
    ("rla", "z"): "RLA keeps depth beside a colour buffer: the rla tests write the pair",
}

#: write options for the harness (JPEG at high quality, 4:4:4, so the PSNR bound is meaningful on
#: the noise band of the test image; the default quality is tested on its own)
WRITE_OPTIONS = {"jpg": {"quality": 95, "subsampling": "4:4:4"}}

#: read options of formats without a header (Zpic stores no size)
READ_OPTIONS = {"Zpic": lambda w, h: {"width": w, "height": h}}

#: lossy formats: minimum PSNR (dB) of the 8-bit result against the exact samples
LOSSY_PSNR = {"jpg": 30.0, "qntpal": 22.0, "qntntsc": 22.0}

OIIO_TYPE = {"u8": "uint8", "u16": "uint16", "f16": "half", "f32": "float", "u32": "uint32",
             "rgbe": "float", "bit": "uint8", "i16": "int16"}


def _formats():
    return sorted(registry().formats.values(), key=lambda s: s.name.lower())


def _cases():
    for spec in _formats():
        if not spec.available or not spec.can_write:
            continue
        for dt in spec.datatypes:
            marks = ()
            if (spec.name, dt) in WRITE_ELSEWHERE:
                marks = pytest.mark.skip(reason=WRITE_ELSEWHERE[(spec.name, dt)])
            yield pytest.param(spec.name, dt, id=f"{spec.name}-{dt}", marks=marks)


def sample_data(dt_name: str, height: int, width: int) -> np.ndarray:
    """Full-precision buffer contents of a data type, with the harness's features."""
    dt = datatype(dt_name)
    comps = len(dt.view)
    img = make_test_image(height, width, max(comps, 1))
    if dt.kind == "depth":
        z = 0.5 + 20.0 * np.abs(img[:, :, :1])
        z[0, :3] = np.inf                                   # nothing hit
        return z.astype(np.float32)
    if dt.kind == "vector":
        return (img * 2.0 - 1.0).astype(np.float32)       # signed, beyond unit length
    if dt.kind == "uv":
        return np.clip(img * 2.0 - 1.0, -1.0, 1.0).astype(np.float32)
    if dt.kind == "label":
        return (np.abs(img) * 1e6).astype(np.uint32) + np.uint32(3_000_000_000) * (img > 0.9)
    if dt.kind == "mask":
        return (img > 0.5).astype(np.uint8)
    if dt.kind == "coverage":
        return np.clip(img, 0.0, 1.0)
    return img


def write_case(tmp_path, fmt: str, dt_name: str):
    spec = registry().formats[fmt]
    width, height = spec.fixed_size or (300, 37)
    data = sample_data(dt_name, height, width)
    fbs = framebuf.FrameBufferSet(width, height)
    buf = fbs.add("beauty", dt_name, user=True, data=data)
    ext = spec.extensions[0] if spec.extensions else "out"
    path = tmp_path / f"case.{ext}"
    framebuf.write(buf, path, filetype=fmt, datatype=dt_name, **WRITE_OPTIONS.get(fmt, {}))
    expected = convert.to_file(buf.data, buf.datatype, datatype(dt_name))
    return path, expected, data


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def assert_samples_equal(got: np.ndarray, expected: np.ndarray, dt, fmt: str, what: str):
    if dt.sample == "rgbe" and got.shape[-1] == 3:     # a decoder's floats (OIIO)
        ref = convert.rgbe_decode(expected)
        assert got.shape == ref.shape, f"{what}: shape {got.shape}, expected {ref.shape}"
        peak = np.maximum(ref.max(axis=-1, keepdims=True), 1e-30)
        # decoders differ by the half step they add: one mantissa step of the largest component
        assert np.all(np.abs(got - ref) <= peak / 128 + 1e-30), what
        return
    assert got.shape == expected.shape, f"{what}: shape {got.shape}, expected {expected.shape}"
    if fmt in LOSSY_PSNR:
        value = psnr(got, expected)
        assert value >= LOSSY_PSNR[fmt], f"{what}: PSNR {value:.1f} dB < {LOSSY_PSNR[fmt]}"
    elif dt.sample == "f16":
        np.testing.assert_array_equal(got.astype(np.float16), expected, err_msg=what)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=what)


@pytest.mark.parametrize("fmt, dt_name", list(_cases()))
def test_format_round_trip(tmp_path, fmt, dt_name):
    spec = registry().formats[fmt]
    dt = datatype(dt_name)
    path, expected, data = write_case(tmp_path, fmt, dt_name)
    if not spec.creates_file:
        assert not path.exists(), f"{fmt} stores nothing, yet left {path.name}"
        return
    assert path.stat().st_size > 0
    if not spec.can_read:
        return                          # write-only: the bytes are checked in the format's own test

    # 1. the independent reader
    if fmt not in NO_INDEPENDENT_READER and (fmt, dt_name) not in OIIO_CANNOT:
        pixels, oiio_spec = oiio_read(path, OIIO_TYPE[dt.sample])
        assert_samples_equal(pixels, expected, dt, fmt, f"OpenImageIO reading {fmt}/{dt_name}")

    # 2. our own reader gives back the file samples in full precision
    read_options = READ_OPTIONS[fmt](expected.shape[1], expected.shape[0]) if fmt in READ_OPTIONS else {}
    image = framebuf.read_image(path, **read_options)
    layer = image.layers[0]
    assert (layer.width, layer.height) == (expected.shape[1], expected.shape[0])
    got = layer.pixels
    if layer.datatype.name != dt_name:
        # a format that cannot tell the type apart (e.g. s written, a read): same samples
        assert layer.datatype.sample == dt.sample and layer.datatype.components == dt.components, (
            f"{fmt}: wrote {dt_name}, read back {layer.datatype.name}")
    assert_samples_equal(got, expected, dt, fmt, f"framebuf reading {fmt}/{dt_name}")
    # and the FrameBufferSet holds the full-precision values of those samples
    buf = next(iter(framebuf.read(path, **read_options)))
    want = convert.from_file(expected, dt)
    if fmt not in LOSSY_PSNR:
        np.testing.assert_allclose(buf.data, want, rtol=1e-6 if dt.sample != "rgbe" else 1 / 64,
                                   atol=0, err_msg=f"{fmt}/{dt_name} buffer values")


def _compression_cases():
    for spec in _formats():
        if spec.available and spec.can_write and spec.can_read and len(spec.compressions) > 1:
            for comp in spec.compressions:
                yield pytest.param(spec.name, comp, id=f"{spec.name}-{comp}")


#: lossy compressions (on half data PXR24 is lossless): bounds on the mean and largest error
#: relative to max(|value|, 1); B44 and DWA quantise 4x4 / 8x8 blocks, so the noise band of the
#: test image gets the largest errors
LOSSY_COMPRESSIONS = {("exr", "b44"): (0.01, 0.25), ("exr", "b44a"): (0.01, 0.25),
                      ("exr", "dwaa"): (0.02, 0.5), ("exr", "dwab"): (0.02, 0.5)}


@pytest.mark.parametrize("fmt, comp", list(_compression_cases()))
def test_every_compression_round_trips(tmp_path, fmt, comp):
    """Each format's compressions, with its default type: OIIO and our reader agree with the data."""
    spec = registry().formats[fmt]
    dt = datatype(spec.default_datatype)
    data = sample_data(dt.name, 37, 300)
    fbs = framebuf.FrameBufferSet(300, 37)
    buf = fbs.add("beauty", dt.name, user=True, data=data)
    path = tmp_path / f"c.{spec.extensions[0]}"
    framebuf.write(buf, path, filetype=fmt, compression=comp)
    expected = convert.to_file(buf.data, dt, dt)
    ours = framebuf.read_image(path).layers[0].pixels
    if (fmt, comp) in LOSSY_COMPRESSIONS:
        mean_bound, max_bound = LOSSY_COMPRESSIONS[(fmt, comp)]
        e = expected.astype(np.float32)
        rel = np.abs(ours.astype(np.float32) - e) / np.maximum(np.abs(e), 1.0)
        assert rel.mean() < mean_bound and rel.max() < max_bound, (rel.mean(), rel.max())
        return
    assert_samples_equal(ours, expected, dt, fmt, f"framebuf reading {fmt}/{comp}")
    if fmt not in NO_INDEPENDENT_READER:
        pixels, _ = oiio_read(path, OIIO_TYPE[dt.sample])
        assert_samples_equal(pixels, expected, dt, fmt, f"OpenImageIO reading {fmt}/{comp}")


def test_reference_defaults():
    """Default data types of mental ray's table (reference section 5) for the formats here."""
    want = {"png": "rgba", "jpg": "rgb", "tif": "rgba", "tifu": "rgba", "bmp": "rgb", "ppm": "rgb",
            "tga": "rgba", "exr": "rgba_h"}
    table = registry().formats
    assert {f: table[f].default_datatype for f in want} == want
    assert table["exr"].default_compression == "rle"
    # mental ray's list, plus tag as UINT (ids are UINT in every renderer's EXR)
    assert set(table["exr"].datatypes) == {"a", "rgb", "rgba", "a_h", "rgb_h", "rgba_h", "a_fp",
                                           "rgb_fp", "rgba_fp", "z", "n", "m", "tag"}
    assert set(table["tif"].datatypes) == set(table["tifu"].datatypes) == {
        "rgba", "rgba_16", "rgba_fp", "rgb", "rgb_16", "rgb_fp"}
    assert table["tifu"].compressions == ()


def test_every_format_documents_itself():
    for spec in _formats():
        assert spec.description, spec.name
        for option, text in spec.options.items():
            assert text, f"{spec.name} option {option} has no help"
        if spec.compressions and spec.available and spec.can_write:
            assert spec.default_compression in spec.compressions, spec.name


def test_tiff_alpha_is_marked_associated_unless_premultiply_off(tmp_path):
    import tifffile
    img = make_test_image(8, 8, 4)
    framebuf.write(img, tmp_path / "a.tif", datatype="rgba")
    framebuf.write(img, tmp_path / "b.tif", datatype="rgba", premultiply=False)
    with tifffile.TiffFile(tmp_path / "a.tif") as t:
        assert int(t.pages[0].extrasamples[0]) == 1
        assert t.pages[0].compression.name == "PACKBITS"
    with tifffile.TiffFile(tmp_path / "b.tif") as t:
        assert int(t.pages[0].extrasamples[0]) == 2


def test_jpeg_quality_and_tga_image_type(tmp_path):
    img = make_test_image(64, 64, 3)
    framebuf.write(img, tmp_path / "lo.jpg", quality=10)
    framebuf.write(img, tmp_path / "hi.jpg", quality=95)
    assert (tmp_path / "lo.jpg").stat().st_size < (tmp_path / "hi.jpg").stat().st_size
    framebuf.write(make_test_image(8, 300, 4), tmp_path / "r.tga")
    framebuf.write(make_test_image(8, 300, 4), tmp_path / "u.tga", compression="none")
    assert (tmp_path / "r.tga").read_bytes()[2] == 10        # RLE true colour
    assert (tmp_path / "u.tga").read_bytes()[2] == 2         # raw true colour
    assert (tmp_path / "r.tga").read_bytes()[16] == 32       # 32 bits per pixel
