"""``framebuf render`` of several scenes: the batch layer (resume, executors, shards) with each
scene's files in OUTDIR/<stem>/, the same bytes a single render writes."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from framebuf.cli import main

SCENE = """\
options "opt"
    samples 0 0
end options
framebuf primitives
    sphere "ball" center {x} 0 -5 radius 1 color 0.8 0.4 0.2 1 label 2
    plane "ground" point 0 -1 0 normal 0 1 0 color 0.5 0.5 0.5 1 label 1
end framebuf
camera "cam"
    resolution 16 12
    aperture 1
    focal 1
    framebuffer "beauty" datatype "rgba_h" filename "shot.exr" primary on
    framebuffer "label" datatype "tag" filename "sub/label.tt"
end camera
"""


@pytest.fixture
def scenes(tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    paths = []
    for i, x in enumerate((-0.5, 0.0, 0.5)):
        p = folder / f"frame.{i:04d}.mi"
        p.write_text(SCENE.format(x=x))
        paths.append(p)
    return paths


def _tree(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".framebuf-job")}


def test_each_scene_into_its_own_folder_with_the_bytes_of_a_single_render(tmp_path, scenes, capsys):
    out = tmp_path / "out"
    assert main(["render", *map(str, scenes), "-o", str(out), "-j", "1", "-q"]) == 0
    assert "rendered 3 of 3 scene(s)" in capsys.readouterr().out
    tree = _tree(out)
    assert sorted(tree) == [f"frame.{i:04d}/{n}" for i in range(3) for n in ("shot.exr", "sub/label.tt")]
    single = tmp_path / "single"
    assert main(["render", str(scenes[1]), "-o", str(single)]) == 0
    assert tree["frame.0001/shot.exr"] == (single / "shot.exr").read_bytes()
    assert tree["frame.0001/sub/label.tt"] == (single / "sub/label.tt").read_bytes()
    # the ball moved between frames, so the frames differ
    assert tree["frame.0000/sub/label.tt"] != tree["frame.0002/sub/label.tt"]


def test_pool_and_folder_input_give_the_same_bytes_and_a_rerun_skips(tmp_path, scenes, capsys):
    inline, pool = tmp_path / "inline", tmp_path / "pool"
    assert main(["render", *map(str, scenes), "-o", str(inline), "-j", "1", "-q"]) == 0
    assert main(["render", str(scenes[0].parent), "-o", str(pool), "-j", "2", "-q"]) == 0
    assert _tree(inline) == _tree(pool)
    capsys.readouterr()
    before = {p: p.stat().st_mtime_ns for p in pool.rglob("*.exr")}
    assert main(["render", str(scenes[0].parent), "-o", str(pool), "-j", "2", "-q"]) == 0
    assert "rendered 0 of 3 scene(s)" in capsys.readouterr().out
    assert before == {p: p.stat().st_mtime_ns for p in pool.rglob("*.exr")}
    # another seed is another job: redone
    assert main(["render", str(scenes[0].parent), "-o", str(pool), "-j", "1", "-q", "--seed", "3"]) == 0
    assert "rendered 3 of 3" in capsys.readouterr().out


def test_webdataset_shards_hold_each_scenes_files(tmp_path, scenes, capsys):
    pattern = tmp_path / "shards" / "shard-%06d.tar"
    assert main(["render", *map(str, scenes), "--to", f"webdataset:{pattern}", "--shard-size", "2",
                 "-j", "1", "-q"]) == 0
    members = []
    for shard in sorted((tmp_path / "shards").glob("shard-*.tar")):
        with tarfile.open(shard) as tar:
            members += tar.getnames()
    assert members == [f"frame_{i:04d}.{n}" for i in range(3) for n in ("shot.exr", "sub_label.tt")]


def test_a_failing_scene_is_reported_and_the_rest_render(tmp_path, scenes, capsys):
    bad = scenes[0].parent / "broken.mi"
    bad.write_text("camera \"c\"\n  resolution 4 [\n")
    outside = scenes[0].parent / "outside.mi"
    outside.write_text(SCENE.format(x=0).replace('"shot.exr"', '"../../elsewhere.exr"'))
    out = tmp_path / "out"
    assert main(["render", str(scenes[0]), str(bad), str(outside), "-o", str(out), "-j", "1", "-q"]) == 2
    captured = capsys.readouterr()
    assert "rendered 2 of 3 scene(s)" in captured.out
    assert "broken.mi:2:" in captured.err and "failed: 1" in captured.err
    # a name outside the folder stays in the scene's folder, with a warning
    assert "outside.mi" in captured.err and 'writing "elsewhere.exr" there instead' in captured.err
    assert sorted(_tree(out)) == ["frame.0000/shot.exr", "frame.0000/sub/label.tt",
                                  "outside/elsewhere.exr", "outside/sub/label.tt"]
    assert not (tmp_path / "elsewhere.exr").exists()


def test_dry_run_takes_one_scene(tmp_path, scenes, capsys):
    assert main(["render", *map(str, scenes), "--dry-run"]) == 2
    assert "--dry-run takes one scene" in capsys.readouterr().err
