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
