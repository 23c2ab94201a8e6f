"""Copy and apply keep Cryptomatte layers bit-exact: rank ids and coverage (float32 bits), header
metadata and manifests, read back by the independent decoder of ``test_cryptomatte`` and by
framebuf's own; ``info`` describes each layer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from framebuf import cryptomatte as C
from framebuf.cli import main
from test_cryptomatte import CORPUS, SAMPLES, needs_corpus, spec_layers


def same_layers(a, b):
    la, lb = spec_layers(a), spec_layers(b)
    assert la.keys() == lb.keys() and la
    for name in la:
        assert la[name]["header"] == lb[name]["header"]
        assert la[name]["manifest"] == lb[name]["manifest"]
        assert len(la[name]["ranks"]) == len(lb[name]["ranks"])
        for (ia, ca), (ib, cb) in zip(la[name]["ranks"], lb[name]["ranks"]):
            assert ib.dtype == np.float32 and cb.dtype == np.float32
            np.testing.assert_array_equal(ia.view(np.uint32), ib.view(np.uint32))
            np.testing.assert_array_equal(ca.view(np.uint32), cb.view(np.uint32))


@needs_corpus
@pytest.mark.parametrize("rel", [s for s in SAMPLES if "sidecar" not in s])
@pytest.mark.parametrize("how", ["copy", "apply"])
def test_copy_and_apply_keep_layers_bit_exact(tmp_path, rel, how):
    src = CORPUS / rel
    out = tmp_path / "out.exr"
    args = ["copy", src, out] if how == "copy" else ["apply", src, "--shader", "gamma:gamma=2.2",
                                                      "-o", out]
    assert main(list(map(str, args))) == 0
    same_layers(src, out)
    for lay in C.layers(out):
        assert lay.manifest() == C.layer(src, lay.name).manifest()


@needs_corpus
def test_sidecar_manifest_travels_as_a_reference(tmp_path):
    """The header names the sidecar; a copy beside its JSON reads the same manifest."""
    src = CORPUS / "cryptomatte/sample_images/debug_images/sidecar_manifest.exr"
    out = tmp_path / "out.exr"
    assert main(["copy", str(src), str(out)]) == 0
    (tmp_path / "sidecar_manifest.crypto_asset.json").write_bytes(
        (src.parent / "sidecar_manifest.crypto_asset.json").read_bytes())
    same_layers(src, out)


@needs_corpus
def test_info_describes_every_layer(capsys):
    src = CORPUS / "cryptomatte/sample_images/debug_images/multichannel.exr"
    assert main(["info", str(src), "--json"]) == 0
    (doc,) = json.loads(capsys.readouterr().out)
    got = {c["name"]: (c["ranks"], c["manifest_names"], c["manifest"]) for c in doc["cryptomatte"]}
    assert got == {"crypto_asset": (6, 2, "inline"), "crypto_material": (6, 4, "inline"),
                   "crypto_object": (6, 407, "inline")}
    assert main(["info", str(src)]) == 0
    assert "cryptomatte 'crypto_object': key f834d0a, part 0, 6 ranks" in capsys.readouterr().out
