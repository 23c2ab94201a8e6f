"""``atomic_output``, apart from the rest of :mod:`framebuf.io` (which imports the converters and
with them Numba), so light callers such as ``framebuf extract`` start fast;
``framebuf.io.atomic_output`` re-exports it."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .errors import FramebufError


@contextmanager
def atomic_output(path):
    """Yield a temporary path in the target's folder; rename it over ``path`` only on success.

    A failing writer leaves neither a partial file nor a damaged older file behind.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FramebufError(f"{path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    os.close(fd)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
