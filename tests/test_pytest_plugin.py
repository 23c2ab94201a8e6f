"""The pytest plugin (``framebuf.testing.plugin``, entry point ``pytest11``) and the golden-file
comparison behind it (``framebuf.testing.compare``).

The plugin is exercised end to end with ``pytester`` on a sample test file: goldens created with
``--framebuf-update-golden``, a passing run, failing runs after golden files were tampered with.
The runs are subprocesses, which load the plugin through its entry point as a user's pytest
does (no ``-p``). In-process runs do not work here: pytester restores ``sys.modules`` after each
one, so the next imports a second copy of framebuf's (and Numba's) modules, and the resolver then
refuses the ray caster's ``SampleBatch`` of the other copy. Three runs (~6 s each) cover it all.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from PIL import Image as PILImage

import framebuf
from framebuf.plugins import registry
from framebuf.datatypes import datatype
from framebuf.formats.base import Image, Layer
from framebuf.testing import Tolerance, compare_files, compare_images

pytest_plugins = ["pytester"]

# pytester restores sys.modules after each test: whatever is first imported inside one is dropped
# afterwards (and PIL then forgets its JPEG plugin). Import the readers and writers up front.
PILImage.init()
registry()

SCENE_FILE = Path(__file__).resolve().parent.parent / "scenes" / "depth_rules.mi"
SAMPLE_TEST = textwrap.dedent('''\
    import math
    from pathlib import Path

    import framebuf

    GOLDEN = Path(__file__).parent / "golden"
    STATEMENTS = [
        'output "+rgba" "png" "beauty.png"',
        'output "+z" "exr" "depth.exr"',
        'output "tag" "tt" "labels.tt"',
    ]


    def test_outputs(framebuf_outputs, framebuf_golden):
        result = framebuf_outputs(STATEMENTS, resolution=(48, 36), samples=1)
        assert [f.path.name for f in result.files] == ["beauty.png", "depth.exr", "labels.tt"]
        framebuf_golden.check(result, GOLDEN)


    def test_render_a_scene_file(framebuf_render, tmp_path):
        result = framebuf_render(SCENE_FILE, seed=1)
        assert result.outdir == tmp_path / "render"
        assert sorted(f.path.name for f in result.files) == ["depth_avg.exr", "depth_min.zt"]
        z = framebuf.read(result.outdir / "depth_min.zt")["z"].data
        assert z.shape == (72, 96, 1) and math.isinf(z[0, 0, 0])
''')
W, H = 48, 36


def _diff_images(output: str) -> list[Path]:
    # unique paths in order of appearance: newer pytest repeats a multi-line failure message in
    # its short summary, so each "difference image:" line can be printed twice
    return [Path(p) for p in dict.fromkeys(re.findall(r"difference image: (\S+\.diff\.png)", output))]


def _tamper_tt(path: Path, x: int, y: int, value: int) -> None:
    """Set one label of a tt file (8-byte header, big-endian u32, bottom row first)."""
    raw = bytearray(path.read_bytes())
    width, height = int.from_bytes(raw[2:4], "big"), int.from_bytes(raw[4:6], "big")
    offset = 8 + 4 * ((height - 1 - y) * width + x)
    raw[offset:offset + 4] = value.to_bytes(4, "big")
    path.write_bytes(bytes(raw))


def _bump_depth(path: Path, moves) -> list[float]:
    """Move finite depths of a one-channel float EXR by some ULPs: ``moves`` = [(x, y, ulps)]."""
    buf = next(iter(framebuf.read(path)))
    data = buf.data.copy()
    old = []
    for x, y, ulps in moves:
        v = np.array(data[y, x, 0], np.float32)
        assert np.isfinite(v)
        old.append(float(v))
        data[y, x, 0] = (v.view(np.int32) + ulps).view(np.float32)
    buf.data = data
    framebuf.write(buf, path, filetype="exr")
    assert next(iter(framebuf.read(path))).data[moves[0][1], moves[0][0], 0] == data[moves[0][1], moves[0][0], 0]
    return old


def test_plugin_creates_passes_and_reports_differences(pytester):
    pytester.makepyfile(test_sample=f"SCENE_FILE = {str(SCENE_FILE)!r}\n" + SAMPLE_TEST)
    golden = pytester.path / "golden"

    # --framebuf-update-golden writes the golden files (the plugin comes from its entry point)
    res = pytester.runpytest_subprocess("--framebuf-update-golden", "-p", "no:cacheprovider")
    res.assert_outcomes(passed=2)
    assert sorted(p.name for p in golden.iterdir()) == ["beauty.png", "depth.exr", "labels.tt"]

    # a fresh render matches them
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)

    # tamper: one pixel of the golden PNG, one label, one depth far off and one by 2 ULPs only
    png = np.array(PILImage.open(golden / "beauty.png"))
    assert png.shape == (H, W, 4)
    old_red = int(png[7, 5, 0])
    png[7, 5, 0] = (old_red + 100) % 256
    PILImage.fromarray(png).save(golden / "beauty.png")
    _tamper_tt(golden / "labels.tt", 30, 20, 99)
    (zx, zy), (nx, ny) = (24, 30), (10, 33)  # bottom rows: the ground
    old_far, _ = _bump_depth(golden / "depth.exr", [(zx, zy, 1000), (nx, ny, 2)])

    res = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    res.assert_outcomes(failed=1, passed=1)
    out = res.stdout.str()
    assert "outputs differ from golden files" in out
    # which buffer, how many pixels, the worst pixel with both values
    assert f"beauty.png vs golden {golden / 'beauty.png'}" in out
    assert (f"(primary): 1 of {W * H} pixels differ; worst at x=5 y=7 channel R: "
            f"got {old_red}, expected {(old_red + 100) % 256} "
            f"({abs((old_red + 100) % 256 - old_red)} difference)") in out
    assert re.search(rf"labels\.tt vs golden .*\n\s+\(primary\): 1 of {W * H} pixels differ; "
                     rf"worst at x=30 y=20 channel tag: got \d+, expected 99", out), out
    # the depth 2 ULPs off is within the default 4: one pixel, not two
    assert re.search(rf"depth\.exr vs golden .*\n\s+z: 1 of {W * H} pixels differ; "
                     rf"worst at x={zx} y={zy} channel Z: got {re.escape(repr(old_far))}, "
                     rf"expected \S+ \(1000 ULPs > 4\)", out), out
    diffs = _diff_images(out)
    assert sorted(p.name for p in diffs) == ["beauty.png.diff.png", "depth.exr.diff.png",
                                             "labels.tt.diff.png"]
    for p in diffs:
        assert p.is_file() and p.parent.name == "render"
    diff = np.array(PILImage.open(next(p for p in diffs if p.name.startswith("beauty"))))
    assert diff.shape == (H, W, 3)
    assert diff[7, 5, 0] == 255 and diff[7, 5, 1] == 0           # the differing pixel, red
    others = np.ones((H, W), bool)
    others[7, 5] = False
    assert (diff[others] == 40).all()                            # everything else grey


def test_golden_checker_without_golden_folder_says_how_to_create_it(tmp_path):
    from framebuf.testing.plugin import GoldenChecker

    (tmp_path / "out").mkdir()
    with pytest.raises(pytest.fail.Exception, match="no golden folder .*--framebuf-update-golden"):
        GoldenChecker(update=False).check(tmp_path / "out", tmp_path / "golden")
    (tmp_path / "out" / "a.tt").write_bytes(b"x")
    GoldenChecker(update=True).check(tmp_path / "out", tmp_path / "golden")
    assert (tmp_path / "golden" / "a.tt").read_bytes() == b"x"


def test_plugin_is_a_pytest11_entry_point():
    import importlib.metadata as md

    [ep] = [ep for ep in md.entry_points(group="pytest11") if ep.value == "framebuf.testing.plugin"]
    assert ep.dist.name == "framebuf"


# ------------------------------------------------------------------------------------ compare
def image(*layers) -> Image:
    return Image([Layer(name, datatype(dt), np.asarray(px), tuple(ch)) for name, dt, px, ch in layers])


def one(dt, px, channels=("R", "G", "B", "A"), name=""):
    return image((name, dt, px, channels))


def _steps(x, n, dtype):
    x = np.asarray(x, dtype)
    for _ in range(n):
        x = np.nextafter(x, np.asarray(np.inf, dtype))
    return x


@pytest.mark.parametrize("dtype, dt", [(np.float32, "rgba_fp"), (np.float16, "rgba_h")])
def test_float_tolerance_is_in_ulps_of_the_files_precision(dtype, dt):
    base = np.full((4, 5, 4), 0.3, dtype)
    base[1, 2] = (1000.0, 2.0, 1e-3, -7.0)
    for steps, ok in ((4, True), (5, False)):
        near = base.copy()
        near[3, 4, 2] = _steps(base[3, 4, 2], steps, dtype)     # small value
        near[1, 2, 0] = _steps(base[1, 2, 0], min(steps, 4), dtype)  # large value, within 4
        cmp = compare_images(one(dt, near), one(dt, base))
        assert cmp.ok is ok, cmp.report()
        if not ok:
            [layer] = cmp.layers
            assert layer.differing == 1 and layer.worst_xy == (4, 3) and layer.worst_channel == "B"
            assert layer.error == 5 and layer.expected == pytest.approx(0.3, rel=1e-3)
            assert "1 of 20 pixels differ; worst at x=4 y=3 channel B" in cmp.report()
            assert "ULPs > 4" in cmp.report()
    # a looser tolerance accepts it
    far = base.copy()
    far[0, 0, 0] = _steps(base[0, 0, 0], 10, dtype)
    assert not compare_images(one(dt, far), one(dt, base)).ok
    assert compare_images(one(dt, far), one(dt, base), Tolerance(ulps=10)).ok


def test_half_ulps_are_coarser_than_float_ulps():
    a = np.full((1, 1, 4), 1.0, np.float32)
    b = a + np.float32(2 ** -11)  # one half ULP at 1.0, 4096 float ULPs
    assert not compare_images(one("rgba_fp", b), one("rgba_fp", a)).ok
    assert compare_images(one("rgba_h", b.astype(np.float16)), one("rgba_h", a.astype(np.float16))).ok


def test_nan_and_infinity_rules():
    z = lambda v: one("z", np.array(v, np.float32).reshape(1, -1, 1), ("Z",))  # noqa: E731
    assert compare_images(z([np.nan, np.inf, -np.inf, 0.0]), z([np.nan, np.inf, -np.inf, -0.0])).ok
    big = np.finfo(np.float32).max
    for got, want in ((big, np.inf), (np.inf, big), (np.nan, 1.0), (1.0, np.nan), (-np.inf, np.inf)):
        cmp = compare_images(z([got]), z([want]))
        assert not cmp.ok, (got, want)
        assert cmp.layers[0].error == np.inf
    h = lambda v: one("a_h", np.array(v, np.float16).reshape(1, -1, 1), ("A",))  # noqa: E731
    assert not compare_images(h([65504.0]), h([np.inf])).ok


@pytest.mark.parametrize("dt, dtype, channels", [
    ("rgba", np.uint8, ("R", "G", "B", "A")), ("rgba_16", np.uint16, ("R", "G", "B", "A")),
    ("tag", np.uint32, ("tag",))])
def test_integers_are_exact_by_default(dt, dtype, channels):
    base = np.arange(6 * 7 * len(channels), dtype=dtype).reshape(6, 7, len(channels))
    off = base.copy()
    off[5, 6, -1] += 1
    cmp = compare_images(one(dt, off, channels), one(dt, base, channels))
    assert not cmp.ok
    assert cmp.layers[0].differing == 1 and cmp.layers[0].worst_xy == (6, 5)
    assert cmp.layers[0].actual == int(base[5, 6, -1]) + 1 and cmp.layers[0].expected == int(base[5, 6, -1])
    assert compare_images(one(dt, off, channels), one(dt, base, channels), Tolerance(integer=1)).ok
    assert compare_images(one(dt, base.copy(), channels), one(dt, base, channels)).ok


def test_lossy_formats_use_psnr():
    rng = np.random.default_rng(5)
    base = rng.integers(20, 230, (16, 16, 3)).astype(np.uint8)
    mild = (base.astype(int) + rng.choice([-1, 1], base.shape)).astype(np.uint8)   # MSE 1: 48.1 dB
    strong = (base.astype(int) + rng.choice([-12, 12], base.shape)).astype(np.uint8)  # 26.5 dB
    assert compare_images(one("rgb", mild, "RGB"), one("rgb", base, "RGB"), lossy=True).ok
    assert not compare_images(one("rgb", mild, "RGB"), one("rgb", base, "RGB")).ok  # exact otherwise
    cmp = compare_images(one("rgb", strong, "RGB"), one("rgb", base, "RGB"), lossy=True)
    assert not cmp.ok and "PSNR 26.5 dB < 40.0 dB" in cmp.report()
    assert compare_images(one("rgb", strong, "RGB"), one("rgb", base, "RGB"), Tolerance(psnr=25),
                          lossy=True).ok


def test_jpeg_files_compare_by_psnr(tmp_path):
    fbs = framebuf.FrameBufferSet(32, 24)
    y, x = np.mgrid[0:24, 0:32]
    px = np.stack([x / 31, y / 23, (x + y) / 54, np.ones_like(x)], axis=2).astype(np.float32)
    buf = fbs.add("rgba", "rgba_fp", data=px)
    framebuf.write(buf, tmp_path / "a.jpg", quality=95)
    framebuf.write(buf, tmp_path / "b.jpg", quality=90)
    framebuf.write(buf, tmp_path / "c.png")
    assert compare_files(tmp_path / "a.jpg", tmp_path / "b.jpg").ok  # different bytes, close pixels
    assert (tmp_path / "a.jpg").read_bytes() != (tmp_path / "b.jpg").read_bytes()
    cmp = compare_files(tmp_path / "c.png", tmp_path / "a.jpg")
    assert not cmp.ok and cmp.problems[0] == "format png, golden is jpg"


def test_missing_extra_and_mismatched_buffers():
    rgba = ("", "rgba_h", np.zeros((3, 4, 4), np.float16), "RGBA")
    z = ("depth", "z", np.ones((3, 4, 1), np.float32), ("Z",))
    n = ("normals", "n", np.zeros((3, 4, 3), np.float32), ("normals.X", "normals.Y", "normals.Z"))
    cmp = compare_images(image(rgba), image(rgba, z))
    assert not cmp.ok and cmp.problems == ["buffer depth with channels Z is missing"]
    cmp = compare_images(image(rgba, z, n), image(rgba, z))
    assert not cmp.ok and cmp.problems == ["unexpected extra channels normals.X normals.Y normals.Z"]
    assert [r.ok for r in cmp.layers] == [True, True]
    wrong = ("", "rgba_fp", np.zeros((3, 4, 4), np.float32), "RGBA")
    cmp = compare_images(image(wrong), image(rgba))
    assert cmp.problems == ["buffer (primary) is rgba_fp, golden is rgba_h"]
    small = ("", "rgba_h", np.zeros((2, 4, 4), np.float16), "RGBA")
    cmp = compare_images(image(small), image(rgba))
    assert cmp.problems == ["size 4x2, golden is 4x3"] and "size 4x2" in cmp.report()


def test_difference_image_marks_the_differing_pixels(tmp_path):
    base = np.zeros((5, 6, 1), np.float32)
    got = base.copy()
    got[1, 2] = 1.0          # far
    got[3, 4] = 1e-30        # a few ULPs above 0 but beyond 4
    cmp = compare_images(one("z", got, ("Z",)), one("z", base, ("Z",)))
    assert cmp.layers[0].differing == 2 and cmp.layers[0].worst_xy == (2, 1)
    path = cmp.write_diff_image(tmp_path / "d.png")
    d = np.array(PILImage.open(path))
    assert d.shape == (5, 6, 3) and tuple(d[1, 2]) == (255, 0, 0)
    assert 64 <= d[3, 4, 0] < 255 and d[3, 4, 1] == 0
    assert (d[0, 0] == 40).all()
    ok = compare_images(one("z", base, ("Z",)), one("z", base, ("Z",)))
    assert ok.ok and ok.write_diff_image(tmp_path / "none.png") is None
