"""Maya IFF (``iff``): 64x64 run-length encoded tiles, colour and optional depth (reference 6.8).

Layout (all big-endian)::

    "FOR4" u32 size "CIMG"
      "TBHD" u32 32: u32 width, height; u16 prnum 1, prden 1; u32 flags (RGB 1, ALPHA 2,
                     ZBUFFER 4); u16 bytes (0 8-bit, 1 16-bit, 3 float); u16 tiles;
                     u32 compression (0 none, 1 RLE); i32 x 0, y 0
      "FOR4" u32 size "TBMP"
        "RGBA" u32 len, u16 x0 y0 x1 y1, data, zero padding to 4     (one per tile)
        "ZBUF" u32 len, u16 x0 y0 x1 y1, data, zero padding to 4     (with depth: after its RGBA)

Tiles are 64x64 (smaller at the right and top edges), row-major from the bottom-left; tile row
0 is the bottom of the picture. ``len`` counts the 8 coordinate bytes. A tile is RLE-coded when
that is smaller than raw, and a reader tells which by comparing ``len`` with the raw size. RLE
data is one packet stream per byte plane, most significant planes first, channels in reverse
order (8-bit RGBA: A B G R; 16-bit RGBA: A B G R high bytes, then A B G R low bytes); a raw tile
interleaves the pixels, channels in reverse order, samples big-endian.

Choices (also in ``notes``) for what no public source documents:

* **Float colour** (``rgba_fp``, ``a_fp``): TBHD ``bytes`` = 3, samples IEEE float32 big-endian,
  RLE over the four byte planes exactly like 16-bit data (most significant planes first).
  mrViewer treats ``bytes + 1`` as the bytes per channel, which points to 3.
* **Alpha only** (``a``, ``a_16``, ``a_fp``): flags = ALPHA (2) alone, one-channel ``RGBA``
  tiles (OpenImageIO 3.2 refuses flags 0x2, so this is checked with hand-built bytes).
* **Depth** (``z``): ZBUF tiles of float32 big-endian samples, four byte planes, same RLE.
  Depth-only files have flags = ZBUFFER (4), ``bytes`` 0 and only ZBUF tiles; colour + depth
  sets both flags. Depth values are written unchanged (positive distance, ``+inf`` where nothing
  was hit): Maya's convention is not documented, so nothing is converted.
* With depth, each tile's ZBUF chunk follows its RGBA chunk (Maya's order; OpenImageIO 3.2
  reads it as a fifth, float channel ``Z``). Our reader takes any order.
* No AUTH/DATE chunks are written; the reader skips unknown chunks.
* Limits: tile coordinates are u16 and the tile count is u16, so at most 65535 pixels a side
  and 65535 tiles (e.g. 16320x16320); Maya itself documents 8k.
"""

from __future__ import annotations

import struct

import numpy as np

from ..datatypes import datatype
from ..errors import CorruptFileError, FramebufError, ImageSizeError, UnsupportedDataTypeError
from ..hookspecs import hookimpl
from . import _rle
from .base import FormatSpec, Image, Layer
from ._files import check_pixels, read_bytes

FLAG_RGB, FLAG_ALPHA, FLAG_Z = 0x1, 0x2, 0x4
TBHD = struct.Struct(">IIHHIHHIii")  # width, height, prnum, prden, flags, bytes, tiles, compression, x, y
TILE = _rle.IFF_TILE

#: data type -> (flags, TBHD bytes, bytes per sample)
LAYOUT = {
    "rgb": (FLAG_RGB, 0, 1), "rgb_16": (FLAG_RGB, 1, 2),
    "rgba": (FLAG_RGB | FLAG_ALPHA, 0, 1), "rgba_16": (FLAG_RGB | FLAG_ALPHA, 1, 2),
    "rgba_fp": (FLAG_RGB | FLAG_ALPHA, 3, 4),
    "a": (FLAG_ALPHA, 0, 1), "a_16": (FLAG_ALPHA, 1, 2), "a_fp": (FLAG_ALPHA, 3, 4),
}
SAMPLE_DTYPES = {1: np.dtype(np.uint8), 2: np.dtype(">u2"), 4: np.dtype(">f4")}


def sniff(head: bytes) -> bool:
    return len(head) >= 12 and head[:4] == b"FOR4" and head[8:12] == b"CIMG"


def tile_count(width: int, height: int) -> int:
    return ((width + TILE - 1) // TILE) * ((height + TILE - 1) // TILE)


def _sample_bytes(pixels: np.ndarray, nbytes: int) -> np.ndarray:
    """(H, W, C) samples -> (H, W, C * nbytes) uint8 holding each sample big-endian."""
    h, w, c = pixels.shape
    be = np.ascontiguousarray(pixels, dtype=SAMPLE_DTYPES[nbytes])
    return be.view(np.uint8).reshape(h, w, c * nbytes)


def _split_layers(layers: list[Layer]) -> tuple[Layer | None, Layer | None]:
    colour = [l for l in layers if l.datatype.name != "z"]
    depth = [l for l in layers if l.datatype.name == "z"]
    if len(colour) > 1 or len(depth) > 1 or not layers:
        raise FramebufError(
            "an IFF file holds one colour (or alpha) buffer and at most one depth buffer; got "
            + ", ".join(f"{l.name or '(unnamed)'}:{l.datatype.name}" for l in layers))
    if colour and colour[0].datatype.name not in LAYOUT:
        raise UnsupportedDataTypeError("iff", colour[0].datatype.name, list(LAYOUT) + ["z"])
    return (colour[0] if colour else None), (depth[0] if depth else None)


def encode(colour: Layer | None, depth: Layer | None, compress: bool = True) -> bytes:
    """The whole file for a colour layer and/or a depth layer of one size."""
    return b"".join(bytes(chunk) for chunk in encode_chunks(colour, depth, compress))


def encode_chunks(colour: Layer | None, depth: Layer | None, compress: bool = True) -> list:
    """The whole file as pieces to write one after the other: the header, then the tile chunks
    (one array for a single layer, which joining into bytes copied twice)."""
    ref = colour if colour is not None else depth
    h, w = ref.height, ref.width
    tiles = tile_count(w, h)
    if tiles > 0xFFFF:
        raise ImageSizeError(f"IFF stores at most 65535 tiles; {w}x{h} needs {tiles}")
    flags, nbytes = 0, 0
    layers = []
    if colour is not None:
        flags, nbytes, sb = LAYOUT[colour.datatype.name]
        pix = _sample_bytes(colour.pixels, sb)
        layers.append(_rle.iff_encode_tiles(pix, colour.pixels.shape[2], sb, _rle.TAG_RGBA, compress))
    if depth is not None:
        flags |= FLAG_Z
        pix = _sample_bytes(depth.pixels[:, :, :1], 4)
        layers.append(_rle.iff_encode_tiles(pix, 1, 4, _rle.TAG_ZBUF, compress))
    if len(layers) == 1:
        chunks = [layers[0][0]]
    else:  # per tile: the RGBA chunk, then the ZBUF chunk of the same tile
        (cb, cs), (zb, zs) = layers
        cb, zb = cb.tobytes(), zb.tobytes()
        chunks = [piece for i in range(tiles) for piece in (cb[cs[i]:cs[i + 1]], zb[zs[i]:zs[i + 1]])]
    tbmp_size = 4 + sum(len(c) for c in chunks)
    tbhd = b"TBHD" + struct.pack(">I", TBHD.size) + TBHD.pack(
        w, h, 1, 1, flags, nbytes, tiles, 1 if compress else 0, 0, 0)
    total = 4 + len(tbhd) + 8 + tbmp_size
    if total >= 1 << 32:
        raise ImageSizeError(f"IFF file of {total} bytes exceeds the 32-bit chunk size")
    head = b"FOR4" + struct.pack(">I", total) + b"CIMG" + tbhd + b"FOR4" + struct.pack(">I", tbmp_size) + b"TBMP"
    return [head] + chunks


def _write(path: str, image: Image, options: dict) -> None:
    colour, depth = _split_layers(image.layers)
    chunks = encode_chunks(colour, depth, options["compression"] == "rle")   # io fills the default
    with open(path, "wb") as fh:
        for chunk in chunks:
            fh.write(chunk)


def _chunks(data: bytes, pos: int, end: int):
    """(tag, body start, body size) of the chunks in data[pos:end]."""
    while pos + 8 <= end:
        tag = data[pos:pos + 4]
        size = struct.unpack_from(">I", data, pos + 4)[0]
        if pos + 8 + size > end:
            raise ValueError(f"chunk {tag!r} at byte {pos} runs past the end of its group (truncated)")
        yield tag, pos + 8, size
        pos += 8 + ((size + 3) & ~3)


def _read(path: str, options: dict) -> Image:
    data = read_bytes(path)
    if not sniff(data[:12]):
        raise CorruptFileError(path, "not a Maya IFF file (no FOR4 ... CIMG group)")
    end = min(len(data), 8 + struct.unpack_from(">I", data, 4)[0])
    header = None
    tbmp = None
    try:
        for tag, body, size in _chunks(data, 12, end):
            if tag == b"TBHD":
                if size not in (24, 32):
                    raise ValueError(f"TBHD chunk of {size} bytes; expected 24 or 32")
                header = TBHD.unpack_from(data[body:body + size] + bytes(32 - size))
            elif tag == b"FOR4" and size >= 4 and data[body:body + 4] == b"TBMP":
                tbmp = (body + 4, body + size)
    except ValueError as exc:
        raise CorruptFileError(path, str(exc)) from None
    if header is None:
        raise CorruptFileError(path, "no TBHD (image header) chunk")
    if tbmp is None:
        raise CorruptFileError(path, "no FOR4 TBMP group (no pixel data; truncated file?)")
    w, h, _prnum, _prden, flags, nbytes_code, tiles, compression, _x, _y = header
    if w == 0 or h == 0 or w > 0xFFFF or h > 0xFFFF:
        raise CorruptFileError(path, f"image size {w}x{h} is not valid for IFF")
    cflags = flags & (FLAG_RGB | FLAG_ALPHA)
    ctype = None
    if cflags:
        ctype = next((n for n, (f, b, _s) in LAYOUT.items() if f == cflags and b == nbytes_code), None)
        if ctype is None:
            raise CorruptFileError(path, f"unsupported IFF flags {flags:#x} with bytes code {nbytes_code}")
    elif not flags & FLAG_Z:
        raise CorruptFileError(path, f"IFF flags {flags:#x} name neither colour, alpha nor depth")
    cchan = datatype(ctype).components if ctype else 0
    cbytes = LAYOUT[ctype][2] if ctype else 1
    if h * w * (cchan * cbytes + (4 if flags & FLAG_Z else 0)) > 1024 * len(data) + (1 << 24):
        # a 64x64 tile takes at least 16 bytes per byte plane; far beyond that the header is damaged
        raise CorruptFileError(path, f"image size {w}x{h} is implausible for a {len(data)}-byte file")
    check_pixels(path, w, h, cchan + (1 if flags & FLAG_Z else 0), max(cbytes, 4 if flags & FLAG_Z else 1),
                 len(data), ratio=1024, what="IFF tile data")
    colour = np.zeros((h, w, cchan * cbytes), np.uint8)
    zbuf = np.zeros((h, w if flags & FLAG_Z else 0, 4), np.uint8)
    counts = np.zeros(4, np.int64)
    status = _rle.iff_decode_tiles(np.frombuffer(data, np.uint8), tbmp[0], tbmp[1],
                                   colour, cchan, cbytes, zbuf, counts)
    if status != _rle.OK:
        raise CorruptFileError(path, _rle.STATUS_TEXT[status])
    layers = []
    if ctype:
        if counts[1] != w * h:
            raise CorruptFileError(path, f"RGBA tiles cover {counts[1]} of {w * h} pixels (missing tiles)")
        dt = datatype(ctype)
        pixels = colour.view(SAMPLE_DTYPES[cbytes]).astype(dt.file_dtype)
        layers.append(Layer("", dt, pixels, dt.channels))
    if flags & FLAG_Z:
        if counts[3] != w * h:
            raise CorruptFileError(path, f"ZBUF tiles cover {counts[3]} of {w * h} pixels (missing tiles)")
        dt = datatype("z")
        layers.append(Layer("", dt, zbuf.view(">f4").astype(np.float32), dt.channels))
    return Image(layers, info={"flags": flags, "tiles": tiles,
                               "compression": "rle" if compression == 1 else "none"})


NOTES = (
    "FOR4 CIMG with TBHD (flags RGB 1 / ALPHA 2 / ZBUFFER 4, bytes 0 8-bit, 1 16-bit, 3 float) and "
    "a FOR4 TBMP of 64x64 tiles, tile row 0 at the bottom; a tile is RLE (byte planes, most "
    "significant first, channels reversed) when smaller than raw. Colour plus an optional depth "
    "buffer in one file (each tile's ZBUF chunk after its RGBA chunk, float32 big-endian in four "
    "byte planes). Undocumented layouts, our choice: float colour = bytes 3, float32 big-endian in "
    "four byte planes; alpha-only = flags ALPHA with one-channel RGBA tiles; depth-only = flags "
    "ZBUFFER with only ZBUF tiles; depth values written unchanged (+inf = nothing hit). At most "
    "65535 tiles."
)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="iff",
        description="Maya IFF, tiled RLE colour (8/16-bit, float) with optional depth",
        extensions=("iff",),
        datatypes=("rgb", "rgba", "rgb_16", "rgba_16", "rgba_fp", "a", "a_16", "a_fp", "z"),
        default_datatype="rgba",
        compressions=("rle", "none"),
        default_compression="rle",
        writer=_write,
        reader=_read,
        multi_layer=True,
        max_width=0xFFFF,
        max_height=0xFFFF,
        sniff=sniff,
        notes=NOTES,
    )]
