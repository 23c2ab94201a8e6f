"""Wavefront RLA (``rla``): 8-bit RGBA, run-length encoded, with an optional float depth channel
(reference 6.5).

Layout (big-endian unless said)::

    740-byte header (see HEADER_FIELDS): window and active rectangles, channel counts and types,
    revision 0xFFFE, text fields, bits per channel
    i32 offsets[height]: absolute file offset of each scanline record, scanline 0 = bottom
    per scanline: R, G, B records, then the matte (A) record, then the auxiliary (Z) record;
        integer record: u16 length, then RLA packets of each byte plane (most significant
        first): signed count n >= 0 repeats the next byte n + 1 times, n < 0 copies -n bytes
        float record:   u16 length (= 4 * width), then the raw float32 samples

Choices (also in ``notes``):

* The format table lists ``rgba`` only ("8 or 16 bit"); this writer stores 8-bit RGBA (3 colour
  channels + 1 matte). ``z`` is listed only so that a depth buffer can join the colour in the same
  file (mental ray's ``"+rgba,z"``): it becomes one float auxiliary channel (AuxChannelType 4,
  32 bits). Depth alone is refused: RLA needs colour channels.
* Float auxiliary samples are stored raw and **little-endian**, as OpenImageIO writes and reads
  them on every common machine; OpenImageIO notes that this layout is not confirmed by a spec.
  The u16 record length limits a file with depth to 16383 pixels per row.
* Window and active rectangles are both (0, width-1, 0, height-1); header sizes are i16, so at
  most 32767 pixels a side. Text fields: ProgramName "framebuf", ColorChannel "rgb", Description
  from the ``description`` attribute, AuxData "depth" when Z is present; gamma, chromaticities
  and date are left empty (no claim is made about them).
* The reader takes 1 or 3 colour channels with 0 or 1 matte of the same 8/16-bit integer type
  (n-bit samples such as 10-bit scaled to the full 8/16-bit range) or float (raw little-endian
  records, as IMGLIB and OpenImageIO write them), and float auxiliary channels (the first is
  returned as ``z``); 16-bit files come back as ``rgba_16``, float ones as ``rgba_fp``.

For RLB (same body, different header) the pieces are public: :data:`HEADER_SIZE`,
:func:`encode_rla_body`, :func:`decode_rla_body`, :func:`pack_header`, :func:`unpack_header`.
"""

from __future__ import annotations

import struct

import numpy as np

from ..datatypes import datatype
from ..errors import (CorruptFileError, FramebufError, ImageSizeError, UnsupportedDataTypeError,
                      UnsupportedFeatureError)
from ..hookspecs import hookimpl
from . import _rle
from .base import FormatSpec, Image, Layer
from ._files import check_pixels, pack_named, read_bytes, unpack_named

#: (name, struct code) of the 740-byte header, in file order.
HEADER_FIELDS = (
    ("WindowLeft", "h"), ("WindowRight", "h"), ("WindowBottom", "h"), ("WindowTop", "h"),
    ("ActiveLeft", "h"), ("ActiveRight", "h"), ("ActiveBottom", "h"), ("ActiveTop", "h"),
    ("FrameNumber", "h"), ("ColorChannelType", "h"), ("NumOfColorChannels", "h"),
    ("NumOfMatteChannels", "h"), ("NumOfAuxChannels", "h"), ("Revision", "h"),
    ("Gamma", "16s"), ("RedChroma", "24s"), ("GreenChroma", "24s"), ("BlueChroma", "24s"),
    ("WhitePoint", "24s"), ("JobNumber", "i"), ("FileName", "128s"), ("Description", "128s"),
    ("ProgramName", "64s"), ("MachineName", "32s"), ("UserName", "32s"), ("DateCreated", "20s"),
    ("Aspect", "24s"), ("AspectRatio", "8s"), ("ColorChannel", "32s"), ("FieldRendered", "h"),
    ("Time", "12s"), ("Filter", "32s"), ("NumOfChannelBits", "h"), ("MatteChannelType", "h"),
    ("NumOfMatteBits", "h"), ("AuxChannelType", "h"), ("NumOfAuxBits", "h"), ("AuxData", "32s"),
    ("Reserved", "36s"), ("NextOffset", "i"),
)
HEADER = struct.Struct(">" + "".join(code for _n, code in HEADER_FIELDS))
HEADER_SIZE = HEADER.size  # 740
REVISION = -2  # 0xFFFE as i16
CT_BYTE, CT_WORD, CT_DWORD, CT_FLOAT = 0, 1, 2, 4
MAX_SIDE = 32767


def pack_header(**fields) -> bytes:
    """The 740-byte header; fields not named are 0 or empty text."""
    return pack_named(HEADER_FIELDS, HEADER, "RLA", **fields)


def unpack_header(data: bytes) -> dict:
    """Header fields by name; text fields decoded up to their first NUL."""
    return unpack_named(HEADER_FIELDS, HEADER, data)


def sniff(head: bytes) -> bool:
    return len(head) >= 28 and struct.unpack_from(">h", head, 26)[0] == REVISION


def encode_rla_body(chans: np.ndarray, aux: np.ndarray | None = None, base: int = HEADER_SIZE) -> bytes:
    """Scanline offset table plus scanline records, to be written at file offset ``base``.

    ``chans`` (H, W, C) uint8 or uint16: colour then matte channels, top row first; ``aux``
    (H, W, A) float32 auxiliary channels or None.
    """
    h, w, c = chans.shape
    nbytes = chans.dtype.itemsize
    cb = np.ascontiguousarray(chans, dtype=f">u{nbytes}").view(np.uint8).reshape(h, w, c * nbytes)
    if aux is None:
        ab = np.zeros((h, w, 0), np.uint8)
    else:
        ab = np.ascontiguousarray(aux, dtype="<f4").view(np.uint8).reshape(h, w, aux.shape[2] * 4)
    offs, body = _rle.rla_encode_body(cb, nbytes, ab, base + 4 * h)
    if h and offs[0] < 0:
        raise ImageSizeError(f"an RLA scanline record of a {w}-pixel row exceeds 65535 bytes")
    if base + 4 * h + body.shape[0] >= 1 << 31:
        raise ImageSizeError("RLA file would exceed the 2 GiB reach of its i32 scanline offsets")
    return offs.astype(">i4").tobytes() + body.tobytes()


def decode_rla_body(data: bytes, table_offset: int, width: int, height: int, nchan: int,
                    nbytes: int, naux: int, path="") -> tuple[np.ndarray, np.ndarray]:
    """Read the offset table at ``table_offset`` and the records it points to.

    Returns (channels (H, W, nchan) uint8/uint16, aux (H, W, naux) float32), top row first;
    raises CorruptFileError.
    """
    if nbytes not in (1, 2):
        raise CorruptFileError(path, f"{8 * nbytes}-bit integer channels are not supported")
    if table_offset + 4 * height > len(data):
        raise CorruptFileError(path, "file ends inside the scanline offset table (truncated)")
    offs = np.frombuffer(data, ">i4", count=height, offset=table_offset).astype(np.int64)
    cb = np.zeros((height, width, nchan * nbytes), np.uint8)
    ab = np.zeros((height, width, naux * 4), np.uint8)
    status = _rle.rla_decode_body(np.frombuffer(data, np.uint8), offs, cb, nbytes, ab)
    if status != _rle.OK:
        raise CorruptFileError(path, _rle.STATUS_TEXT[status])
    chans = cb.view(f">u{nbytes}").astype(np.uint8 if nbytes == 1 else np.uint16)
    return chans, ab.view("<f4").astype(np.float32)


def _write(path: str, image: Image, options: dict) -> None:
    colour = [l for l in image.layers if l.datatype.name != "z"]
    depth = [l for l in image.layers if l.datatype.name == "z"]
    if len(colour) != 1 or len(depth) > 1:
        raise FramebufError(
            "an RLA file holds one rgba buffer and at most one depth buffer; got "
            + ", ".join(f"{l.name or '(unnamed)'}:{l.datatype.name}" for l in image.layers))
    layer = colour[0]
    if layer.datatype.name != "rgba":
        raise UnsupportedDataTypeError("rla", layer.datatype.name, ["rgba", "z (with rgba)"])
    h, w = layer.height, layer.width
    aux = depth[0].pixels[:, :, :1] if depth else None
    if aux is not None and 4 * w > 0xFFFF:
        raise ImageSizeError(f"RLA float depth records hold at most 16383 pixels a row; the image is {w} wide")
    head = pack_header(
        WindowRight=w - 1, WindowTop=h - 1, ActiveRight=w - 1, ActiveTop=h - 1,
        ColorChannelType=CT_BYTE, NumOfColorChannels=3, NumOfMatteChannels=1,
        NumOfAuxChannels=1 if depth else 0, Revision=REVISION,
        Description=str(image.attributes.get("description", "")), ProgramName="framebuf",
        ColorChannel="rgb", NumOfChannelBits=8, MatteChannelType=CT_BYTE, NumOfMatteBits=8,
        AuxChannelType=CT_FLOAT if depth else CT_BYTE, NumOfAuxBits=32 if depth else 0,
        AuxData="depth" if depth else "",
    )
    body = encode_rla_body(np.ascontiguousarray(layer.pixels, np.uint8), aux)
    with open(path, "wb") as fh:
        fh.write(head)
        fh.write(body)


def _scale_bits(px: np.ndarray, bits: int, path) -> np.ndarray:
    """n-bit samples to the full range of their 8/16-bit container, rounded (10-bit 1023 ->
    65535), as OpenImageIO does; a sample above the n-bit maximum is clamped to it."""
    full = px.dtype.itemsize * 8
    if bits <= 0 or bits >= full or px.size == 0:
        return px
    top = (1 << bits) - 1
    return ((np.minimum(px, top).astype(np.uint32) * ((1 << full) - 1) + top // 2) // top).astype(px.dtype)


def _nbytes(ctype: int, bits: int) -> int:
    if ctype == CT_BYTE:
        return 1 if bits <= 8 else 2
    return {CT_WORD: 2, CT_DWORD: 4, CT_FLOAT: 4}.get(ctype, 0)


def _read(path: str, options: dict) -> Image:
    data = read_bytes(path, HEADER_SIZE, "RLA")
    hd = unpack_header(data)
    if hd["Revision"] not in (REVISION, 0):
        raise CorruptFileError(path, f"unknown RLA revision {hd['Revision'] & 0xFFFF:#06x}")
    w = hd["ActiveRight"] - hd["ActiveLeft"] + 1
    h = hd["ActiveTop"] - hd["ActiveBottom"] + 1
    if w <= 0 or h <= 0:
        raise CorruptFileError(path, f"active window gives an image of {w}x{h} pixels")
    nc, nm, na = hd["NumOfColorChannels"], hd["NumOfMatteChannels"], hd["NumOfAuxChannels"]
    if nc not in (1, 3) or nm not in (0, 1) or not 0 <= na <= 256:
        raise CorruptFileError(path, f"unsupported channel counts: {nc} colour, {nm} matte, {na} aux")
    ctype, mtype = hd["ColorChannelType"], hd["MatteChannelType"] if nm else hd["ColorChannelType"]
    if na and hd["AuxChannelType"] != CT_FLOAT:
        raise UnsupportedFeatureError(path, "RLA integer auxiliary channels")
    if ctype == CT_FLOAT or mtype == CT_FLOAT:
        # float colour (OpenImageIO / IMGLIB): raw little-endian float32 records like the aux ones
        if ctype != mtype:
            raise UnsupportedFeatureError(path, "RLA float colour with an integer matte (or the reverse)")
        if h * w * 4 * (nc + nm + na) > len(data):
            raise CorruptFileError(path, f"image size {w}x{h} does not fit the {len(data)}-byte file")
        check_pixels(path, w, h, nc + nm + na, 4, len(data), what="RLA float data")
        _, floats = decode_rla_body(data, HEADER_SIZE, w, h, 0, 1, nc + nm + na, path)
        chans, aux = floats[:, :, :nc + nm], floats[:, :, nc + nm:]
        suffix = "_fp"
    else:
        cbits, mbits = hd["NumOfChannelBits"], hd["NumOfMatteBits"] if nm else hd["NumOfChannelBits"]
        cbytes, mbytes = _nbytes(ctype, cbits), _nbytes(mtype, mbits)
        if cbytes not in (1, 2) or mbytes != cbytes:
            raise UnsupportedFeatureError(
                path, "RLA channel types other than 8/16-bit integer or float colour and matte")
        if h * w * ((nc + nm) * cbytes + 4 * na) > 1024 * len(data) + (1 << 24):
            # RLE packs at most 64:1 unless scanlines share records; far beyond that the header is damaged
            raise CorruptFileError(path, f"image size {w}x{h} is implausible for a {len(data)}-byte file")
        check_pixels(path, w, h, nc + nm + na, cbytes, len(data), ratio=1024, what="RLA scanline data")
        chans, aux = decode_rla_body(data, HEADER_SIZE, w, h, nc + nm, cbytes, na, path)
        # 10- or 12-bit samples in 16-bit words (and 1-7 in bytes) fill their type's range
        chans = np.concatenate([_scale_bits(chans[:, :, :nc], cbits, path),
                                _scale_bits(chans[:, :, nc:], mbits, path)], axis=2)
        suffix = "_16" if cbytes == 2 else ""
    if nc == 1:
        chans = np.concatenate([np.repeat(chans[:, :, :1], 3, axis=2), chans[:, :, 1:]], axis=2)
    name = ("rgba" if nm else "rgb") + suffix
    dt = datatype(name)
    layers = [Layer("", dt, np.ascontiguousarray(chans), dt.channels)]
    if na:
        zt = datatype("z")
        layers.append(Layer("", zt, np.ascontiguousarray(aux[:, :, :1]), zt.channels))
    attrs = {"description": hd["Description"]} if hd["Description"] else {}
    return Image(layers, attributes=attrs,
                 info={"colour_channels": nc, "matte_channels": nm, "aux_channels": na,
                       "bits": hd["NumOfChannelBits"], "program": hd["ProgramName"]})


NOTES = (
    "740-byte big-endian header (revision 0xFFFE), i32 scanline offset table (scanline 0 at the "
    "bottom), per scanline R G B then matte A records of u16 length + signed-count RLE. Writes "
    "8-bit rgba (the table's only type); a depth buffer in the same file (mental ray '+rgba,z') "
    "becomes one float auxiliary channel stored raw, little-endian as OpenImageIO does (not "
    "confirmed by a spec), which limits such files to 16383 pixels a row; depth alone is refused. "
    "At most 32767 pixels a side (i16 header fields). The reader also takes 16-bit and grey files."
)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="rla",
        description="Wavefront RLA, RLE 8-bit RGBA with optional float depth",
        extensions=("rla",),
        datatypes=("rgba", "z"),
        default_datatype="rgba",
        compressions=("rle",),
        default_compression="rle",
        writer=_write,
        reader=_read,
        multi_layer=True,
        max_width=MAX_SIDE,
        max_height=MAX_SIDE,
        sniff=sniff,
        notes=NOTES,
    )]
