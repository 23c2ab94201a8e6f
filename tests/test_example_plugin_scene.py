"""The example plugin package from a scene: ``scenes/example_plugin.mi`` names the ``glow`` output
shader of ``examples/framebuf-glow`` (installed; found through the ``framebuf`` entry point) and
writes the beauty before (``plain.exr``) and after (``glow.exr``) it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from framebuf.plugins import registry
from framebuf.scene import load, loads
from framebuf.scene.execute import render_scene

from helpers import oiio_read

SCENE = Path(__file__).resolve().parent.parent / "scenes" / "example_plugin.mi"
THRESHOLD, RADIUS, INTENSITY = 0.6, 4.0, 2.0  # as in the scene


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    if "glow" not in registry().shaders:
        pytest.fail("framebuf-glow is not installed: pip install -e ./examples/framebuf-glow")
    return render_scene(load(SCENE), tmp_path_factory.mktemp("glow"), seed=2)


def rgba(path):
    px, spec = oiio_read(path, "float")
    assert list(spec.channelnames) == ["R", "G", "B", "A"] and str(spec.format) == "float"
    return px


def gauss_blur(img, radius):
    """The README's post-filter gauss, written out: taps exp(-4.5 (d/r)^2) - exp(-4.5) for
    |d| < r, along x then y, taps outside the image dropped and the rest renormalised."""
    big = int(math.ceil(radius)) - 1
    d = np.arange(-big, big + 1)
    w = np.exp(-4.5 * (d / radius) ** 2) - math.exp(-4.5)
    h, wd, _ = img.shape

    def along(a, axis):
        out = np.zeros_like(a, dtype=np.float64)
        norm = np.zeros(a.shape[axis])
        n = a.shape[axis]
        for k, tap in zip(d, w):
            src = slice(max(0, k), n + min(0, k))
            dst = slice(max(0, -k), n - max(0, k))
            idx_s = [slice(None)] * 3
            idx_d = [slice(None)] * 3
            idx_s[axis], idx_d[axis] = src, dst
            out[tuple(idx_d)] += tap * a[tuple(idx_s)]
            norm[dst] += tap
        shape = [1, 1, 1]
        shape[axis] = n
        return out / norm.reshape(shape)

    return along(along(img.astype(np.float64), 1), 0)


def test_glow_ran_by_name_from_the_entry_point(result):
    assert result.shaders == ["glow"]
    assert registry().origin[("shaders", "glow")] == "glow"  # the entry point's name, not a built-in
    assert [f.path.name for f in result.files] == ["plain.exr", "glow.exr", "glow.png"]


def test_glow_adds_a_blurred_bright_pass(result):
    plain = rgba(result.outdir / "plain.exr")
    glow = rgba(result.outdir / "glow.exr")
    added = glow - plain
    # light only: never darker, alpha untouched
    assert added.min() > -1e-6 and (added[:, :, 3] == 0).all()
    # exactly the bright pass (RGB above the threshold), blurred and scaled
    bright = np.maximum(plain[:, :, :3] - THRESHOLD, 0.0)
    assert (bright > 0).sum() > 50, "the scene has pixels above the threshold"
    expected = INTENSITY * gauss_blur(bright, RADIUS)
    assert np.allclose(added[:, :, :3], expected, atol=1e-5)
    # the glow spreads: pixels that were not bright (some not even covered) now glow ...
    spread = (added[:, :, :3].max(axis=2) > 1e-3) & (bright.max(axis=2) == 0)
    assert spread.sum() > 50
    assert (spread & (plain[:, :, 3] == 0)).sum() > 5, "glow over the empty sky"
    # ... by at most radius - 1 = 3 pixels: farther from every bright pixel nothing changes
    near = np.zeros(bright.shape[:2], bool)
    ys, xs = np.nonzero(bright.max(axis=2) > 0)
    for dy in range(-3, 4):
        for dx in range(-3, 4):
            near[np.clip(ys + dy, 0, near.shape[0] - 1), np.clip(xs + dx, 0, near.shape[1] - 1)] = True
    assert (~near).sum() > 1000 and (added[~near] == 0).all()


def test_without_the_shader_the_render_is_the_plain_one(result, tmp_path):
    text = SCENE.read_text()
    without = "\n".join(l for l in text.splitlines() if '"glow"' not in l)
    assert without != text
    other = render_scene(loads(without, filename=str(SCENE), base_dir=SCENE.parent), tmp_path, seed=2)
    assert other.shaders == []
    same = rgba(tmp_path / "glow.exr")
    assert np.array_equal(same, rgba(result.outdir / "plain.exr"))
    assert not np.array_equal(same, rgba(result.outdir / "glow.exr"))
    png_plain = oiio_read(tmp_path / "glow.png", "uint8")[0].astype(int)
    png_glow = oiio_read(result.outdir / "glow.png", "uint8")[0].astype(int)
    assert (png_glow >= png_plain).all() and (png_glow > png_plain).sum() > 50
