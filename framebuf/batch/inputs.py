"""Inputs of a batch, streamed: globs, folders and ``@list.txt`` files, in a stable order.

Nothing here holds more than one folder's names at a time, so a million renders in a tree of
folders (or a list file of a million lines) cost memory for one folder, not for the job. The
order is deterministic (each folder's entries sorted, a list file's lines in order): it decides
which render goes into which dataset shard.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import FramebufError

GLOB_CHARS = set("*?[")
#: what a folder given as an input contributes
FOLDER_SUFFIXES = (".exr",)


def _is_glob(text: str) -> bool:
    return bool(GLOB_CHARS & set(text))


def _sorted_entries(folder: str) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError:
        return []


def _walk_files(folder: str, suffixes) -> Iterator[str]:
    """Every file below ``folder`` with one of ``suffixes``, depth first, names sorted."""
    for entry in _sorted_entries(folder):
        if entry.is_dir(follow_symlinks=True):
            yield from _walk_files(entry.path, suffixes)
        elif entry.name.lower().endswith(suffixes) and entry.is_file():
            yield entry.path


def _glob(parts: list[str], base: str) -> Iterator[str]:
    """``glob`` one path component at a time (``**`` = any depth), each folder's names sorted."""
    if not parts:
        yield base
        return
    head, rest = parts[0], parts[1:]
    if head == "**":
        yield from _glob(rest, base)
        for entry in _sorted_entries(base or "."):
            if entry.is_dir(follow_symlinks=True):
                yield from _glob(parts, os.path.join(base, entry.name))
        return
    if not _is_glob(head):
        path = os.path.join(base, head) if base else head
        if rest or os.path.exists(path):
            yield from _glob(rest, path)
        return
    for entry in _sorted_entries(base or "."):
        if fnmatch.fnmatchcase(entry.name, head) and not (entry.name.startswith(".") and not head.startswith(".")):
            yield from _glob(rest, os.path.join(base, entry.name))


def _expand_glob(spec: str) -> Iterator[str]:
    p = Path(spec)
    anchor = p.anchor
    parts = list(p.parts[1:] if anchor else p.parts)
    for hit in _glob(parts, anchor):
        if os.path.isfile(hit):
            yield hit


def _list_file(spec: str) -> Iterator[str]:
    path = spec[1:]
    try:
        fh = open(path, encoding="utf-8")
    except OSError as exc:
        raise FramebufError(f"{path}: cannot read the input list ({exc.strerror or exc})") from None
    base = os.path.dirname(path)
    with fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            # a relative line is relative to the list file, as a playlist's entries are
            entry = line if os.path.isabs(line) else os.path.join(base, line)
            yield from (_expand_glob(entry) if _is_glob(entry) else [entry])


def iter_inputs(specs: Iterable[str], suffixes=FOLDER_SUFFIXES) -> Iterator[str]:
    """Each input path once per mention: a file as given, a folder's files (``suffixes``,
    recursively), a glob's matches, an ``@list.txt``'s lines (blank and ``#`` lines skipped;
    each line a path or a glob). A name that is none of these is yielded as it is, so the batch
    reports it as missing rather than dropping it."""
    for spec in specs:
        spec = str(spec)
        if spec.startswith("@") and len(spec) > 1:
            yield from _list_file(spec)
        elif os.path.isdir(spec):
            yield from _walk_files(spec, tuple(s.lower() for s in suffixes))
        elif _is_glob(spec) and not os.path.exists(spec):
            yield from _expand_glob(spec)
        else:
            yield spec


def count_inputs(specs: Iterable[str], suffixes=FOLDER_SUFFIXES) -> int:
    """How many :func:`iter_inputs` yields (one streamed pass; for the progress bar's ETA)."""
    return sum(1 for _ in iter_inputs(specs, suffixes))
