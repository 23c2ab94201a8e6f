"""Seeded fuzzing of every reader: mutants of small files framebuf writes, each read in a child
process under a time and memory cap, every outcome classified.

A reader passes when every mutant either reads or raises a :class:`~framebuf.errors.FramebufError`,
within the time cap, without asking for memory beyond the budget, and never reads a truncated file
without an error. ``tests/test_fuzz.py`` runs a few dozen mutants per format; ``bench/fuzz.py`` runs
thousands and prints a table.

Outcomes (the ``OUTCOMES`` table):

* ``read``       the mutant decoded (a flipped pixel byte is just another picture)
* ``refused``    a FramebufError (CorruptFileError, MemoryBudgetError, UnsupportedFeatureError ...)
* ``exception``  any other exception: a bug
* ``hang``       no answer within the time cap: a bug
* ``memory``     a MemoryError or the child killed by the address-space cap: the reader asked for
                 memory before checking the declared size against the file and the budget: a bug
* ``truncated``  a cut file read without an error and with different pixels, or any mutant
                 that decoded to more than ``INFLATION`` bytes per byte of file (a header declaring
                 rows the data does not hold, zero-filled): a bug. A cut that removed only data
                 after the pixels (an optional trailer) and left them intact counts as ``read``.

Memory: the child runs with ``FRAMEBUF_MEMORY_BUDGET`` at ``CHILD_BUDGET`` and an address-space
limit ``ADDRESS_CAP`` above what its imports took, so a reader that allocates a declared size
without checking it fails with MemoryError (``memory``) instead of swapping the machine; a read
whose own peak resident size grows by more than twice the budget is ``memory`` too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing
import os
import struct
import tempfile
import time
import traceback
import zlib
from pathlib import Path

import numpy as np

OUTCOMES = ("read", "refused", "exception", "hang", "memory", "truncated")
BAD_OUTCOMES = ("exception", "hang", "memory", "truncated")

#: seconds one read may take before it counts as a hang (the issue's acceptance: 5 s)
TIME_CAP = 5.0
#: memory budget the child runs under (FRAMEBUF_MEMORY_BUDGET), and its address-space cap: a read
#: that allocates past the budget without checking hits the cap and is classified ``memory``
CHILD_BUDGET = 256 << 20
ADDRESS_CAP = 2 * CHILD_BUDGET
#: decoded bytes per file byte above which a read "succeeded" on data the file cannot hold (a
#: header declaring a million rows of a 1.5 KB file, filled with zeros); deflate's limit is ~1032
INFLATION = 4000

#: width and height of the seed files (the fixed-size Quantel frames keep their own): small, so
#: thousands of reads take a minute, with runs and noise for the run-length coders
SEED_SIZE = (24, 10)

#: extreme values written over header fields (sizes, counts, chunk lengths, offsets)
EXTREMES32 = (0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 100000, 1 << 20, 0xFFFF, 0x10000)
EXTREMES16 = (0, 1, 0xFFFF, 0x7FFF, 0x8000, 10000)
HEADER_SPAN = 512


@dataclasses.dataclass
class Seed:
    fmt: str
    path: Path
    options: dict
    digest: str             # of the intact file's decoded pixels
    label: str = ""
    deep: bool = False      # read with the deep EXR reader instead of framebuf.read_image


@dataclasses.dataclass
class Mutant:
    seed: Seed
    kind: str
    data: bytes
    truncated: bool = False


@dataclasses.dataclass
class Result:
    fmt: str
    kind: str
    outcome: str
    detail: str
    seconds: float


def _pixel_digest(image) -> str:
    h = hashlib.sha256()
    for layer in image.layers:
        px = np.ascontiguousarray(layer.pixels)
        h.update(f"{layer.name}|{px.shape}|{px.dtype}".encode("utf-8", "backslashreplace"))
        h.update(px.tobytes())
    return h.hexdigest()


def readable_formats() -> list[str]:
    from framebuf.plugins import registry
    return sorted((s.name for s in registry().formats.values()
                   if s.available and s.can_read and s.can_write), key=str.lower)


def _read_options(fmt: str, width: int, height: int) -> dict:
    # a headerless format needs its size from the caller, as `framebuf info --read-option` gives it
    return {"width": width, "height": height} if fmt == "Zpic" else {}


def _sample(dt, height: int, width: int, rng) -> np.ndarray:
    comps = max(len(dt.view), 1)
    if dt.kind == "tag":
        return rng.integers(0, 1000, (height, width, comps)).astype(np.uint32)
    if dt.kind == "bit":
        return rng.integers(0, 2, (height, width, comps)).astype(np.uint8)
    if dt.kind == "depth":
        return (0.5 + 20 * rng.random((height, width, comps))).astype(np.float32)
    px = rng.random((height, width, comps)).astype(np.float32)
    # runs as well as noise, so run-length coders write both packet kinds
    px[: height // 2, : width // 2] = 0.25
    return px


def write_seeds(folder, formats=None) -> list[Seed]:
    """One small valid file per readable format (EXR: several compressions, tiled, multi-part,
    deep), each read once to record its pixels."""
    import framebuf
    from framebuf.datatypes import datatype
    from framebuf.plugins import registry

    folder = Path(folder)
    rng = np.random.default_rng(1)
    seeds: list[Seed] = []
    for fmt in formats or readable_formats():
        spec = registry().formats[fmt]
        width, height = spec.fixed_size or SEED_SIZE
        ext = spec.extensions[0] if spec.extensions else "out"
        variants = [("", {})]
        if fmt == "exr":
            variants = [("zip", {"compression": "zip"}), ("rle", {"compression": "rle"}),
                        ("none", {"compression": "none"}), ("piz", {"compression": "piz"}),
                        ("tiled", {"compression": "zip", "tiled": True, "tile_size": 8})]
        if fmt == "tif":
            variants = [("packbits", {}), ("deflate", {"compression": "deflate"})]
        for label, wopts in variants:
            fbs = framebuf.FrameBufferSet(width, height)
            dt = spec.default_datatype
            fbs.add("beauty", dt, user=True, data=_sample(datatype(dt), height, width, rng))
            if fmt == "exr" and label == "zip":
                fbs.add("depth", "z", user=True, data=_sample(datatype("z"), height, width, rng))
            path = folder / f"seed_{fmt}{'_' + label if label else ''}.{ext}"
            if fmt == "exr" and label == "zip":
                framebuf.write(fbs, path, filetype=fmt, **wopts)
            else:
                framebuf.write(fbs["beauty"], path, filetype=fmt, **wopts)
            options = _read_options(fmt, width, height)
            image = framebuf.read_image(path, filetype=fmt, **options)
            seeds.append(Seed(fmt, path, options, _pixel_digest(image), label))
    if formats is None or "exr" in formats:
        seeds.extend(_deep_seed(folder))
        seeds.extend(_exr_header_seeds(folder))
    return seeds


#: header attributes of the "attrs" EXR seed: one of each kind `framebuf info` and the readers
#: interpret (text, matrix, Cryptomatte metadata), so retyping them reaches that code
SEED_ATTRIBUTES = {
    "comments": "fuzz", "capDate": "2026:01:01 00:00:00", "worldToCamera": np.eye(4, dtype=np.float32),
    "cryptomatte/0a1b2c3/name": "CryptoObject", "cryptomatte/0a1b2c3/hash": "MurmurHash3_32",
    "cryptomatte/0a1b2c3/conversion": "uint32_to_float32",
    "cryptomatte/0a1b2c3/manifest": '{"a": "3f800000"}',
}


def _exr_header_seeds(folder: Path) -> list[Seed]:
    """An EXR with many header attributes, and a two-part EXR (written by the OpenEXR binding)."""
    import OpenEXR

    import framebuf
    rng = np.random.default_rng(3)
    fbs = framebuf.FrameBufferSet(*SEED_SIZE, attributes=dict(SEED_ATTRIBUTES))
    fbs.add("beauty", "rgba_h", user=True, data=rng.random((SEED_SIZE[1], SEED_SIZE[0], 4)).astype(np.float32))
    attrs = folder / "seed_exr_attrs.exr"
    framebuf.write(fbs, attrs, compression="zip")
    h, w = SEED_SIZE[1], SEED_SIZE[0]
    beauty = {c: rng.random((h, w)).astype(np.float16) for c in "RGBA"}
    depth = {"Z": rng.random((h, w)).astype(np.float32)}
    parts = [OpenEXR.Part({"compression": OpenEXR.ZIP_COMPRESSION}, beauty, "beauty"),
             OpenEXR.Part({"compression": OpenEXR.RLE_COMPRESSION}, depth, "depth")]
    multi = folder / "seed_exr_multipart.exr"
    OpenEXR.File(parts).write(str(multi))
    return [Seed("exr", p, {}, _pixel_digest(framebuf.read_image(p, filetype="exr")), label)
            for p, label in ((attrs, "attrs"), (multi, "multipart"))]


def _deep_seed(folder: Path) -> list[Seed]:
    """A small deep scanline EXR, when the deep writer is available."""
    from framebuf import deep
    from framebuf.formats import _exrdeep
    rng = np.random.default_rng(2)
    samples = {}
    for y in range(3):
        for x in range(5):
            n = int(rng.integers(0, 4))
            if n:
                samples[(x, y)] = {"A": rng.random(n).tolist(), "Z": sorted((rng.random(n) * 10).tolist())}
    img = deep.from_pixels(5, 3, samples)
    path = folder / "seed_exr_deep.exr"
    _exrdeep.write(path, [img], {})
    return [Seed("exr", path, {}, _deep_digest(_exrdeep.read(path)), "deep", deep=True)]


def _deep_digest(images) -> str:
    h = hashlib.sha256()
    for img in images:
        h.update(np.ascontiguousarray(img.offsets).tobytes())
        h.update(np.ascontiguousarray(img.floats).tobytes())
        h.update(np.ascontiguousarray(img.uints).tobytes())
    return h.hexdigest()


# -- mutations ---------------------------------------------------------------------------------

def _truncate(data: bytes, rng) -> tuple:
    cut = int(rng.integers(0, len(data)))
    return "truncate", data[:cut], True


def _flip_bits(data: bytes, rng):
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 9))):
        # header bytes are flipped as often as the rest: that is where the decisions are
        pos = int(rng.integers(0, min(len(b), HEADER_SPAN))) if rng.random() < 0.5 else int(rng.integers(0, len(b)))
        b[pos] ^= 1 << int(rng.integers(0, 8))
    return "bitflip", bytes(b), False


def _extreme_field(data: bytes, rng):
    b = bytearray(data)
    width = 4 if rng.random() < 0.6 else 2
    span = max(1, min(len(b), HEADER_SPAN) - width)
    pos = int(rng.integers(0, span))
    value = int(rng.choice(EXTREMES32 if width == 4 else EXTREMES16))
    order = "<" if rng.random() < 0.5 else ">"
    b[pos:pos + width] = struct.pack(order + ("I" if width == 4 else "H"), value)[: len(b) - pos]
    return "extreme", bytes(b), False


def _png_chunks(data: bytes):
    pos = 8
    while pos + 8 <= len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        yield pos, length, data[pos + 4:pos + 8]
        if pos + 12 + length > len(data):
            return
        pos += 12 + length


def _png_field(data: bytes, rng):
    """A chunk length, or an IHDR width/height with the CRC recomputed so libpng takes it."""
    chunks = list(_png_chunks(data))
    b = bytearray(data)
    if rng.random() < 0.4 and chunks:
        pos, _, _ = chunks[int(rng.integers(0, len(chunks)))]
        b[pos:pos + 4] = struct.pack(">I", int(rng.choice(EXTREMES32)))
        return "png-length", bytes(b), False
    field = 16 + 4 * int(rng.integers(0, 2))
    b[field:field + 4] = struct.pack(">I", int(rng.choice((1000000, 0x7FFFFFFF, 65535, 100000, 3))))
    crc = zlib.crc32(bytes(b[12:29])) & 0xFFFFFFFF
    b[29:33] = struct.pack(">I", crc)
    return "png-ihdr", bytes(b), False


def _exr_attributes(data: bytes):
    """(offset of name, type offset, size offset, value offset, size) of each attribute of the
    first header."""
    out = []
    pos = 8
    while pos < len(data) and data[pos] != 0:
        end = data.find(b"\0", pos)
        tend = data.find(b"\0", end + 1)
        if end < 0 or tend < 0 or tend + 5 > len(data):
            break
        size = struct.unpack("<i", data[tend + 1:tend + 5])[0]
        out.append((pos, end + 1, tend + 1, tend + 5, size, data[end + 1:tend]))
        if size < 0:
            break
        pos = tend + 5 + size
    return out


def _exr_attribute(data: bytes, rng):
    """Every EXR attribute type: retype an attribute, set its size to an extreme, or write
    extreme numbers over its value."""
    from framebuf.formats._exrfile import ATTRIBUTE_TYPES
    attrs = _exr_attributes(data)
    if not attrs:
        return _extreme_field(data, rng)
    name, tpos, spos, vpos, size, typ = attrs[int(rng.integers(0, len(attrs)))]
    choice = rng.random()
    if choice < 0.35:
        types = sorted(ATTRIBUTE_TYPES) + ["bogus", ""]
        new = types[int(rng.integers(0, len(types)))]
        if rng.random() < 0.5:
            # the new type with a value of its own size: reaches the code using the value
            value = _well_formed_value(new)
            return "exr-type", (data[:tpos] + new.encode() + b"\0" + struct.pack("<i", len(value))
                                + value + data[vpos + size:]), False
        return "exr-type", data[:tpos] + new.encode() + data[spos - 1:], False
    b = bytearray(data)
    if choice < 0.6:
        b[spos:spos + 4] = struct.pack("<I", int(rng.choice(EXTREMES32 + (size + 1, size - 1, 3))) & 0xFFFFFFFF)
        return "exr-size", bytes(b), False
    if size > 0:
        at = vpos + 4 * int(rng.integers(0, max(1, size // 4)))
        value = struct.pack("<I", int(rng.choice(EXTREMES32 + (0x80000001, 0xFFFFFFFE))))
        b[at:at + 4] = value[: max(0, min(4, len(b) - at))]
    return "exr-value", bytes(b), False


def _well_formed_value(typ: str) -> bytes:
    """A value of the right size for an EXR attribute type, so a retyped attribute parses and the
    code that uses it sees a value of the wrong kind."""
    from framebuf.formats._exrfile import ATTRIBUTE_TYPES
    parse = ATTRIBUTE_TYPES.get(typ)
    if typ == "chlist":
        return b"R\0" + struct.pack("<iBBBBii", 1, 0, 0, 0, 0, 1, 1) + b"\0"
    if typ == "tiledesc":
        return struct.pack("<IIB", 8, 8, 0)
    if typ == "stringvector":
        return struct.pack("<i", 1) + b"x" + struct.pack("<i", 2) + b"yz"
    if typ == "string":
        return b"RGBA"
    fmt = getattr(parse, "format", None)
    if fmt is None:
        return b"\x01\x02\x03"
    return bytes(range(1, struct.calcsize("<" + fmt) + 1))


def exr_retyped(data: bytes):
    """Every attribute of a (single- or multi-part first) EXR header given every attribute type
    (and one unknown type), with a well-formed value of that type: (label, bytes) pairs."""
    from framebuf.formats._exrfile import ATTRIBUTE_TYPES
    for name_pos, tpos, spos, vpos, size, typ in _exr_attributes(data):
        name = data[name_pos:tpos - 1].decode("latin-1")
        for new in sorted(ATTRIBUTE_TYPES) + ["studioThing"]:
            if new.encode() == typ:
                continue
            value = _well_formed_value(new)
            out = (data[:tpos] + new.encode() + b"\0" + struct.pack("<i", len(value)) + value
                   + data[vpos + size:])
            yield f"{name}:{new}", out


def mutate(seed: Seed, rng) -> Mutant:
    data = seed.path.read_bytes()
    pick = rng.random()
    if pick < 0.25:
        kind, out, cut = _truncate(data, rng)
    elif pick < 0.55:
        kind, out, cut = _flip_bits(data, rng)
    elif seed.fmt == "exr" and pick < 0.85:
        kind, out, cut = _exr_attribute(data, rng)
    elif seed.fmt == "png" and pick < 0.85:
        kind, out, cut = _png_field(data, rng)
    else:
        kind, out, cut = _extreme_field(data, rng)
    return Mutant(seed, kind, out, cut)


def mutants(seeds: list[Seed], per_format: int, seed: int = 0):
    """``per_format`` mutants of each format's seeds, reproducible from ``seed``."""
    by_format: dict[str, list[Seed]] = {}
    for s in seeds:
        by_format.setdefault(s.fmt, []).append(s)
    for fmt, group in by_format.items():
        rng = np.random.default_rng([seed, zlib.crc32(fmt.encode())])
        for i in range(per_format):
            yield mutate(group[i % len(group)], rng)


# -- running -----------------------------------------------------------------------------------

def _read_one(path, fmt, options, deep) -> str:
    import framebuf
    if deep:
        from framebuf.formats import _exrdeep
        images = _exrdeep.read(path)
        decoded = sum(i.floats.nbytes + i.uints.nbytes + i.offsets.nbytes for i in images)
        return f"{_deep_digest(images)}:{decoded}"
    image = framebuf.read_image(path, filetype=fmt, **options)
    return f"{_pixel_digest(image)}:{sum(layer.pixels.nbytes for layer in image.layers)}"


def _describe(path) -> str:
    from framebuf.cli.info import _text, describe
    _text(describe(path))
    return ":0"


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> int | None:
    """Reset this process's peak resident size (Linux: ``5`` into ``clear_refs``) and return the
    resident size now (KiB), so the peak after a read is that read's own. A child forked from a
    big process (a test run) inherits resident pages it only faults in later; a peak kept from
    the fork would count them against whichever read came later."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return None
    return _status_kib("VmRSS")


def _attempt(job) -> tuple:
    """(outcome, detail, digest, bytes the call's peak resident size rose by) of one call."""
    import resource

    from framebuf.errors import FramebufError
    before = _reset_peak()
    try:
        digest = job()
        peak = _status_kib("VmHWM") if before is not None else None
        if peak is None:    # no /proc: the process's peak so far (Runner then compares runs)
            grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        else:
            grown = max(0, peak - before) * 1024
        return "read", "", digest, grown
    except FramebufError as exc:
        return "refused", f"{type(exc).__name__}: {str(exc)[-160:]}", "", 0
    except MemoryError as exc:
        return "memory", f"MemoryError: {exc}", "", 0
    except Exception as exc:  # noqa: BLE001 - the point: report whatever escaped
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(tb.filename).name}:{tb.lineno}"
        return "exception", f"{type(exc).__name__}: {str(exc)[:120]} ({where})", "", 0


def _child(conn) -> None:
    """Read each path the parent sends; answer (outcome, detail, "digest:decoded bytes", the read's peak RSS growth)."""
    import logging
    import resource
    os.environ["FRAMEBUF_MEMORY_BUDGET"] = str(CHILD_BUDGET)
    import framebuf  # noqa: F401 - imported before the address-space cap is measured
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)   # it logs every bad tag it skips
    try:
        # the address space the imports took, plus the cap: a read allocating past it fails
        # with MemoryError instead of swapping the machine
        with open("/proc/self/statm") as fh:
            base = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (base + ADDRESS_CAP, base + ADDRESS_CAP))
    except (ValueError, OSError):
        pass
    while True:
        job = conn.recv()
        if job is None:
            return
        path, fmt, options, info, deep = job
        answer = _attempt(lambda: _read_one(path, fmt, options, deep))
        if info and answer[0] in ("read", "refused"):
            # `framebuf info` takes its own path through the header (layouts, cryptomatte): a
            # traceback there is as much a bug as one in the reader
            described = _attempt(lambda: _describe(path))
            if described[0] not in ("read", "refused"):
                answer = (described[0], "framebuf info: " + described[1], "", 0)
        conn.send(answer)


_PER_READ_PEAK = os.path.exists("/proc/self/clear_refs")


class Runner:
    """A forked reader process, replaced when it hangs or dies."""

    def __init__(self, time_cap: float = TIME_CAP):
        self.time_cap = time_cap
        self.proc = None
        self.conn = None

    def _start(self):
        from framebuf.batch.executors import start_method

        # the batch layer's rule: a child forked after this process used OpenEXR's thread pool
        # (writing the seeds did) can wait forever on the pool's missing threads
        ctx = multiprocessing.get_context(start_method())
        parent, child = ctx.Pipe()
        self.proc = ctx.Process(target=_child, args=(child,), daemon=True)
        self.base_rss = None
        self.proc.start()
        child.close()
        self.conn = parent

    def _kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
        self.proc = self.conn = None

    def close(self):
        if self.proc is not None:
            try:
                self.conn.send(None)
                self.proc.join(2)
            except (OSError, EOFError):
                pass
            self._kill()

    def read(self, path, fmt, options, info=False, deep=False) -> tuple[str, str, str, float]:
        if self.proc is None:
            self._start()
        start = time.perf_counter()
        self.conn.send((str(path), fmt, options, info, deep))
        try:
            ready = self.conn.poll(self.time_cap)
        except (OSError, EOFError):
            ready = False
        seconds = time.perf_counter() - start
        if not ready:
            alive = self.proc.is_alive()
            self._kill()
            if alive:
                return "hang", f"no answer in {self.time_cap:.0f} s", "", seconds
            return "memory", "reader process died (address-space cap or crash)", "", seconds
        try:
            outcome, detail, digest, peak = self.conn.recv()
        except (OSError, EOFError):
            code = self.proc.exitcode
            self._kill()
            return "memory", f"reader process died (exit {code})", "", seconds
        if _PER_READ_PEAK:
            grown = peak
        else:
            # without /proc the peak only grows: compare with the child's first read, and a new
            # child measures the next read afresh
            if self.base_rss is None:
                self.base_rss = peak
            grown = peak - self.base_rss
        if grown > 2 * CHILD_BUDGET:
            self._kill()
            return "memory", f"peak resident size grew by {grown >> 20} MiB", digest, seconds
        return outcome, detail, digest, seconds


def run(per_format: int, formats=None, seed: int = 0, folder=None, progress=None,
        time_cap: float = TIME_CAP, keep=None) -> list[Result]:
    """Fuzz ``per_format`` mutants of each readable format; returns one Result per mutant.
    ``progress(done, total, result)`` is called after each read; ``keep`` is a folder that
    receives a copy of every mutant with a bad outcome (named after its number and format)."""
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        tmp = Path(tmp)
        seeds = write_seeds(tmp, formats)
        fmts = sorted({s.fmt for s in seeds}, key=str.lower)
        total = per_format * len(fmts)
        runner = Runner(time_cap)
        results: list[Result] = []
        try:
            for i, m in enumerate(mutants(seeds, per_format, seed)):
                ext = m.seed.path.suffix
                path = tmp / f"mutant{ext}"
                path.write_bytes(m.data)
                # an EXR is also described the way `framebuf info` does (header, layout, cryptomatte)
                info = m.seed.fmt == "exr"
                outcome, detail, digest, seconds = runner.read(path, m.seed.fmt, m.seed.options, info, m.seed.deep)
                if outcome == "read" and m.truncated and digest.split(":")[0] != m.seed.digest:
                    outcome, detail = "truncated", f"cut to {len(m.data)} bytes, read without error"
                elif outcome == "read" and int(digest.split(":")[1]) > INFLATION * len(m.data):
                    outcome = "truncated"
                    detail = (f"{digest.split(':')[1]} bytes decoded from a {len(m.data)}-byte file: "
                              "declared data the file cannot hold read without error")
                kind = f"{m.kind}/{m.seed.label}" if m.seed.label else m.kind
                if keep is not None and outcome in BAD_OUTCOMES:
                    Path(keep).mkdir(parents=True, exist_ok=True)
                    (Path(keep) / f"{i:06d}_{m.seed.fmt}_{outcome}{ext}").write_bytes(m.data)
                results.append(Result(m.seed.fmt, kind, outcome, detail, seconds))
                if progress:
                    progress(i + 1, total, results[-1])
        finally:
            runner.close()
        return results


def table(results: list[Result]) -> str:
    """One row per format: counts of each outcome, slowest read, and the first bad detail."""
    rows = {}
    for r in results:
        row = rows.setdefault(r.fmt, {o: 0 for o in OUTCOMES} | {"slowest": 0.0, "first": ""})
        row[r.outcome] += 1
        row["slowest"] = max(row["slowest"], r.seconds)
        if r.outcome in BAD_OUTCOMES and not row["first"]:
            row["first"] = f"{r.kind}: {r.detail}"
    head = f"{'format':<8}" + "".join(f"{o:>10}" for o in OUTCOMES) + f"{'slowest s':>11}  first bad"
    lines = [head, "-" * len(head)]
    for fmt in sorted(rows, key=str.lower):
        row = rows[fmt]
        lines.append(f"{fmt:<8}" + "".join(f"{row[o]:>10}" for o in OUTCOMES)
                     + f"{row['slowest']:>11.2f}  {row['first'][:140]}")
    return "\n".join(lines)
