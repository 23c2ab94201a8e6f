"""``framebuf render``: dry run, closing table, preview sheet, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from framebuf.cli import main
from framebuf.preview import sheet_size

ROOT = Path(__file__).resolve().parent.parent

SCENE = """\
options "opt"
    samples 0 0
end options
framebuf primitives
    sphere "ball" center 0 0 -5 radius 1 color 0.8 0.4 0.2 1 label 2 velocity 0.3 0 0
    plane "ground" point 0 -1 0 normal 0 1 0 color 0.5 0.5 0.5 1 label 1
end framebuf
camera "cam"
    resolution 20 15
    aperture 1
    focal 1
    framebuffer "beauty" datatype "rgba_h" filename "shot.exr" primary on
    framebuffer "depth" datatype "z" filename "shot.exr"
    framebuffer "nrm" datatype "n"
    framebuffer "motion" datatype "m" filename "motion.mt"
    framebuffer "label" datatype "tag" filename "label.tt"
    framebuffer "shown" datatype "rgba" user on filename "labels.png"
    output "visualise_labels" ("src" "label", "dst" "shown")
end camera
"""


@pytest.fixture
def scene_file(tmp_path):
    path = tmp_path / "scene.mi"
    path.write_text(SCENE)
    return path


def test_dry_run_prints_the_setup_and_writes_nothing(scene_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["render", str(scene_file), "-o", str(out), "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "mode: named frame buffers" in text
    assert "framebuffer 'beauty': rgba_h" in text and "shot.exr" in text
    assert "output shader visualise_labels" in text
    planned = text.split("would write (dry run, nothing written):")[1].splitlines()
    rows = {Path(line.split()[0]).name: line.split()[1:] for line in planned[3:] if line.strip()}
    assert rows == {"shot.exr": ["exr", "beauty,depth", "after", "shaders"],
                    "motion.mt": ["mt", "motion", "after", "shaders"],
                    "label.tt": ["tt", "label", "after", "shaders"],
                    "labels.png": ["png", "shown", "after", "shaders"]}
    assert not out.exists()


def test_dry_run_checks_the_output_setup(tmp_path, capsys):
    path = tmp_path / "bad.mi"
    path.write_text(SCENE.replace('filename "motion.mt"', 'filename "motion.png"'))
    assert main(["render", str(path), "-o", str(tmp_path / "out"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:15:" in err and "format 'png' cannot store" in err
    assert not (tmp_path / "out").exists()


def test_render_prints_a_closing_table(scene_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["render", str(scene_file), "-o", str(out), "--seed", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("rendered 20x15, 300 samples with raycast")
    assert lines[1].split() == ["file", "format", "type", "size"]
    rows = {line.split()[0]: line.split() for line in lines[3:]}
    assert set(rows) == {"shot.exr", "motion.mt", "label.tt", "labels.png"}
    assert rows["shot.exr"][1:3] == ["exr", "rgba_h,z"]
    assert rows["label.tt"][1:3] == ["tt", "tag"]
    size = (out / "label.tt").stat().st_size
    assert rows["label.tt"][3:] == ([str(size), "B"] if size < 1024 else [f"{size / 1024:.1f}", "KiB"])
    assert not (out / "preview.png").exists()


def test_preview_sheet_has_every_buffer(scene_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["render", str(scene_file), "-o", str(out), "--preview"]) == 0
    assert "preview.png" in capsys.readouterr().out
    with Image.open(out / "preview.png") as img:
        assert img.format == "PNG"
        assert img.size == sheet_size(6, 20, 15)  # beauty depth nrm motion label shown
        assert img.size == (4 * 256 + 5 * 6, 2 * (192 + 16) + 3 * 6)
        # the labels tile is not blank: the visualise shader coloured it
        tile = img.convert("RGB").crop((6 + 3 * 262, 6, 6 + 3 * 262 + 256, 6 + 192))
        assert len(tile.getcolors(maxcolors=1 << 16)) >= 3


@pytest.mark.parametrize("text, where", [
    ('camera "c"\n  resolution 10 10\n  output "rgba" "tif" "x.tif" "y"\nend camera\n', ":3:"),
    ('camera "c"\n  resolution 10 10\n  output "no_such_shader" ()\nend camera\n', ":3:3: unknown output shader"),
    ('camera "c"\n  framebuffer "n" datatype "n" filename "n.jpg"\nend camera\n', ":2:"),
])
def test_bad_scene_is_one_line_with_location_and_exit_2(tmp_path, capsys, text, where):
    path = tmp_path / "bad.mi"
    path.write_text(text)
    assert main(["render", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if ": error: " in line]
    assert len(errors) == 1
    assert errors[0].startswith(f"framebuf render: error: {path}")
    assert where in errors[0]


def test_unknown_source_is_an_error(scene_file, tmp_path, capsys):
    assert main(["render", str(scene_file), "-o", str(tmp_path), "--source", "nope"]) == 2
    assert "unknown sample source 'nope'" in capsys.readouterr().err


def test_command_line_entry_point(scene_file, tmp_path):
    """Through a real process: exit status, table on stdout, no progress bar when not a TTY."""
    proc = subprocess.run([sys.executable, "-m", "framebuf", "render", str(scene_file), "-o",
                           str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "shot.exr" in proc.stdout and "rendering [" not in proc.stderr
    bad = tmp_path / "bad.mi"
    bad.write_text('camera "c"\n  resolution 10\nend camera\n')
    proc = subprocess.run([sys.executable, "-m", "framebuf", "render", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and f"{bad}:3:1: expected the y resolution" in proc.stderr


# -- issue 15: stale preview, closing count, first-run notice, -o naming a file -----------------

def _table_rows(lines):
    return {line.split()[0]: line for line in lines[3:] if line.strip()}


def test_closing_count_matches_the_rows_listed(scene_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["render", str(scene_file), "-o", str(out), "--preview"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = _table_rows(lines)
    # 4 scene files + the preview: the count once said 4 and the table listed 5
    assert len(rows) == 5 and "preview.png" in rows
    assert "; 5 file(s) written in" in lines[0]


def test_run_without_preview_removes_its_stale_sheet(scene_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["render", str(scene_file), "-o", str(out), "--preview"]) == 0
    assert (out / "preview.png").exists()
    capsys.readouterr()
    assert main(["render", str(scene_file), "-o", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not (out / "preview.png").exists()
    assert "; 4 file(s) written, 1 removed in" in lines[0]
    assert "(removed: stale, from an earlier --preview run)" in _table_rows(lines)["preview.png"]
    assert len(_table_rows(lines)) == 5


def test_a_preview_png_of_the_users_own_is_kept(scene_file, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    Image.new("RGB", (4, 4)).save(out / "preview.png")
    assert main(["render", str(scene_file), "-o", str(out)]) == 0
    assert (out / "preview.png").exists()
    assert "preview.png" not in capsys.readouterr().out


def test_outdir_naming_an_existing_file_is_one_line(scene_file, tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    r = subprocess.run([sys.executable, "-m", "framebuf", "render", str(scene_file), "-o", str(target)],
                       capture_output=True, text=True, env={**__import__("os").environ,
                                                             "PYTHONPATH": str(ROOT)})
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"framebuf render: error: {target}: exists and is not a folder"]
    assert target.read_text() == "x"


def test_first_run_notice_tracks_the_numba_cache(tmp_path, monkeypatch):
    # a module of one cached kernel: cold before its first call, warm after
    import importlib

    from framebuf.progress import jit_cache_cold

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "fb_notice_probe.py").write_text(
        "from numba import njit\n\n@njit(cache=True)\ndef twice(x):\n    return 2 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import numba.core.config as nconfig
    monkeypatch.setattr(nconfig, "CACHE_DIR", str(tmp_path / "cache"))
    probe = importlib.import_module("fb_notice_probe")
    assert jit_cache_cold(probe) is True
    assert probe.twice(3) == 6
    assert jit_cache_cold(probe) is False


def test_render_prints_the_compile_notice_when_cold(scene_file, tmp_path, capsys, monkeypatch):
    import framebuf.progress as progress

    monkeypatch.setattr(progress, "jit_cache_cold", lambda *modules: True)
    assert main(["render", str(scene_file), "-o", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "framebuf render: compiling kernels (first run only, cached afterwards)" in err
    monkeypatch.setattr(progress, "jit_cache_cold", lambda *modules: False)
    assert main(["render", str(scene_file), "-o", str(tmp_path / "o")]) == 0
    assert "compiling" not in capsys.readouterr().err
