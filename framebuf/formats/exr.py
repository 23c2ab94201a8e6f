"""OpenEXR (``exr``) through the OpenEXR Python bindings (``OpenEXR.File``), threads on.

Data types (mental ray's table, default ``rgba_h``) and what each becomes in the file:

=========================  =======================================================================
``rgba_h rgb_h a_h``       HALF channels, from the float buffer (round to nearest even)
``rgba_fp rgb_fp a_fp``    FLOAT channels
``rgba rgb a``             HALF channels holding the 8-bit values k/255: EXR has no 8-bit samples,
                           so these keep the 8-bit meaning (clipped, gamma, dither, quantised) and
                           are stored in the smallest sample that holds k/255 exactly enough to give
                           k back (half, 11-bit mantissa)
``z``                      one FLOAT channel (``+inf`` = nothing hit, as in memory)
``n m``                    three FLOAT channels X, Y, Z
=========================  =======================================================================

``tag`` (uint32) is not in mental ray's EXR list, so it is refused like any unlisted type.

Channel names (mental ray 3.6+, reference section 7; the names for z, n, m are our choice):

* the primary buffer (or the only one): bare ``R G B A`` (``R G B``, ``A``);
* every other buffer: ``name.R name.G name.B name.A`` (a diffuse rgba buffer: ``diffuse.R`` ...);
* the standard (non-user) depth buffer: bare ``Z``; a user depth buffer: ``name.Z``;
* normals and motion: ``name.X name.Y name.Z`` (bare ``X Y Z`` when alone in the file).

Several buffers go into one single-part file. A string attribute ``framebufTypes`` records each
layer's data type and buffer name (``firstchannel:type:name`` joined by ``;``) so that our reader
gives back exactly what was written (``m`` rather than ``n``, ``a`` rather than ``a_h``); other
readers simply ignore it.

Compressions: none, rle (default, as mental ray 3.8), zip, zips, piz, pxr24, b44, b44a, dwaa,
dwab. Scanline by default; ``tiled on`` writes one-level tiles of ``tile_size`` (default 32, as the
mental ray 3.8 sample file). Header attributes in ``Image.attributes`` (``zmin``/``zmax`` floats,
``comments`` string, any str/float/int, 2-float tuple = V2f, 2-int tuple = V2i, pair of 2-int
pairs = Box2i) are written and read back.

Reading groups channels into layers by prefix (text before the last dot, plus the part name in
multi-part files): R/G/B(/A) -> rgb(a)_h or _fp by pixel type, Z alone -> z, X/Y/Z -> n (m when the
layer name mentions motion, velocity or vector), UINT -> tag, any other single channel -> a_h/a_fp.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import OpenEXR

from ..convert import to_half
from ..datatypes import datatype
from ..errors import CorruptFileError, FramebufError, UnsupportedDataTypeError, UnsupportedOptionError
from ..hookspecs import hookimpl
from .base import FormatSpec, Image, Layer

DATATYPES = ("a", "rgb", "rgba", "a_h", "rgb_h", "rgba_h", "a_fp", "rgb_fp", "rgba_fp", "z", "n", "m")

COMPRESSIONS = {
    "none": OpenEXR.NO_COMPRESSION,
    "rle": OpenEXR.RLE_COMPRESSION,
    "zip": OpenEXR.ZIP_COMPRESSION,
    "zips": OpenEXR.ZIPS_COMPRESSION,
    "piz": OpenEXR.PIZ_COMPRESSION,
    "pxr24": OpenEXR.PXR24_COMPRESSION,
    "b44": OpenEXR.B44_COMPRESSION,
    "b44a": OpenEXR.B44A_COMPRESSION,
    "dwaa": OpenEXR.DWAA_COMPRESSION,
    "dwab": OpenEXR.DWAB_COMPRESSION,
}
COMPRESSION_NAMES = {v: k for k, v in COMPRESSIONS.items()}

#: header attributes the library owns; never taken from or handed to Image.attributes
STRUCTURAL = {"channels", "compression", "dataWindow", "displayWindow", "lineOrder",
              "pixelAspectRatio", "screenWindowCenter", "screenWindowWidth", "tiles", "type",
              "name", "chunkCount", "version", "maxSamplesPerPixel"}
TYPES_ATTRIBUTE = "framebufTypes"
MOTION_WORDS = ("motion", "velocity", "vector", "mv")

_threads_lock = threading.Lock()
_threads_ready = False


def _threads() -> int:
    """OpenEXR's process-wide pool starts with 0 threads: size it once, to the core count."""
    global _threads_ready
    n = os.cpu_count() or 1
    with _threads_lock:
        if not _threads_ready:
            if OpenEXR.global_thread_count() < n:
                OpenEXR.set_global_thread_count(n)
            _threads_ready = True
    return n


# -- writing -----------------------------------------------------------------------------------

def _channel_arrays(layer: Layer) -> dict:
    dt = layer.datatype
    px = layer.pixels
    if dt.name not in DATATYPES:
        raise UnsupportedDataTypeError("exr", dt.name, list(DATATYPES))
    if dt.sample == "u8":
        # 8-bit types keep their quantised values, stored as half k/255 (see module docstring)
        px = to_half(px.astype(np.float32) / np.float32(255.0))
    elif dt.sample == "f16":
        px = px if px.dtype == np.float16 else to_half(px)
    else:
        px = px.astype(np.float32, copy=False)
    if len(layer.channels) != px.shape[2]:
        raise FramebufError(f"exr: layer {layer.name!r} has {px.shape[2]} components but channel "
                            f"names {layer.channels}")
    # OpenEXR.File wants one contiguous 2-D array per channel and takes the dict over, so each
    # call gets fresh arrays
    return {name: np.ascontiguousarray(px[:, :, i]) for i, name in enumerate(layer.channels)}


def _attribute_value(name: str, value):
    """A Python value as the bindings' attribute type, or FramebufError."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.shape == (2,):
        return value.astype(np.int32 if value.dtype.kind in "iu" else np.float32)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        a, b = value
        if all(isinstance(x, (tuple, list, np.ndarray)) and len(x) == 2 for x in (a, b)):
            return (np.asarray(a, np.int32), np.asarray(b, np.int32))      # Box2i
        if all(isinstance(x, (int, np.integer)) for x in value):
            return np.asarray(value, np.int32)                                # V2i
        if all(isinstance(x, (int, float, np.number)) for x in value):
            return np.asarray(value, np.float32)                              # V2f
    raise FramebufError(f"exr: header attribute {name!r} has a type EXR cannot store: {value!r}")


def _tile_size(options) -> tuple[int, int]:
    size = options.get("tile_size", 32)
    try:
        if isinstance(size, str) and "x" in size.lower():
            tx, ty = (int(s) for s in size.lower().split("x"))
        else:
            tx = ty = int(size)
    except (TypeError, ValueError):
        tx = ty = 0
    if not (1 <= tx <= 65536 and 1 <= ty <= 65536):
        raise UnsupportedOptionError(f"exr tile_size must be N or WxH (1-65536), not {size!r}")
    return tx, ty


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "on", "true", "yes")
    return bool(value)


def build_header(image: Image, options) -> dict:
    comp = options.get("compression") or "rle"
    if comp not in COMPRESSIONS:
        raise UnsupportedOptionError(f"exr compression must be one of {', '.join(COMPRESSIONS)}, not {comp!r}")
    header = {}
    for key, value in image.attributes.items():
        if key in STRUCTURAL or key == TYPES_ATTRIBUTE:
            continue
        header[key] = _attribute_value(key, value)
    header["compression"] = COMPRESSIONS[comp]
    if comp in ("dwaa", "dwab") and "dwa_level" in options:
        header["dwaCompressionLevel"] = float(options["dwa_level"])
    if _truthy(options.get("tiled", False)):
        tx, ty = _tile_size(options)
        tiles = OpenEXR.TileDescription()
        tiles.xSize, tiles.ySize = tx, ty
        tiles.mode, tiles.roundingMode = OpenEXR.ONE_LEVEL, OpenEXR.ROUND_DOWN
        header["type"] = OpenEXR.tiledimage
        header["tiles"] = tiles
    else:
        header["type"] = OpenEXR.scanlineimage
    hints = []
    for layer in image.layers:
        if layer.channels and not any(c in ";:" for c in layer.channels[0] + layer.name):
            hints.append(f"{layer.channels[0]}:{layer.datatype.name}:{layer.name}")
    header[TYPES_ATTRIBUTE] = ";".join(hints)
    return header


def write(path, image: Image, options) -> None:
    threads = _threads()
    header = build_header(image, options)
    channels: dict = {}
    for layer in image.layers:
        channels.update(_channel_arrays(layer))
    OpenEXR.File(header, channels, num_threads=threads).write(str(path))


# -- reading -----------------------------------------------------------------------------------

def _split(name: str) -> tuple[str, str]:
    prefix, dot, suffix = name.rpartition(".")
    return (prefix, suffix) if dot else ("", name)


def _hints(header: dict) -> dict:
    out = {}
    for entry in str(header.get(TYPES_ATTRIBUTE, "")).split(";"):
        parts = entry.split(":")
        if len(parts) == 3:
            out[parts[0]] = (parts[1], parts[2])
    return out


def _as_layer(name: str, chans: list[tuple[str, np.ndarray]], dtname: str) -> Layer:
    dt = datatype(dtname)
    arrays = [a for _, a in chans]
    if dt.sample == "u8":
        px = np.stack([np.clip(np.rint(a.astype(np.float32) * 255.0), 0, 255) for a in arrays], -1)
    else:
        px = np.stack(arrays, axis=-1)
    return Layer(name, dt, np.ascontiguousarray(px.astype(dt.file_dtype, copy=False)),
                 tuple(c for c, _ in chans))


def _colour_type(kind: str, arrays) -> str:
    is_float = any(a.dtype == np.float32 for a in arrays)
    return kind + ("_fp" if is_float else "_h")


def group_channels(channels: dict, hints: dict | None = None) -> list[Layer]:
    """Channels {full name: 2-D array} to typed layers (module docstring gives the rules)."""
    hints = hints or {}
    groups: dict[str, dict[str, np.ndarray]] = {}
    for full in channels:
        prefix, suffix = _split(full)
        groups.setdefault(prefix, {})[suffix] = channels[full]
    layers = []

    def full(prefix, suffix):
        return f"{prefix}.{suffix}" if prefix else suffix

    for prefix, chans in groups.items():
        rest = dict(chans)

        def take(letters):
            return [(full(prefix, c), rest.pop(c)) for c in letters]

        def hinted(letters, default_type, default_name):
            """The type and buffer name our writer recorded for this channel group, if any."""
            first = full(prefix, letters[0])
            dtname, bufname = hints.get(first, (None, None))
            if dtname in DATATYPES and datatype(dtname).components == len(letters):
                return dtname, bufname
            return default_type, default_name

        if all(c in rest and rest[c].dtype != np.uint32 for c in "RGB"):
            letters = "RGBA" if "A" in rest and rest["A"].dtype != np.uint32 else "RGB"
            kind = "rgba" if letters == "RGBA" else "rgb"
            dtname, name = hinted(letters, _colour_type(kind, [rest[c] for c in letters]), prefix)
            layers.append(_as_layer(name, take(letters), dtname))
        if all(c in rest and rest[c].dtype == np.float32 for c in "XYZ"):
            motion = any(w in prefix.lower() for w in MOTION_WORDS)
            dtname, name = hinted("XYZ", "m" if motion else "n", prefix)
            layers.append(_as_layer(name, take("XYZ"), dtname))
        for suffix in list(rest):
            arr = rest[suffix]
            single = len(rest) == 1 and not any(layer.name == prefix for layer in layers)
            name = prefix if single else full(prefix, suffix)
            if arr.dtype == np.uint32:
                default = "tag"
            elif suffix == "Z":
                default = "z"
            else:
                default = "a_fp" if arr.dtype == np.float32 else "a_h"
            dtname, name = hinted([suffix], default, name)
            if default == "z" and arr.dtype != np.float32:
                arr = arr.astype(np.float32)
            rest.pop(suffix)
            layers.append(_as_layer(name, [(full(prefix, suffix), arr)], dtname))
    # the bare (primary) colour layer first, as written
    layers.sort(key=lambda layer: (layer.channels[0] not in ("R", "A"), ))
    return layers


def read(path, options) -> Image:
    threads = _threads()
    try:
        f = OpenEXR.File(str(path), separate_channels=True, num_threads=threads)
        parts = f.parts
        layers, attributes, info = [], {}, {"parts": len(parts)}
        size = None
        for index, part in enumerate(parts):
            header = part.header
            channels = {}
            for cname, ch in part.channels.items():
                if ch.xSampling != 1 or ch.ySampling != 1:
                    info.setdefault("skipped_channels", []).append(cname)  # sub-sampled (luma/chroma)
                    continue
                key = f"{part.name()}.{cname}" if len(parts) > 1 and part.name() else cname
                channels[key] = ch.pixels
            shapes = {a.shape for a in channels.values()}
            if len(shapes) > 1:
                raise CorruptFileError(path, f"channels of part {index} differ in size: {shapes}")
            if size is None and shapes:
                size = shapes.pop()
            elif shapes and shapes.pop() != size:
                info.setdefault("skipped_parts", []).append(part.name() or index)
                continue
            layers += group_channels(channels, _hints(header))
            if index == 0:
                info["compression"] = COMPRESSION_NAMES.get(header.get("compression"), str(header.get("compression")))
                info["tiled"] = header.get("type") == OpenEXR.tiledimage
                info["dataWindow"] = tuple(tuple(int(v) for v in w) for w in header["dataWindow"])
                info["displayWindow"] = tuple(tuple(int(v) for v in w) for w in header["displayWindow"])
                for key, value in header.items():
                    if key not in STRUCTURAL and key != TYPES_ATTRIBUTE:
                        attributes[key] = value
    except FramebufError:
        raise
    except MemoryError:
        raise CorruptFileError(path, "EXR header asks for more memory than there is") from None
    except Exception as exc:  # noqa: BLE001 - the bindings raise RuntimeError, ValueError ...
        raise CorruptFileError(path, f"cannot decode EXR data: {exc or type(exc).__name__}") from None
    if not layers:
        raise CorruptFileError(path, "EXR file holds no readable channels")
    return Image(layers, attributes=attributes, info=info)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="exr",
        description="OpenEXR: half/float colour, alpha, depth, normals, motion; several buffers per file",
        extensions=("exr",),
        datatypes=DATATYPES,
        default_datatype="rgba_h",
        writer=write,
        reader=read,
        compressions=tuple(COMPRESSIONS),
        default_compression="rle",
        options={
            "tiled": "on/off: one-level tiles instead of scanlines (default off)",
            "tile_size": "tile edge N or WxH in pixels (default 32, as mental ray 3.8)",
            "dwa_level": "DWAA/DWAB compression level (default 45)",
        },
        multi_layer=True,
        max_width=2**31 - 1,
        max_height=2**31 - 1,
        sniff=lambda head: head[:4] == b"\x76\x2f\x31\x01",
        notes="rgba/rgb/a are written as HALF holding k/255; *_h HALF; *_fp, z, n, m FLOAT; tag is "
              "refused (not in mental ray's list). Primary buffer R G B A, others name.R ...; "
              "standard depth Z, user depth name.Z; normals/motion name.X/.Y/.Z. Default compression "
              "rle as mental ray 3.8; scanline unless tiled on. A framebufTypes string attribute "
              "keeps the exact data types for our reader.",
    )]
