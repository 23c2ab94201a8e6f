"""Cryptomatte written from samples (scenes/cryptomatte.mi), checked by a decoder written here from
the specification (v1.2: mmh3 + numpy, pixels read by OpenImageIO) and by brute force over the very
samples the render used; then read back by framebuf.cryptomatte."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import mmh3
import numpy as np
import pytest

from framebuf import cryptomatte as C
from framebuf.cryptomatte_encode import SIDECAR_BYTES, encode, layer_key
from framebuf.errors import SceneError
from framebuf.scene import load, loads
from framebuf.scene.execute import render_scene
from framebuf.sources.raycast import RayCaster

from helpers import oiio_read

SCENE = Path(__file__).resolve().parent.parent / "scenes" / "cryptomatte.mi"
SIZE = (64, 48)


class Recording:
    """The ray caster, keeping a copy of every sample's position and primitive."""

    def __init__(self):
        self.inner = RayCaster()
        self.x, self.y, self.obj = [], [], []

    def render(self, scene, *, seed=0, progress=None):
        for batch in self.inner.render(scene, seed=seed, progress=progress):
            self.x.append(np.array(batch.x))
            self.y.append(np.array(batch.y))
            self.obj.append(np.array(batch.values["object"]))
            yield batch

    def samples(self):
        return np.concatenate(self.x), np.concatenate(self.y), np.concatenate(self.obj)


def small_scene(**decl_changes):
    scene = load(SCENE)
    scene.camera.resolution = SIZE
    for name, changes in decl_changes.items():
        for k, v in changes.items():
            setattr(scene.camera.framebuffers[name], k, v)
    return scene


@pytest.fixture(scope="module")
def render(tmp_path_factory):
    out = tmp_path_factory.mktemp("crypto")
    source = Recording()
    result = render_scene(small_scene(), out, seed=2, source=source)
    return result, source, out / "cryptomatte.exr"


# -- the independent decoder (specification v1.2) ------------------------------------------------
def spec_id_bits(name: str) -> int:
    h = mmh3.hash(name.encode("utf-8"), 0, signed=False)
    if ((h >> 23) & 255) in (0, 255):
        h ^= 1 << 23
    return h


def spec_layers(spec):
    """{layer name: {field: value}} from the cryptomatte/<key>/<field> attributes."""
    keys = {}
    for a in spec.extra_attribs:
        if a.name.startswith("cryptomatte/"):
            _, key, fld = a.name.split("/")
            keys.setdefault(key, {})[fld] = a.value
    return {f["name"]: dict(f, key=k) for k, f in keys.items()}


def spec_decode(channels, layer, manifest):
    """{name: matte (H, W)}: per name the coverage summed over every rank whose id is its float."""
    levels = sorted({c[len(layer):-2] for c in channels if c.startswith(layer)
                     and c[len(layer):-2].isdigit() and len(c) == len(layer) + 4})
    ranks = []
    for lv in levels:
        for idc, cc in (("R", "G"), ("B", "A")):
            ranks.append((channels[f"{layer}{lv}.{idc}"], channels[f"{layer}{lv}.{cc}"]))
    out = {}
    for name, hexid in manifest.items():
        want = struct.unpack(">f", bytes.fromhex(hexid))[0]
        m = np.zeros(ranks[0][0].shape, np.float64)
        for ids, cov in ranks:
            m += np.where(ids == np.float32(want), cov, 0.0)
        out[name] = m
    return out, len(ranks)


def gauss_weight(d, r):
    """framebuf's gauss profile (README): exp(-4.5 u^2) - exp(-4.5), u = |d| / r, 0 from r on."""
    u = np.abs(d) / r
    return np.where(np.abs(d) < r, np.exp(-4.5 * u * u) - math.exp(-4.5), 0.0)


def brute_force_shares(x, y, obj, names_of_prim, width, height, radius):
    """{name: (H, W)} filter-weighted share of each name among all samples reaching each pixel,
    and the number of distinct names per pixel."""
    names = sorted(set(n for n in names_of_prim if n is not None))
    shares = {n: np.zeros((height, width)) for n in names}
    distinct = np.zeros((height, width), int)
    px, py = np.floor(x).astype(int), np.floor(y).astype(int)
    reach = int(math.ceil(radius))
    label = np.array([None] + list(names_of_prim), dtype=object)[obj]
    for j in range(height):
        near_y = np.abs(py - j) <= reach
        for i in range(width):
            sel = near_y & (np.abs(px - i) <= reach)
            w = gauss_weight(x[sel] - (i + 0.5), radius) * gauss_weight(y[sel] - (j + 0.5), radius)
            total = w.sum()
            labs = label[sel]
            seen = set()
            for n in names:
                hit = labs == n
                if hit.any() and w[hit].sum() > 0:
                    shares[n][j, i] = w[hit].sum() / total
                    seen.add(n)
            distinct[j, i] = len(seen)
    return shares, distinct


# -- tests ---------------------------------------------------------------------------------------
def test_oiio_reads_the_layers_and_the_manifest_hashes_are_mmh3_of_the_names(render):
    result, _, path = render
    px, spec = oiio_read(path, "float")
    layers = spec_layers(spec)
    assert set(layers) == {"CryptoObject", "CryptoMaterial"}
    prims = result.scene.primitives
    want_names = {"CryptoObject": {p.name for p in prims},
                  "CryptoMaterial": {p.params["material"] for p in prims}}
    for name, f in layers.items():
        assert f["key"] == f"{mmh3.hash(name, 0, signed=False):08x}"[:7]
        assert f["hash"] == "MurmurHash3_32" and f["conversion"] == "uint32_to_float32"
        manifest = json.loads(f["manifest"])
        assert set(manifest) == want_names[name]
        for n, hexid in manifest.items():
            assert int(hexid, 16) == spec_id_bits(n), n
    names = list(spec.channelnames)
    for level in ("00", "01", "02"):
        for c in "RGBA":
            assert f"CryptoObject{level}.{c}" in names
    assert "CryptoObject03.R" not in names
    assert {"CryptoObject.R", "CryptoObject.G", "CryptoObject.B"} <= set(names)
    formats = [str(t) for t in spec.channelformats] or [str(spec.format)] * len(names)
    for n, t in zip(names, formats):
        if n.startswith("Crypto"):
            assert t == "float", n


def test_mattes_equal_the_filter_weighted_share_of_the_samples(render):
    result, source, path = render
    px, spec = oiio_read(path, "float")
    channels = {n: px[:, :, i] for i, n in enumerate(spec.channelnames)}
    layers = spec_layers(spec)
    x, y, obj = source.samples()
    o = result.scene.options
    assert o.filter == "gauss" and o.filter_width == o.filter_height
    radius = o.filter_width / 2
    prims = result.scene.primitives
    for layer, names_of_prim in (("CryptoObject", [p.name for p in prims]),
                                 ("CryptoMaterial", [p.params["material"] for p in prims])):
        mattes, nranks = spec_decode(channels, layer, json.loads(layers[layer]["manifest"]))
        assert nranks == 6
        shares, distinct = brute_force_shares(x, y, obj, names_of_prim, SIZE[0], SIZE[1], radius)
        assert distinct.max() <= nranks          # nothing was cut by the rank depth
        total = sum(mattes.values())
        assert total.max() <= 1 + 1e-6
        for name, m in mattes.items():
            np.testing.assert_allclose(m, shares[name], atol=2e-6, err_msg=f"{layer} {name}")
            inner = shares[name] == 1.0
            assert inner.sum() > 0 and np.all(m[inner] == 1.0), name      # interiors are 1
            edge = (m > 0.01) & (m < 0.99)
            assert edge.sum() > 3, name                                   # edges are fractional
        # background (sky) pixels hold no coverage
        assert total[0, 0] == 0.0
    # the material layer merges the two red_paint primitives
    obj_mattes, _ = spec_decode(channels, "CryptoObject",
                                json.loads(layers["CryptoObject"]["manifest"]))
    mat_mattes, _ = spec_decode(channels, "CryptoMaterial",
                                json.loads(layers["CryptoMaterial"]["manifest"]))
    np.testing.assert_allclose(mat_mattes["red_paint"], obj_mattes["ball"] + obj_mattes["pebble"],
                               atol=2e-6)


def test_ranks_are_sorted_by_coverage(render):
    _, _, path = render
    px, spec = oiio_read(path, "float")
    ch = {n: px[:, :, i] for i, n in enumerate(spec.channelnames)}
    cov = np.stack([ch[f"CryptoObject{lv}.{c}"] for lv in ("00", "01", "02") for c in "GA"], -1)
    assert np.all(np.diff(cov, axis=-1) <= 0)
    ids = np.stack([ch[f"CryptoObject{lv}.{c}"] for lv in ("00", "01", "02") for c in "RB"], -1)
    assert np.all(ids[cov == 0] == 0)       # unused ranks: id 0.0, coverage 0


def test_framebuf_cryptomatte_reads_the_file_back(render):
    _, _, path = render
    px, spec = oiio_read(path, "float")
    channels = {n: px[:, :, i] for i, n in enumerate(spec.channelnames)}
    found = {lay.name: lay for lay in C.layers(path)}
    assert set(found) == {"CryptoObject", "CryptoMaterial"}
    lay = found["CryptoObject"]
    assert len(lay.ranks) == 6 and lay.key == layer_key("CryptoObject")
    mattes, _ = spec_decode(channels, "CryptoObject", json.loads(lay.manifest_text))
    every = C.mattes(path, "CryptoObject")
    for name in mattes:
        np.testing.assert_array_equal(C.matte(path, name, "CryptoObject"),
                                      mattes[name].astype(np.float32))
        np.testing.assert_array_equal(every.matte(name), mattes[name].astype(np.float32))


def test_sidecar_manifest(tmp_path):
    scene = small_scene(CryptoObject={"manifest": "sidecar"})
    result = render_scene(scene, tmp_path, seed=2)
    side = tmp_path / "cryptomatte.CryptoObject.json"
    assert side in [f.path for f in result.files]
    _, spec = oiio_read(tmp_path / "cryptomatte.exr", "float")
    f = spec_layers(spec)["CryptoObject"]
    assert f["manif_file"] == side.name and "manifest" not in f
    doc = json.loads(side.read_text(encoding="utf-8"))
    assert {n: int(h, 16) for n, h in doc.items()} == {n: spec_id_bits(n) for n in doc}
    lay = C.layer(tmp_path / "cryptomatte.exr", "CryptoObject")
    assert lay.manifest_source == f"sidecar {side.name}" and set(lay.manifest()) == set(doc)
    assert C.matte(tmp_path / "cryptomatte.exr", "ball", "CryptoObject").max() == 1.0


def test_large_manifests_go_to_a_sidecar_automatically(tmp_path):
    names = [f"object_{i:05d}_with_a_long_name" for i in range(SIDECAR_BYTES // 40)]
    ids = np.zeros((2, 2, 2), np.uint32)
    ids[0, 0, 0] = 7
    cov = (ids > 0).astype(np.float32)
    small = encode("L", ids, cov, names[:10], exr_path=tmp_path / "a.exr")
    assert small.sidecar is None and "cryptomatte/" + layer_key("L") + "/manifest" in small.attributes
    big = encode("L", ids, cov, names, exr_path=tmp_path / "a.exr")
    assert big.sidecar[0] == "a.L.json"
    assert big.attributes[f"cryptomatte/{layer_key('L')}/manif_file"] == "a.L.json"
    rank0 = big.buffers[0].data
    assert rank0[0, 0, 0].view(np.uint32) == spec_id_bits(names[6]) and rank0[0, 0, 1] == 1.0


def test_non_ascii_names_and_an_odd_rank_count(tmp_path):
    text = SCENE.read_text().replace('"ball"', '"равнина"').replace("ranks 6", "ranks 3")
    scene = loads(text, filename=str(SCENE), base_dir=SCENE.parent)
    scene.camera.resolution = (32, 24)
    render_scene(scene, tmp_path, seed=1)
    px, spec = oiio_read(tmp_path / "cryptomatte.exr", "float")
    names = list(spec.channelnames)
    assert "CryptoObject01.A" in names and "CryptoObject02.R" not in names
    ch = {n: px[:, :, i] for i, n in enumerate(names)}
    assert not ch["CryptoObject01.B"].any() and not ch["CryptoObject01.A"].any()
    manifest = json.loads(spec_layers(spec)["CryptoObject"]["manifest"])
    assert manifest["равнина"] == "9623511e"            # the specification's test vector
    assert C.matte(tmp_path / "cryptomatte.exr", "равнина", "CryptoObject").max() == 1.0


def test_camera_window_leaves_the_ranks_empty_outside(tmp_path):
    scene = small_scene()
    scene.camera.window = (0, 0, 32, 48)        # left half (mental ray raster: y up)
    render_scene(scene, tmp_path, seed=1)
    px, spec = oiio_read(tmp_path / "cryptomatte.exr", "float")
    ch = {n: px[:, :, i] for i, n in enumerate(spec.channelnames)}
    for lv in ("00", "01", "02"):
        for c in "RGBA":
            assert not ch[f"CryptoObject{lv}.{c}"][:, 32:].any()
    assert ch["CryptoObject00.G"][:, :32].max() == 1.0


BASE = """
framebuf primitives
    sphere "ball" center 0 0 -5 radius 1 color 1 0 0 1
end framebuf
options "opt" samples 0 1 {options} end options
camera "cam"
    resolution 16 12
    framebuffer "beauty" datatype "rgba_h" filename "out.exr"
    {fb}
end camera
"""


@pytest.mark.parametrize("fb, options, words", [
    ('framebuffer "C" cryptomatte "object" filename "c.png"', "", "needs an EXR"),
    ('framebuffer "C" cryptomatte "object" filename "c.exr" compression "dwaa"', "", "lossy"),
    ('framebuffer "C" cryptomatte "object" filename "out.exr"', "premultiply off", "file of its own"),
    ('framebuffer "C" ranks 4 filename "c.exr"', "", "cryptomatte framebuffer"),
    ('framebuffer "C" cryptomatte "object" primary on filename "c.exr"', "", "cannot be primary"),
    ('framebuffer "C" cryptomatte "object" manifest "sidecar"', "", "needs the EXR's path"),
])
def test_bad_cryptomatte_framebuffers_fail_before_rendering(tmp_path, fb, options, words):
    scene = loads(BASE.format(fb=fb, options=options), filename="s.mi")
    with pytest.raises(SceneError, match=words):
        render_scene(scene, tmp_path)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("fb, words", [
    ('framebuffer "C" cryptomatte "asset"', "expected one of object, material"),
    ('framebuffer "C" cryptomatte "object" ranks 0', "at least 1"),
    ('framebuffer "C" cryptomatte "object" manifest "later"', "expected one of auto"),
])
def test_cryptomatte_properties_are_parsed_strictly(fb, words):
    with pytest.raises(SceneError, match=words):
        loads(BASE.format(fb=fb, options=""), filename="s.mi")


def test_premultiply_off_with_a_file_of_its_own_keeps_the_ids(tmp_path):
    fb = 'framebuffer "C" cryptomatte "object" filename "c.exr"'
    scene = loads(BASE.format(fb=fb, options="premultiply off"), filename="s.mi")
    render_scene(scene, tmp_path)
    m = C.matte(tmp_path / "c.exr", "ball", "C")
    assert m.max() == 1.0 and m.min() == 0.0


def test_the_scene_parses_into_cryptomatte_framebuffers():
    scene = load(SCENE)
    fbs = scene.camera.framebuffers
    assert (fbs["CryptoObject"].cryptomatte, fbs["CryptoObject"].ranks) == ("object", 6)
    assert (fbs["CryptoMaterial"].cryptomatte, fbs["CryptoMaterial"].ranks) == ("material", None)
    assert fbs["beauty"].cryptomatte is None
    assert [p.params["material"] for p in scene.primitives] == [
        "concrete", "red_paint", "wood", "red_paint", "glass"]
    assert scene.camera.primary_buffer().name == "beauty"
    text = scene.describe()
    assert "framebuffer 'CryptoObject': cryptomatte object names, 6 ranks, manifest auto" in text
    from framebuf.scene.execute import plan_scene
    planned, _ = plan_scene(scene, "/nonexistent")
    assert [p.path.name for p in planned] == ["cryptomatte.exr"]
    assert set(planned[0].buffers) == {"beauty", "CryptoObject", "CryptoObject00", "CryptoObject01",
                                       "CryptoObject02", "CryptoMaterial", "CryptoMaterial00",
                                       "CryptoMaterial01", "CryptoMaterial02"}
