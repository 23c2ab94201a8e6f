"""Deep images: every deep file of the corpus reads as OpenImageIO reads it, flattens as its
``ImageBufAlgo.flatten``, merges as its ``deep_merge``, copies stay deep; a render's deep file
(scenes/deep.mi) holds what OpenImageIO reads back and flattens to the flat beauty."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import framebuf
from framebuf import deep
from framebuf.cli import main
from framebuf.errors import CorruptFileError, FramebufError
from framebuf.formats import _exrdeep
from framebuf.scene import load, loads
from framebuf.scene.execute import render_scene

from test_corpus_images import CORPUS

oiio = pytest.importorskip("OpenImageIO")

DEEP_FILES = [
    "gaffer/python/GafferImageTest/images/deepResampleRGBError.exr",
    "oiio-testsuite/testsuite/iinfo/src/tinydeep.exr",
    "oiio-testsuite/testsuite/oiiotool-deep/src/deepalpha.exr",
    "oiio-testsuite/testsuite/openexr-idmanifest/src/manifest.exr",
    "openexr-images/v2/LowResLeftView/Balls.exr",
    "openexr-images/v2/LowResLeftView/Trunks.exr",
    "openexr-images/v2/Stereo/Trunks.exr",
    "openexr/src/test/bin/test_images/11.deep.exr",
]
#: parts OpenImageIO 3.2 reads wrongly: v2/Stereo/Trunks.exr part 1 ("rgba.right", data window
#: 1883 wide) comes back with part 0's 1920-wide window; checked against the OpenEXR binding
OIIO_WRONG = {("openexr-images/v2/Stereo/Trunks.exr", 1)}
SCENES = Path(__file__).resolve().parents[1] / "scenes"

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"image corpus not found at {CORPUS}")


def oiio_samples(buf):
    """(counts, {channel: per-sample values in pixel order}) of an OpenImageIO deep ImageBuf."""
    dd, spec = buf.deepdata(), buf.spec()
    counts = np.asarray(dd.all_samples(), np.int64) if hasattr(dd, "all_samples") else \
        np.array([dd.samples(p) for p in range(dd.pixels)], np.int64)
    values = {}
    for c, name in enumerate(spec.channelnames):
        uint = str(spec.channelformat(c)) == "uint"
        get = dd.deep_value_uint if uint else dd.deep_value
        values[name] = np.array([get(p, c, k) for p in np.flatnonzero(counts)
                                 for k in range(counts[p])], np.uint32 if uint else np.float32)
    return counts, values


def binding_samples(path, part):
    """The same from the OpenEXR binding's per-pixel object arrays."""
    import OpenEXR
    f = OpenEXR.File(str(path))
    chans = f.parts[part].channels
    z = chans["Z"].pixels
    counts = np.array([0 if a is None else len(a) for a in z.ravel()], np.int64)
    out = {}
    for name, ch in chans.items():
        arrays = [np.asarray(a) for a in ch.pixels.ravel() if a is not None]
        stacked = np.concatenate(arrays) if arrays else np.zeros(0)
        if name == "RGBA":
            for i, c in enumerate("RGBA"):
                out[c] = stacked[:, i].astype(np.float32)
        else:
            out[name] = stacked.astype(np.float32)
    return counts, out


@needs_corpus
@pytest.mark.parametrize("rel", DEEP_FILES)
def test_corpus_deep_reads_as_openimageio(rel):
    path = CORPUS / rel
    images = _exrdeep.read(path)
    for i, img in enumerate(images):
        if (rel, i) in OIIO_WRONG:
            counts, values = binding_samples(path, i)
        else:
            buf = oiio.ImageBuf(str(path), i, 0)
            assert buf.read() and buf.deep
            counts, values = oiio_samples(buf)
            assert (buf.spec().x, buf.spec().y) == img.origin
        assert np.array_equal(counts, np.diff(img.offsets)), rel
        assert sorted(values) == sorted(img.channels)
        for name, want in values.items():
            got = img.row(name)
            assert got.dtype == want.dtype and np.array_equal(got, want), (rel, name)
    fbs = framebuf.read(path)
    assert fbs.deep is not None and len(fbs.deep) == len(images)


def _oiio_tidied(buf, pixels):
    """OpenImageIO's sort + merge_overlaps of some pixels (``deepdata()`` is a copy)."""
    dd = buf.deepdata()
    out = {}
    for p in pixels:
        dd.sort(int(p))
        dd.merge_overlaps(int(p))
        out[int(p)] = [[dd.deep_value(int(p), c, k) for c in range(dd.channels)]
                       for k in range(dd.samples(int(p)))]
    return out


@needs_corpus
@pytest.mark.parametrize("rel", DEEP_FILES)
def test_corpus_flatten_matches_openimageio(rel, tmp_path):
    path = CORPUS / rel
    images = _exrdeep.read(path)
    img = images[0]
    buf = oiio.ImageBuf(str(path))
    buf.read()
    want_stored = oiio.ImageBufAlgo.flatten(buf).get_pixels(oiio.FLOAT)
    stored = deep.flatten(img, tidy_first=False)
    # tidying: the pixels of several samples as OpenImageIO sorts and merges them
    tidied = deep.tidy(img)
    names = list(buf.spec().channelnames)
    many = np.flatnonzero(np.diff(img.offsets) > 1)[:400]
    floats = [c for c, n in enumerate(names) if img.pixel_types[n] != "uint"]
    for p, samples in _oiio_tidied(buf, many).items():
        a, b = tidied.offsets[p], tidied.offsets[p + 1]
        assert b - a == len(samples), (rel, p)
        for c in floats:
            half = img.pixel_types[names[c]] == "half"     # OIIO keeps merges in half
            np.testing.assert_allclose(tidied.row(names[c])[a:b], [s[c] for s in samples],
                                       rtol=1e-3 if half else 1e-5, atol=1e-7)
    # flattening the tidied samples: as OpenImageIO flattens the same (tidy) file
    _exrdeep.write(tmp_path / "tidy.exr", [tidied], {})
    tbuf = oiio.ImageBuf(str(tmp_path / "tidy.exr"))
    tbuf.read()
    flat = oiio.ImageBufAlgo.flatten(tbuf).get_pixels(oiio.FLOAT)
    tidy = deep.flatten(_exrdeep.read(tmp_path / "tidy.exr")[0])     # the same samples
    compared = 0
    for c, name in enumerate(names):
        # OpenImageIO composites Z and uint ids with over too (its Z is an alpha-weighted mix,
        # its ids floats); framebuf keeps the nearest sample's: colour and alpha are compared
        if name in ("Z", "ZBack") or img.pixel_types[name] == "uint":
            continue
        np.testing.assert_allclose(stored[name], want_stored[:, :, c], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(tidy[name], flat[:, :, c], rtol=1e-5, atol=1e-6)
        compared += 1
    assert compared >= 1
    counts = img.counts
    z = stored["Z"]
    assert np.all(np.isinf(z[counts == 0]))
    assert np.array_equal(z[counts > 0], img.row("Z")[img.offsets[:-1][counts.ravel() > 0]])


@needs_corpus
def test_merge_matches_openimageio_deep_merge(tmp_path):
    path = CORPUS / "openexr-images/v2/LowResLeftView/Balls.exr"
    img = deep.crop(_exrdeep.read(path)[0], (300, 250, 499, 349))     # 200x100, small and fast
    # two halves of the samples (alternate samples of every pixel), written apart
    a = deep.holdout(img, nearer_than=None)       # tidied copy
    rank = np.arange(a.samples) - np.repeat(a.offsets[:-1], np.diff(a.offsets))
    odd = (rank % 2).astype(bool)
    first, second = deep._kept(a, ~odd, a.floats), deep._kept(a, odd, a.floats)
    _exrdeep.write(tmp_path / "a.exr", [first], {})
    _exrdeep.write(tmp_path / "b.exr", [second], {})
    assert main(["deep", "merge", str(tmp_path / "a.exr"), str(tmp_path / "b.exr"), "-o",
                 str(tmp_path / "m.exr"), "--cull"]) == 0
    ours = _exrdeep.read(tmp_path / "m.exr")[0]
    ba, bb = oiio.ImageBuf(str(tmp_path / "a.exr")), oiio.ImageBuf(str(tmp_path / "b.exr"))
    theirs = oiio.ImageBufAlgo.deep_merge(ba, bb, True)
    counts, values = oiio_samples(theirs)
    assert np.array_equal(counts, np.diff(ours.offsets))
    for name, want in values.items():
        np.testing.assert_allclose(ours.row(name), want, rtol=1e-6, atol=1e-7)
    # and merging the halves gives back the whole, flattened
    whole, back = deep.flatten(a), deep.flatten(deep.merge([first, second]))
    for c in "RGBA":
        np.testing.assert_allclose(back[c], whole[c], rtol=1e-5, atol=1e-6)


@needs_corpus
@pytest.mark.parametrize("rel", ["oiio-testsuite/testsuite/oiiotool-deep/src/deepalpha.exr",
                                 "openexr/src/test/bin/test_images/11.deep.exr"])
def test_copy_stays_deep(rel, tmp_path, capsys):
    src = CORPUS / rel
    out = tmp_path / "copy.exr"
    assert main(["copy", str(src), str(out)]) == 0, capsys.readouterr().err
    a, b = _exrdeep.read(src)[0], _exrdeep.read(out)[0]
    assert b.state == a.state and b.tiles == a.tiles and b.compression == a.compression
    assert np.array_equal(a.offsets, b.offsets)
    assert np.array_equal(a.floats, b.floats) and np.array_equal(a.uints, b.uints)
    buf = oiio.ImageBuf(str(out))
    assert buf.read() and buf.deep
    counts, _ = oiio_samples(buf)
    assert np.array_equal(counts, np.diff(a.offsets))
    if a.state == "tidy":
        assert buf.spec().get_string_attribute("openexr:deepImageState") == "tidy"


def _volume_image():
    # pixel (0, 0): a volume [1, 3] and a point at 2 inside it; pixel (1, 0): two coincident
    # points; pixel (2, 0): unsorted points
    return deep.from_pixels(3, 1, {
        (0, 0): {"R": [0.3, 0.2], "A": [0.5, 0.4], "Z": [1.0, 2.0], "ZBack": [3.0, 2.0]},
        (1, 0): {"R": [0.25, 0.5], "A": [0.5, 0.5], "Z": [4.0, 4.0], "ZBack": [4.0, 4.0]},
        (2, 0): {"R": [0.1, 0.6], "A": [0.1, 0.6], "Z": [9.0, 5.0], "ZBack": [9.0, 5.0]},
    })


def test_tidy_splits_sorts_and_merges():
    t = deep.tidy(_volume_image())
    assert t.state == "tidy" and t.counts.tolist() == [[3, 1, 2]]
    p = t.pixel(0, 0)
    # the volume split at 2: alpha 1 - (1 - 0.5)^0.5 on each half, colour scaled by a'/a
    half = 1 - 0.5 ** 0.5
    assert p["Z"].tolist() == [1.0, 2.0, 2.0] and p["ZBack"].tolist() == [2.0, 2.0, 3.0]
    np.testing.assert_allclose(p["A"], [half, 0.4, half], rtol=1e-6)
    np.testing.assert_allclose(p["R"], [0.3 * half / 0.5, 0.2, 0.3 * half / 0.5], rtol=1e-6)
    q = t.pixel(1, 0)
    # coincident: alpha 0.75, colour (c1 + c2) * (u/a) * (am/u) with equal alphas = (c1+c2)*0.75/1
    np.testing.assert_allclose(q["A"], [0.75])
    np.testing.assert_allclose(q["R"], [(0.25 + 0.5) * 0.75], rtol=1e-6)
    assert t.pixel(2, 0)["Z"].tolist() == [5.0, 9.0]
    flat = deep.flatten(t)
    np.testing.assert_allclose(flat["A"][0, 2], 0.6 + 0.4 * 0.1, rtol=1e-6)
    np.testing.assert_allclose(flat["R"][0, 2], 0.6 + 0.4 * 0.1, rtol=1e-6)
    assert flat["Z"][0, 2] == 5.0


def test_flatten_tidies_only_untidy_pixels_alike():
    # flatten tidies the untidy pixels one by one in scratch (one pass, no tidied copy): it must
    # equal tidying the whole image, then compositing in order, bit for bit; pixel (3, 0) has
    # 60 overlapping volumes (more pieces than the insertion sort takes), pixel (4, 0) is empty
    rng = np.random.default_rng(7)
    z = rng.uniform(1, 10, 60).astype(np.float32)
    img = deep.from_pixels(5, 1, {
        (0, 0): {"R": [0.3, 0.2], "A": [0.5, 0.4], "Z": [1.0, 2.0], "ZBack": [3.0, 2.0],
                 "id": [4, 5]},
        (1, 0): {"R": [0.25, 0.5], "A": [0.5, 0.5], "Z": [4.0, 4.0], "ZBack": [4.0, 4.0],
                 "id": [1, 2]},
        (2, 0): {"R": [0.1, 0.6], "A": [0.1, 0.6], "Z": [5.0, 9.0], "ZBack": [5.0, 9.0],
                 "id": [3, 6]},
        (3, 0): {"R": rng.uniform(0, 0.2, 60), "A": rng.uniform(0, 0.3, 60), "Z": z,
                 "ZBack": z + rng.uniform(0, 3, 60).astype(np.float32), "id": np.arange(60)},
    }, {"id": "uint"})
    got = deep.flatten(img)
    want = deep.flatten(deep.tidy(img), tidy_first=False)
    assert deep.tidy(img).counts[0, 3] > 48
    for c in img.channels:
        assert got[c].tobytes() == want[c].tobytes(), c
    assert got["Z"][0, 4] == np.inf and got["A"][0, 4] == 0.0 and got["id"][0, 4] == 0
    assert got["id"][0, 0] == 4 and got["Z"][0, 0] == 1.0
    # in stored order (no tidying) pixel (0, 0) composites its two samples as they come
    raw = deep.flatten(img, tidy_first=False)
    np.testing.assert_allclose(raw["A"][0, 0], 0.5 + 0.5 * 0.4, rtol=1e-6)


def test_holdout_and_crop():
    img = deep.from_pixels(2, 2, {
        (0, 0): {"R": [0.5, 0.8], "A": [0.5, 1.0], "Z": [1.0, 2.0], "id": [7, 3]},
        (1, 1): {"R": [0.2], "A": [0.2], "Z": [3.0], "id": [3]},
    }, {"id": "uint"})
    h = deep.holdout(img, ids=[7])
    p = h.pixel(0, 0)
    assert p["id"].tolist() == [3] and p["Z"].tolist() == [2.0]
    np.testing.assert_allclose(p["R"], [0.4]) and np.testing.assert_allclose(p["A"], [0.5])
    assert deep.holdout(img, farther_than=2.0).counts.tolist() == [[1, 0], [0, 0]]
    c = deep.crop(img, (1, 1, 2, 2))
    assert c.origin == (1, 1) and c.counts.tolist() == [[1, 0], [0, 0]]
    assert c.pixel(0, 0)["R"].tolist() == pytest.approx([0.2])


def test_limits_checked_before_allocation(tmp_path):
    img = deep.from_pixels(4, 2, {(1, 1): {"A": [1.0], "Z": [2.0]}})
    good = tmp_path / "good.exr"
    _exrdeep.write(good, [img], {"compression": "none"})
    data = bytearray(good.read_bytes())
    # make the last chunk claim 2**40 bytes of samples: refused from the header, not allocated
    exr = framebuf.formats._exrfile.read_header(good)
    with open(good, "rb") as fh:
        table = framebuf.formats._exrfile._offsets(exr, exr.parts[0], fh)
    off = int(table[-1]) + 4 + 16
    data[off:off + 8] = (1 << 40).to_bytes(8, "little")
    bad = tmp_path / "bad.exr"
    bad.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match="claims"):
        framebuf.read(bad)
    assert main(["deep", "flatten", str(bad), "-o", str(tmp_path / "x.exr")]) == 2
    bad.write_bytes(bytes(data[: len(data) - 5]))
    with pytest.raises(FramebufError):
        framebuf.read(bad)
    # coverage is kept per tile: a tile size of 0 is refused, not divided by
    tiled = tmp_path / "tiled.exr"
    _exrdeep.write(tiled, [img], {"compression": "none", "tiled": True})
    data = bytearray(tiled.read_bytes())
    at = data.index(b"tiles\0tiledesc\0") + len(b"tiles\0tiledesc\0") + 4
    data[at:at + 4] = (0).to_bytes(4, "little")
    tiled.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match="tile size 0x32"):
        _exrdeep.read(tiled)


@pytest.fixture(scope="module")
def deep_render(tmp_path_factory):
    out = tmp_path_factory.mktemp("deep")
    return render_scene(load(SCENES / "deep.mi"), out, seed=0), out


def test_scene_deep_file_reads_in_openimageio(deep_render):
    result, out = deep_render
    img = result.buffers.deep[0]
    buf = oiio.ImageBuf(str(out / "deep.exr"))
    assert buf.read() and buf.deep
    counts, values = oiio_samples(buf)
    assert np.array_equal(counts, np.diff(img.offsets))
    assert counts.max() > 1
    for name in ("R", "G", "B", "A"):
        np.testing.assert_array_equal(values[name], img.row(name).astype(np.float16).astype(np.float32))
    np.testing.assert_array_equal(values["Z"], img.row("Z"))
    np.testing.assert_array_equal(values["id"], img.row("id"))
    assert set(np.unique(values["id"])) <= {1, 2, 3, 4}


def test_scene_deep_flattens_to_flat_beauty(deep_render, tmp_path):
    _, out = deep_render
    assert main(["deep", "flatten", str(out / "deep.exr"), "-o", str(tmp_path / "f.exr")]) == 0
    got = framebuf.read(tmp_path / "f.exr").primary.data
    want = framebuf.read(out / "deep_flat.exr").primary.data
    assert got.shape == want.shape == (72, 96, 4)
    # both are half: one half ulp each way
    np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-3)
    assert (want[..., 3] > 0.99).sum() > 2000 and (want[..., 3] == 0).sum() > 500   # ground, sky


OBJECTS = {
    "ground": 'plane  "ground" point 0 -1 0 normal 0 1 0 color 0.45 0.45 0.42 1 label 1',
    "ball": 'sphere "ball" center -0.9 0 -5 radius 1 color 0.9 0.25 0.15 1 label 2',
    "crate": 'box "crate" min 0.5 -1 -6.8 max 2.0 0.5 -5.3 color 0.2 0.45 0.9 1 label 3',
}


def _render(names, out):
    prims = "\n".join(OBJECTS[n] for n in names)
    text = f"""framebuf primitives
{prims}
light "sun" direction -0.5 -1 -0.7 color 1 1 1
end framebuf
options "opt"
    samples 0 1
end options
camera "cam"
    resolution 48 36
    aspect 1.333333
    aperture 1.0
    focal 1.2
    framebuffer "samples" datatype "rgba_fp" filename "deep.exr" deep on
end camera
"""
    out.mkdir()
    render_scene(loads(text, str(out / "s.mi")), out, seed=0)
    return _exrdeep.read(out / "deep.exr")[0]


def test_merge_of_renders_apart_equals_render_together(tmp_path):
    # disjoint objects (apart on screen, no shadow of one on the other): the joint render
    a, b = _render(["ball"], tmp_path / "a"), _render(["crate"], tmp_path / "b")
    both = _render(["ball", "crate"], tmp_path / "ab")
    merged, joint = deep.flatten(deep.merge([a, b])), deep.flatten(both)
    for c in "RGBA":
        np.testing.assert_allclose(merged[c], joint[c], rtol=1e-5, atol=1e-6)
