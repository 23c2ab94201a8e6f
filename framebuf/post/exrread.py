"""Kept for code written against earlier releases: the selective EXR decoder now lives in
:mod:`framebuf.formats._exrfile` (the ``exr`` format's backend). Import from ``framebuf.read``
(with read options) or from that module."""

from ..formats._exrfile import *  # noqa: F401,F403
from ..formats._exrfile import (  # noqa: F401 - private names tests and tools use
    COMPRESSIONS_BY_NAME, NATIVE, _native_ok, _offsets, _read_part_native, _rle_decode, _scatter,
    _threads,
)
