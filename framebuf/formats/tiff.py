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
from ..errors import (CorruptFileError, FramebufError, UnsupportedDataTypeError, UnsupportedFeatureError,
                      UnsupportedOptionError)
from ..hookspecs import hookimpl
from ..limits import check_allocation, check_declared
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
    ("f8", 3): "rgb_fp", ("f8", 4): "rgba_fp", ("f8", 1): "a_fp",
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
    comp = options["compression"]   # io.write fills in the FormatSpec default
    if comp not in COMPRESSIONS:
        raise UnsupportedOptionError(f"tif compression must be one of {', '.join(COMPRESSIONS)}")
    _write(path, image, COMPRESSIONS[comp], options)


def write_tifu(path, image, options):
    _write(path, image, None, options)


def read(path, options) -> Image:
    """Decode the first image of a TIFF into one layer, as OpenImageIO presents it.

    tifffile (imagecodecs) decodes the samples; this function then interprets them: min-is-white
    is inverted, palette indices become RGB, CMYK becomes RGB as ``(1 - C)(1 - K)``, CIELab
    becomes sRGB as libtiff's RGBA interface converts it, and 1-15 bit integers are scaled to the
    full range of their 8- or 16-bit container (32-bit integers to float in [0, 1]). YCbCr with
    sub-sampling and old-style JPEG, which tifffile refuses, are decoded by Pillow's libtiff.
    The Orientation tag is reported as the ``Orientation`` attribute; the pixels are not rotated.
    """
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
            _check_sizes(path, page, size)
            tags = page.tags
            photometric = int(page.photometric) if "PhotometricInterpretation" in tags else None
            compression = int(page.compression)
            info = {"compression": _enum_name(page.compression),
                    "photometric": _enum_name(page.photometric) if photometric is not None else "none",
                    "alpha": [_enum_name(e) for e in page.extrasamples]}
            attrs = {}
            if "Orientation" in tags:
                attrs["Orientation"] = int(tags["Orientation"].value)
            if compression in UNSUPPORTED_COMPRESSIONS:
                raise UnsupportedFeatureError(path, f"TIFF {UNSUPPORTED_COMPRESSIONS[compression]} compression")
            bits = int(page.bitspersample)
            sampleformat = int(page.sampleformat)
            colormap = page.colormap
            if _needs_libtiff(page, photometric, compression):
                px = _read_with_pillow(path)
                photometric, bits, sampleformat = PHOTOMETRIC_RGB, 8, 1
            else:
                px = page.asarray(maxworkers=os.cpu_count() or 1)
                if page.planarconfig == 2 and px.ndim == 3 and px.shape[0] == page.samplesperpixel \
                        and page.samplesperpixel > 1:
                    px = np.moveaxis(px, 0, -1)         # separate planes -> interleaved
    except FramebufError:
        raise
    except MemoryError:
        raise CorruptFileError(path, "TIFF header asks for more memory than there is") from None
    except Exception as exc:  # noqa: BLE001 - tifffile/imagecodecs raise many kinds on bad data
        raise CorruptFileError(path, f"cannot decode TIFF data: {exc or type(exc).__name__}") from None
    if px.ndim == 2:
        px = px[:, :, None]
    if px.ndim != 3:
        raise UnsupportedFeatureError(path, f"TIFF layout {px.shape} (volumes, pages)")
    px = _interpret(path, px, photometric, bits, sampleformat, colormap)
    if px.shape[2] == 2:                    # grey + alpha -> RGBA
        px = np.concatenate([px[:, :, :1]] * 3 + [px[:, :, 1:]], axis=2)
    elif px.shape[2] > 4:
        px = px[:, :, :4]
    if px.dtype == np.float64:
        px = px.astype(np.float32)
    key = (f"{px.dtype.kind}{px.dtype.itemsize}", px.shape[2])
    name = READ_TYPES.get(key)
    if name is None:
        raise UnsupportedFeatureError(path, f"TIFF samples of type {px.dtype} x{px.shape[2]}")
    dt = datatype(name)
    return Image([Layer("", dt, np.ascontiguousarray(px), dt.channels)], attributes=attrs, info=info)


#: best-case ratio (decoded bytes per stored byte) of each Compression tag value, so a header
#: declaring more samples than its strips could hold is refused before tifffile allocates them:
#: PackBits stores at most 128 bytes in 2, LZW's 12-bit codes a string of at most ~4094 bytes,
#: deflate stops near 1032:1; anything else (JPEG, JPEG 2000, ...) gets a ratio no real file reaches.
MAX_RATIO = {1: 1, 32773: 65, 5: 3000, 8: 1100, 32946: 1100, 50000: 1100}
OTHER_RATIO = 1 << 16


def _check_sizes(path, page, size: int) -> None:
    """The first page's declared samples against its strips' bytes and the memory budget."""
    shape = tuple(int(n) for n in page.shaped)
    count = 1
    for n in shape:
        count *= n
    bits = max(1, int(page.bitspersample))
    nbytes = -(-count * bits // 8)
    what = f"TIFF image {page.imagewidth}x{page.imagelength} x{page.samplesperpixel} {bits}-bit"
    stored = sum(int(n) for n in page.databytecounts)
    ratio = MAX_RATIO.get(int(page.compression), OTHER_RATIO)
    check_declared(path, nbytes // ratio, stored, f"samples of a {what} (compression {int(page.compression)})")
    # decoded into its container type (bits rounded up to 8/16/32/64), then converted to at
    # most float32 RGBA
    container = max(1, int(page.dtype.itemsize)) if page.dtype is not None else 8
    check_allocation(count * max(container, 4), f"{path}: {what}")


PHOTOMETRIC_MINISWHITE, PHOTOMETRIC_MINISBLACK, PHOTOMETRIC_RGB, PHOTOMETRIC_PALETTE = 0, 1, 2, 3
PHOTOMETRIC_SEPARATED, PHOTOMETRIC_YCBCR, PHOTOMETRIC_CIELAB = 5, 6, 8

#: Compression tag values framebuf does not decode, and the name the error gives
UNSUPPORTED_COMPRESSIONS = {34676: "SGI LogL", 34677: "SGI LogLuv"}


def _enum_name(value) -> str:
    return getattr(value, "name", str(value)).lower()


def _needs_libtiff(page, photometric, compression) -> bool:
    """tifffile decodes YCbCr only inside JPEG strips; uncompressed or LZW YCbCr with sub-sampling,
    and old-style JPEG (compression 6), go through libtiff's RGBA interface (Pillow)."""
    if compression == 6:
        return True
    return photometric == PHOTOMETRIC_YCBCR and compression != 7 and tuple(page.subsampling or (1, 1)) != (1, 1)


def _read_with_pillow(path) -> np.ndarray:
    from PIL import Image as PILImage
    with PILImage.open(path, formats=["TIFF"]) as im:
        im.load()
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def _scale_bits(px: np.ndarray, bits: int) -> np.ndarray:
    """n-bit integers to the full range of their container: 1-7 bits to uint8, 9-15 to uint16
    (v * (2^m - 1) / (2^n - 1), rounded), 32 bits to float32 in [0, 1]."""
    if px.dtype == np.bool_:
        return px.astype(np.uint8) * np.uint8(255)
    if px.dtype.kind == "u" and px.dtype.itemsize == 4:
        return (px.astype(np.float64) / 4294967295.0).astype(np.float32)
    if px.dtype.kind == "i":                 # signed: [-max, max] -> [-1, 1], as OpenImageIO
        top = float(np.iinfo(px.dtype).max)
        return np.maximum(px.astype(np.float64) / top, -1.0).astype(np.float32)
    container = px.dtype.itemsize * 8
    if px.dtype.kind != "u" or bits >= container or bits <= 0:
        return px
    out = np.uint8 if bits < 8 else np.uint16
    top = (1 << (8 if bits < 8 else 16)) - 1
    scaled = (px.astype(np.uint32) * top + ((1 << bits) - 1) // 2) // ((1 << bits) - 1)
    return scaled.astype(out)


def _interpret(path, px, photometric, bits, sampleformat, colormap) -> np.ndarray:
    if photometric == PHOTOMETRIC_PALETTE:
        if colormap is None:
            raise CorruptFileError(path, "palette TIFF without a ColorMap")
        idx = px[:, :, 0].astype(np.intp)
        if idx.size and idx.max() >= colormap.shape[1]:
            raise CorruptFileError(path, "palette index beyond the ColorMap")
        rgb = np.moveaxis(colormap, 0, -1)[idx]          # (h, w, 3) uint16
        if np.all(rgb % 257 == 0):                       # an 8-bit palette stored as v * 257
            return (rgb // 257).astype(np.uint8)
        return rgb.astype(np.uint16)
    if photometric == PHOTOMETRIC_CIELAB and px.dtype == np.uint8 and px.shape[2] >= 3:
        return np.concatenate([_lab_to_rgb(px[:, :, :3]), px[:, :, 3:]], axis=2)
    if px.dtype.kind in "uib":
        px = _scale_bits(px, bits)
    if photometric == PHOTOMETRIC_MINISWHITE and px.dtype.kind == "u":
        top = np.iinfo(px.dtype).max
        px = px.copy()
        px[:, :, :1] = top - px[:, :, :1]                # grey only: alpha keeps its meaning
    elif photometric == PHOTOMETRIC_SEPARATED and px.shape[2] >= 4:
        px = _cmyk_to_rgb(px)
    return px


def _cmyk_to_rgb(px: np.ndarray) -> np.ndarray:
    """Ink to light as OpenImageIO converts it: R = (1 - C)(1 - K) ..., extra samples kept."""
    if px.dtype.kind == "f":
        k = 1.0 - px[:, :, 3:4]
        rgb = (1.0 - px[:, :, :3]) * k
        return np.concatenate([rgb.astype(px.dtype), px[:, :, 4:]], axis=2)
    top = np.iinfo(px.dtype).max
    inv = top - px.astype(np.uint32)
    rgb = (inv[:, :, :3] * inv[:, :, 3:4] + top // 2) // top
    return np.concatenate([rgb.astype(px.dtype), px[:, :, 4:]], axis=2)


#: libtiff's sRGB display (tif_getimage.c ``display_sRGB``): XYZ -> linear RGB matrix, gamma 2.4
_XYZ_TO_RGB = np.array([[3.2410, -1.5374, -0.4986], [-0.9692, 1.8760, 0.0416],
                        [0.0556, -0.2040, 1.0570]])
_D50 = np.array([96.425, 100.0, 82.468])        # libtiff D50_X0, D50_Y0, D50_Z0


def _lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """8-bit CIELab (L 0-255 for 0-100, a and b signed bytes), D50 white, to 8-bit RGB the way
    libtiff's TIFFCIELabToXYZ / TIFFXYZToRGB do (the RGBA path OpenImageIO reads CIELab with)."""
    L = lab[:, :, 0].astype(np.float64) * 100.0 / 255.0
    a = lab[:, :, 1].view(np.int8).astype(np.float64)
    b = lab[:, :, 2].view(np.int8).astype(np.float64)
    x0, y0, z0 = _D50
    low = L < 8.856
    Y = np.where(low, L * y0 / 903.292, y0 * ((L + 16.0) / 116.0) ** 3)
    t = np.where(low, 7.787 * Y / y0 + 16.0 / 116.0, (L + 16.0) / 116.0)

    def f_inv(v):
        return np.where(v < 0.2069, (v - 0.13793) / 7.787, v ** 3)
    X = x0 * f_inv(a / 500.0 + t)
    Z = z0 * f_inv(t - b / 200.0)
    lum = np.einsum("ij,hwj->hwi", _XYZ_TO_RGB, np.stack([X, Y, Z], axis=-1))
    lum = np.clip(lum, 1.0, 100.0)                       # residual light 1, white 100
    step = (100.0 - 1.0) / 1500.0
    i = np.minimum(((lum - 1.0) / step).astype(np.int64), 1500)
    return np.round(255.0 * (i / 1500.0) ** (1.0 / 2.4)).astype(np.uint8)


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
