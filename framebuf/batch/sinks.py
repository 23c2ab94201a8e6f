"""Where a batch's outputs go: a folder (one file per asset) or WebDataset tar shards.

The main process is the only writer. A sink takes one render's files at a time and hands back
the journal rows that are now safe to record: a folder's at once (each file is written
atomically, the row after the last one), a shard's only when the shard is finished and renamed
into place, so a crash leaves at most one ``.partial`` shard, which the next run deletes and
whose renders it does again.

WebDataset convention (webdataset.github.io): a shard is a plain tar; the files of one sample
share a key, the member name up to its first dot, and the rest of the name is the field
(``188.rgb.png`` -> key ``188``, field ``rgb.png``). A render stem with dots would split there,
so its dots become ``_`` in the key (``info.json`` keeps the source name). Members are written
with mtime 0, uid/gid 0 and mode 0644, so the same renders give the same bytes. Beside the shards,
``shard-index.json`` lists them with their sample counts (the ``wids`` shard-index layout).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
from pathlib import Path

from .._atomic import atomic_output
from ..errors import FramebufError

WEBDATASET = "webdataset:"
INDEX_NAME = "shard-index.json"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FolderSink:
    kind = "folder"

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def describe(self) -> str:
        return str(self.folder)

    def put(self, row: dict, files: list[tuple[str, bytes]]) -> list[dict]:
        outputs = {}
        for name, data in files:
            target = self.folder / name
            if not target.resolve().is_relative_to(self.folder.resolve()):
                raise FramebufError(f"{row['input']}: output name {name!r} leaves the output folder")
            # a render's files may sit in its own subfolder (render: OUT/<stem>/...)
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_output(target) as tmp:
                with open(tmp, "wb") as fh:
                    fh.write(data)
            outputs[name] = [len(data), _sha(data)]
        return [{**row, "outputs": outputs}]

    def intact(self, row, verify: bool = False) -> bool:
        for name, (size, sha) in row.outputs.items():
            p = self.folder / name
            try:
                if p.stat().st_size != size:
                    return False
            except OSError:
                return False
            if verify and _sha(p.read_bytes()) != sha:
                return False
        return bool(row.outputs)

    def close(self) -> list[dict]:
        return []


def sample_key(stem: str) -> str:
    return stem.replace(".", "_")


def _member_name(key: str, stem: str, name: str) -> str:
    """A file of one render -> its shard member: ``188.rgb.png`` -> ``188.rgb.png``,
    ``frame.7/beauty.exr`` (render's per-scene folder) -> ``frame_7.beauty.exr``; deeper folders
    join with ``_`` so the field never holds a ``/`` or a second key."""
    if name.startswith(stem + "/"):
        return f"{key}.{name[len(stem) + 1:].replace('/', '_')}"
    if name.startswith(stem):
        return key + name[len(stem):]
    return f"{key}.{name}"


class WebDatasetSink:
    kind = "webdataset"

    def __init__(self, pattern: str, per_shard: int, journal):
        if "%" not in pattern:
            raise FramebufError(f"{WEBDATASET}{pattern}: the shard pattern needs a number field "
                                f"such as %06d (shard-%06d.tar)")
        try:
            pattern % 0
        except (TypeError, ValueError):
            raise FramebufError(f"{WEBDATASET}{pattern}: the shard pattern takes one integer "
                                f"field (%06d)") from None
        if per_shard < 1:
            raise FramebufError("--shard-size must be at least 1")
        self.pattern = pattern
        self.folder = Path(pattern).parent
        self.per_shard = per_shard
        self.journal = journal
        self.tar = None
        self.rows: list[dict] = []
        self.keys: set[str] = set()
        shape = re.escape(Path(pattern).name)
        self._number = re.compile(re.sub(r"%\d*d", r"(\\d+)", shape) + "$")

    def describe(self) -> str:
        return f"{WEBDATASET}{self.pattern}"

    def _next_number(self) -> int:
        used = [-1]
        for name, _ in self.journal.shards():
            m = self._number.match(name)
            if m:
                used.append(int(m.group(1)))
        for p in self.folder.glob("*"):
            m = self._number.match(p.name)
            if m:
                used.append(int(m.group(1)))
        return max(used) + 1

    def start(self) -> None:
        """Delete the ``.partial`` shard a crash left (its renders were never recorded)."""
        for p in self.folder.glob("*.partial"):
            if self._number.match(p.name[: -len(".partial")]):
                p.unlink()

    def _open(self) -> None:
        self.name = Path(self.pattern % self._next_number()).name
        self.partial = self.folder / (self.name + ".partial")
        self.fh = open(self.partial, "wb")
        self.hash = hashlib.sha256()
        self.tar = tarfile.open(fileobj=_Hashing(self.fh, self.hash), mode="w", format=tarfile.PAX_FORMAT)

    def put(self, row: dict, files: list[tuple[str, bytes]]) -> list[dict]:
        if self.tar is None:
            self._open()
        stem = row["stem"]
        key = sample_key(stem)
        if key in self.keys:
            raise FramebufError(f"{row['input']}: sample key {key!r} is already in shard {self.name}")
        outputs = {}
        for name, data in files:
            member = _member_name(key, stem, name)
            info = tarfile.TarInfo(member)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            self.tar.addfile(info, io.BytesIO(data))
            outputs[member] = [len(data), _sha(data)]
        self.keys.add(key)
        self.rows.append({**row, "outputs": outputs, "shard": self.name})
        return self._finish() if len(self.rows) >= self.per_shard else []

    def _finish(self) -> list[dict]:
        if self.tar is None:
            return []
        self.tar.close()
        self.fh.flush()
        os.fsync(self.fh.fileno())
        size = self.fh.tell()
        self.fh.close()
        os.replace(self.partial, self.folder / self.name)
        self.journal.record_shard(self.name, len(self.rows), size, self.hash.hexdigest())
        rows, self.rows, self.keys, self.tar = self.rows, [], set(), None
        self._write_index()
        return rows

    def _write_index(self) -> None:
        doc = {"__kind__": "wids-shard-index-v1", "wids_version": 1, "name": Path(self.pattern).stem,
               "shardlist": [{"url": n, "nsamples": k} for n, k in self.journal.shards()
                             if (self.folder / n).is_file()]}
        with atomic_output(self.folder / INDEX_NAME) as tmp:
            Path(tmp).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")

    def intact(self, row, verify: bool = False) -> bool:
        if not row.shard:
            return False
        p = self.folder / row.shard
        if not p.is_file():
            return False
        if verify:
            with tarfile.open(p) as tar:
                names = {m.name: m for m in tar.getmembers()}
                for member, (size, sha) in row.outputs.items():
                    m = names.get(member)
                    if m is None or m.size != size or _sha(tar.extractfile(m).read()) != sha:
                        return False
        return True

    def close(self) -> list[dict]:
        """Finish the open shard, however few renders it holds (each one whole)."""
        return self._finish()


class _Hashing:
    """A write-only file object that hashes what passes through (the shard's checksum)."""

    def __init__(self, fh, h):
        self.fh, self.h = fh, h

    def write(self, data):
        self.h.update(data)
        return self.fh.write(data)

    def tell(self):
        return self.fh.tell()

    def flush(self):
        self.fh.flush()


def parse_destination(to: str | None, output: str | None):
    """``-o OUTDIR`` or ``--to webdataset:PATTERN`` -> (kind, folder, pattern)."""
    if to and output:
        raise FramebufError("give either -o OUTDIR or --to webdataset:PATTERN, not both")
    if to:
        if not to.startswith(WEBDATASET) or len(to) == len(WEBDATASET):
            raise FramebufError(f"--to takes webdataset:OUT/shard-%06d.tar, not {to!r}")
        pattern = to[len(WEBDATASET):]
        return "webdataset", Path(pattern).parent, pattern
    if not output:
        raise FramebufError("give an output folder with -o OUTDIR (or --to webdataset:PATTERN)")
    return "folder", Path(output), None
