"""Cryptomatte: framebuf's layers and mattes against an independent decoder written here from the
specification v1.2 (mmh3 + numpy + the OpenEXR binding reading the channels directly), on every
sample file of the corpus and on synthetic Blender / Blender 5 / Nuke-style files."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import struct
from pathlib import Path

import mmh3
import numpy as np
import OpenEXR
import pytest

import framebuf
from framebuf import cryptomatte as C
from framebuf.cli import main
from framebuf.errors import (CryptomatteError, CryptomatteManifestError, CryptomatteNameError,
                             FramebufError)

CORPUS = Path(__file__).resolve().parents[2] / "shared/corpus/images"
SAMPLES = [
    "cryptomatte/sample_images/cornellBox_CryptoWildcard.0001.exr",
    "cryptomatte/sample_images/cornellBox_CryptoWildcard.0002.exr",
    "cryptomatte/sample_images/debug_images/multichannel.exr",
    "cryptomatte/sample_images/debug_images/sidecar_manifest.exr",
    "cryptomatte/sample_images/debug_images/special_chars.exr",
    "oiio-testsuite/testsuite/cryptomatte/src/cryptoasset.exr",
]
needs_corpus = pytest.mark.skipif(not (CORPUS / SAMPLES[0]).exists(),
                                  reason=f"image corpus not found at {CORPUS}")


# -- the independent decoder (the specification, nothing of framebuf) --------------------------

def spec_float(name: str) -> np.float32:
    """Spec 'Name to ID': MurmurHash3_x86_32 of the UTF-8 bytes, seed 0; flip bit 23 when the
    exponent is 0 or 255; the 32 bits as a float32."""
    h = mmh3.hash(name.encode("utf-8"), 0, signed=False)
    if ((h >> 23) & 255) in (0, 255):
        h ^= 1 << 23
    return np.frombuffer(struct.pack("<I", h), "<f4")[0]


def spec_hex_float(hexid: str) -> np.float32:
    """A manifest's hex: the uint32 spelled big-endian; exponent-fixed as a name's hash is."""
    h = int(hexid, 16)
    if ((h >> 23) & 255) in (0, 255):
        h ^= 1 << 23
    return np.frombuffer(struct.pack("<I", h), "<f4")[0]


def spec_layers(path: Path) -> dict:
    """{layer name: {"header": {field: value}, "ranks": [(ids, coverage)], "manifest": dict|None}}
    read with the OpenEXR binding; rank channels by the spec's naming (numbered levels, R/red ...)."""
    out = {}
    with OpenEXR.File(str(path), separate_channels=True) as f:
        channels = {}
        for part in f.parts:
            pname = part.name() if len(f.parts) > 1 else ""
            for cname, ch in part.channels.items():
                full = cname if not pname or cname.startswith(pname + ".") else f"{pname}.{cname}"
                channels[full] = ch.pixels
            for k, v in part.header.items():
                m = re.fullmatch(r"cryptomatte/(.+)/name", k)
                if not m or v in out:
                    continue
                fields = {fk.rsplit("/", 1)[1]: fv for fk, fv in part.header.items()
                          if fk.startswith(f"cryptomatte/{m.group(1)}/")}
                out[v] = {"header": fields}
    for name, lay in out.items():
        levels = {}
        for full, px in channels.items():
            m = re.fullmatch(re.escape(name) + r"(\d+)\.(r|red|g|green|b|blue|a|alpha)", full, re.I)
            if m:
                levels.setdefault(int(m.group(1)), {})[m.group(2).lower()[0]] = px
        lay["ranks"] = []
        for n in sorted(levels):
            lv = levels[n]
            assert lv["r"].dtype == np.float32            # the spec: ids are float32
            lay["ranks"] += [(lv["r"], lv["g"]), (lv["b"], lv["a"])]
        fields = lay["header"]
        if "manifest" in fields:
            lay["manifest"] = json.loads(fields["manifest"])
        elif "manif_file" in fields:
            lay["manifest"] = json.loads((path.parent / fields["manif_file"]).read_text("utf-8"))
        else:
            lay["manifest"] = None
    return out


def spec_matte(lay: dict, names) -> np.ndarray:
    wanted = [spec_float(n) for n in names]
    ids0 = lay["ranks"][0][0]
    out = np.zeros(ids0.shape, np.float32)
    for ids, cov in lay["ranks"]:                     # every rank, in order, no order trusted
        hit = np.zeros(ids.shape, bool)
        for w in wanted:
            hit |= ids == w
        out += np.where(hit, cov, np.float32(0))
    return out


# -- the spec's test vectors ---------------------------------------------------------------------

@pytest.mark.parametrize("name, hexid, value", [
    ("torus", "f19c73fd", -1.54943624832e+30),
    ("равнина", "9623511e", -1.31926312124e-25),
    ("bunny", "13851a76", 3.3600013e-27),
    ("default", "42c9679f", 100.70238),
    ("bunny_porcelain_mat", "b24b26d4", -1.1824984e-08),
])
def test_spec_vectors(name, hexid, value):
    assert C.name_bits(name) == int(hexid, 16)
    assert C.name_id(name) == pytest.approx(value, rel=1e-7)
    assert C.name_id(name) == float(spec_float(name)) == float(spec_hex_float(hexid))


def test_exponent_fix():
    # a raw hash with exponent 255 (NaN as a float) gets bit 23 flipped; the fix is idempotent
    assert C.fix_bits(0x7FBB01ED) == 0x7F3B01ED == C.fix_bits(0x7F3B01ED)
    assert C.fix_bits(0x00400000) == 0x00C00000            # exponent 0 -> 1
    assert C.bits_to_float(0x7F3B01ED) == pytest.approx(2.4857563e+38, rel=1e-7)


# -- the sample files ----------------------------------------------------------------------------

@needs_corpus
@pytest.mark.parametrize("rel", SAMPLES, ids=[Path(s).name for s in SAMPLES])
def test_sample_file(rel):
    path = CORPUS / rel
    spec = spec_layers(path)
    ours = {lay.name: lay for lay in C.layers(path)}
    assert sorted(ours) == sorted(spec) and spec
    for name, slay in spec.items():
        lay = ours[name]
        assert len(lay.ranks) == len(slay["ranks"]) == 6
        assert slay["header"]["hash"] == "MurmurHash3_32"
        assert slay["header"]["conversion"] == "uint32_to_float32"
        manifest = slay["manifest"]
        # the manifest's hashes are MurmurHash3 of the names
        for n, hexid in manifest.items():
            assert spec_hex_float(hexid) == spec_float(n), (name, n)
        assert {n: f"{b:08x}" for n, b in lay.manifest().items()} == \
            {n: f"{int(h, 16):08x}" for n, h in manifest.items()}
        ranks = C.read_ranks(lay)
        assert ranks.shape == slay["ranks"][0][0].shape
        every = C.mattes(ranks)
        for n in manifest:
            expect = spec_matte(slay, [n])
            np.testing.assert_array_equal(C.matte(ranks, n), expect, err_msg=f"{name} {n!r}")
            np.testing.assert_array_equal(every.matte(n), expect, err_msg=f"{name} {n!r} (mattes)")
            assert every.pixel_count(n) == int((expect > 0).sum())
        # the union of every name, as one selection
        np.testing.assert_array_equal(C.matte(ranks, list(manifest)), spec_matte(slay, manifest))


@needs_corpus
def test_window_and_selective_read():
    path = CORPUS / SAMPLES[0]            # data window 626x540+167+0 in 960x540
    lay = C.layer(path)
    assert lay.name == "uCryptoWildcard" and lay.key == "2ae4678"
    assert lay.channels[:4] == ["uCryptoWildcard00.R", "uCryptoWildcard00.G",
                                "uCryptoWildcard00.B", "uCryptoWildcard00.A"]
    ranks = C.read_ranks(lay)
    assert ranks.shape == (540, 626) and ranks.origin == (167, 0)
    fbs = C.matte_set(ranks, "sphere_?_2")
    assert fbs.origin == (167, 0) and fbs.display_window == (0, 0, 959, 539)
    assert fbs["matte"].datatype.name == "a_fp"
    padded = C.read_ranks(lay, window="display")
    assert padded.shape == (540, 960)
    np.testing.assert_array_equal(C.matte(padded, "sphere_?_2")[:, 167:793], C.matte(ranks, "sphere_?_2"))
    assert not C.matte(padded, "sphere_?_2")[:, :167].any()


@needs_corpus
def test_wildcard_names_and_globs():
    """cornellBox's names hold * ? [ ]: an exact name is itself, else a glob; [*] is a literal *."""
    path = CORPUS / SAMPLES[0]
    spec = spec_layers(path)["uCryptoWildcard"]
    names = list(spec["manifest"])
    ranks = C.read_ranks(C.layer(path))
    assert set(ranks.layer.resolve("has_*_asterisk")) == {"has_*_asterisk"}
    assert set(ranks.layer.resolve("has_[*]_asterisk")) == {"has_*_asterisk"}
    assert set(ranks.layer.resolve("has_?_asterisk")) == {"has_*_asterisk", "has_n_asterisk"}
    for pattern in ["rect_*", "R*", "*_[[]*", "sphere*", "*"]:
        hits = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        assert hits, pattern
        assert sorted(ranks.layer.resolve(pattern)) == sorted(hits)
        np.testing.assert_array_equal(C.matte(ranks, pattern), spec_matte(spec, hits), err_msg=pattern)
    assert (C.matte(ranks, "*") > 0).sum() > 0


@needs_corpus
def test_special_characters():
    path = CORPUS / "cryptomatte/sample_images/debug_images/special_chars.exr"
    spec = spec_layers(path)["special_chars"]
    for n in ['name containing a "quote"  ', "name_containing/slash", "равнина", "name, with, comma"]:
        m = C.matte(path, n)
        assert (m > 0).sum() > 100
        np.testing.assert_array_equal(m, spec_matte(spec, [n]))
    np.testing.assert_array_equal(C.matte(path, "рав*"), spec_matte(spec, ["равнина"]))


@needs_corpus
def test_sidecar_manifest(tmp_path):
    src = CORPUS / "cryptomatte/sample_images/debug_images/sidecar_manifest.exr"
    lay = C.layer(src)
    assert lay.manif_file == "sidecar_manifest.crypto_asset.json" and lay.manifest_text is None
    assert len(lay.manifest()) == 8 and "leftAsset" in lay.manifest()
    lonely = tmp_path / "sidecar_manifest.exr"
    shutil.copy(src, lonely)                               # without its JSON
    with pytest.raises(CryptomatteManifestError, match="crypto_asset.*sidecar manifest .* does not exist"):
        C.matte(lonely, "leftAsset")


# -- synthetic files: Blender, Blender 5 multi-part, Nuke underscores, broken metadata -------------

def synthetic_ranks(height, width, names, levels=3, seed=0):
    """Ranks a renderer could write: ids of ``names`` (and background 0.0), coverage summing to 1."""
    rng = np.random.default_rng(seed)
    table = np.array([0.0] + [spec_float(n) for n in names], np.float32)
    n = 2 * levels
    pick = rng.integers(0, len(table), size=(n, height, width))
    w = rng.random((n, height, width)).astype(np.float32) ** 3
    w /= w.sum(axis=0, keepdims=True)
    return [(table[pick[r]], w[r].astype(np.float32)) for r in range(n)]


def _manifest(names, raw=False):
    out = {}
    for n in names:
        h = mmh3.hash(n.encode("utf-8"), 0, signed=False)
        if not raw and ((h >> 23) & 255) in (0, 255):
            h ^= 1 << 23
        out[n] = f"{h:08x}"
    return json.dumps(out)


def _crypto_header(layer, manifest=None, key="abc1234", **extra):
    h = {"compression": OpenEXR.ZIP_COMPRESSION,
         f"cryptomatte/{key}/name": layer,
         f"cryptomatte/{key}/hash": "MurmurHash3_32",
         f"cryptomatte/{key}/conversion": "uint32_to_float32"}
    if manifest is not None:
        h[f"cryptomatte/{key}/manifest"] = manifest
    h.update(extra)
    return h


def _find_exponent_255_name():
    for i in range(5000):
        n = f"obj{i}"
        if ((mmh3.hash(n.encode(), 0, signed=False) >> 23) & 255) in (0, 255):
            return n
    raise AssertionError("no name with a raw exponent of 0 or 255")


NAMES = ["hero", "prop:chair", "Ünïcødé ✓", "set/wall_3", _find_exponent_255_name()]


def write_single(path, layer, chan_fmt, ranks, manifest, dtype=np.float32, key="abc1234",
                 letters="RGBA"):
    """One part: ``chan_fmt.format(level=NN, c=letter)`` per channel."""
    ch = {}
    for lvl in range(len(ranks) // 2):
        (i0, c0), (i1, c1) = ranks[2 * lvl], ranks[2 * lvl + 1]
        for letter, a in zip(letters, (i0, c0, i1, c1)):
            ch[chan_fmt.format(level=f"{lvl:02d}", c=letter)] = a.astype(dtype)
    ch["R"] = ch["G"] = ch["B"] = np.zeros_like(ranks[0][1], dtype=np.float16)
    OpenEXR.File(_crypto_header(layer, manifest, key), ch).write(str(path))


def write_blender5(path, ranks, manifest, metadata_everywhere=True, view_layer="ViewLayer"):
    """Blender 5: one part per pass; part <view layer>.CryptoObjectNN holds channels r g b a."""
    layer = f"{view_layer}.CryptoObject"
    beauty = {c: np.zeros_like(ranks[0][1], dtype=np.float16) for c in "RGBA"}
    crypto = _crypto_header(layer, manifest)
    parts = [OpenEXR.Part(crypto, beauty, name=f"{view_layer}.Combined")]
    for lvl in range(len(ranks) // 2):
        (i0, c0), (i1, c1) = ranks[2 * lvl], ranks[2 * lvl + 1]
        header = crypto if metadata_everywhere else {"compression": OpenEXR.ZIP_COMPRESSION}
        parts.append(OpenEXR.Part(dict(header), {"r": i0, "g": c0, "b": i1, "a": c1},
                                  name=f"{layer}{lvl:02d}"))
    OpenEXR.File(parts).write(str(path))
    return layer


@pytest.mark.parametrize("everywhere", [True, False], ids=["metadata-every-part", "metadata-first-part"])
def test_blender5_multipart(tmp_path, everywhere):
    ranks = synthetic_ranks(24, 32, NAMES)
    path = tmp_path / "b5.exr"
    layer = write_blender5(path, ranks, _manifest(NAMES, raw=True), everywhere)   # Blender: raw hashes
    [lay] = C.layers(path)
    assert lay.name == layer == "ViewLayer.CryptoObject" and len(lay.ranks) == 6
    assert lay.ranks[0] == ("ViewLayer.CryptoObject00.r", "ViewLayer.CryptoObject00.g")
    spec = spec_layers(path)[layer]
    got = C.mattes(lay)
    for n in NAMES:
        np.testing.assert_array_equal(got.matte(n), spec_matte(spec, [n]), err_msg=n)
        np.testing.assert_array_equal(C.matte(lay, n), spec_matte(spec, [n]), err_msg=n)
    assert got.pixel_count(NAMES[-1]) > 0                 # the name whose raw hash is NaN/subnormal


@pytest.mark.parametrize("layer, fmt", [
    ("ViewLayer.CryptoMaterial", "ViewLayer.CryptoMaterial{level}.{c}"),        # Blender 4
    ("ViewLayer.CryptoMaterial", "ViewLayer_CryptoMaterial{level}.{c}"),        # through Nuke
    ("crypto_object", "crypto_object{level}.{c}"),                               # Arnold
    ("uCryptoObject", "uCryptoObject{level}.{c}"),                               # V-Ray
])
@pytest.mark.parametrize("letters", [("R", "G", "B", "A"), ("r", "g", "b", "a"),
                                     ("red", "green", "blue", "alpha")], ids=["RGBA", "rgba", "red"])
def test_channel_naming(tmp_path, layer, fmt, letters):
    ranks = synthetic_ranks(16, 20, NAMES, seed=1)
    path = tmp_path / "n.exr"
    write_single(path, layer, fmt, ranks, _manifest(NAMES), letters=letters)
    lay = C.layer(path)
    assert lay.name == layer and len(lay.ranks) == 6
    assert lay.ranks[1] == (fmt.format(level="00", c=letters[2]), fmt.format(level="00", c=letters[3]))
    for n in NAMES:
        np.testing.assert_array_equal(C.matte(lay, n), spec_matte({"ranks": ranks}, [n]), err_msg=n)


def test_duplicate_id_in_two_ranks(tmp_path):
    """Two ranks of one pixel holding the same id (not what the spec writes): both coverages count."""
    ranks = synthetic_ranks(8, 8, ["a", "b"], seed=3)
    ids = ranks[0][0].copy()
    ids[:] = spec_float("a")
    ranks[0] = (ids, ranks[0][1])
    ranks[3] = (ids.copy(), ranks[3][1])
    path = tmp_path / "d.exr"
    write_single(path, "c", "c{level}.{c}", ranks, _manifest(["a", "b"]))
    spec = spec_layers(path)["c"]
    m = C.mattes(path)
    for n in "ab":
        np.testing.assert_allclose(m.matte(n), spec_matte(spec, [n]), rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(C.matte(path, n), spec_matte(spec, [n]))
        assert m.pixel_count(n) == int((spec_matte(spec, [n]) > 0).sum())


# -- errors: one line, naming the layer ----------------------------------------------------------

def _one_line(exc):
    s = str(exc.value)
    assert "\n" not in s
    return s


def test_errors(tmp_path):
    ranks = synthetic_ranks(8, 8, NAMES[:2])
    good = tmp_path / "good.exr"
    write_single(good, "crypto_object", "crypto_object{level}.{c}", ranks, _manifest(NAMES[:2]))

    plain = tmp_path / "plain.exr"
    OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION},
                 {c: np.zeros((4, 4), np.float16) for c in "RGBA"}).write(str(plain))
    with pytest.raises(CryptomatteError, match="no cryptomatte layer") as e:
        C.layer(plain)
    _one_line(e)
    with pytest.raises(CryptomatteError, match="'crypto_asset'.*layers: crypto_object") as e:
        C.layer(good, "crypto_asset")
    _one_line(e)
    with pytest.raises(CryptomatteNameError, match="'crypto_object'.*no name 'villain'") as e:
        C.matte(good, "villain")
    _one_line(e)
    with pytest.raises(CryptomatteNameError, match="no pattern 'vill\\*'"):
        C.matte(good, "vill*")

    wrong = json.loads(_manifest(NAMES[:2]))
    wrong[NAMES[0]] = "deadbeef"
    bad = tmp_path / "hash.exr"
    write_single(bad, "crypto_object", "crypto_object{level}.{c}", ranks, json.dumps(wrong))
    with pytest.raises(CryptomatteManifestError, match=f"'crypto_object'.*{NAMES[0]!r} has id deadbeef, "
                                                       f"but MurmurHash3 of the name is {C.name_bits(NAMES[0]):08x}") as e:
        C.matte(bad, NAMES[1])
    _one_line(e)

    cut = tmp_path / "cut.exr"
    write_single(cut, "crypto_object", "crypto_object{level}.{c}", ranks, _manifest(NAMES[:2])[:-12])
    with pytest.raises(CryptomatteManifestError, match="'crypto_object': manifest is truncated JSON") as e:
        C.mattes(cut)
    _one_line(e)

    notjson = tmp_path / "notjson.exr"
    write_single(notjson, "crypto_object", "crypto_object{level}.{c}", ranks, "{hero: 1}")
    with pytest.raises(CryptomatteManifestError, match="manifest is invalid JSON"):
        C.mattes(notjson)

    half = tmp_path / "half.exr"
    write_single(half, "crypto_object", "crypto_object{level}.{c}", ranks, _manifest(NAMES[:2]),
                 dtype=np.float16)
    with pytest.raises(CryptomatteError, match="'crypto_object'.*is half, ids and coverage must be float32"):
        C.matte(half, NAMES[0])

    norank = tmp_path / "norank.exr"
    OpenEXR.File(_crypto_header("crypto_object", _manifest(NAMES[:2])),
                 {c: np.zeros((4, 4), np.float32) for c in "RGBA"}).write(str(norank))
    [lay] = C.layers(norank)                    # listed (metadata outlives channels in comps) ...
    with pytest.raises(CryptomatteError, match="'crypto_object': no rank channels crypto_object00.R"):
        C.matte(norank, NAMES[0])               # ... refused when read


def test_no_manifest(tmp_path):
    """Without a manifest a plain name is hashed as it is; a pattern is refused."""
    ranks = synthetic_ranks(8, 8, NAMES)
    path = tmp_path / "nm.exr"
    write_single(path, "crypto_object", "crypto_object{level}.{c}", ranks, None)
    spec = spec_layers(path)["crypto_object"]
    np.testing.assert_array_equal(C.matte(path, NAMES[2]), spec_matte(spec, [NAMES[2]]))
    with pytest.raises(CryptomatteNameError, match="pattern, and the layer has no manifest"):
        C.matte(path, "h*")


# -- the CLI ---------------------------------------------------------------------------------------

def _run(capsys, *args):
    rc = main(["matte", *map(str, args)])
    out = capsys.readouterr()
    return rc, out.out, out.err


@needs_corpus
def test_cli_list(capsys):
    path = CORPUS / "cryptomatte/sample_images/debug_images/special_chars.exr"
    spec = spec_layers(path)["special_chars"]
    rc, out, err = _run(capsys, path, "--list")
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("layer special_chars (key fbb35e3, part 0, 6 ranks, 64x64, manifest inline, 4 names)")
    rows = {}
    for line in lines[2:]:
        hexid, _float, count, name = line.split(None, 3)      # the name keeps its own spaces
        rows[name] = (hexid, int(count))
    assert rows == {n: (h, int((spec_matte(spec, [n]) > 0).sum())) for n, h in spec["manifest"].items()}
    rc, out, _ = _run(capsys, CORPUS / SAMPLES[2], "--list", "--layer", "crypto_material", "--json")
    [doc] = json.loads(out)
    assert doc["layer"] == "crypto_material" and doc["ranks"] == 6 and len(doc["names"]) == 4
    spec = spec_layers(CORPUS / SAMPLES[2])["crypto_material"]
    for e in doc["names"]:
        assert e["pixels"] == int((spec_matte(spec, [e["name"]]) > 0).sum())
        assert np.float32(e["float"]) == spec_float(e["name"])


@needs_corpus
def test_cli_select_writes_the_matte(tmp_path, capsys):
    path = CORPUS / SAMPLES[2]
    spec = spec_layers(path)["crypto_object"]
    names = [n for n in spec["manifest"] if fnmatch.fnmatchcase(n, "/obj/instance1:instances:1*")]
    expect = spec_matte(spec, names + ["/obj/box:polygons:1"])
    out = tmp_path / "m.exr"
    rc, _, err = _run(capsys, path, "--layer", "crypto_object", "--select",
                      "/obj/instance1:instances:1*", "/obj/box:polygons:1", "-o", out)
    assert rc == 0 and err == ""
    with OpenEXR.File(str(out), separate_channels=True) as f:
        [(cname, ch)] = f.channels().items()
        assert ch.pixels.dtype == np.float32
        np.testing.assert_array_equal(ch.pixels, expect)
    tif = tmp_path / "m.tif"
    rc, _, _ = _run(capsys, path, "--layer", "crypto_object", "--select", "/obj/box:polygons:1",
                    "-o", tif, "--rgb", "-t", "rgba_fp")
    assert rc == 0
    back = next(iter(framebuf.read(tif))).data
    for c in range(4):
        np.testing.assert_array_equal(back[..., c], spec_matte(spec, ["/obj/box:polygons:1"]))
    png = tmp_path / "m.png"
    rc, _, _ = _run(capsys, CORPUS / SAMPLES[4], "--select", "равнина", "-o", png, "--rgb")
    assert rc == 0
    grey = next(iter(framebuf.read(png))).data[..., 0]
    want = spec_matte(spec_layers(CORPUS / SAMPLES[4])["special_chars"], ["равнина"])
    np.testing.assert_allclose(grey, np.clip(want, 0, 1), atol=0.5 / 255 + 1e-6)


def test_cli_errors(tmp_path, capsys):
    ranks = synthetic_ranks(8, 8, NAMES[:2])
    a = tmp_path / "two.exr"
    ch = {}
    for layer in ("crypto_object", "crypto_material"):
        for lvl in range(3):
            for letter, arr in zip("RGBA", (*ranks[2 * lvl], *ranks[2 * lvl + 1])):
                ch[f"{layer}{lvl:02d}.{letter}"] = arr
    header = {**_crypto_header("crypto_object", _manifest(NAMES[:2]), "aaaaaaa"),
              **_crypto_header("crypto_material", _manifest(NAMES[:2]), "bbbbbbb")}
    OpenEXR.File(header, ch).write(str(a))
    for args, words in [
        ((a, "--select", NAMES[0], "-o", tmp_path / "x.exr"), "2 cryptomatte layers, choose one"),
        ((a, "--layer", "crypto_object", "--select", "nobody", "-o", tmp_path / "x.exr"),
         "cryptomatte layer 'crypto_object': the manifest has no name 'nobody'"),
        ((a, "--layer", "nope", "--list"), "cryptomatte layer 'nope': not in the file"),
        ((a, "--layer", "crypto_object", "--select", NAMES[0]), "give --list, or --select"),
        ((tmp_path / "missing.exr", "--list"), "No such file"),
    ]:
        rc, out, err = _run(capsys, *args)
        assert rc == 2, args
        assert len(err.strip().splitlines()) == 1 and words in err, err
        assert err.startswith("framebuf matte: error: ")
    assert not (tmp_path / "x.exr").exists()
    rc, out, _ = _run(capsys, a, "--list")
    assert rc == 0 and "layer crypto_object" in out and "layer crypto_material" in out
    # a layer whose channels a comp dropped: --list says so and lists the others
    stale = tmp_path / "stale.exr"
    OpenEXR.File({**header, **_crypto_header("crypto_asset", _manifest(NAMES[:1]), "ccccccc")},
                 ch).write(str(stale))
    rc, out, _ = _run(capsys, stale, "--list")
    assert rc == 0 and "layer crypto_asset (key ccccccc, part 0): no rank channels" in out
    assert out.count("\nlayer ") + out.startswith("layer ") == 3
    rc, _, err = _run(capsys, stale, "--layer", "crypto_asset", "--list")
    assert rc == 2 and "cryptomatte layer 'crypto_asset': no rank channels crypto_asset00.R" in err


def test_cli_help(capsys):
    with pytest.raises(SystemExit):
        main(["matte", "--help"])
    out = capsys.readouterr().out
    assert "--select" in out and "examples:" in out and "framebuf matte shot.exr --list" in out
