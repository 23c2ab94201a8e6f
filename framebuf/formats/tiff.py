"""TIFF: ``tif`` (compressed) and ``tifu`` (uncompressed), through tifffile + imagecodecs.

Both keywords store the types of mental ray's table: 8-bit, 16-bit and 32-bit float RGB and RGBA
(default ``rgba``, reference section 5), interleaved (PlanarConfiguration 1) in strips.

* ``tif`` compresses with **PackBits** by default: mental ray's table calls the scheme "RLE" and
  PackBits is TIFF's run-length coding (reference 6.14). ``deflate`` (Adobe deflate, with the
  horizontal predictor for integers and the floating-point predictor for floats) and ``lzw`` are
  offered too.
* ``tifu`` writes Compression 1 (none).
* Alpha is marked associated (ExtraSamples 1) when the colour is premultiplied, which is mental
  ray's default, and unassociated (2) under ``premultiply off``.
* Strips hold about 256 KiB of pixels, so the encoder can run on every core and readers can stream.
"""

from __future__ import annotations

import os

import numpy as np
import tifffile

from ..datatypes import datatype
from ..errors import CorruptFileError, FramebufError, UnsupportedDataTypeError, UnsupportedOptionError
from ..hookspecs import hookimpl
from .base import FormatSpec, Image, Layer

DATATYPES = ("rgba", "rgba_16", "rgba_fp", "rgb", "rgb_16", "rgb_fp")

#: our compression keyword -> (tifffile name, TIFF Compression tag value)
COMPRESSIONS = {"packbits": "packbits", "deflate": "adobe_deflate", "lzw": "lzw", "none": None}

STRIP_BYTES = 256 * 1024

#: (numpy kind+size, samples) -> data type name, for reading
READ_TYPES = {
    ("u1", 3): "rgb", ("u1", 4): "rgba", ("u1", 1): "a",
    ("u2", 3): "rgb_16", ("u2", 4): "rgba_16", ("u2", 1): "a_16",
    ("f2", 3): "rgb_h", ("f2", 4): "rgba_h", ("f2", 1): "a_h",
    ("f4", 3): "rgb_fp", ("f4", 4): "rgba_fp", ("f4", 1): "a_fp",
}


def _write(path, image: Image, compression: str | None, options) -> None:
    if len(image.layers) != 1:
        raise FramebufError(f"tif holds one buffer per file, got {len(image.layers)}")
    layer = image.layers[0]
    if layer.datatype.name not in DATATYPES:
        raise UnsupportedDataTypeError("tif", layer.datatype.name, list(DATATYPES))
    px = np.ascontiguousarray(layer.pixels)
    h, w, c = px.shape
    extrasamples = ()
    if c == 4:
        extrasamples = ("assocalpha",) if image.info.get("premultiplied", True) else ("unassalpha",)
    predictor = None
    if compression in ("adobe_deflate", "lzw"):
        predictor = "floatingpoint" if px.dtype.kind == "f" else "horizontal"
    rows = max(1, min(h, STRIP_BYTES // max(1, w * c * px.dtype.itemsize)))
    tifffile.imwrite(
        path, px, photometric="rgb", planarconfig="contig", extrasamples=extrasamples,
        compression=compression, predictor=predictor, rowsperstrip=rows, metadata=None,
        software="framebuf", maxworkers=os.cpu_count() or 1,
    )


def write_tif(path, image, options):
    comp = options.get("compression") or "packbits"
    if comp not in COMPRESSIONS:
        raise UnsupportedOptionError(f"tif compression must be one of {', '.join(COMPRESSIONS)}")
    _write(path, image, COMPRESSIONS[comp], options)


def write_tifu(path, image, options):
    _write(path, image, None, options)


def read(path, options) -> Image:
    size = os.path.getsize(path)
    try:
        with tifffile.TiffFile(path) as tif:
            if not tif.pages:
                raise CorruptFileError(path, "TIFF file has no image directory")
            page = tif.pages.first
            # tifffile would read past the end as short strips; a truncated file must fail
            for off, count in zip(page.dataoffsets, page.databytecounts):
                if off + count > size:
                    raise CorruptFileError(path, f"TIFF strip at byte {off} ({count} bytes) runs past "
                                                 f"the end of the file ({size} bytes)")
            info = {"compression": page.compression.name.lower(),
                    "photometric": page.photometric.name.lower(),
                    "alpha": [e.name.lower() for e in page.extrasamples]}
            px = page.asarray(maxworkers=os.cpu_count() or 1)
    except FramebufError:
        raise
    except MemoryError:
        raise CorruptFileError(path, "TIFF header asks for more memory than there is") from None
    except Exception as exc:  # noqa: BLE001 - tifffile/imagecodecs raise many kinds on bad data
        raise CorruptFileError(path, f"cannot decode TIFF data: {exc or type(exc).__name__}") from None
    if page.planarconfig == 2 and px.ndim == 3 and px.shape[0] in (1, 2, 3, 4) and px.shape[0] < px.shape[-1]:
        px = np.moveaxis(px, 0, -1)         # separate planes -> interleaved
    if px.ndim == 2:
        px = px[:, :, None]
    if px.ndim != 3:
        raise FramebufError(f"{path}: TIFF layout {px.shape} (volumes, pages) is not supported")
    if px.dtype == np.float64:
        px = px.astype(np.float32)
    if px.shape[2] == 2:                    # grey + alpha -> RGBA
        px = np.concatenate([px[:, :, :1]] * 3 + [px[:, :, 1:]], axis=2)
    elif px.shape[2] > 4:
        px = px[:, :, :4]
    key = (f"{px.dtype.kind}{px.dtype.itemsize}", px.shape[2])
    name = READ_TYPES.get(key)
    if name is None:
        raise FramebufError(f"{path}: TIFF samples of type {px.dtype} x{px.shape[2]} are not supported")
    dt = datatype(name)
    return Image([Layer("", dt, np.ascontiguousarray(px), dt.channels)], info=info)


def _sniff(head: bytes) -> bool:
    return head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


@hookimpl
def framebuf_formats():
    common = dict(extensions=("tif", "tiff"), datatypes=DATATYPES, default_datatype="rgba",
                  reader=read, max_width=2**32 - 1, max_height=2**32 - 1, sniff=_sniff)
    return [
        FormatSpec(
            name="tif", description="TIFF, compressed (PackBits by default), 8/16-bit and float RGB(A)",
            writer=write_tif, compressions=tuple(COMPRESSIONS), default_compression="packbits",
            notes="mental ray's 'RLE' is written as PackBits (TIFF's run-length code); deflate uses "
                  "the horizontal or floating-point predictor. Alpha is associated unless "
                  "premultiply off. Read by tifffile, which also takes any 1-4 sample 8/16/32-bit TIFF.",
            **common),
        FormatSpec(
            name="tifu", description="TIFF, uncompressed, 8/16-bit and float RGB(A)",
            writer=write_tifu,
            notes="Compression 1 (none); otherwise as tif. Reading a .tif file picks the tif entry; "
                  "both readers are the same.",
            **common),
    ]
