"""The ``null`` output format: a stub file that exists only while a frame renders (reference 6.13).

mental ray's ``null`` format writes no pixels. It creates a stub file when the output is opened,
so that a display tool (``imf_disp``) has something to attach to, and deletes it when the file is
closed; nothing durable remains.

Here that is split in two:

* :class:`NullOutput` is the stub's lifetime. A scene renderer opens it when the frame starts and
  closes it when the frame's outputs are finished (``with NullOutput(path): render()``); the stub
  is an empty regular file, created even if a file of that name exists, and removed on close,
  also when rendering fails.
* The format's writer, called by ``framebuf.write`` after rendering, accepts any buffers and data
  types and stores nothing. Its FormatSpec says ``creates_file=False``: the dispatcher must then call it
  without :func:`framebuf.io.atomic_output` (which would rename its empty temporary file over the
  target) so that ``framebuf.write(buf, "x.null", filetype="null")`` leaves no file. See the
  report to the owner of ``io.py``; until ``io.write`` honours the flag an empty ``x.null`` stays.

There is no reader and no extension: ``null`` is chosen by file type only.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..datatypes import DATATYPES
from ..hookspecs import hookimpl
from .base import FormatSpec, Image


class NullOutput:
    """The stub file of a ``null`` output: created by :meth:`open`, deleted by :meth:`close`."""

    def __init__(self, path):
        self.path = Path(path)
        self._open = False

    def open(self) -> "NullOutput":
        if not self._open:
            # O_TRUNC: a stale file of the same name becomes the (empty) stub
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            os.close(fd)
            self._open = True
        return self

    @property
    def closed(self) -> bool:
        return not self._open

    def write(self, image: Image | None = None) -> None:
        """Discard a frame (what writing to a null output does)."""

    def close(self) -> None:
        if self._open:
            self._open = False
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass

    def __enter__(self) -> "NullOutput":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()


def _write(path, image: Image, options: dict) -> None:
    """Store nothing; ``path`` may be None."""

NOTES = (
    "Writes nothing. NullOutput(path) is the stub a renderer holds while rendering: an empty file "
    "created on open and deleted on close (also on failure). The writer accepts every buffer "
    "and type and its FormatSpec says creates_file=False so the dispatcher leaves no file behind."
)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="null",
        description="no file: a stub that exists only while rendering",
        extensions=(),
        datatypes=tuple(DATATYPES),
        default_datatype="rgba",
        writer=_write,
        reader=None,
        multi_layer=True,
        creates_file=False,
        max_width=(1 << 31) - 1,
        max_height=(1 << 31) - 1,
        notes=NOTES,
    )]
