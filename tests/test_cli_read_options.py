"""Reader options from the command line: a headerless Zpic (no PIC beside it) needs its size."""

import numpy as np

import framebuf
from framebuf.cli import main


def _zpic(tmp_path):
    fbs = framebuf.FrameBufferSet(6, 4)
    depth = fbs.add("depth", "z")
    depth.data[:, :, 0] = np.arange(24, dtype=np.float32).reshape(4, 6) + 1.0
    depth.data[0, 0, 0] = np.inf
    path = tmp_path / "shot.Zpic"
    framebuf.write(depth, path, filetype="zpic")  # keywords match without regard to case
    return path, depth.data.copy()


def test_copy_reads_headerless_zpic_with_read_options(tmp_path, capsys):
    src, expected = _zpic(tmp_path)
    out = tmp_path / "shot.exr"
    assert main(["copy", str(src), str(out), "--read-option", "width=6",
                 "--read-option", "height=4"]) == 0
    back = framebuf.read(out)
    assert np.array_equal(next(iter(back)).data, expected)


def test_info_passes_read_options_and_reports_missing_size(tmp_path, capsys):
    src, _ = _zpic(tmp_path)
    assert main(["info", str(src), "--read-option", "width=6"]) == 0
    assert "6" in capsys.readouterr().out
    assert main(["info", str(src)]) != 0  # no size given and no PIC beside it
    err = capsys.readouterr().err
    assert "shot.Zpic" in err and "Traceback" not in err
    assert main(["info", str(src), "--read-option", "width"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_fit_option_text_is_understood(tmp_path):
    fbs = framebuf.FrameBufferSet(32, 24)
    fbs.add("beauty", "rgb", data=np.full((24, 32, 3), 0.5, np.float32))
    import pytest
    from framebuf.errors import ImageSizeError, UnsupportedOptionError

    with pytest.raises(ImageSizeError):
        framebuf.write(fbs["beauty"], tmp_path / "a.qntpal", filetype="qntpal", fit="off")
    with pytest.raises(UnsupportedOptionError, match="on/off"):
        framebuf.write(fbs["beauty"], tmp_path / "a.qntpal", filetype="qntpal", fit="maybe")
    framebuf.write(fbs["beauty"], tmp_path / "a.qntpal", filetype="qntpal", fit="on")
    assert (tmp_path / "a.qntpal").stat().st_size == 720 * 576 * 2
