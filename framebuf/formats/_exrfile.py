"""Fast, selective reading of multi-channel (and multi-part) OpenEXR files.

Why not just ``OpenEXR.File(path, separate_channels=True)``: the installed Python binding (3.5.3)
has no way to choose parts or channels -- it decodes and converts every channel of every part.
A synthetic-data render carries 60-100 channels of which an extraction job needs most but not
all (``CameraPoints``, ``denoiser``, ``diffuse`` ... are never used), and a multi-part Blender
file holds whole parts nobody asked for.

So this module parses the header itself (it is cheap and gives ``framebuf info`` everything it
prints), then decodes only what a job asks for:

* parts that hold no wanted channel are never touched (their chunks are not even read);
* for the compressions whose chunks are plain byte streams -- NONE, RLE, ZIPS, ZIP, the usual
  output of renderers -- chunks are inflated with libdeflate (imagecodecs) in a thread pool (it
  releases the GIL) straight into one buffer, and one Numba kernel undoes the predictor and
  copies out *only the wanted channels'* bytes: unwanted channels are inflated (a chunk holds
  every channel) but never de-interleaved, converted or copied;
* any other compression (PIZ, PXR24, B44, DWA, HTJ2K) or sub-sampled channels fall back to the
  OpenEXR binding with its thread pool, reading the whole file once.

Arrays come back in the file's sample type (float16, float32, uint32), shape (height, width),
row 0 at the top (EXR stores top row first; nothing flips). Every malformed byte ends in a
:class:`~framebuf.errors.CorruptFileError` naming the file.
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..errors import CorruptFileError, FramebufError, UnsupportedFeatureError
from ..limits import check_allocation, check_declared

try:  # libdeflate is about 3x faster than zlib at inflating EXR chunks
    import imagecodecs as _ic
except ImportError:  # pragma: no cover - imagecodecs is a dependency
    _ic = None

MAGIC = 20000630

#: pixel type code -> (name, numpy dtype, bytes)
PIXEL_TYPES = {0: ("uint", np.dtype("<u4"), 4), 1: ("half", np.dtype("<f2"), 2),
               2: ("float", np.dtype("<f4"), 4)}

#: compression code -> (name, scanlines per chunk)
COMPRESSIONS = {
    0: ("none", 1), 1: ("rle", 1), 2: ("zips", 1), 3: ("zip", 16), 4: ("piz", 32),
    5: ("pxr24", 16), 6: ("b44", 32), 7: ("b44a", 32), 8: ("dwaa", 32), 9: ("dwab", 256),
    10: ("htj2k256", 256), 11: ("htj2k32", 32),
}
#: compressions this module decodes itself; the rest go through the OpenEXR binding.
NATIVE = {"none", "rle", "zips", "zip"}

LINE_ORDERS = {0: "increasing_y", 1: "decreasing_y", 2: "random_y"}
LEVEL_MODES = {0: "one_level", 1: "mipmap_levels", 2: "ripmap_levels"}

# version-field flags (OpenEXR file layout, "version field")
_TILED, _LONG_NAMES, _DEEP, _MULTIPART = 0x200, 0x400, 0x800, 0x1000


_POOL_OWNER: int | None = None    # the process that sized OpenEXR's thread pool
_POOL_LOCK = threading.Lock()


def _threads() -> int:
    """Threads for one read or write: our own decoder's Python threads, and the size of
    OpenEXR's process-wide pool (which starts with 0 threads) on first use."""
    global _POOL_OWNER
    n = os.cpu_count() or 1
    with _POOL_LOCK:
        if _POOL_OWNER is None:
            import OpenEXR

            if OpenEXR.global_thread_count() < n:
                OpenEXR.set_global_thread_count(n)
            _POOL_OWNER = os.getpid()
    return n


def pool_in_use() -> bool:
    """Whether this process has started OpenEXR's thread pool. The pool does not survive a
    fork: a child forked after that waits forever on threads that are not there (and emptying
    the pool in the child crashed it, measured), so the batch layer then starts its workers
    with ``spawn`` instead (:mod:`framebuf.batch.executors`)."""
    return _POOL_OWNER == os.getpid()


# -- header -------------------------------------------------------------------------------------

@dataclass
class Channel:
    name: str          # as stored in the part
    pixel_type: str    # uint, half, float
    x_sampling: int = 1
    y_sampling: int = 1
    linear: bool = False

    @property
    def dtype(self) -> np.dtype:
        return {v[0]: v[1] for v in PIXEL_TYPES.values()}[self.pixel_type]

    @property
    def nbytes(self) -> int:
        return self.dtype.itemsize


@dataclass
class Part:
    index: int
    attributes: dict
    channels: list[Channel]
    offset_table_pos: int = 0

    @property
    def name(self) -> str:
        return self.attributes.get("name", "") or ""

    @property
    def data_window(self) -> tuple[int, int, int, int]:
        return self.attributes["dataWindow"]

    @property
    def display_window(self) -> tuple[int, int, int, int]:
        return self.attributes.get("displayWindow", self.data_window)

    @property
    def width(self) -> int:
        x0, _, x1, _ = self.data_window
        return x1 - x0 + 1

    @property
    def height(self) -> int:
        _, y0, _, y1 = self.data_window
        return y1 - y0 + 1

    @property
    def compression(self) -> str:
        return self.attributes.get("compression", "none")

    @property
    def tiles(self) -> dict | None:
        return self.attributes.get("tiles")

    @property
    def is_tiled(self) -> bool:
        kind = self.attributes.get("type", "")
        return kind == "tiledimage" or (not kind and self.tiles is not None)

    @property
    def is_deep(self) -> bool:
        return self.attributes.get("type", "").startswith("deep")

    def chunk_count(self) -> int:
        if "chunkCount" in self.attributes:
            return int(self.attributes["chunkCount"])
        if self.is_tiled:
            return sum(nx * ny for _, _, nx, ny in self.tile_levels())
        per = COMPRESSIONS_BY_NAME.get(self.compression, 1)
        return -(-self.height // per)

    def tile_levels(self) -> list[tuple[int, int, int, int]]:
        """(level x, level y, tiles x, tiles y) in offset-table order."""
        t = self.tiles
        tw, th, mode, rounding = t["x_size"], t["y_size"], t["level_mode"], t["rounding_mode"]
        w, h = self.width, self.height

        def nlevels(n):
            if mode == "one_level":
                return 1
            m, k = n, 1
            while m > 1:
                m = (m + (1 if rounding == "up" and m % 2 else 0)) // 2
                k += 1
            return k

        def lsize(n, level):
            size = n >> level if rounding == "down" else -(-n // (1 << level))
            return max(size, 1)

        out = []
        if mode == "ripmap_levels":
            for ly in range(nlevels(h)):
                for lx in range(nlevels(w)):
                    out.append((lx, ly, -(-lsize(w, lx) // tw), -(-lsize(h, ly) // th)))
        else:
            n = nlevels(max(w, h)) if mode == "mipmap_levels" else 1
            for lv in range(n):
                out.append((lv, lv, -(-lsize(w, lv) // tw), -(-lsize(h, lv) // th)))
        return out

    def level_size(self, lx: int, ly: int) -> tuple[int, int]:
        """Width and height of mip/rip level (lx, ly) (OpenEXR's level rounding)."""
        rounding = (self.tiles or {}).get("rounding_mode", "down")

        def size(n, level):
            return max(n >> level if rounding == "down" else -(-n // (1 << level)), 1)
        return size(self.width, lx), size(self.height, ly)

    def full_names(self, multipart: bool) -> list[str]:
        return [full_channel_name(self.name, c.name, multipart) for c in self.channels]


COMPRESSIONS_BY_NAME = {name: lines for name, lines in COMPRESSIONS.values()}


def full_channel_name(part_name: str, channel: str, multipart: bool) -> str:
    """The name a channel has across the whole file: in a multi-part file whose part is a layer
    (Blender 5.x writes part ``ViewLayer.Depth`` holding channel ``Z``) the part name is the
    layer prefix, unless the channel already spells it out."""
    if not multipart or not part_name or channel.startswith(part_name + "."):
        return channel
    return f"{part_name}.{channel}"


@dataclass
class ExrFile:
    path: str
    version: int
    flags: int
    parts: list[Part]
    size: int = 0
    _offsets: dict = field(default_factory=dict)

    @property
    def multipart(self) -> bool:
        return bool(self.flags & _MULTIPART)

    @property
    def tiled(self) -> bool:
        return any(p.is_tiled for p in self.parts)

    @property
    def deep(self) -> bool:
        return bool(self.flags & _DEEP) or any(p.is_deep for p in self.parts)

    def channel_index(self) -> dict[str, tuple[int, Channel]]:
        """full channel name -> (part index, channel); the first part wins on a clash."""
        out: dict[str, tuple[int, Channel]] = {}
        for part in self.parts:
            for ch, full in zip(part.channels, part.full_names(self.multipart)):
                out.setdefault(full, (part.index, ch))
        return out


class _Reader:
    """A bounds-checked cursor over the header bytes: every overrun is a CorruptFileError."""

    def __init__(self, path, data: bytes, pos: int = 0):
        self.path, self.data, self.pos = path, data, pos

    def need(self, n: int) -> None:
        if self.pos + n > len(self.data):
            raise CorruptFileError(self.path, "file ends inside the header (truncated?)")

    def take(self, n: int) -> bytes:
        self.need(n)
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def cstr(self, limit: int = 256) -> str:
        end = self.data.find(b"\0", self.pos, self.pos + limit + 1)
        if end < 0:
            if self.data.find(b"\0", self.pos) < 0:
                raise CorruptFileError(self.path, "file ends inside the header (truncated?)")
            raise CorruptFileError(self.path, f"header name longer than {limit} bytes at byte {self.pos}")
        out = self.data[self.pos:end]
        self.pos = end + 1
        return out.decode("utf-8", "replace")

    def unpack(self, fmt: str):
        size = struct.calcsize(fmt)
        return struct.unpack("<" + fmt, self.take(size))


def _chlist(path, raw: bytes) -> list[Channel]:
    r = _Reader(path, raw)
    out = []
    while True:
        name = r.cstr(255)
        if not name:
            break
        ptype, linear, _r1, _r2, _r3, xs, ys = r.unpack("iBBBBii")
        if ptype not in PIXEL_TYPES:
            raise CorruptFileError(path, f"channel {name!r} has unknown pixel type {ptype}")
        if xs < 1 or ys < 1:
            raise CorruptFileError(path, f"channel {name!r} has sampling {xs}x{ys}")
        out.append(Channel(name, PIXEL_TYPES[ptype][0], xs, ys, bool(linear)))
    return out


def _tiledesc(path, raw: bytes) -> dict:
    if len(raw) != 9:
        raise CorruptFileError(path, "tiles attribute has the wrong size")
    xs, ys, mode = struct.unpack("<IIB", raw)
    if not (1 <= xs < 1 << 31 and 1 <= ys < 1 << 31):
        raise CorruptFileError(path, f"tile size {xs}x{ys} is not 1 to 2^31-1 pixels")
    return {"x_size": xs, "y_size": ys, "level_mode": LEVEL_MODES.get(mode & 15, f"mode{mode & 15}"),
            "rounding_mode": "up" if mode >> 4 else "down"}


def _stringvector(path, raw: bytes) -> list[str]:
    out, pos = [], 0
    while pos + 4 <= len(raw):
        (n,) = struct.unpack_from("<i", raw, pos)
        if n < 0 or pos + 4 + n > len(raw):
            raise CorruptFileError(path, "string vector entry runs past the attribute")
        out.append(raw[pos + 4: pos + 4 + n].decode("utf-8", "surrogateescape"))
        pos += 4 + n
    return out


@dataclass(frozen=True)
class Opaque:
    """An attribute kept as the bytes the file holds: a type framebuf does not interpret
    (``preview``, ``idmanifest``, ``deepImageState``, a studio's own ...). Written back unchanged."""

    type: str
    data: bytes

    def __repr__(self) -> str:
        return f"<{self.type}, {len(self.data)} bytes>"


def _fixed(fmt: str, post=None):
    """The parser of a fixed-size attribute: struct format, and the value made of the numbers."""
    size = struct.calcsize("<" + fmt)

    def parse(path, raw):
        if len(raw) != size:
            raise CorruptFileError(path, f"attribute of size {len(raw)}, expected {size}")
        values = struct.unpack("<" + fmt, raw)
        return post(values) if post else values
    parse.format = fmt          # the deep writer packs with the same layout
    return parse


def _enum(table: dict):
    parse = _fixed("B", lambda v: table.get(v[0], v[0]))
    parse.table = table
    return parse


def _text(path, raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


#: attribute type -> parse(path, raw bytes): the one table of the header attribute types framebuf
#: reads into Python values (``framebuf info`` shows them; the exr writer gives each back under
#: its recorded type, so a copy keeps double/float, m33f/m44d, v2i/v2f apart). A type missing
#: here is kept as :class:`Opaque` bytes.
ATTRIBUTE_TYPES = {
    "box2i": _fixed("iiii", lambda v: tuple(int(x) for x in v)),
    "box2f": _fixed("ffff", lambda v: tuple(float(x) for x in v)),
    "chlist": _chlist,
    "compression": _fixed("B", lambda v: COMPRESSIONS.get(v[0], (f"unknown({v[0]})", 1))[0]),
    "lineOrder": _enum(LINE_ORDERS),
    "envmap": _enum({0: "latlong", 1: "cube"}),
    "float": _fixed("f", lambda v: v[0]),
    "double": _fixed("d", lambda v: v[0]),
    "int": _fixed("i", lambda v: v[0]),
    "rational": _fixed("iI", tuple),
    "v2i": _fixed("ii", lambda v: np.array(v, np.int32)),
    "v2f": _fixed("ff", lambda v: np.array(v, np.float32)),
    "v2d": _fixed("dd", lambda v: np.array(v, np.float64)),
    "v3i": _fixed("iii", lambda v: np.array(v, np.int32)),
    "v3f": _fixed("fff", lambda v: np.array(v, np.float32)),
    "v3d": _fixed("ddd", lambda v: np.array(v, np.float64)),
    "m33f": _fixed("9f", lambda v: np.array(v, np.float32).reshape(3, 3)),
    "m44f": _fixed("16f", lambda v: np.array(v, np.float32).reshape(4, 4)),
    "m33d": _fixed("9d", lambda v: np.array(v, np.float64).reshape(3, 3)),
    "m44d": _fixed("16d", lambda v: np.array(v, np.float64).reshape(4, 4)),
    "chromaticities": _fixed("8f", tuple),
    "timecode": _fixed("II", tuple),
    "keycode": _fixed("7i", tuple),
    "tiledesc": _tiledesc,
    "string": _text,
    "stringvector": _stringvector,
}


#: the attributes whose meaning the reader depends on, and the one type each must have: a header
#: naming ``channels`` a string or ``tiles`` a box2i is corrupt, not a crash further on
STRUCTURAL_TYPES = {
    "channels": "chlist", "compression": "compression", "dataWindow": "box2i",
    "displayWindow": "box2i", "lineOrder": "lineOrder", "tiles": "tiledesc", "type": "string",
    "name": "string", "view": "string", "chunkCount": "int", "pixelAspectRatio": "float",
    "screenWindowCenter": "v2f", "screenWindowWidth": "float", "version": "int",
}

#: best-case compression ratio of each compression (uncompressed bytes per stored byte), so a
#: header declaring more pixels than the file could hold even at that ratio is refused before
#: anything is allocated. Deflate stops near 1032:1; EXR's RLE stores up to 128 bytes in 2;
#: B44 stores a 4x4 block of halves (32 bytes) in 14, a flat one in 3; PIZ's Huffman run code and
#: DWA/HTJ2K can go further, so they get a ratio no real file reaches.
MAX_RATIO = {"none": 1, "rle": 65, "zips": 1100, "zip": 1100, "pxr24": 1100, "b44": 11,
             "b44a": 11, "piz": 1 << 16, "dwaa": 1 << 16, "dwab": 1 << 16,
             "htj2k256": 1 << 16, "htj2k32": 1 << 16}


def part_nbytes(part: "Part", sample_bytes: int | None = None) -> int:
    """Bytes of one part's level-0 samples (sub-sampled channels at their size), each sample
    ``sample_bytes`` long, or in the file's types when not given."""
    w, h = part.width, part.height
    return sum(-(-w // c.x_sampling) * -(-h // c.y_sampling) * (sample_bytes or c.nbytes)
               for c in part.channels)


def _check_sizes(path, parts: list, available: int) -> None:
    """Refuse a part whose declared samples the file cannot hold at its best compression."""
    for part in parts:
        comp = part.compression
        ratio = MAX_RATIO.get(comp, 1 << 16)
        if part.is_deep:
            # a deep file holds at least the per-pixel sample-count table (4 bytes a pixel)
            declared, what = part.width * part.height * 4, "deep sample counts"
        else:
            declared, what = part_nbytes(part), "pixel data"
        label = f"{what} (data window {part.width}x{part.height}, {len(part.channels)} channels, {comp})"
        check_declared(path, declared // ratio, available, label)


def check_part_budget(exr: "ExrFile", part: "Part") -> None:
    """Refuse decoding a part whose samples (as float32 at most) exceed the memory budget."""
    check_allocation(part_nbytes(part, 4), f"{exr.path}: EXR part {part.index} "
                     f"({part.width}x{part.height}, {len(part.channels)} channels)")


def parse_attribute(path, typ: str, raw: bytes):
    """A header attribute's value from its bytes (:class:`Opaque` for a type not in the table)."""
    parse = ATTRIBUTE_TYPES.get(typ)
    if parse is None:
        return Opaque(typ, bytes(raw))
    try:
        return parse(path, raw)
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise CorruptFileError(path, f"attribute of type {typ} does not decode: {exc}") from None


def _header_bytes(path: str, data: bytes | None) -> tuple[bytes, int]:
    """The bytes the header is parsed from and the file's size."""
    if data is not None:
        return data, len(data)
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            # headers are small; 1 MiB covers any sane one, re-read if it does not
            data = fh.read(1 << 20)
            if len(data) == 1 << 20:
                fh.seek(0)
                data = fh.read()
    except OSError as exc:
        raise FramebufError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return data, size


def _check_magic(path: str, data: bytes) -> int:
    """The version word, once the magic number and version 2 are confirmed."""
    if len(data) < 8:
        raise CorruptFileError(path, "too short to be an OpenEXR file")
    magic, version = struct.unpack_from("<iI", data, 0)
    if magic != MAGIC:
        raise CorruptFileError(path, "not an OpenEXR file (bad magic number)")
    if version & 0xFF != 2:
        raise CorruptFileError(path, f"unsupported OpenEXR version {version & 0xFF}")
    return version


def _read_attributes(path: str, r: _Reader, name_limit: int) -> tuple[dict, dict]:
    """One header's attributes up to its terminating empty name: (values, type names)."""
    attrs: dict = {}
    types: dict = {}
    while True:
        name = r.cstr(name_limit)
        if not name:
            return attrs, types
        typ = r.cstr(name_limit)
        (n,) = r.unpack("i")
        if n < 0:
            raise CorruptFileError(path, f"attribute {name!r} has negative size")
        raw = r.take(n)
        try:
            attrs[name] = parse_attribute(path, typ, raw)
        except CorruptFileError as exc:
            raise CorruptFileError(path, f"attribute {name!r}: {exc.reason}") from None
        types[name] = typ
        want = STRUCTURAL_TYPES.get(name)
        if want is not None and typ != want:
            raise CorruptFileError(path, f"attribute {name!r} has type {typ!r}; OpenEXR "
                                         f"defines it as {want!r}")


def _check_part_header(path: str, attrs: dict, types: dict, version: int, multipart: bool) -> None:
    """Refuse a header without the attributes every part needs, and settle its type."""
    for required in ("channels", "dataWindow"):
        if required not in attrs:
            raise CorruptFileError(path, f"header lacks the required {required!r} attribute")
    if (version & _TILED) and "tiles" not in attrs:
        raise CorruptFileError(path, "tiled file without a 'tiles' attribute")
    if not multipart and not attrs.get("type", "").startswith("deep"):
        # a single-part file's version flag decides, whatever its optional type attribute
        # says (OpenEXR's own reader does the same)
        attrs["type"] = "tiledimage" if version & _TILED else "scanlineimage"
    attrs.setdefault("type", "tiledimage" if version & _TILED else "scanlineimage")
    attrs["_types"] = types
    x0, y0, x1, y1 = attrs["dataWindow"]
    if x1 < x0 or y1 < y0:
        raise CorruptFileError(path, f"empty or inverted data window {attrs['dataWindow']}")


def _place_offset_tables(path: str, parts: list[Part], pos: int, size: int) -> int:
    """Record where each part's chunk offset table starts (they follow the headers back to
    back); returns the position after the last table."""
    for part in parts:
        part.offset_table_pos = pos
        count = part.chunk_count()
        if count < 1:
            # every data window has at least one pixel, so at least one chunk
            raise CorruptFileError(path, f"part {part.index} declares {count} chunks")
        pos += 8 * count
    if pos > size:
        raise CorruptFileError(path, "file ends inside the chunk offset table (truncated?)")
    return pos


def read_header(path, data: bytes | None = None) -> ExrFile:
    """Parse the magic number, version flags and every part's header (no pixels)."""
    path = str(path)
    data, size = _header_bytes(path, data)
    version = _check_magic(path, data)
    r = _Reader(path, data, 8)
    multipart = bool(version & _MULTIPART)
    name_limit = 255 if version & _LONG_NAMES else 31
    parts: list[Part] = []
    while True:
        attrs, types = _read_attributes(path, r, name_limit)
        if not attrs:
            if multipart and parts:
                break  # the empty header that ends a multi-part header list
            raise CorruptFileError(path, "empty header")
        _check_part_header(path, attrs, types, version, multipart)
        parts.append(Part(len(parts), attrs, attrs.pop("channels")))
        if not multipart:
            break
    pos = _place_offset_tables(path, parts, r.pos, size)
    _check_sizes(path, parts, size - pos)
    return ExrFile(path, version & 0xFF, version & ~0xFF, parts, size)


# -- pixels -------------------------------------------------------------------------------------

def _half_bits_table() -> np.ndarray:
    """float32 bit patterns of all 65536 half values: half -> float32 by one table look-up."""
    return np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32).view(np.uint32)


_HALF_TO_F32 = _half_bits_table()


def _offsets(exr: ExrFile, part: Part, fh) -> np.ndarray:
    if part.index not in exr._offsets:
        n = part.chunk_count()
        fh.seek(part.offset_table_pos)
        raw = fh.read(8 * n)
        if len(raw) != 8 * n:
            raise CorruptFileError(exr.path, "file ends inside the chunk offset table (truncated?)")
        table = np.frombuffer(raw, "<u8").astype(np.int64)
        if n and (table.min() < part.offset_table_pos or table.max() >= exr.size):
            raise CorruptFileError(
                exr.path, "chunk offset table points outside the file (truncated or incomplete?)")
        exr._offsets[part.index] = table
    return exr._offsets[part.index]


def _native_ok(part: Part) -> bool:
    if part.compression not in NATIVE or part.is_deep:
        return False
    if any(c.x_sampling != 1 or c.y_sampling != 1 for c in part.channels):
        return False
    return True


_local = threading.local()


def _scratch(size: int, key="inflate") -> np.ndarray:
    """A buffer kept per thread and grown only: a fresh 30-60 MB array per render costs
    thousands of page faults (about 10 ms). The inflate buffer never reaches callers; output
    buffers are only reused when the caller asks (``reuse=True``)."""
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    buf = pool.get(key)
    if buf is None or buf.shape[0] < size:
        buf = pool[key] = np.empty(max(size, 1), np.uint8)
    return buf[:size]


def _inflate_into(args):
    data, out = args
    if _ic is not None:
        try:
            # a short chunk decodes to fewer bytes than the header promises: damaged, not a
            # picture with stale memory in its last rows
            return len(_ic.deflate_decode(data, out=out)) == len(out)
        except Exception:
            pass  # fall through to zlib, whose message is clearer
    try:
        raw = zlib.decompress(data)
    except zlib.error:
        return False
    if len(raw) != len(out):
        return False
    out[:] = np.frombuffer(raw, np.uint8)
    return True


def _numpy_scatter(path, blobs, kinds, starts, lengths, ys, ns, w, chans, sizes, want, out_off,
                   out_size, buf, out) -> None:
    """The ZIP/ZIPS/NONE scanline decoder without Numba: libdeflate inflates a chunk, imagecodecs'
    ``delta_decode`` undoes the predictor's running byte sum (the ``- 128`` of each step is an
    ``^ 0x80`` of every odd byte, one uint16 xor), and the byte halves are joined (``lo | hi <<
    8``) only over the wanted channels' bytes, a run of consecutive wanted channels at a time,
    straight into their planes. Unwanted channels are inflated and summed, never copied."""
    bpl = int(w * sizes.sum())                    # bytes per line, every channel
    choff = np.concatenate([[0], np.cumsum(sizes * w)])
    # runs of wanted channels adjacent in the file, in the output and of one sample size
    height = sum(ns)
    runs = []  # [first channel, end channel, first output slot, count]
    for i, c in enumerate(want):
        r = runs[-1] if runs else None
        if (r is not None and r[1] == c and sizes[c] == sizes[r[0]]
                and out_off[i] == out_off[r[2]] + (i - r[2]) * w * height * sizes[c]):
            r[1], r[3] = c + 1, r[3] + 1
        else:
            runs.append([c, c + 1, i, 1])
    for k, blob in enumerate(blobs):
        n = bpl * ns[k]
        seg = buf[starts[k]: starts[k] + n]
        y, lines = ys[k], ns[k]
        if lengths[k] != n:
            raise CorruptFileError(path, "chunk sizes do not match the header (damaged data)")
        if kinds[k] == 1:
            if not _inflate_into((blob, seg)):
                raise CorruptFileError(path, "a zip chunk does not inflate (damaged data)")
            _ic.delta_decode(seg, out=seg)
            np.bitwise_xor(seg.view(np.uint16), 0x8000, out=seg.view(np.uint16))
            lo = seg[: n // 2].reshape(lines, bpl // 2)
            hi = seg[n // 2:].reshape(lines, bpl // 2)
        else:
            raw = seg.view(np.uint16).reshape(lines, bpl // 2)
        for c0, c1, i0, count in runs:
            ws = int(w * sizes[c0]) // 2            # uint16 words per line of one channel
            a = int(choff[c0]) // 2
            dst = out[out_off[i0]: out_off[i0] + count * height * ws * 2].view(np.uint16)
            dst = dst.reshape(count, height, ws)[:, y: y + lines, :]
            if kinds[k] == 1:
                src_hi = hi[:, a: a + count * ws].reshape(lines, count, ws).transpose(1, 0, 2)
                src_lo = lo[:, a: a + count * ws].reshape(lines, count, ws).transpose(1, 0, 2)
                np.left_shift(src_hi, 8, out=dst, dtype=np.uint16)
                np.bitwise_or(dst, src_lo, out=dst)
            else:
                dst[...] = raw[:, a: a + count * ws].reshape(lines, count, ws).transpose(1, 0, 2)


def tile_box(path, tiles: dict, w: int, h: int, tx: int, ty: int, what: str = "tile"):
    """(x, y, width, height) of tile (tx, ty) in a level of ``w`` x ``h`` pixels (flat and deep
    readers); a tile outside it is a damaged file."""
    tw, th = tiles["x_size"], tiles["y_size"]
    cx, cy = tx * tw, ty * th
    if not (0 <= cx < w and 0 <= cy < h):
        raise CorruptFileError(path, f"{what} ({tx}, {ty}) lies outside the data window")
    return cx, cy, min(tw, w - cx), min(th, h - cy)


def line_box(path, w: int, h: int, y0: int, lines_per: int, yy: int, what: str = "chunk"):
    """(x, y, width, lines) of the scanline chunk starting at file line ``yy`` (flat and deep
    readers); a chunk outside the data window is a damaged file."""
    cy = yy - y0
    if not (0 <= cy < h):
        raise CorruptFileError(path, f"{what} for line {yy} lies outside the data window")
    return 0, cy, w, min(lines_per, h - cy)


def _read_chunks(exr: ExrFile, part: Part, fh, table: np.ndarray, w: int, h: int, level):
    """Every chunk of one level in file order (sorted offsets: one forward pass over the file):
    payloads and the (x, y, width, lines) box each one fills."""
    path = exr.path
    y0 = part.data_window[1]
    blobs, xs_, ys_, ws_, ns_ = [], [], [], [], []
    lines_per = COMPRESSIONS_BY_NAME[part.compression]
    multipart = exr.multipart
    tiles = part.tiles if part.is_tiled else None
    order = np.argsort(table, kind="stable")
    for idx in order:
        fh.seek(int(table[idx]))
        if multipart:
            head = fh.read(4)
            if len(head) != 4:
                raise CorruptFileError(path, "file ends inside a chunk (truncated?)")
        if tiles:
            head = fh.read(20)
            if len(head) != 20:
                raise CorruptFileError(path, "file ends inside a tile (truncated?)")
            tx, ty, lx, ly, size = struct.unpack("<5i", head)
            if (lx, ly) != tuple(level):
                continue  # one level is read at a time
            cx, cy, cw, ch_ = tile_box(path, tiles, w, h, tx, ty)
        else:
            head = fh.read(8)
            if len(head) != 8:
                raise CorruptFileError(path, "file ends inside a chunk (truncated?)")
            yy, size = struct.unpack("<2i", head)
            cx, cy, cw, ch_ = line_box(path, w, h, y0, lines_per, yy)
        if size < 0 or size > exr.size:
            raise CorruptFileError(path, f"chunk of impossible size {size}")
        payload = fh.read(size)
        if len(payload) != size:
            raise CorruptFileError(path, "file ends inside a chunk (truncated?)")
        blobs.append(payload)
        xs_.append(cx), ys_.append(cy), ws_.append(cw), ns_.append(ch_)
    return blobs, xs_, ys_, ws_, ns_


def _check_expansion(path: str, comp: str, blobs: list, expect: list[int]) -> None:
    """Before anything is allocated: deflate cannot expand more than about 1032:1, OpenEXR's
    RLE more than 64:1 (a run of 128 from 2 bytes), so a tiny file cannot ask for gigabytes."""
    most = MAX_RATIO[comp] if comp in ("zip", "zips", "rle") else None
    for blob, n in zip(blobs, expect):
        if most and len(blob) < n and n > most * len(blob) + 256:
            raise CorruptFileError(path, f"a {comp} chunk of {len(blob)} bytes claims {n} bytes of "
                                         f"pixels (damaged or hostile header)")


def _stage_chunks(comp: str, blobs: list, expect: list[int]):
    """Lay the chunks out in one scratch buffer: (buffer, kinds, starts, lengths). Kind 0 is
    raw, 1 deflate (room for the inflated bytes, filled later), 2 RLE; raw and RLE chunks are
    copied in now."""
    kinds = np.zeros(len(blobs), np.int64)
    # a chunk that would not shrink is stored raw whatever the compression (OpenEXR rule)
    starts = np.zeros(len(blobs), np.int64)
    lengths = np.zeros(len(blobs), np.int64)
    pos = 0
    for k, (blob, n) in enumerate(zip(blobs, expect)):
        starts[k] = pos
        if comp == "none" or len(blob) >= n:
            kinds[k], lengths[k] = 0, len(blob)
            pos += len(blob)
        elif comp == "rle":
            kinds[k], lengths[k] = 2, len(blob)
            pos += len(blob)
        else:
            kinds[k], lengths[k] = 1, n
            pos += n
    buf = _scratch(pos)
    for k, blob in enumerate(blobs):
        if kinds[k] != 1:  # raw and RLE chunks are copied as they are
            buf[starts[k]: starts[k] + lengths[k]] = np.frombuffer(blob, np.uint8)
    return buf, kinds, starts, lengths


def _output_layout(part: Part, want: list[int], sizes: np.ndarray, as_float, w: int, h: int):
    """Where each wanted channel's plane goes in the output bytes: (conv, out_size, plane,
    out_off, nbytes); conv marks half channels that come back as float32."""
    chans = part.channels
    conv = np.array([bool(c in as_float) and chans[c].pixel_type == "half" for c in want], np.int64)
    out_size = np.array([4 if cv else sizes[c] for c, cv in zip(want, conv)], np.int64)
    plane = w * h * out_size
    # planes back to back (so same-typed channels asked for in a row form one (K, H, W) block),
    # each starting on a multiple of its sample size
    out_off = np.zeros(len(want), np.int64)
    pos = 0
    for i in range(len(want)):
        pos = -(-pos // out_size[i]) * out_size[i]
        out_off[i] = pos
        pos += plane[i]
    nbytes = -(-max(pos, 1) // 8) * 8  # whole words: the kernel views it as uint32
    return conv, out_size, plane, out_off, nbytes


def _channel_slots(path: str, chans: list, want: list[int]) -> np.ndarray:
    """For each of the part's channels, its position in ``want`` (-1: not read)."""
    slots = np.full(len(chans), -1, np.int64)
    for i, c in enumerate(want):
        if slots[c] >= 0:
            raise FramebufError(f"{path}: channel {chans[c].name!r} asked for twice")
        slots[c] = i
    return slots


def _planes(out: np.ndarray, part: Part, want: list[int], out_off, plane, conv, w: int, h: int):
    """The output bytes seen as one (h, w) array per wanted channel (views, no copy)."""
    chans = part.channels
    arrays = []
    for i, c in enumerate(want):
        seg = out[out_off[i]: out_off[i] + plane[i]]
        arrays.append(seg.view(np.float32 if conv[i] else chans[c].dtype).reshape(h, w))
    return arrays


def _inflate_and_scatter(path: str, comp: str, threads: int, blobs: list, kinds, starts, lengths,
                         boxes, sizes, slots, out_off, w: int, out_size, conv, out, buf,
                         rle_room: int) -> None:
    """Inflate the deflate chunks and copy every chunk's pixels to its planes, in up to
    ``threads`` groups of chunks; ``rle_room`` bytes hold one RLE chunk while it is expanded."""
    from ._exrkernels import _scatter

    xs_a, ys_a, ws_a, ns_a = (np.array(v, np.int64) for v in boxes)

    def work(lo: int, hi: int) -> str:
        """Inflate and scatter chunks lo..hi: groups write disjoint rows, so threads need no
        locks, and each thread goes straight from inflating to copying its own chunks."""
        for k in range(lo, hi):
            if kinds[k] == 1:
                view = buf[starts[k]: starts[k] + lengths[k]]
                if not _inflate_into((blobs[k], view)):
                    return f"a {comp} chunk does not inflate (damaged data)"
        rle_tmp = np.empty(rle_room, np.uint8)
        rc = _scatter(buf, starts[lo:hi], lengths[lo:hi], kinds[lo:hi], xs_a[lo:hi], ys_a[lo:hi],
                      ws_a[lo:hi], ns_a[lo:hi], sizes, slots, out_off, w * out_size, out_size,
                      conv, out, rle_tmp, _HALF_TO_F32)
        return "" if rc == 0 else "chunk sizes do not match the header (damaged data)"

    nchunks = len(blobs)
    groups = min(threads, nchunks) if nchunks >= 4 else 1
    bounds = [nchunks * g // groups for g in range(groups + 1)]
    if groups > 1:
        with ThreadPoolExecutor(groups) as pool:
            problems = list(pool.map(work, bounds[:-1], bounds[1:]))
    else:
        problems = [work(0, nchunks)]
    problems = [p for p in problems if p]
    if problems:
        raise CorruptFileError(path, problems[0])


def _read_part_native(exr: ExrFile, part: Part, want: list[int], fh, threads: int,
                      as_float=frozenset(), reuse: bool = False, level=(0, 0)) -> list[np.ndarray]:
    """Decode channels ``want`` (indices into part.channels) of one NONE/RLE/ZIPS/ZIP part;
    half channels whose index is in ``as_float`` come back as float32. ``level`` picks a mip/rip
    level (x, y) of a tiled part."""
    path = exr.path
    w, h = part.level_size(*level) if part.is_tiled else (part.width, part.height)
    chans = part.channels
    sizes = np.array([c.nbytes for c in chans], np.int64)
    bpp = int(sizes.sum())
    table = _offsets(exr, part, fh)
    blobs, xs_, ys_, ws_, ns_ = _read_chunks(exr, part, fh, table, w, h, level)
    covered = sum(wi * ni for wi, ni in zip(ws_, ns_))
    if covered != w * h:
        raise CorruptFileError(path, f"chunks cover {covered} of {w * h} pixels (incomplete file?)")
    expect = [wi * ni * bpp for wi, ni in zip(ws_, ns_)]
    comp = part.compression
    _check_expansion(path, comp, blobs, expect)
    buf, kinds, starts, lengths = _stage_chunks(comp, blobs, expect)
    conv, out_size, plane, out_off, nbytes = _output_layout(part, want, sizes, as_float, w, h)
    out = _scratch(nbytes, ("out", part.index)) if reuse else np.empty(nbytes, np.uint8)
    slots = _channel_slots(path, chans, want)
    tiles = part.tiles if part.is_tiled else None
    if (_ic is not None and not tiles and comp != "rle" and not conv.any()
            and hasattr(_ic, "delta_decode")):
        _numpy_scatter(path, blobs, kinds, starts, lengths, ys_, ns_, w, chans,
                       sizes, want, out_off, out_size, buf, out)
    else:
        _inflate_and_scatter(path, comp, threads, blobs, kinds, starts, lengths,
                             (xs_, ys_, ws_, ns_), sizes, slots, out_off, w, out_size, conv,
                             out, buf, (max(expect) if expect else 0) if comp == "rle" else 1)
    return _planes(out, part, want, out_off, plane, conv, w, h)


def raw_chunks(exr: ExrFile, part: Part) -> list[tuple[int, bytes]]:
    """Every chunk of a part as stored, in file order: (offset-table slot, bytes from the chunk's
    own header -- ``y size`` or ``tx ty lx ly size`` -- through its compressed data, without a
    multi-part number). A copy whose pixels, channels and compression are unchanged writes
    them back byte for byte (lossy B44/DWA data and mip levels survive exactly)."""
    head_size = 20 if part.is_tiled else 8
    skip = 4 if exr.multipart else 0
    out = []
    try:
        with open(exr.path, "rb") as fh:
            table = _offsets(exr, part, fh)
            for slot in np.argsort(table, kind="stable"):
                fh.seek(int(table[slot]) + skip)
                head = fh.read(head_size)
                if len(head) != head_size:
                    raise CorruptFileError(exr.path, "file ends inside a chunk (truncated?)")
                (size,) = struct.unpack_from("<i", head, head_size - 4)
                if size < 0 or size > exr.size:
                    raise CorruptFileError(exr.path, f"chunk of impossible size {size}")
                data = fh.read(size)
                if len(data) != size:
                    raise CorruptFileError(exr.path, "file ends inside a chunk (truncated?)")
                out.append((int(slot), head + data))
    except OSError as exc:
        raise CorruptFileError(exr.path, f"read error: {exc.strerror or exc}") from None
    return out


def _slot_finder(part: Part):
    """chunk bytes -> its offset-table slot (tiles by level and position, scanlines by y)."""
    if part.is_tiled:
        table, index = {}, 0
        for lx, ly, nx, ny in part.tile_levels():
            for ty in range(ny):
                for tx in range(nx):
                    table[(tx, ty, lx, ly)] = index
                    index += 1
        return lambda chunk: table.get(struct.unpack_from("<4i", chunk, 0), -1)
    y0 = part.data_window[1]
    lines = COMPRESSIONS_BY_NAME.get(part.compression, 1)
    return lambda chunk: (struct.unpack_from("<i", chunk, 0)[0] - y0) // lines


def replace_chunks(path, replacements: dict[int, list[tuple[int, bytes]]]) -> None:
    """Rewrite a file so that the parts in ``replacements`` (part index -> raw chunks, as
    :func:`raw_chunks` gives them) hold those chunks; the other parts keep their own."""
    exr = read_header(path)
    with open(path, "rb") as fh:
        data = fh.read()
    start = exr.parts[0].offset_table_pos          # every header comes before every table
    tables = sum(8 * p.chunk_count() for p in exr.parts)
    out = bytearray(data[:start]) + bytearray(tables)
    for part in exr.parts:
        chunks = replacements.get(part.index)
        if chunks is None:
            chunks = raw_chunks(exr, part)
        n = part.chunk_count()
        slots = _slot_finder(part)
        for _, chunk in chunks:
            slot = slots(chunk)       # from the chunk's own header: a source table may be odd
            if not 0 <= slot < n:
                raise FramebufError(f"{path}: chunk slot {slot} outside part {part.index}'s table")
            struct.pack_into("<Q", out, part.offset_table_pos + 8 * slot, len(out))
            if exr.multipart:
                out += struct.pack("<i", part.index)
            out += chunk
    with open(path, "wb") as fh:
        fh.write(out)


def _read_fallback(exr: ExrFile, threads: int) -> dict[tuple[int, str], np.ndarray]:
    """Every channel of every part through the OpenEXR binding (PIZ, DWA ...)."""
    import OpenEXR

    # a truncated file makes the binding print a line per chunk to stderr before it gives up:
    # the cheap offset-table check finds that first and says it once
    problems = check_chunks(exr)
    if problems:
        raise CorruptFileError(exr.path, problems[0])
    # the binding decodes every part at once, in the file's types
    check_allocation(sum(part_nbytes(p) for p in exr.parts),
                     f"{exr.path}: the {len(exr.parts)} part(s) the OpenEXR binding decodes together")

    try:
        f = OpenEXR.File(exr.path, separate_channels=True, num_threads=threads)
        out = {}
        for i, part in enumerate(f.parts):
            for name, ch in part.channels.items():
                out[(i, name)] = np.asarray(ch.pixels)
    except Exception as exc:  # noqa: BLE001 - the binding raises RuntimeError/OSError for any damage
        raise CorruptFileError(exr.path, f"cannot decode EXR data: {exc or type(exc).__name__}") from None
    if len(out) < sum(len(p.channels) for p in exr.parts):
        # the binding prints "Exception raised reading pixel data" and hands back no pixels
        raise CorruptFileError(exr.path, "pixel data does not decode (truncated or damaged chunks)")
    return out


def decode_parts(exr: ExrFile, wanted: dict[int, list[str]], threads: int, level=(0, 0),
                 float32=frozenset(), reuse: bool = False, fallback: dict | None = None
                 ) -> dict[tuple[int, str], np.ndarray]:
    """Decode channels by part: ``{part index: [channel names in the part]}`` ->
    ``{(part, name): array}`` over the part's (level's) data window, in the file's sample types
    (sub-sampled channels at their own size); ``(part, name)`` pairs in ``float32`` come back as
    float32. NONE/RLE/ZIPS/ZIP parts are decoded here, the others by the OpenEXR binding, whose
    whole-file result is kept in ``fallback`` (a dict the caller may share between calls).
    ``level`` is a mip/rip level (x, y) of tiled parts; a scanline part has only level 0."""
    if exr.deep:
        raise UnsupportedFeatureError(exr.path, "deep OpenEXR (per-pixel sample lists)")
    level = tuple(level)
    fallback = {} if fallback is None else fallback
    out = {}
    try:
        with open(exr.path, "rb") as fh:
            for pi, names in wanted.items():
                part = exr.parts[pi]
                check_part_budget(exr, part)
                if level != (0, 0):
                    _check_level(exr, part, level)
                if _native_ok(part):
                    pos = {c.name: i for i, c in enumerate(part.channels)}
                    as_float = {pos[n] for n in names if (pi, n) in float32}
                    decoded = _read_part_native(exr, part, [pos[n] for n in names], fh, threads,
                                                as_float, reuse, level)
                    out.update({(pi, n): a for n, a in zip(names, decoded)})
                    continue
                if level != (0, 0):
                    raise UnsupportedFeatureError(
                        exr.path, f"reading mip level {level} of a {part.compression} part (the "
                        f"OpenEXR binding decodes level 0 only; framebuf reads other levels of "
                        f"none/rle/zips/zip)")
                if not fallback:
                    fallback.update(_read_fallback(exr, threads))
                for n in names:
                    arr = fallback[(pi, n)]
                    out[(pi, n)] = arr.astype(np.float32) if (pi, n) in float32 and arr.dtype == np.float16 else arr
    except OSError as exc:
        raise CorruptFileError(exr.path, f"read error: {exc.strerror or exc}") from None
    return out


def _check_level(exr: ExrFile, part: Part, level) -> None:
    if not part.is_tiled:
        raise FramebufError(f"{exr.path}: part {part.index} is scanline: it has no level {level}")
    mode = part.tiles.get("level_mode")
    n_x = len({lx for lx, _, _, _ in part.tile_levels()})
    n_y = len({ly for _, ly, _, _ in part.tile_levels()})
    if mode == "one_level" or level[0] >= n_x or level[1] >= n_y or (
            mode == "mipmap_levels" and level[0] != level[1]):
        raise FramebufError(f"{exr.path}: part {part.index} has no level {level} ({mode}, "
                            f"{max(n_x, n_y)} level(s))")


def read_channels(path, names=None, exr: ExrFile | None = None, threads: int | None = None,
                  float32=(), reuse: bool = False, level=(0, 0)) -> dict[str, np.ndarray]:
    """Decode the channels ``names`` (full names, see :func:`full_channel_name`; all when None).

    Returns ``{full name: array (height, width)}`` in the file's sample types, except that half
    channels named in ``float32`` are converted to float32 while decoding (cheaper than a numpy
    conversion afterwards). Channels of one part asked for in a row, of one output type, are laid
    out back to back in one buffer. Unknown names raise :class:`FramebufError` listing what the
    file holds. With ``reuse`` the arrays live in a per-thread buffer that the next ``reuse``
    call on the same thread overwrites (for a loop that is done with one file before the next).
    """
    exr = exr or read_header(path)
    threads = _threads() if threads is None else max(1, int(threads))
    index = exr.channel_index()
    if names is None:
        names = list(index)
    missing = [n for n in names if n not in index]
    if missing:
        raise FramebufError(f"{exr.path}: no channel {', '.join(map(repr, missing))}; "
                            f"channels: {', '.join(index)}")
    by_part: dict[int, list[str]] = {}
    for n in names:
        by_part.setdefault(index[n][0], []).append(index[n][1].name)
    wide = {(index[n][0], index[n][1].name) for n in float32 if n in index}
    decoded = decode_parts(exr, by_part, threads, level, wide, reuse)
    return {n: decoded[(index[n][0], index[n][1].name)] for n in names}


def __getattr__(name):
    """The Numba kernels, loaded on first use (``_scatter``, ``_rle_decode``)."""
    if name in ("_scatter", "_rle_decode", "_bytesum"):
        from . import _exrkernels

        return getattr(_exrkernels, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def warm_up() -> None:
    """Load the Numba kernels (from the cache) now, e.g. in a parent before it forks workers, so
    each worker does not pay the start-up again."""
    from ._exrkernels import _rle_decode, _scatter

    z8 = np.zeros(8, np.uint8)
    e = np.zeros(0, np.int64)
    _scatter(z8, e, e, e, e, e, e, e, e, e, e, e, e, e, z8.copy(), z8.copy(), _HALF_TO_F32)
    _rle_decode(z8, z8.copy())


def check_chunks(exr: ExrFile) -> list[str]:
    """Cheap integrity check for ``framebuf info``: every part's offset table lies inside the file
    and the last chunk ends inside it. Returns the problems found (empty when none)."""
    problems = []
    try:
        with open(exr.path, "rb") as fh:
            for part in exr.parts:
                try:
                    table = _offsets(exr, part, fh)
                except CorruptFileError as exc:
                    problems.append(f"part {part.index}: {exc.reason}")
                    continue
                if not len(table):
                    continue
                last = int(table.max())
                fh.seek(last)
                skip = 4 if exr.multipart else 0
                head_size = 20 if part.is_tiled else 8
                head = fh.read(skip + head_size)
                if len(head) != skip + head_size:
                    problems.append(f"part {part.index}: file ends inside the last chunk (truncated?)")
                    continue
                (size,) = struct.unpack_from("<i", head, skip + head_size - 4)
                if part.is_deep or size < 0 or last + skip + head_size + size > exr.size:
                    if not part.is_deep:
                        problems.append(f"part {part.index}: file ends inside the last chunk (truncated?)")
    except OSError as exc:
        problems.append(f"read error: {exc}")
    return problems
