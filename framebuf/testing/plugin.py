"""pytest plugin (entry point ``pytest11``): render scenes or output statements in tests and compare
every output with golden files.

Fixtures:

``framebuf_render(scene, seed=0)``
    Render a ``.mi`` file (path) or scene text into the test's ``tmp_path``; returns the render
    result (``.files`` lists what was written, ``.outdir`` where).
``framebuf_outputs(statements, resolution=(64, 48), samples=1)``
    Render a list of framebuffer/output statements (camera-block text) against the built-in test
    scene (three primitives with known labels), the quick way to pin down one output setup.
``framebuf_golden``
    ``framebuf_golden.check(result_or_folder, golden_folder, tolerance=Tolerance(), per_file={})``
    compares every golden file with the rendered file of the same name: exact for integer and
    label types, ULPs for half/float, PSNR for JPEG. On failure the test fails with a readable
    report (which buffer, how many pixels, the worst pixel) and a difference image is written next
    to the rendered file as ``NAME.diff.png``.

Run pytest with ``--framebuf-update-golden`` to (re)write golden files from the current render.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .compare import Tolerance, compare_files

TEST_SCENE = """\
options "opt"
    samples 0 {samples}
    filter box 1 1
end options
framebuf primitives
    plane "ground" point 0 -1 0 normal 0 1 0 color 0.4 0.4 0.4 1 label 1
    sphere "ball" center -0.8 0 -5 radius 1 color 0.9 0.2 0.1 1 label 2 velocity 0.5 0 0
    box "crate" min 0.4 -1 -6.5 max 1.8 0.4 -5.1 color 0.2 0.4 0.9 1 label 3
end framebuf
camera "cam"
    resolution {width} {height}
    aspect {aspect}
    aperture 1.0
    focal 1.2
{statements}
end camera
"""


def pytest_addoption(parser):
    group = parser.getgroup("framebuf")
    group.addoption(
        "--framebuf-update-golden", action="store_true", default=False,
        help="write the current render's outputs as the golden files instead of comparing",
    )


def _render(scene, outdir: Path, seed: int = 0):
    from ..scene import load, loads
    from ..scene.execute import render_scene

    if isinstance(scene, (str, Path)) and Path(str(scene)).suffix == ".mi" and Path(str(scene)).exists():
        loaded = load(scene)
    else:
        loaded = loads(str(scene), filename="<test scene>")
    outdir.mkdir(parents=True, exist_ok=True)
    return render_scene(loaded, outdir, seed=seed)


@pytest.fixture
def framebuf_render(tmp_path):
    def render(scene, seed: int = 0, outdir=None):
        return _render(scene, Path(outdir) if outdir else tmp_path / "render", seed=seed)

    return render


@pytest.fixture
def framebuf_outputs(tmp_path):
    def render(statements, resolution=(64, 48), samples: int = 1, seed: int = 0):
        if not isinstance(statements, str):
            statements = "\n".join(statements)
        text = TEST_SCENE.format(
            samples=samples, width=resolution[0], height=resolution[1],
            aspect=resolution[0] / resolution[1],
            statements="\n".join("    " + line for line in statements.splitlines()),
        )
        return _render(text, tmp_path / "render", seed=seed)

    return render


class GoldenChecker:
    def __init__(self, update: bool):
        self.update = update

    def check(self, rendered, golden_folder, tolerance: Tolerance = Tolerance(), per_file=None):
        folder = Path(getattr(rendered, "outdir", rendered))
        golden = Path(golden_folder)
        per_file = per_file or {}
        if self.update:
            golden.mkdir(parents=True, exist_ok=True)
            for f in sorted(folder.iterdir()):
                if f.is_file() and not f.name.endswith(".diff.png"):
                    shutil.copy2(f, golden / f.name)
            return
        if not golden.is_dir():
            pytest.fail(f"no golden folder {golden}; run pytest with --framebuf-update-golden "
                        f"to create it", pytrace=False)
        failures = []
        for g in sorted(p for p in golden.iterdir() if p.is_file()):
            actual = folder / g.name
            if not actual.exists():
                failures.append(f"{g.name}: not written by the render (golden file exists)")
                continue
            cmp = compare_files(actual, g, per_file.get(g.name, tolerance))
            if not cmp.ok:
                diff = cmp.write_diff_image(actual.with_name(actual.name + ".diff.png"))
                failures.append(cmp.report() + (f"\n  difference image: {diff}" if diff else ""))
        if failures:
            pytest.fail("outputs differ from golden files:\n" + "\n".join(failures), pytrace=False)


@pytest.fixture
def framebuf_golden(request):
    return GoldenChecker(request.config.getoption("--framebuf-update-golden"))
