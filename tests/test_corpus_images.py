"""Every non-EXR image of the third-party corpus reads as OpenImageIO reads it.

For each file (README.md of the corpus names its source and what it exercises):

* OpenImageIO reads it (unassociated alpha, so PNG/TGA colour is not premultiplied): framebuf
  must give the same size, channels and values normalised to float. Integer samples may differ by
  at most one unit of the file's bit depth (OIIO's ``oiio:BitsPerSample``, else its data type);
  RGBE (Radiance) by half a mantissa step of the pixel's largest component (framebuf decodes
  Radiance's ``(m + 0.5) 2^(e-136)``, OIIO ``m 2^(e-136)``); JPEG by ``JPEG_TOLERANCE``, since
  libjpeg builds differ in their IDCT and upsampling (measured: 0 on this corpus, both use
  libjpeg-turbo).
* A grey + alpha file (OIIO: 2 channels) is an RGBA buffer in framebuf with R = G = B = grey:
  the data-type table has no two-channel colour type.
* A Radiance file whose resolution line is not ``-Y H +X W`` is compared after turning OIIO's
  pixels upright with its ``Orientation`` (OIIO returns file order, framebuf the upright picture).
* OpenImageIO cannot read it: framebuf reads it or raises a FramebufError subclass.
* DAMAGED in the README: a FramebufError, never another exception, never a hang.

``UNSUPPORTED`` lists files framebuf refuses on purpose, with the error and the words its
message has. ``DIFFERENCES`` lists the few files where framebuf follows the format's
specification and OpenImageIO does not; they are compared on the channels both agree on.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import framebuf
from framebuf.errors import FramebufError, UnsupportedFeatureError

CORPUS = Path(__file__).resolve().parents[2] / "shared/corpus/images"

#: files framebuf refuses on purpose: relative path -> (error class, words of its message)
UNSUPPORTED = {
    "oiio-images/libtiffpic/off_luv24.tif": (UnsupportedFeatureError, "SGI LogLuv compression"),
    "oiio-testsuite/testsuite/softimage/src/mixed-bitdepth.pic":
        (UnsupportedFeatureError, "16-bit channel packets"),
}

#: files framebuf reads by the specification where OpenImageIO does not:
#: relative path -> (reason, framebuf channels compared, the OIIO channels they equal, transform)
DIFFERENCES = {
    "oiio-images/bmpsuite/g32def.bmp": (
        "32-bit BI_RGB: the fourth byte is unused (BMP spec, bmpsuite); OIIO makes it alpha 0",
        (0, 1, 2), (0, 1, 2), None),
    "oiio-images/bmpsuite/g32bf.bmp": (
        "BI_BITFIELDS without an alpha mask: no alpha; OIIO makes the unused byte alpha 0",
        (0, 1, 2), (0, 1, 2), None),
    "pillow/Tests/images/bmp/q/rgb32fakealpha.bmp": (
        "32-bit BI_RGB whose unused byte is not 0: still unused (bmpsuite); OIIO makes it alpha",
        (0, 1, 2), (0, 1, 2), None),
    "pillow/Tests/images/bmp/q/rgba16-4444.bmp": (
        "16-bit bit fields with an alpha mask: alpha kept; OIIO drops it",
        (0, 1, 2), (0, 1, 2), None),
    "pillow/Tests/images/bmp/q/rgba32.bmp": (
        "bit-field masks R=0xff000000 A=0x00ff0000 honoured; OIIO assumes BGRA (R and A swapped)",
        (0, 1, 2, 3), (3, 1, 2, 0), None),
    "image-rs/tests/images/bmp/images/rgba32abf.bmp": (
        "BI_ALPHABITFIELDS masks honoured; OIIO assumes BGRA (R and A swapped)",
        (0, 1, 2, 3), (3, 1, 2, 0), None),
    "kimageformats/autotests/read/hdr/orientation5.hdr": (
        "'+X W +Y H' turned upright by Radiance's pix2loc; OIIO's Orientation 6 is 180 degrees off",
        (0, 1, 2), (0, 1, 2), "rot180"),
    "kimageformats/autotests/read/hdr/orientation7.hdr": (
        "'-X W -Y H' turned upright by Radiance's pix2loc; OIIO's Orientation 8 is 180 degrees off",
        (0, 1, 2), (0, 1, 2), "rot180"),
}

JPEG_TOLERANCE = 2 / 255

SKIP_SUFFIXES = {".exr", ".json", ".md"}


def _damaged() -> set[str]:
    """Relative paths the README marks DAMAGED (its table rows: folder heading, then file rows)."""
    readme = CORPUS / "README.md"
    out, folder = set(), None
    for line in readme.read_text(encoding="utf-8").splitlines():
        m = re.match(r"### (\S+)", line)
        if m:
            folder = m.group(1)
            continue
        m = re.match(r"\| `([^`]+)` \|.*\| DAMAGED", line)
        if m and folder:
            out.add(f"{folder}/{m.group(1)}")
    return out


FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix.lower() not in SKIP_SUFFIXES) \
    if CORPUS.is_dir() else []
DAMAGED = _damaged() if CORPUS.is_dir() else set()

pytestmark = pytest.mark.skipif(not FILES, reason=f"image corpus not found at {CORPUS}")


def _rel(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def oiio_pixels(path: Path):
    """(pixels as float32 [h, w, c], spec) from OpenImageIO with unassociated alpha, or
    (None, message) when it cannot read the file."""
    oiio = pytest.importorskip("OpenImageIO")
    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)
    inp = oiio.ImageInput.open(str(path), config)
    if inp is None:
        return None, oiio.geterror()
    try:
        spec = inp.spec()
        px = inp.read_image(0, 0, 0, spec.nchannels, "float")
        if px is None:
            return None, inp.geterror()
        px = np.asarray(px, np.float32).reshape(spec.height, spec.width, spec.nchannels)
    finally:
        inp.close()
    orientation = spec.get_int_attribute("Orientation", 1)
    if path.suffix.lower() == ".hdr" and orientation != 1:
        buf = oiio.ImageBuf(spec)
        buf.set_pixels(oiio.ROI(0, spec.width, 0, spec.height, 0, 1, 0, spec.nchannels), px)
        buf.specmod().attribute("Orientation", orientation)
        buf = oiio.ImageBufAlgo.reorient(buf)
        px = np.asarray(buf.get_pixels(oiio.FLOAT), np.float32)
    return px, spec


def tolerance(path: Path, spec, theirs: np.ndarray):
    """Allowed |framebuf - OIIO| per sample (see the module docstring)."""
    suffix = path.suffix.lower()
    if suffix == ".hdr":
        return theirs.max(axis=2, keepdims=True) / 256 * 1.0001 + 1e-37
    if suffix in (".jpg", ".jpeg"):
        return JPEG_TOLERANCE
    fmt = str(spec.format)
    if fmt in ("float", "half", "double"):
        return 1e-6 * np.maximum(1.0, np.abs(np.nan_to_num(theirs)))
    bits = spec.get_int_attribute("oiio:BitsPerSample", 0) or {
        "uint8": 8, "int8": 8, "uint16": 16, "int16": 16}.get(fmt, 32)
    return max(1.0 / ((1 << min(bits, 16)) - 1), 2.0 ** -23) * 1.0001


def framebuf_pixels(path: Path) -> np.ndarray:
    fbs = framebuf.read(path)
    return np.concatenate([b.data for b in fbs], axis=2)


@pytest.mark.parametrize("path", FILES, ids=[_rel(p) for p in FILES])
def test_reads_like_openimageio(path):
    rel = _rel(path)
    if rel in UNSUPPORTED:
        error, words = UNSUPPORTED[rel]
        with pytest.raises(error, match=re.escape(words)):
            framebuf.read(path)
        return
    if rel in DAMAGED:
        with pytest.raises(FramebufError):
            framebuf.read(path)
        return
    theirs, spec = oiio_pixels(path)
    if theirs is None:
        # OpenImageIO refuses it: framebuf may read it, or refuse it with its own error
        try:
            ours = framebuf_pixels(path)
        except FramebufError:
            return
        assert ours.ndim == 3 and ours.size
        return
    ours = framebuf_pixels(path)
    assert ours.shape[:2] == theirs.shape[:2], f"size {ours.shape[:2]} against OIIO {theirs.shape[:2]}"
    tol = tolerance(path, spec, theirs)
    if rel in DIFFERENCES:
        _reason, mine, their_channels, transform = DIFFERENCES[rel]
        if transform == "rot180":
            theirs = theirs[::-1, ::-1]
        ours, theirs = ours[:, :, list(mine)], theirs[:, :, list(their_channels)]
        if np.ndim(tol) == 3:
            tol = tol[::-1, ::-1] if transform == "rot180" else tol
    elif theirs.shape[2] == 2:
        assert ours.shape[2] == 4, f"grey + alpha read as {ours.shape[2]} channels, not RGBA"
        theirs = theirs[:, :, [0, 0, 0, 1]]
    assert ours.shape[2] == theirs.shape[2], f"{ours.shape[2]} channels against OIIO's {theirs.shape[2]}"
    both_nan = np.isnan(ours) & np.isnan(theirs)
    diff = np.where(both_nan, 0.0, np.abs(ours.astype(np.float64) - theirs))
    bad = ~(diff <= tol)
    assert not bad.any(), (f"{bad.sum()} of {bad.size} samples differ beyond the tolerance; "
                           f"largest {np.nanmax(diff):.6g} at {np.argwhere(bad)[0].tolist()}")


def test_tables_name_corpus_files():
    names = {_rel(p) for p in CORPUS.rglob("*") if p.is_file()}     # the EXR test uses the table too
    assert set(UNSUPPORTED) <= names and set(DIFFERENCES) <= names
    assert not set(UNSUPPORTED) & set(DIFFERENCES)
    assert len(DAMAGED) >= 8                  # the README's DAMAGED rows were found


def test_corpus_has_the_non_exr_files():
    assert len(FILES) == 230
