"""What a format plugin describes and what its reader and writer exchange.

The split follows OpenImageIO's ImageInput/ImageOutput: the dispatcher (``framebuf.io``) converts
framebuffers into :class:`Layer` objects of the target data type, and a format's ``writer`` only
encodes them; a ``reader`` only decodes a file into layers, and the dispatcher turns them back into
framebuffers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..datatypes import DataType


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


# writer(path, image, options) -> None; path is a temporary file the dispatcher renames afterwards.
Writer = Callable[[str, Image, dict], None]
# reader(path, options) -> Image; raises framebuf.errors.CorruptFileError on bad bytes.
Reader = Callable[[str, dict], Image]


@dataclass
class FormatSpec:
    """The capabilities of one format keyword (a row of the manual's format table).

    ``options`` maps each accepted write option to a one-line help text; the dispatcher refuses
    others. ``multi_layer`` says several buffers may share one file (EXR; IFF and RLA colour+depth).
    ``fixed_size`` is for formats of one resolution only (Quantel). ``notes`` records the choices
    made where the public documentation is silent; ``framebuf formats`` prints them.
    ``read_options`` maps each option the reader understands to its help text; the dispatcher
    refuses others. ``keeps_windows``: the format stores a data window's position and a display
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
