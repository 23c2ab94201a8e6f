"""FrameBuffer and FrameBufferSet: named, typed 2-D buffers of one resolution.

Pixel convention (see HACKING.md): ``buffer.data[y, x, c]``, row 0 is the top row, always 3-D.
Values are kept at full precision (float32, uint32 for labels, uint8 for bit masks); a buffer's data
type says what it becomes in a file, not how it is stored.

Standard (non-user) buffers of convertible types share one storage array, as mental ray does: an
``rgba`` and an ``rgba_16`` buffer are two views of one float32 colour array, and an ``a`` buffer is
the alpha channel of it. User buffers (``user=True``) always own their array and are never shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from .datatypes import STORAGE_COMPONENTS, STORAGE_DTYPES, DataType, datatype
from .errors import BufferMismatchError

#: value of a pixel nothing was rendered into, per storage.
EMPTY_VALUE = {
    "colour": 0.0, "depth": np.inf, "normal": 0.0, "motion": 0.0, "label": 0, "coverage": 0.0,
    "uv": 0.0, "mask": 0,
}


def empty_storage(storage: str, height: int, width: int) -> np.ndarray:
    """A full-precision array for ``storage`` filled with its nothing-hit value."""
    return np.full(
        (height, width, STORAGE_COMPONENTS[storage]), EMPTY_VALUE[storage], STORAGE_DTYPES[storage]
    )


@dataclass
class FileProperties:
    """Where and how a buffer is written (mental ray's framebuffer file properties)."""

    filename: str | None = None
    filetype: str | None = None
    compression: str | None = None
    quality: int | None = None
    options: dict = field(default_factory=dict)  # dod, dpi, field, tiled, premultiplied, colorprofile


@dataclass
class FilePart:
    """One part (sub-image) of the file a set was read from, as the file describes it, so that a
    write puts it back: its name, view, windows, storage, compression, tiling, line order, header
    attributes with their file types, and whatever a format keeps to rebuild what framebuf does
    not hold in buffers (``extra``: an EXR part's mip levels as their compressed chunks).

    Windows are ``(x0, y0, x1, y1)`` inclusive, in the file's pixel coordinates (EXR's Box2i).
    """

    name: str = ""
    view: str | None = None
    kind: str = "scanlineimage"         # scanlineimage | tiledimage (EXR storage)
    data_window: tuple | None = None
    display_window: tuple | None = None
    compression: str | None = None
    line_order: str | None = None
    tiles: dict | None = None           # x_size, y_size, level_mode, rounding_mode
    attributes: dict = field(default_factory=dict)
    attribute_types: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


class FrameBuffer:
    """A named, typed buffer. ``data`` is a view of its storage, shape (height, width, components)."""

    def __init__(
        self,
        name: str,
        dtype: str | DataType,
        data: np.ndarray,
        *,
        view: tuple[int, ...] | None = None,
        filtering: bool | None = None,
        user: bool = True,
        primary: bool = False,
        file: FileProperties | None = None,
        channels: tuple[str, ...] | None = None,
    ):
        self.name = name
        # explicit channel names in a file (e.g. "segmentation.hair", "CameraNormals.R"); None means
        # the writer derives them from the buffer name and data type
        self.channels = tuple(channels) if channels else None
        self.datatype = datatype(dtype)
        if data.ndim != 3:
            raise BufferMismatchError(f"buffer {name!r}: storage must be (height, width, components)")
        self._storage = data
        self._view = tuple(view) if view is not None else tuple(range(data.shape[2]))
        self.filtering = self.datatype.interpolated if filtering is None else bool(filtering)
        self.user = user
        self.primary = primary
        self.file = file or FileProperties()
        # where the buffer came from in a multi-part / multi-view file, and how its channels were
        # stored there; a write puts it back the same way (None: the writer's defaults)
        self.part: int | None = None                         # index into FrameBufferSet.parts
        self.view: str | None = None
        self.pixel_types: tuple[str, ...] | None = None      # per channel: half, float, uint
        self.sampling: tuple[int, int] | None = None         # EXR x/y sub-sampling (chroma)
        self.window: tuple | None = None                     # own data window inside the set's
        self.owner = None                                    # the FrameBufferSet that made it

    @property
    def storage(self) -> np.ndarray:
        """The whole shared array (e.g. all four colour components for an ``a`` buffer)."""
        return self._storage

    @property
    def data(self) -> np.ndarray:
        """The components this buffer's type sees, as a writable view where possible."""
        v = self._view
        if v == tuple(range(self._storage.shape[2])):
            return self._storage
        if v == tuple(range(v[0], v[-1] + 1)):
            return self._storage[:, :, v[0]: v[-1] + 1]
        return self._storage[:, :, list(v)]

    @data.setter
    def data(self, values) -> None:
        v = self._view
        self._storage[:, :, v[0]: v[-1] + 1] = np.asarray(values).reshape(
            self.height, self.width, len(v)
        )

    @property
    def height(self) -> int:
        return self._storage.shape[0]

    @property
    def width(self) -> int:
        return self._storage.shape[1]

    def __repr__(self) -> str:
        kind = "user" if self.user else "standard"
        return (
            f"FrameBuffer({self.name!r}, {self.datatype.name}, {self.width}x{self.height}, {kind}, "
            f"filtering={'on' if self.filtering else 'off'})"
        )


class FrameBufferSet:
    """Buffers of one resolution that shaders and writers share, in the order they were added.

    ``attributes`` holds file-level metadata (EXR header attributes such as ``zmin``/``zmax``,
    comments); readers fill it and writers pass it on.

    ``origin`` is the file-pixel position of ``data[0, 0]`` (an EXR data window need not start at
    0,0), ``display_window`` the frame the picture belongs to (None: the data window itself).
    ``parts`` describes the parts of the file the set was read from (:class:`FilePart`);
    ``attributes`` is the header of part ``attributes_part`` (the first part read).
    ``deep`` holds the samples of a deep file or render (a :class:`framebuf.deep.DeepImage` per
    part; the buffers are then their flattened image), else None.
    """

    def __init__(self, width: int, height: int, attributes: dict | None = None,
                 origin: tuple[int, int] = (0, 0), display_window: tuple | None = None):
        if width <= 0 or height <= 0:
            raise BufferMismatchError(f"resolution must be positive, got {width}x{height}")
        self.width = int(width)
        self.height = int(height)
        self._buffers: dict[str, FrameBuffer] = {}
        self._storages: dict[str, np.ndarray] = {}
        self.attributes: dict = dict(attributes or {})
        self.origin = (int(origin[0]), int(origin[1]))
        self.display_window = tuple(int(v) for v in display_window) if display_window else None
        self.parts: list[FilePart] = []
        self.attributes_part = 0            # the part whose header ``attributes`` is
        self.deep: list | None = None       # DeepImage per part (framebuf.deep), when deep

    @property
    def data_window(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) inclusive: where the set's pixels lie in file coordinates."""
        x0, y0 = self.origin
        return (x0, y0, x0 + self.width - 1, y0 + self.height - 1)

    # -- building ---------------------------------------------------------------------------
    def storage(self, kind: str) -> np.ndarray:
        """The shared full-precision array of a standard storage, created on first use."""
        if kind not in self._storages:
            self._storages[kind] = empty_storage(kind, self.height, self.width)
        return self._storages[kind]

    def add(
        self,
        name: str,
        dtype: str | DataType = "rgba",
        *,
        user: bool = False,
        data: np.ndarray | None = None,
        filtering: bool | None = None,
        primary: bool = False,
        file: FileProperties | None = None,
    ) -> FrameBuffer:
        """Add (or, for an existing name, redefine) a buffer.

        A standard buffer joins the shared storage of its type; ``data`` then fills that storage's
        components for this type. A user buffer gets its own array, zero/empty-filled or from ``data``.
        """
        dt = datatype(dtype)
        if user and data is not None:
            storage = np.empty((1, 1, len(dt.view)), dt.dtype)   # replaced by the data below
            view = dt.view
        elif user:
            storage = empty_storage(dt.storage, self.height, self.width)
            view = dt.view
        else:
            storage = self.storage(dt.storage)
            view = dt.view
        buf = FrameBuffer(name, dt, storage, view=view, filtering=filtering, user=user,
                          primary=primary, file=file)
        if data is not None:
            arr = np.asarray(data)
            if arr.ndim == 2:
                arr = arr[:, :, None]
            if arr.shape[:2] != (self.height, self.width):
                raise BufferMismatchError(
                    f"buffer {name!r}: data is {arr.shape[1]}x{arr.shape[0]}, "
                    f"set is {self.width}x{self.height}"
                )
            if user:
                # a user buffer stores exactly its own components
                storage = np.array(arr, dtype=dt.dtype, copy=True)
                if storage.shape[2] != len(view):
                    raise BufferMismatchError(
                        f"buffer {name!r}: {storage.shape[2]} components given, "
                        f"type {dt.name} has {len(view)}"
                    )
                buf = FrameBuffer(name, dt, storage, filtering=filtering, user=True,
                                  primary=primary, file=file)
            else:
                buf.data = arr.astype(dt.dtype, copy=False)
        elif user:
            buf = FrameBuffer(name, dt, np.ascontiguousarray(storage[:, :, list(view)]),
                              filtering=filtering, user=True, primary=primary, file=file)
        buf.owner = self
        self._buffers[name] = buf
        return buf

    def add_buffer(self, buf: FrameBuffer) -> FrameBuffer:
        """Add an existing FrameBuffer object (must match the set's resolution)."""
        if (buf.width, buf.height) != (self.width, self.height):
            raise BufferMismatchError(
                f"buffer {buf.name!r} is {buf.width}x{buf.height}, set is {self.width}x{self.height}"
            )
        self._buffers[buf.name] = buf
        buf.owner = self
        return buf

    # -- access -----------------------------------------------------------------------------
    def __getitem__(self, name: str) -> FrameBuffer:
        try:
            return self._buffers[name]
        except KeyError:
            raise BufferMismatchError(
                f"no buffer named {name!r}; buffers: {', '.join(self._buffers) or '(none)'}"
            ) from None

    def __delitem__(self, name: str) -> None:
        self[name]
        del self._buffers[name]

    def __contains__(self, name: object) -> bool:
        return name in self._buffers

    def __iter__(self) -> Iterator[FrameBuffer]:
        return iter(list(self._buffers.values()))

    def __len__(self) -> int:
        return len(self._buffers)

    @property
    def names(self) -> list[str]:
        return list(self._buffers)

    @property
    def primary(self) -> FrameBuffer | None:
        """The buffer marked primary, else the first standard colour buffer, else the first colour one."""
        for buf in self._buffers.values():
            if buf.primary:
                return buf
        for want_user in (False, True):
            for buf in self._buffers.values():
                if buf.user == want_user and buf.datatype.kind in ("colour", "shared-exponent colour"):
                    return buf
        return None

    def __repr__(self) -> str:
        inner = ", ".join(f"{b.name}:{b.datatype.name}" for b in self._buffers.values())
        return f"FrameBufferSet({self.width}x{self.height}, [{inner}])"
