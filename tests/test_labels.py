"""framebuf.labels: mappings from the seed's tables, per-image numbering, the mask-to-label kernel."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from framebuf.errors import FramebufError
from framebuf.labels import LabelMapping, load_mapping, masks_to_labels, per_image_mapping


def numpy_reference(masks, values, background=0):
    """The cryptomatte-masks rule: argmax over [1 - sum, masks...], first maximum wins."""
    stack = np.concatenate([1.0 - masks.sum(axis=0, dtype=np.float32)[None], masks]).astype(np.float32)
    idx = np.argmax(stack, axis=0)
    return np.concatenate([[background], values]).astype(np.uint32)[idx]


# -- tables ----------------------------------------------------------------------------------------

def test_seed_tables_copied():
    face, body, cloth = load_mapping("face"), load_mapping("full_body"), load_mapping("clothing")
    assert len(face) == 44 and len(body) == 108 and len(cloth) == 22
    assert face["brow"] == 3 and face["cornea_right"] == 104 and face["eyebrows"] == 89
    assert body["default"] == 0 and body["beard"] == 1 and body["foot_right"] == 89
    assert body["glasses_lens_right"] == 98 and 39 not in body.table.values()
    assert cloth["long sleeve shirt"] == 9 and cloth["vest dress"] == 21
    assert list(cloth.table)[:3] == ["background", "bandana", "belt"]  # order as printed


def test_duplicates_reported():
    assert load_mapping("face").duplicates() == {92: ["eyelashes_left", "eyelid_left"],
                                                 93: ["eyelashes_right", "eyelid_right"]}
    body = load_mapping("full_body")
    assert body.duplicates() == {89: ["eyebrows", "foot_right"], 92: ["eyelashes_left", "eyelid_left"],
                                 93: ["eyelashes_right", "eyelid_right"]}
    assert body.duplicates(include_background=True)[0] == ["default", "background"]
    assert load_mapping("clothing").duplicates() == {}
    assert body.collisions(["eyebrows", "hair", "foot_right"]) == {89: ["eyebrows", "foot_right"]}
    assert body.collisions(["eyebrows", "hair"]) == {}


def test_load_from_json_files(tmp_path):
    bare = tmp_path / "mine.json"
    bare.write_text(json.dumps({"background": 0, "hat": 7}))
    m = load_mapping(str(bare))
    assert m.name == "mine" and m["hat"] == 7
    info = tmp_path / "188.info.json"
    info.write_text(json.dumps({"segments_mapping": {"background": 0, "body": 1}}))
    assert load_mapping(info)["body"] == 1
    with pytest.raises(FramebufError, match="unknown label mapping 'nope'"):
        load_mapping("nope")
    with pytest.raises(FramebufError, match="not name: integer"):
        LabelMapping("bad", {"a": "1"})
    with pytest.raises(FramebufError, match="uint32"):
        LabelMapping("bad", {"a": -1})


def test_values_for_reports_unknown():
    values, unknown = load_mapping("face").values_for(["hair", "eyelash_left", "nose"])
    assert values.tolist() == [17, 0, 30] and unknown == ["eyelash_left"]


def test_per_image_mapping():
    m = per_image_mapping(["nose", "brow", "hair", "body"])
    assert m.table == {"background": 0, "body": 1, "brow": 2, "hair": 3, "nose": 4}
    m = per_image_mapping(["nose", "brow", "hair"], [True, False, True])
    assert m.table == {"background": 0, "hair": 1, "nose": 2}
    assert per_image_mapping(["b", "a", "c"], {"c", "a"}).table == {"background": 0, "a": 1, "c": 2}
    assert per_image_mapping(["background", "x"]).table == {"background": 0, "x": 1}


# -- kernel ----------------------------------------------------------------------------------------

def test_argmax_by_hand():
    a = np.array([[0.6, 0.3, 0.0, 0.5, 0.25]], np.float32)
    b = np.array([[0.4, 0.3, 0.0, 0.5, 0.25]], np.float32)
    out = masks_to_labels([a, b], np.array([7, 9], np.uint32))
    # px0: a wins; px1: bg 0.4 beats 0.3; px2: empty -> bg; px3: a/b tie 0.5 vs bg 0 -> a (first);
    # px4: bg 0.5 beats both
    assert out.tolist() == [[7, 0, 0, 7, 0]]
    half = np.full((1, 1), 0.5, np.float32)
    assert masks_to_labels([half], [3]).tolist() == [[0]]     # bg 0.5 == 0.5: background wins
    assert masks_to_labels([half, half], [3, 4]).tolist() == [[3]]  # classes tie: first wins


def test_threshold_mode_last_above_wins():
    a = np.array([[0.9, 0.9, 0.1, 0.48]], np.float32)
    b = np.array([[0.0, 0.5, 0.2, 0.0]], np.float32)
    out = masks_to_labels(np.stack([a, b]), [1, 2], mode="threshold", background=5)
    assert out.tolist() == [[1, 2, 5, 5]]
    assert masks_to_labels([a, b], [1, 2], mode="threshold", threshold=0.1).tolist() == [[1, 2, 2, 1]]


def test_antialiased_edge():
    # a 1-D edge: class 1 fades out while class 2 fades in, total coverage 1 everywhere
    x = np.linspace(0, 1, 11, dtype=np.float32)[None]
    out = masks_to_labels([1 - x, x], [1, 2])
    assert out.tolist() == [[1] * 6 + [2] * 5]  # x = 0.5: tie between classes -> first


def test_argument_checks():
    with pytest.raises(FramebufError, match="mode"):
        masks_to_labels(np.zeros((1, 2, 2)), [1], mode="max")
    with pytest.raises(FramebufError, match="2 masks but 1"):
        masks_to_labels(np.zeros((2, 2, 2)), [1])
    with pytest.raises(FramebufError, match="differ in size"):
        masks_to_labels([np.zeros((2, 2)), np.zeros((3, 2))], [1, 2])
    assert masks_to_labels(np.zeros((0, 2, 3)), [], background=4).tolist() == [[4] * 3] * 2


@settings(max_examples=60, deadline=None)
@given(k=st.integers(1, 12), data=st.data())
def test_matches_numpy_argmax(k, data):
    q = data.draw(arrays(np.uint8, (k, 5, 7), elements=st.integers(0, 8)))
    # multiples of 1/8 scaled by a power of two: sums are exact in float32, so the kernel's
    # running sum and numpy's pairwise sum agree and the many exact ties are real ties
    masks = q.astype(np.float32) / np.float32(8 * 2 ** data.draw(st.integers(0, 3)))
    values = np.arange(10, 10 + k, dtype=np.uint32)
    np.testing.assert_array_equal(masks_to_labels(masks, values), numpy_reference(masks, values))


def test_large_values_and_uint32():
    m = np.ones((1, 2, 2), np.float32)
    assert masks_to_labels(m, [70000]).dtype == np.uint32
    assert masks_to_labels(m, [70000])[0, 0] == 70000
