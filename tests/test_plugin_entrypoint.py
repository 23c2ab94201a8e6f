"""Shaders from installed distributions: found through the ``framebuf`` entry-point group.

Needs the example package installed: ``pip install -e ./examples/framebuf-glow`` (the README's test
command does it).
"""

from __future__ import annotations

import importlib.metadata as md
import sys
import textwrap

import numpy as np
import pytest

from framebuf import FrameBufferSet
from framebuf.plugins import ENTRY_POINT_GROUP, make_plugin_manager, reset_registry
from framebuf.shading import apply_shader


def _glow_entry_point():
    eps = [ep for ep in md.entry_points(group=ENTRY_POINT_GROUP) if ep.name == "glow"]
    if not eps:
        pytest.fail("framebuf-glow is not installed: pip install -e ./examples/framebuf-glow")
    return eps[0]


def test_glow_found_through_the_entry_point():
    ep = _glow_entry_point()
    assert ep.value == "framebuf_glow" and ep.dist.name == "framebuf-glow"
    reg = reset_registry()
    assert "glow" in reg.shaders
    # registered under the entry point's name, by the plugin manager's entry-point loader
    assert reg.origin[("shaders", "glow")] == "glow"
    pm = make_plugin_manager()
    dists = {pm.get_name(plugin): dist.metadata["name"] for plugin, dist in pm.list_plugin_distinfo()}
    assert dists.get("glow") == "framebuf-glow"
    # without entry points the shader is not there: nothing else (no hand import) registers it
    assert "glow" not in reset_registry(entry_points=False).shaders
    reset_registry()


def test_glow_runs_by_name():
    reset_registry()
    fbs = FrameBufferSet(9, 9)
    px = np.zeros((9, 9, 4), np.float32)
    px[4, 4] = (3.0, 0.5, 0.0, 1.0)
    fbs.add("beauty", "rgba_fp", data=px)
    apply_shader("glow", fbs, {"threshold": 1.0, "radius": 2.0, "dst": "glowing"})
    out = fbs["glowing"].data
    # bright pass: red 3 - 1 = 2 at the centre; gauss radius 2 taps (e, 1 - e0, e) normalised
    e = np.exp(-4.5 * 0.25) - np.exp(-4.5)
    c = 1 - np.exp(-4.5)
    w = np.array([e, c, e]) / (2 * e + c)
    assert out[4, 4, 0] == pytest.approx(3.0 + 2 * w[1] * w[1], rel=1e-5)
    assert out[4, 5, 0] == pytest.approx(2 * w[1] * w[0], rel=1e-5)
    assert out[3, 5, 0] == pytest.approx(2 * w[0] * w[0], rel=1e-5)
    assert out[4, 4, 1] == 0.5 and out[4, 5, 1] == 0.0    # green below the threshold
    assert out[4, 4, 3] == 1.0 and out[4, 5, 3] == 0.0    # the glow adds light, not coverage


def test_any_entry_point_is_honoured(tmp_path, monkeypatch):
    """A distribution made on the spot (a .dist-info folder on sys.path) adds a shader."""
    module = f"fb_tmp_plugin_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent('''
        from framebuf import hookimpl
        from framebuf.shading import PRIMARY, Param, output_shader

        @output_shader("tmp_invert", params=[Param("src", "buffer", PRIMARY)], reads=["src"], writes=["src"])
        def tmp_invert(ctx, src):
            src.data = 1.0 - src.data

        @hookimpl
        def framebuf_output_shaders():
            return [tmp_invert.spec]
    '''))
    dist = tmp_path / "fb_tmp_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fb-tmp-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\ntmp_invert = {module}\n")
    assert module not in sys.modules
    with monkeypatch.context() as m:
        m.syspath_prepend(str(tmp_path))
        reg = reset_registry()
        assert reg.origin[("shaders", "tmp_invert")] == "tmp_invert"
        fbs = FrameBufferSet(2, 1)
        fbs.add("beauty", "rgba_fp", data=np.full((1, 2, 4), 0.25, np.float32))
        apply_shader("tmp_invert", fbs, {})
        np.testing.assert_allclose(fbs["beauty"].data, 0.75)
    sys.modules.pop(module, None)
    assert "tmp_invert" not in reset_registry().shaders
