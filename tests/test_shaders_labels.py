"""segmentation_to_label: overlapping, anti-aliased and empty masks; tables with duplicates."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from framebuf import FrameBufferSet
from framebuf.errors import ShaderError
from framebuf.shading import ShaderWarning, apply_shader


def mask_set(masks: dict, w=4, h=1, dtype="a_fp"):
    fbs = FrameBufferSet(w, h)
    fbs.add("beauty", "rgba_fp")
    fbs.add("segmentation", "a_fp", user=True)  # V-Ray's empty "pass for creation": not a class
    for name, values in masks.items():
        fbs.add(f"segmentation.{name}", dtype, user=True, data=np.asarray(values, np.float32).reshape(h, w))
    return fbs


def labels(fbs, name="segments"):
    return fbs[name].data[:, :, 0].tolist()


def test_per_image_numbering_overlapping_masks():
    fbs = mask_set({"nose": [0.7, 0.0, 0.5, 0.0], "hair": [0.3, 0.6, 0.5, 0.0], "brow": [0, 0, 0, 0]})
    ctx = apply_shader("segmentation_to_label", fbs, {})
    # alphabetical: brow 1, hair 2, nose 3; px2: hair/nose tie -> hair (alphabetically first)
    assert ctx.info["mapping"].table == {"background": 0, "brow": 1, "hair": 2, "nose": 3}
    assert labels(fbs) == [[3, 2, 2, 0]]
    assert fbs["segments"].datatype.name == "tag" and fbs["segments"].user
    assert json.loads(fbs.attributes["segments.mapping"])["nose"] == 3


def test_present_pixels_numbers_only_covered_classes(tmp_path):
    fbs = mask_set({"nose": [0.7, 0, 0, 0], "hair": [0, 0.9, 0, 0], "brow": [0, 0, 0, 0]})
    out = tmp_path / "map.json"
    ctx = apply_shader("segmentation_to_label", fbs, {"present": "pixels", "mapping_file": str(out)})
    assert ctx.info["mapping"].table == {"background": 0, "hair": 1, "nose": 2}
    assert labels(fbs) == [[2, 1, 0, 0]]
    assert json.loads(out.read_text()) == {"background": 0, "hair": 1, "nose": 2}


def test_antialiased_edge_with_background_term():
    # coverage fades from hair to nothing: background wins once 1 - hair > hair
    fbs = mask_set({"hair": [1.0, 0.6, 0.5, 0.2]})
    apply_shader("segmentation_to_label", fbs, {"mapping": "face"})
    assert labels(fbs) == [[17, 17, 0, 0]]  # 0.5 vs background 0.5: background first


def test_empty_masks_give_background():
    fbs = mask_set({"hair": [0, 0, 0, 0], "nose": [0, 0, 0, 0]})
    apply_shader("segmentation_to_label", fbs, {"mapping": "face", "dst": "face_labels"})
    assert labels(fbs, "face_labels") == [[0, 0, 0, 0]]


def test_threshold_mode():
    fbs = mask_set({"hair": [0.9, 0.9, 0.3, 0.0], "nose": [0.0, 0.5, 0.0, 0.1]})
    apply_shader("segmentation_to_label", fbs, {"mapping": "face", "mode": "threshold"})
    assert labels(fbs) == [[17, 30, 0, 0]]  # px1: both above 0.48, nose is later -> nose


def test_duplicate_values_refused_unless_allow_merge():
    fbs = mask_set({"eyelid_left": [0.9, 0, 0, 0], "eyelashes_left": [0, 0.9, 0, 0], "hair": [0, 0, 0.9, 0]})
    with pytest.raises(ShaderError, match=r"merge.*92: eyelashes_left, eyelid_left.*allow_merge"), \
            pytest.warns(ShaderWarning, match="ambiguous: 92"):
        apply_shader("segmentation_to_label", fbs, {"mapping": "face"})
    with pytest.warns(ShaderWarning) as record:
        ctx = apply_shader("segmentation_to_label", fbs, {"mapping": "face", "allow_merge": True})
    assert any("merging classes that share a value: 92" in str(r.message) for r in record)
    assert labels(fbs) == [[92, 92, 17, 0]]
    assert ctx.info["merged"] == {92: ["eyelashes_left", "eyelid_left"]}


def test_table_duplicates_listed_and_warned_when_a_name_is_used():
    fbs = mask_set({"hair": [0.9, 0, 0, 0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # hair's value is not shared: nothing ambiguous
        ctx = apply_shader("segmentation_to_label", fbs, {"mapping": "full_body"})
    assert set(ctx.info["duplicates"]) == {89, 92, 93}


def test_table_duplicates_warned_even_without_collision():
    fbs = mask_set({"eyebrows": [0.9, 0, 0, 0], "hair": [0, 0.9, 0, 0]})
    with pytest.warns(ShaderWarning, match="ambiguous: 89: eyebrows, foot_right$"):
        ctx = apply_shader("segmentation_to_label", fbs, {"mapping": "full_body"})
    assert labels(fbs) == [[89, 17, 0, 0]]
    assert 89 in ctx.info["duplicates"]


def test_unknown_class_reported():
    fbs = mask_set({"eyelash_left": [0.9, 0, 0, 0], "hair": [0, 0.9, 0, 0]})
    with pytest.raises(ShaderError, match="no value for 'eyelash_left'"):
        apply_shader("segmentation_to_label", fbs, {"mapping": "face"})
    with pytest.warns(ShaderWarning, match="labelled background: eyelash_left"):
        apply_shader("segmentation_to_label", fbs, {"mapping": "face", "unknown": "background"})
    assert labels(fbs) == [[0, 17, 0, 0]]


def test_masks_list_and_custom_table(tmp_path):
    table = tmp_path / "t.json"
    table.write_text(json.dumps({"background": 0, "a": 5, "b": 6}))
    fbs = FrameBufferSet(2, 1)
    fbs.add("a", "a_fp", user=True, data=np.array([[0.9, 0.1]], np.float32))
    fbs.add("b", "coverage", user=True, data=np.array([[0.0, 0.8]], np.float32))
    apply_shader("segmentation_to_label", fbs, {"masks": "b,a", "mapping": "t.json", "dst": "lab"},
                 context={"scene_dir": tmp_path})
    assert labels(fbs, "lab") == [[5, 6]]


def test_errors():
    fbs = mask_set({"hair": [1, 0, 0, 0]})
    with pytest.raises(ShaderError, match="no buffer is named seg_"):
        apply_shader("segmentation_to_label", fbs, {"prefix": "seg_"})
    with pytest.raises(ShaderError, match="'missing'"):
        apply_shader("segmentation_to_label", fbs, {"masks": "missing"})
    with pytest.raises(ShaderError, match="not a tag buffer"):
        apply_shader("segmentation_to_label", fbs, {"dst": "beauty"})
    fbs.add("segmentation.depth", "z")
    with pytest.raises(ShaderError, match="masks are scalar"):
        apply_shader("segmentation_to_label", fbs, {})


def test_bit_masks():
    fbs = FrameBufferSet(3, 1)
    for name, v in (("x", [1, 0, 0]), ("y", [0, 1, 0])):
        fbs.add(f"segmentation.{name}", "bit", user=True, data=np.array([v], np.uint8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        apply_shader("segmentation_to_label", fbs, {})
    assert labels(fbs) == [[1, 2, 0]]
