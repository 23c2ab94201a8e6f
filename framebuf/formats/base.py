"""What a format plugin describes and what its reader and writer exchange.

The split follows OpenImageIO's ImageInput/ImageOutput: the dispatcher (``framebuf.io``) converts
framebuffers into :class:`Layer` objects of the target data type, and a format's ``writer`` only
encodes them; a ``reader`` only decodes a file into layers, and the dispatcher turns them back into
framebuffers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..datatypes import DataType
from ..errors import UnsupportedOptionError
from ..onoff import on_off


@dataclass
class Layer:
    """One buffer as stored in a file.

    ``pixels`` has shape (height, width, components), **top row first**, and the file's sample
    dtype for ``datatype`` (uint8, uint16, float16, float32, uint32; RGBE as 4 uint8). ``channels``
    are the names in the file (``R G B A`` for the primary buffer of an EXR, ``diffuse.R`` ... for
    others). ``name`` is the buffer name ("" when the file has no names, e.g. a PNG).
    """

    name: str
    datatype: DataType
    pixels: np.ndarray
    channels: tuple[str, ...] = ()
    # where the layer lives in a multi-part/multi-view file and how its channels are stored
    # (copied to and from FrameBuffer's attributes of the same names; None = writer's defaults)
    part: int | None = None
    view: str | None = None
    pixel_types: tuple[str, ...] | None = None
    sampling: tuple[int, int] | None = None
    window: tuple | None = None

    @property
    def height(self) -> int:
        return self.pixels.shape[0]

    @property
    def width(self) -> int:
        return self.pixels.shape[1]


@dataclass
class Image:
    """A whole file's content: its layers, header attributes, and facts for ``framebuf info``."""

    layers: list[Layer]
    attributes: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    origin: tuple = (0, 0)                      # file position of pixel [0, 0] (data window)
    display_window: tuple | None = None
    parts: list = field(default_factory=list)  # framebuf.buffers.FilePart, one per file part

    @property
    def width(self) -> int:
        return self.layers[0].width if self.layers else 0

    @property
    def height(self) -> int:
        return self.layers[0].height if self.layers else 0


# -- option rows: what a format's options and read options accept ------------------------------

@dataclass(frozen=True)
class Option:
    """One row of ``FormatSpec.options`` or ``FormatSpec.read_options``: the help text
    ``framebuf formats`` and the CLI show, and how a given value is read.

    ``convert`` turns a raw value (text from the command line or a scene file, or a Python bool,
    int, float ...) into the typed value the writer or reader receives, raising ``ValueError`` or
    ``TypeError`` for a value it does not take; ``allowed`` says what it takes, for the message.
    ``convert=None`` is free text: the value is handed on as given. Build rows with
    :func:`on_off_option`, :func:`int_option`, :func:`number_option`, :func:`choice_option` and
    :func:`text_option`; a plain help string is a free-text row (:func:`option_row`)."""

    help: str
    convert: Callable[[Any], Any] | None = None
    allowed: str = ""

    def parse(self, value, fmt: str, name: str, read: bool = False):
        """``value`` typed, or :class:`UnsupportedOptionError` naming the format, the option, the
        value and what is allowed. Typed values pass unchanged (parsing twice is harmless)."""
        if self.convert is None or value is None:
            return value
        try:
            return self.convert(value)
        except (TypeError, ValueError, UnsupportedOptionError):
            kind = "read option" if read else "option"
            raise UnsupportedOptionError(
                f"format {fmt!r}: {kind} {name} must be {self.allowed or 'valid'}, not {value!r}"
            ) from None

    def __str__(self) -> str:
        return self.help


def option_row(row) -> Option:
    """A row as an :class:`Option`: a plain help string (how external plugins may still write
    their rows) is free text."""
    return row if isinstance(row, Option) else Option(str(row))


def text_option(help: str) -> Option:
    """Free text (or whatever a Python caller passes): handed on unchanged."""
    return Option(help)


def on_off_option(help: str) -> Option:
    """On/off through :func:`framebuf.onoff.on_off` (on/off, true/false, yes/no, 1/0; a bool)."""
    return Option(help, lambda v: on_off(v, "on/off"), "on/off (also true/false, yes/no, 1/0)")


def _bounds(minimum, maximum, above: bool = False) -> str:
    if minimum is not None and maximum is not None:
        return f"{minimum}-{maximum}"
    if minimum is not None:
        return f"{'above' if above else 'of at least'} {minimum}"
    if maximum is not None:
        return f"of at most {maximum}"
    return ""


def int_option(help: str, minimum: int | None = None, maximum: int | None = None,
               allowed: str | None = None) -> Option:
    """A whole number in ``minimum``-``maximum`` (either bound may be None)."""
    def convert(v) -> int:
        if isinstance(v, bool):
            raise TypeError(v)
        if isinstance(v, float):
            if not v.is_integer():
                raise ValueError(v)
            v = int(v)
        n = int(v.strip()) if isinstance(v, str) else int(v)
        if (minimum is not None and n < minimum) or (maximum is not None and n > maximum):
            raise ValueError(v)
        return n
    return Option(help, convert, allowed or ("a whole number " + _bounds(minimum, maximum)).strip())


def number_option(help: str, minimum: float | None = None, maximum: float | None = None,
                  above: bool = False, allowed: str | None = None) -> Option:
    """A finite number in ``minimum``-``maximum``; ``above``: ``minimum`` itself is excluded."""
    def convert(v) -> float:
        if isinstance(v, bool):
            raise TypeError(v)
        x = float(v.strip()) if isinstance(v, str) else float(v)
        if not math.isfinite(x) or (minimum is not None and (x <= minimum if above else x < minimum)) \
                or (maximum is not None and x > maximum):
            raise ValueError(v)
        return x
    return Option(help, convert, allowed or ("a number " + _bounds(minimum, maximum, above)).strip())


def choice_option(help: str, choices, allowed: str | None = None) -> Option:
    """One of ``choices`` (text, case and surrounding space ignored); the value is the choice."""
    names = tuple(choices)
    lower = {c.lower(): c for c in names}

    def convert(v) -> str:
        if not isinstance(v, str) or v.strip().lower() not in lower:
            raise ValueError(v)
        return lower[v.strip().lower()]
    return Option(help, convert, allowed or "one of " + ", ".join(names))


def parse_options(spec: "FormatSpec", options: dict, read: bool = False) -> dict:
    """``options`` with each of the format's own (read) options parsed through its row; an option
    given as None counts as not given and is dropped. Names without a row pass unchanged (the
    dispatcher refuses unknown names before)."""
    rows = spec.read_options if read else spec.options
    out = {}
    for key, value in options.items():
        if key in rows:
            value = option_row(rows[key]).parse(value, spec.name, key, read)
            if value is None:
                continue
        out[key] = value
    return out


# writer(path, image, options) -> None; path is a temporary file the dispatcher renames afterwards.
Writer = Callable[[str, Image, dict], None]
# reader(path, options) -> Image; raises framebuf.errors.CorruptFileError on bad bytes.
Reader = Callable[[str, dict], Image]


@dataclass
class FormatSpec:
    """The capabilities of one format keyword (a row of the manual's format table).

    ``options`` maps each accepted write option to its row, an :class:`Option` (help text plus how
    a value is read: :func:`on_off_option`, :func:`int_option`, :func:`number_option`,
    :func:`choice_option`, :func:`text_option`); the dispatcher refuses other names, parses each
    given value through its row before the writer runs (a bad value is refused before any file is
    made) and hands the writer the typed values (an option not given is absent: the writer keeps
    its default). A plain help string is still a row, meaning free text (the value is handed on as
    given), so plugins written before typed rows keep working. ``multi_layer`` says several
    buffers may share one file (EXR; IFF and RLA colour+depth).
    ``fixed_size`` is for formats of one resolution only (Quantel). ``notes`` records the choices
    made where the public documentation is silent; ``framebuf formats`` prints them.
    ``read_options`` maps each option the reader understands to its row, in the same way: the
    dispatcher refuses other names and parses the given values before the reader runs.
    ``keeps_windows``: the format stores a data window's position and a display
    window (the dispatcher warns when a set that has them goes to a format that does not).
    """

    name: str
    description: str
    extensions: tuple[str, ...]
    datatypes: tuple[str, ...]
    default_datatype: str
    writer: Writer | None = None
    reader: Reader | None = None
    compressions: tuple[str, ...] = ()
    default_compression: str | None = None
    options: dict = field(default_factory=dict)
    multi_layer: bool = False
    max_width: int = 65535
    max_height: int = 65535
    fixed_size: tuple[int, int] | None = None
    sniff: Callable[[bytes], bool] | None = None
    notes: str = ""
    read_options: dict = field(default_factory=dict)
    keeps_windows: bool = False      # stores a data window's offset and a display window
    #: False for a writer that stores nothing (null): the dispatcher makes no temporary file and
    #: a scene renders to a stub instead
    creates_file: bool = True
    #: the writer stores a set's typed header attributes (``attributes=``; EXR only)
    stores_attributes: bool = False
    available: bool = True
    unavailable_reason: str = ""

    @property
    def can_write(self) -> bool:
        return self.available and self.writer is not None

    @property
    def can_read(self) -> bool:
        return self.available and self.reader is not None
