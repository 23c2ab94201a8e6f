"""The job manifest: what a batch has finished, so a rerun does only the rest.

One SQLite file in the output folder (``.framebuf-job.sqlite``), written by the batch's main
process only (workers return bytes; the main process writes outputs, then records them):

``renders``
    one row per job and input path (a folder can hold the outputs of several jobs, e.g. ``copy
    -f png`` and ``copy -f tif``): the input's size, mtime and SHA-256, the options key (a hash of every option
    that changes an output, plus the framebuf version), the status (``ok`` / ``failed`` /
    ``pending``), the error, the output files with their sizes and SHA-256, and for dataset
    shards the shard that holds them.
``shards``
    the finished shards of a WebDataset destination: name, renders, bytes, SHA-256.

A render is trusted on a rerun when its row is ``ok`` under the same options key, the input is
unchanged (same size and mtime, or else the same content hash), and its outputs are all there
with the recorded sizes (``verify``: and checksums). A row is written only after its outputs
are whole on disk, so a set interrupted half-way is never trusted: it is simply done again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import FramebufError

FILE_NAME = ".framebuf-job.sqlite"
#: bumped when the tables change; an older journal is dropped (its renders are simply redone)
SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS renders (
    job TEXT, input TEXT, stem TEXT, run TEXT, size INTEGER, mtime_ns INTEGER, sha256 TEXT,
    options TEXT, status TEXT, error TEXT, outputs TEXT, shard TEXT, seconds REAL, finished REAL,
    PRIMARY KEY (job, input));
CREATE INDEX IF NOT EXISTS renders_stem ON renders (job, stem);
CREATE TABLE IF NOT EXISTS shards (
    name TEXT PRIMARY KEY, renders INTEGER, bytes INTEGER, sha256 TEXT, finished REAL);
"""


def file_sha256(path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def options_key(options: dict, version: str) -> str:
    """A short hash of the options that shape outputs and of the framebuf version."""
    text = json.dumps({"options": options, "version": version}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Row:
    input: str
    stem: str
    run: str
    size: int
    mtime_ns: int
    sha256: str
    options: str
    status: str
    error: str
    outputs: dict          # name -> [bytes, sha256]
    shard: str | None


class Journal:
    def __init__(self, folder: Path, run: str, job: str = "job"):
        self.path = Path(folder) / FILE_NAME
        self.run, self.job = run, job
        try:
            self.db = sqlite3.connect(str(self.path), isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            if self.db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                self.db.executescript("DROP TABLE IF EXISTS renders; DROP TABLE IF EXISTS shards;")
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise FramebufError(f"{self.path}: the job journal cannot be used ({exc}); delete it "
                                f"to start the job afresh") from None

    def lookup(self, path: str) -> Row | None:
        r = self.db.execute("SELECT input, stem, run, size, mtime_ns, sha256, options, status, error, "
                            "outputs, shard FROM renders WHERE job = ? AND input = ?", (self.job, path)).fetchone()
        if r is None:
            return None
        return Row(*r[:9], json.loads(r[9] or "{}"), r[10])

    def stem_owner(self, stem: str, path: str) -> str | None:
        """Another input of *this* run whose outputs have the same names."""
        r = self.db.execute("SELECT input FROM renders WHERE job = ? AND stem = ? AND input != ? "
                            "AND run = ?", (self.job, stem, path, self.run)).fetchone()
        return r[0] if r else None

    def claim(self, path: str, stem: str) -> None:
        """Mark an input as taken by this run (its stem reserved) before its task runs."""
        self.db.execute("INSERT INTO renders (job, input, stem, run, status) VALUES (?, ?, ?, ?, 'pending') "
                        "ON CONFLICT(job, input) DO UPDATE SET stem = excluded.stem, run = excluded.run, "
                        "status = CASE WHEN status = 'ok' THEN 'pending' ELSE status END",
                        (self.job, path, stem, self.run))
        # an older input of another run with this stem is about to be overwritten: forget it
        self.db.execute("DELETE FROM renders WHERE job = ? AND stem = ? AND input != ? AND run != ?",
                        (self.job, stem, path, self.run))

    def touch(self, path: str, size: int, mtime_ns: int) -> None:
        """The input's content is unchanged though its mtime moved: keep the row, note the stat."""
        self.db.execute("UPDATE renders SET size = ?, mtime_ns = ?, run = ? WHERE job = ? AND input = ?",
                        (size, mtime_ns, self.run, self.job, path))

    def record(self, rows: list[dict]) -> None:
        """Rows of finished renders (outputs whole on disk), in one transaction."""
        if not rows:
            return
        now = time.time()
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT OR REPLACE INTO renders (job, input, stem, run, size, mtime_ns, sha256, options, "
                "status, error, outputs, shard, seconds, finished) VALUES "
                "(:job, :input, :stem, :run, :size, :mtime_ns, :sha256, :options, :status, :error, "
                ":outputs, :shard, :seconds, :finished)",
                [{**r, "job": self.job, "run": self.run, "outputs": json.dumps(r.get("outputs") or {}),
                  "shard": r.get("shard"), "finished": now} for r in rows])

    def record_shard(self, name: str, renders: int, size: int, sha: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO shards VALUES (?, ?, ?, ?, ?)",
                        (name, renders, size, sha, time.time()))

    def shards(self) -> list[tuple[str, int]]:
        return [tuple(r) for r in self.db.execute("SELECT name, renders FROM shards ORDER BY name")]

    def forget_pending(self) -> None:
        """Rows this run claimed and never finished go (a rerun treats them as new)."""
        self.db.execute("DELETE FROM renders WHERE status = 'pending' AND run = ?", (self.run,))

    def counts(self) -> dict:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM renders GROUP BY status").fetchall())

    def close(self) -> None:
        try:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self.db.close()
