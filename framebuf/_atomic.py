"""``atomic_output``, apart from the rest of :mod:`framebuf.io` (which imports the converters and
with them Numba), so light callers such as ``framebuf extract`` start fast;
``framebuf.io.atomic_output`` re-exports it.

Temporary files are named ``.<target>.<host>.<pid>.<random>.part``. A process killed mid-write
(SIGKILL, power loss) cannot remove its own; the host and pid in the name let a later process
prove it dead and remove the file: the first write of a process into a folder removes every
such file there whose host is this host and whose pid is not running. Files of other hosts (a
shared folder) and of live processes are never touched; a reused pid keeps a stale file (the
safe side). Older names without host and pid are left alone.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from .errors import FramebufError

_PART = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9_-]+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.part$")
_swept: set[str] = set()            # folders this process has cleaned (once each: see sweep)
_lock = threading.Lock()


def host_tag() -> str:
    """This machine's name as it appears in temporary names (no dots: they separate fields)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True                  # exists (another user's) or cannot tell: keep the file
    return True


def sweep(folder) -> list[Path]:
    """Remove the temporary files dead processes of this host left in ``folder``; returns them.
    Listing a folder costs time in proportion to its entries, so each process does it once per
    folder (a batch writing 10,000 files into one folder lists it once, not 10,000 times)."""
    key = os.path.abspath(folder)
    with _lock:
        if key in _swept:
            return []
        _swept.add(key)
    host = host_tag()
    removed = []
    try:
        entries = [e.name for e in os.scandir(folder) if e.name.endswith(".part")]
    except OSError:
        return []
    for name in entries:
        m = _PART.match(name)
        if m is None or m["host"] != host or _alive(int(m["pid"])):
            continue
        try:
            os.unlink(os.path.join(folder, name))
            removed.append(Path(folder) / name)
        except OSError:
            pass                     # removed meanwhile, or not ours to remove
    return removed


@contextmanager
def atomic_output(path):
    """Yield a temporary path in the target's folder; rename it over ``path`` only on success.

    A failing writer leaves neither a partial file nor a damaged older file behind.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FramebufError(f"{path}: folder {folder} does not exist")
    sweep(folder)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{host_tag()}.{os.getpid()}.", suffix=".part",
                               dir=folder)
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
