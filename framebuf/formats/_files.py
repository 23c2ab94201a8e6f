"""Byte-level helpers the hand-written format modules share (private: not a plugin module)."""

from __future__ import annotations

import struct

from ..errors import CorruptFileError
from ..limits import check_allocation, check_declared

#: bytes a decoded sample may take once framebuf.read has made a float32 buffer of it
DECODED_SAMPLE = 4


def check_pixels(path, width: int, height: int, channels: int, stored: float, available: int,
                 ratio: float = 1, what: str = "pixel data") -> None:
    """Before a reader allocates a width x height image of ``channels`` samples: the file must
    hold the declared samples (``stored`` bytes each) at the format's best compression ``ratio``
    (uncompressed bytes per stored byte) in the ``available`` bytes after its header, and the
    decoded image (float32 samples at most) must fit the memory budget."""
    n = width * height * channels
    check_declared(path, int(n * stored / ratio), available,
                   f"{what} ({width}x{height}, {channels} channels)")
    check_allocation(n * DECODED_SAMPLE, f"{path}: a {width}x{height} image of {channels} channels")


def read_bytes(path: str, header_size: int = 0, header_name: str = "") -> bytes:
    """The whole file. A file that cannot be read, or is shorter than its fixed header, is a
    :class:`CorruptFileError` naming the file, so no reader has to catch OSError itself."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise CorruptFileError(path, f"cannot read: {exc.strerror or exc}") from None
    if len(data) < header_size:
        what = f"{header_name} header" if header_name else "header"
        raise CorruptFileError(
            path, f"file is {len(data)} bytes, shorter than the {header_size}-byte {what}")
    return data


def pack_named(fields, layout: struct.Struct, label: str, **values) -> bytes:
    """Pack a header given as (name, struct code) pairs; unnamed numbers are 0, text empty.
    Text fields keep a terminating NUL; an unknown field name is a TypeError (a programming error)."""
    packed = []
    for name, code in fields:
        v = values.pop(name, b"" if code.endswith("s") else 0)
        if isinstance(v, str):
            v = v.encode("latin-1", "replace")
        if code.endswith("s"):
            v = v[: int(code[:-1]) - 1]
        packed.append(v)
    if values:
        raise TypeError(f"unknown {label} header fields: {', '.join(values)}")
    return layout.pack(*packed)


def unpack_named(fields, layout: struct.Struct, data: bytes) -> dict:
    """Header fields by name; text fields decoded up to their first NUL."""
    return {
        name: v.split(b"\0", 1)[0].decode("latin-1") if code.endswith("s") else v
        for (name, code), v in zip(fields, layout.unpack_from(data))
    }
