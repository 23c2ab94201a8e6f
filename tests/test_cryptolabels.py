"""``framebuf extract --labels-from cryptomatte``: labels from Cryptomatte layers of the V-Ray and
Arnold samples checked against the independent decoder of ``test_cryptomatte`` (the
specification with mmh3 + numpy + the OpenEXR binding), and the soft labels and ignore margin of
both label sources."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest
import tifffile
from PIL import Image

from framebuf.cli import main
from framebuf.post.cryptolabels import ClassRulesError, assign, load_rules, rules_from_dict
from framebuf.post.extract import ExtractOptions, extract_one
from post_fixtures import write_render_like
from test_cryptomatte import CORPUS, needs_corpus, spec_layers, spec_matte

VRAY = CORPUS / "cryptomatte/sample_images/cornellBox_CryptoWildcard.0001.exr"
ARNOLD = CORPUS / "cryptomatte/sample_images/debug_images/multichannel.exr"


def spec_class_coverage(lay: dict, classes: dict) -> tuple[list, np.ndarray]:
    """(class names sorted, (K + 1, H, W) coverage with background = 1 - sum first)."""
    names = sorted(classes)
    cov = np.stack([spec_matte(lay, classes[c]) for c in names]).astype(np.float64)
    return names, np.concatenate([(1.0 - cov.sum(axis=0))[None], cov])


def decided(coverage: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Pixels whose winner leads the runner-up by more than float rounding."""
    top2 = np.sort(coverage, axis=0)[-2:]
    return top2[1] - top2[0] > eps


def extract(tmp_path, src, **kw):
    opts = ExtractOptions(assets=("segments",), **kw)
    res = extract_one(src, tmp_path, opts)
    return res, tmp_path / (Path(src).name[:-4])


@needs_corpus
@pytest.mark.parametrize("src, layer", [(VRAY, None), (ARNOLD, "crypto_object"),
                                        (ARNOLD, "crypto_material")])
def test_labels_are_the_argmax_of_the_decoded_mattes(tmp_path, src, layer):
    res, stem = extract(tmp_path, src, labels_from="cryptomatte" + (f":{layer}" if layer else ""))
    assert res.ok, res.error
    lay = next(v for k, v in spec_layers(src).items() if layer in (None, k))
    names, cov = spec_class_coverage(lay, {n: [n] for n in lay["manifest"]})
    expected = np.argmax(cov, axis=0)          # first max: background, then the sorted names
    labels = np.asarray(Image.open(f"{stem}.segments.png"))
    info = json.loads(Path(f"{stem}.info.json").read_text("utf-8"))
    # the documented per-image numbering: background 0, names 1..N in sorted order
    assert info["segments_mapping"] == {"background": 0, **{n: i + 1 for i, n in enumerate(names)}}
    sure = decided(cov)
    assert sure.mean() > 0.99
    np.testing.assert_array_equal(labels[sure], expected[sure])
    assert len(np.unique(labels)) > 3


@needs_corpus
def test_rules_group_names_into_classes_and_a_table_numbers_them(tmp_path):
    rules = {"walls": ["Rect_*", "re:rect_.*"], "things": ["has_*", "sphere*"]}
    (tmp_path / "rules.json").write_text(json.dumps(rules))
    (tmp_path / "table.json").write_text(json.dumps({"background": 7, "walls": 20, "things": 30}))
    out = tmp_path / "out"
    out.mkdir()
    res, stem = extract(out, VRAY, labels_from="cryptomatte", classes=str(tmp_path / "rules.json"),
                        mapping=str(tmp_path / "table.json"))
    assert res.ok, res.error
    lay = next(iter(spec_layers(VRAY).values()))
    manifest = list(lay["manifest"])
    groups = {"walls": [n for n in manifest if n.lower().startswith("rect_")],
              "things": [n for n in manifest if n.startswith(("has_", "sphere"))]}
    assert sum(map(len, groups.values())) == len(manifest) == 7
    names, cov = spec_class_coverage(lay, groups)
    expected = np.array([7, *[{"walls": 20, "things": 30}[n] for n in names]])[np.argmax(cov, axis=0)]
    labels = np.asarray(Image.open(f"{stem}.segments.png"))
    sure = decided(cov)
    np.testing.assert_array_equal(labels[sure], expected[sure])
    assert set(np.unique(labels)) == {7, 20, 30}
    info = json.loads(Path(f"{stem}.info.json").read_text("utf-8"))
    assert info["extract"]["segments_source"]["names"]["sphere_?_2"] == "things"


@needs_corpus
def test_a_name_two_rules_claim_is_reported(tmp_path):
    (tmp_path / "rules.json").write_text(json.dumps({"a": "rect_*", "b": ["*_top", "*"]}))
    out = tmp_path / "out"
    out.mkdir()
    res, _ = extract(out, VRAY, labels_from="cryptomatte", classes=str(tmp_path / "rules.json"))
    assert not res.ok
    assert "'rect_[_top' by 'a', 'b'" in res.error and "--overlap first" in res.error
    res, stem = extract(out, VRAY, labels_from="cryptomatte", classes=str(tmp_path / "rules.json"),
                        overlap="first")
    assert res.ok, res.error
    assert any("claimed by several classes" in w for w in res.warnings)
    info = json.loads(Path(f"{stem}.info.json").read_text("utf-8"))
    assert info["extract"]["segments_source"]["names"]["rect_[_top"] == "a"   # the first rule
    assert info["extract"]["warnings"]


@needs_corpus
def test_unclaimed_names_follow_the_unknown_policy(tmp_path):
    (tmp_path / "rules.json").write_text(json.dumps({"spheres": "sphere*"}))
    res, _ = extract(tmp_path, VRAY, labels_from="cryptomatte", classes=str(tmp_path / "rules.json"))
    assert not res.ok and "no class claims" in res.error and "--unknown background" in res.error
    res, stem = extract(tmp_path, VRAY, labels_from="cryptomatte", unknown="background",
                        classes=str(tmp_path / "rules.json"))
    assert res.ok, res.error
    lay = next(iter(spec_layers(VRAY).values()))
    sphere = spec_matte(lay, ["sphere_?_2"])
    labels = np.asarray(Image.open(f"{stem}.segments.png"))
    sure = np.abs(sphere - 0.5) > 1e-5
    np.testing.assert_array_equal(labels[sure], (sphere > 0.5)[sure].astype(np.uint16))


@needs_corpus
def test_soft_labels_and_ignore_margin_from_cryptomatte(tmp_path):
    res, stem = extract(tmp_path, ARNOLD, labels_from="cryptomatte:crypto_material", soft="exr",
                        margin=0.25, ignore_value=255)
    assert res.ok, res.error
    lay = spec_layers(ARNOLD)["crypto_material"]
    names, cov = spec_class_coverage(lay, {n: [n] for n in lay["manifest"]})
    inp = oiio.ImageInput.open(f"{stem}.soft.exr")          # an independent reader
    spec = inp.spec()
    # EXR keeps channels sorted by name: find each by its name
    assert sorted(spec.channelnames) == sorted(["background", *names])
    assert spec.format == oiio.TypeDesc("half")
    soft = inp.read_image(format="float")
    inp.close()
    order = [list(spec.channelnames).index(n) for n in ["background", *names]]
    np.testing.assert_allclose(np.moveaxis(soft[:, :, order], -1, 0), cov, atol=2e-3)
    labels = np.asarray(Image.open(f"{stem}.segments.png"))
    top2 = np.sort(cov, axis=0)[-2:]
    gap = top2[1] - top2[0]
    clear = np.abs(gap - 0.25) > 1e-4
    np.testing.assert_array_equal((labels == 255)[clear], (gap < 0.25)[clear])
    assert 0 < (labels == 255).sum() < labels.size / 4        # edges only
    info = json.loads(Path(f"{stem}.info.json").read_text("utf-8"))
    assert info["extract"]["soft"]["channels"] == ["background", *names]
    assert info["extract"]["ignore"]["value"] == 255


def test_soft_labels_and_margin_from_masks(tmp_path):
    src = tmp_path / "r.exr"
    write_render_like(src, 64, 48, n_masks=5, seed=3)
    out = tmp_path / "out"
    out.mkdir()
    res, stem = extract(out, src, soft="tif", margin=0.5, ignore_value=999)
    assert res.ok, res.error
    info = json.loads(Path(f"{stem}.info.json").read_text("utf-8"))
    classes = info["extract"]["soft"]["channels"][1:]
    chans = info["extract"]["channels"]["segments"]
    import OpenEXR

    with OpenEXR.File(str(src), separate_channels=True) as f:
        masks = np.stack([f.channels()[chans[c]].pixels.astype(np.float64) for c in classes])
    cov = np.concatenate([(1 - masks.sum(0))[None], masks])
    soft = tifffile.imread(f"{stem}.soft.tif")
    assert soft.dtype == np.float16 and soft.shape == cov.shape
    np.testing.assert_allclose(soft, cov, atol=2e-3)
    labels = np.asarray(Image.open(f"{stem}.segments.png"))
    top2 = np.sort(cov, axis=0)[-2:]
    gap = top2[1] - top2[0]
    clear = np.abs(gap - 0.5) > 1e-3
    np.testing.assert_array_equal((labels == 999)[clear], (gap < 0.5)[clear])
    values = np.array([0, *[info["segments_mapping"][c] for c in classes]])
    keep = clear & (gap >= 0.5)
    np.testing.assert_array_equal(labels[keep], values[np.argmax(cov, axis=0)][keep])


def test_rules_file_checks(tmp_path):
    with pytest.raises(ClassRulesError, match="bad regular expression"):
        rules_from_dict({"a": "re:("})
    with pytest.raises(ClassRulesError, match="'background' is the label"):
        rules_from_dict({"background": "*"})
    with pytest.raises(ClassRulesError, match="needs a pattern"):
        rules_from_dict({"a": []})
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ClassRulesError, match="not JSON"):
        load_rules(tmp_path / "bad.json")
    r = rules_from_dict({"classes": {"x": ["a*", "re:b[0-9]+"], "y": "b1"}})
    a = assign(["a1", "b12", "b1", "c"], r)
    assert a.classes == ["x", "y"] and a.unclaimed == ["c"]
    assert a.name_class == {"a1": "x", "b12": "x", "b1": "x"} and a.overlaps == {"b1": ["x", "y"]}
    assert r.claims("b1x") == []                    # a regex matches the whole name


def _run(capsys, *args):
    code = main(list(map(str, args)))
    cap = capsys.readouterr()
    return code, cap.out + cap.err


@needs_corpus
def test_cli(tmp_path, capsys):
    code, text = _run(capsys, "extract", ARNOLD, "-o", tmp_path, "--assets", "segments",
                      "--labels-from", "cryptomatte", "-q")
    assert code == 2 and "3 Cryptomatte layers (crypto_asset, crypto_material, crypto_object)" in text
    code, text = _run(capsys, "extract", ARNOLD, "-o", tmp_path, "--classes", "x.json", "-q")
    assert code == 2 and "--classes maps Cryptomatte names" in text and "Traceback" not in text
    code, text = _run(capsys, "extract", ARNOLD, "-o", tmp_path, "--labels-from", "cryptomatte:nosuch",
                      "--assets", "segments", "-q")
    assert code == 2 and "nosuch" in text
    code, text = _run(capsys, "extract", ARNOLD, "-o", tmp_path, "--assets", "segments,rgb",
                      "--labels-from", "cryptomatte:crypto_asset", "--soft", "exr", "-q")
    assert code == 0, text
    assert {p.name for p in tmp_path.iterdir()} >= {"multichannel.segments.png", "multichannel.soft.exr",
                                                   "multichannel.rgb.png", "multichannel.info.json"}
    with pytest.raises(SystemExit):
        main(["extract", "--help"])
    text = capsys.readouterr().out
    assert "--labels-from" in text and "--ignore-margin" in text and "--soft" in text
