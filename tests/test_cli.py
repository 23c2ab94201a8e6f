"""The command line as a user meets it: help for every subcommand, one-line errors, exit codes."""

import subprocess
import sys

import pytest

from pathlib import Path

from framebuf.cli import _command_modules, main


def _run(*args):
    return subprocess.run([sys.executable, "-m", "framebuf", *args], capture_output=True, text=True,
                          timeout=120)


def test_top_level_help_lists_every_command():
    out = _run("--help").stdout
    for module in _command_modules():
        assert module.NAME in out


@pytest.mark.parametrize("name", [m.NAME for m in _command_modules()])
def test_every_command_has_help(name, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([name, "--help"])
    assert exit_.value.code == 0
    assert "usage: framebuf " + name in capsys.readouterr().out


def test_formats_lists_the_registry(capsys):
    from framebuf.plugins import registry

    assert main(["formats"]) == 0
    out = capsys.readouterr().out
    for name in registry().formats:
        assert name in out


def test_library_errors_become_one_line_without_traceback(tmp_path):
    missing = tmp_path / "missing.exr"
    proc = _run("info", str(missing)) if any(m.NAME == "info" for m in _command_modules()) else \
        _run("types", "--bogus")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2


def test_closed_pipe_is_not_an_error():
    # `framebuf shaders | head -1`: the reader closes early; no traceback, exit 0
    proc = subprocess.run(f"'{sys.executable}' -m framebuf shaders | head -1", shell=True,
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip()
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_an_output_folder_that_is_a_file_is_one_line(tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    scene = Path(__file__).resolve().parents[1] / "scenes/demo.mi"
    assert main(["render", str(scene), "-o", str(taken)]) == 2
    err = capsys.readouterr().err
    assert err == f"framebuf render: error: {taken}: exists and is not a folder\n"
    assert taken.read_text() == "not a folder"


def test_copy_and_apply_refuse_what_would_surprise(tmp_path, capsys):
    """Same file as IN and OUT, --type on a multi-buffer EXR, apply without a shader, two
    outputs: each one line on stderr, exit 2, nothing written or replaced."""
    import framebuf
    from framebuf.buffers import FrameBufferSet

    fbs = FrameBufferSet(8, 6)
    fbs.add("rgba", "rgba_fp")
    fbs.add("depth", "z")
    src = tmp_path / "two.exr"
    framebuf.write(fbs, src)
    before = src.read_bytes()
    cases = [
        (["copy", src, src], "same file"),
        (["copy", src, tmp_path / "t.exr", "--type", "tag"], "name it with --buffer"),
        (["copy", src, tmp_path / "a.exr", "-o", tmp_path / "b.exr"], "give the output once"),
        (["apply", src, "-o", tmp_path / "c.exr"], "no --shader given"),
    ]
    for args, words in cases:
        code = main([str(a) for a in args])
        err = capsys.readouterr().err
        assert code == 2 and words in err and "Traceback" not in err and err.count("\n") == 1, (args, err)
    assert src.read_bytes() == before
    assert not [p.name for p in tmp_path.iterdir() if p.name != "two.exr"]
    # -o is the output in copy too, as everywhere else
    assert main(["copy", str(src), "-o", str(tmp_path / "d.exr"), "--buffer", "depth"]) == 0
    assert framebuf.read(tmp_path / "d.exr").names == ["depth"]


@pytest.mark.parametrize("columns", [80, 120])
def test_formats_fits_the_terminal(columns, capsys, monkeypatch):
    import os
    import shutil

    monkeypatch.setattr(shutil, "get_terminal_size", lambda *a, **k: os.terminal_size((columns, 24)))
    assert main(["formats"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= columns
    assert lines[0].split() == ["format", "ext", "rw", "types", "compression", "options", "description"]
    from framebuf.plugins import registry
    firsts = {line.split()[0] for line in lines[2:] if line[:1].strip()}
    assert firsts == set(registry().formats)   # every format still starts a row
