"""Typed option rows (framebuf.formats.base.Option): io parses every given write and read option
once through its format's row, before the writer or reader runs, and hands the typed value on."""

import numpy as np
import pytest

import framebuf
from framebuf.cli import main
from framebuf.errors import UnsupportedOptionError
from framebuf.hookspecs import hookimpl
from framebuf.formats.base import (FormatSpec, Option, choice_option, int_option, number_option,
                                   on_off_option, option_row, parse_options, text_option)
from framebuf.plugins import registry, reset_registry

BAD = "no-such-value%"      # refused by every typed row (on/off, numbers, choices, sizes, levels)


def _typed_rows(table: dict):
    return [(name, option_row(row)) for name, row in table.items()
            if option_row(row).convert is not None]


def _writers():
    return [spec for spec in registry().formats.values() if spec.can_write and _typed_rows(spec.options)]


def _readers():
    return [spec for spec in registry().formats.values()
            if spec.can_read and _typed_rows(spec.read_options)]


def test_the_built_in_formats_have_typed_rows():
    writers = {spec.name for spec in _writers()}
    assert {"png", "jpg", "pic", "exr", "map", "bit", "qntpal", "qntntsc"} <= writers
    assert {"exr", "map", "Zpic"} <= {spec.name for spec in _readers()}
    for spec in registry().formats.values():
        for name, row in {**spec.options, **spec.read_options}.items():
            assert isinstance(row, Option), f"{spec.name} option {name} is not a typed row"
            assert row.help, f"{spec.name} option {name} has no help"


@pytest.mark.parametrize("spec", _writers(), ids=lambda s: s.name)
def test_every_typed_write_option_refuses_a_bad_value_before_any_file(tmp_path, spec):
    # an rgba picture of the wrong size for fixed-size formats and the wrong type for some: the
    # option is refused first, so neither of those is reached
    img = np.full((3, 5, 4), 0.5, np.float32)
    for name, _row in _typed_rows(spec.options):
        target = tmp_path / f"out.{spec.extensions[0]}"
        with pytest.raises(UnsupportedOptionError) as err:
            framebuf.write(img, target, filetype=spec.name, **{name: BAD})
        message = str(err.value)
        assert spec.name in message and name in message and repr(BAD) in message, message
        assert "must be" in message and "\n" not in message, message
        assert list(tmp_path.iterdir()) == [], f"{spec.name} {name}: a file was made"


@pytest.mark.parametrize("spec", _readers(), ids=lambda s: s.name)
def test_every_typed_read_option_refuses_a_bad_value_before_reading(tmp_path, spec):
    path = tmp_path / f"junk.{spec.extensions[0]}"
    path.write_bytes(b"\0" * 64)           # not a valid file: reaching the reader would say so
    for name, _row in _typed_rows(spec.read_options):
        with pytest.raises(UnsupportedOptionError) as err:
            framebuf.read(path, filetype=spec.name, **{name: BAD})
        message = str(err.value)
        assert spec.name in message and f"read option {name}" in message and repr(BAD) in message


@pytest.mark.parametrize("spec", _writers(), ids=lambda s: s.name)
def test_typed_rows_parse_their_own_output_unchanged(spec):
    """io parses once; a writer's direct callers (the deep EXR writer) may parse again."""
    samples = {"on": True, "9": 9, "1.5": 1.5, "16x8": (16, 8)}
    for name, row in _typed_rows(spec.options):
        for raw in samples:
            try:
                typed = row.parse(raw, spec.name, name)
            except UnsupportedOptionError:
                continue
            assert row.parse(typed, spec.name, name) == typed


class _Recorder:
    """Replaces a format's writer for one test and keeps the options it was handed."""

    def __init__(self, monkeypatch, name):
        self.spec = registry().formats[name]
        self.options = None
        monkeypatch.setattr(self.spec, "writer", self)

    def __call__(self, path, image, options):
        self.options = dict(options)
        with open(path, "wb") as fh:
            fh.write(b"x")


def test_good_values_reach_the_writer_typed(tmp_path, monkeypatch):
    img = np.full((4, 4, 4), 0.5, np.float32)
    png = _Recorder(monkeypatch, "png")
    framebuf.write(img, tmp_path / "a.png", compress_level="9")
    assert png.options["compress_level"] == 9 and type(png.options["compress_level"]) is int
    exr = _Recorder(monkeypatch, "exr")
    framebuf.write(img, tmp_path / "a.exr", tiled="off", dwa_level="30", line_order="DECREASING_Y")
    assert exr.options["tiled"] is False and exr.options["dwa_level"] == 30.0
    assert exr.options["line_order"] == "decreasing_y"
    framebuf.write(img, tmp_path / "b.exr", tiled="on", tile_size="16x8", multipart=0, deep="no")
    assert exr.options["tiled"] is True and exr.options["tile_size"] == (16, 8)
    assert exr.options["multipart"] is False and exr.options["deep"] is False
    framebuf.write(img, tmp_path / "c.exr", tile_size=24)
    assert exr.options["tile_size"] == (24, 24) and "tiled" not in exr.options
    pic = _Recorder(monkeypatch, "pic")
    framebuf.write(img, tmp_path / "a.pic", field="Odd", aspect="1.25")
    assert pic.options["field"] == "odd" and pic.options["aspect"] == 1.25
    jpg = _Recorder(monkeypatch, "jpg")
    framebuf.write(img[..., :3], tmp_path / "a.jpg", quality="90", subsampling="4:4:4")
    assert jpg.options["quality"] == 90 and jpg.options["subsampling"] == "4:4:4"
    framebuf.write(img[..., :3], tmp_path / "b.jpg", quality=None)     # None: not given
    assert "quality" not in jpg.options
    mp = _Recorder(monkeypatch, "map")
    framebuf.write(img, tmp_path / "a.map", pyramid="yes", byteorder="BIG")
    assert mp.options["pyramid"] is True and mp.options["byteorder"] == "big"


def test_png_compress_level_from_the_command_line(tmp_path):
    src = tmp_path / "in.exr"
    framebuf.write(np.full((16, 16, 4), 0.25, np.float32), src)
    files = {}
    for level in ("0", "9"):
        files[level] = tmp_path / f"out{level}.png"
        assert main(["copy", str(src), str(files[level]), "--option", f"compress_level={level}"]) == 0
        np.testing.assert_array_equal(framebuf.read(files[level])["rgba"].data,
                                      framebuf.read(files["0"])["rgba"].data)
    assert files["9"].stat().st_size < files["0"].stat().st_size     # level 0 stores
    bad = tmp_path / "bad.png"
    assert main(["copy", str(src), str(bad), "--option", "compress_level=10"]) != 0
    assert not bad.exists()


def test_exr_tiled_off_and_on_are_written_as_asked(tmp_path):
    import OpenEXR
    img = np.full((40, 40, 4), 0.5, np.float32)
    for word, kind in (("off", OpenEXR.scanlineimage), ("on", OpenEXR.tiledimage)):
        path = framebuf.write(img, tmp_path / f"{word}.exr", tiled=word)
        with OpenEXR.File(str(path)) as f:
            assert f.header()["type"] == kind
    assert framebuf.read_image(tmp_path / "on.exr").info["tiled"]
    assert not framebuf.read_image(tmp_path / "off.exr").info["tiled"]


def test_typed_read_options_reach_the_reader(tmp_path):
    img = np.full((8, 8, 4), 0.5, np.float32)
    framebuf.write(img, tmp_path / "a.map", pyramid="on")
    assert framebuf.read_image(tmp_path / "a.map", level="1").info["level"] == 1
    assert framebuf.read_image(tmp_path / "a.map", level="").info["level"] == 0
    fbs = framebuf.FrameBufferSet(6, 4)
    fbs.add("depth", "z").data[:] = 1.0
    framebuf.write(fbs["depth"], tmp_path / "d.Zpic", filetype="Zpic")
    (tmp_path / "d.pic").unlink(missing_ok=True)
    assert framebuf.read(tmp_path / "d.Zpic", width="6").width == 6
    with pytest.raises(UnsupportedOptionError, match="width must be a positive whole number"):
        framebuf.read(tmp_path / "d.Zpic", width="0")


def test_the_constructors():
    assert on_off_option("h").parse(" Yes ", "f", "o") is True
    assert on_off_option("h").parse("", "f", "o") is False       # -o flag= is off
    assert int_option("h", 0, 9).parse(9.0, "f", "o") == 9
    for bad in ("x", 10, -1, 2.5, True):
        with pytest.raises(UnsupportedOptionError, match=r"format 'f': option o must be a whole number 0-9"):
            int_option("h", 0, 9).parse(bad, "f", "o")
    assert number_option("h", 0, above=True).parse("0.5", "f", "o") == 0.5
    for bad in ("0", "nan", "inf", "x"):
        with pytest.raises(UnsupportedOptionError, match="above 0"):
            number_option("h", 0, above=True).parse(bad, "f", "o")
    assert choice_option("h", ("a", "Bb")).parse(" bb ", "f", "o") == "Bb"
    with pytest.raises(UnsupportedOptionError, match="one of a, Bb, not 'c'"):
        choice_option("h", ("a", "Bb")).parse("c", "f", "o")
    assert text_option("h").parse(["x", 1], "f", "o") == ["x", 1]
    assert str(text_option("some help")) == "some help"


class _OldStylePlugin:
    """A plugin written before typed rows: plain help strings (free text)."""

    @hookimpl
    def framebuf_formats(self):
        seen = self.seen = {}

        def writer(path, image, options):
            seen.update(options)
            with open(path, "wb") as fh:
                fh.write(b"old")
        return [FormatSpec(name="oldstyle", description="plain help-string rows",
                           extensions=("old",), datatypes=("rgba",), default_datatype="rgba",
                           writer=writer, options={"mode": "anything at all"})]


def test_a_plain_help_string_row_is_free_text(tmp_path):
    plugin = _OldStylePlugin()
    reset_registry(extra_plugins=[plugin])
    try:
        spec = registry().formats["oldstyle"]
        assert option_row(spec.options["mode"]).help == "anything at all"
        assert parse_options(spec, {"mode": "7", "compression": None}) == {"mode": "7", "compression": None}
        framebuf.write(np.zeros((2, 2, 4), np.float32), tmp_path / "a.old", mode="7")
        assert plugin.seen["mode"] == "7"
        with pytest.raises(UnsupportedOptionError, match="no option 'other'"):
            framebuf.write(np.zeros((2, 2, 4), np.float32), tmp_path / "b.old", other=1)
    finally:
        reset_registry()


def test_formats_verbose_shows_the_option_help(capsys):
    assert main(["formats", "-v"]) == 0
    out = capsys.readouterr().out
    assert "option compress_level: deflate effort 0 (store) to 9" in out
    assert "read option window: data (default" in out
    assert "option tiled: on/off: tiles instead of scanlines" in out
