"""Writer throughput: framebuf.write against OpenImageIO writing the same pixels, same run.

    python bench/writers.py [--size 2048] [--formats png,exr,...] [--repeat 3]

Both sides start from the same float32 RGBA render-like image (flat background, smooth gradient,
noise, shaded spheres) and convert it to the file's sample type themselves (OIIO in C++, framebuf
through framebuf.convert), so the figures are end to end: conversion + encoding + file output.
Every registered writable format is written with its default data type and compression; EXR is
also written once per compression. OIIO gets the same data type and compression where it has
them; a format OIIO cannot write shows "-" in the ratio column. Threads are on for both (OIIO's
default pool; framebuf's EXR and TIFF writers size theirs to the core count). MB/s counts the
uncompressed file samples (width x height x components x bytes per sample); the figure is the best
of --repeat runs. Ratio = framebuf MB/s / OIIO MB/s (above 1.0: framebuf is faster).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import framebuf  # noqa: E402
from framebuf.convert import compatible  # noqa: E402
from framebuf.datatypes import datatype  # noqa: E402
from framebuf.plugins import registry  # noqa: E402

try:
    import OpenImageIO as oiio
except ImportError:  # pragma: no cover
    oiio = None

#: framebuf format -> (OIIO file extension, {our compression: OIIO compression attribute})
OIIO_EQUIVALENT = {
    "exr": ("exr", {c: c for c in ("none", "rle", "zip", "zips", "piz", "pxr24", "b44", "b44a", "dwaa", "dwab")}),
    "png": ("png", {"deflate": "zip"}),
    "jpg": ("jpg", {}),
    "tif": ("tif", {"packbits": "packbits", "deflate": "zip", "lzw": "lzw"}),
    "tifu": ("tif", {None: "none"}),
    "bmp": ("bmp", {}),
    "ppm": ("ppm", {}),
    "tga": ("tga", {"rle": "rle", "none": "none"}),
    "rgb": ("sgi", {"rle": "rle"}),
    "iff": ("iff", {"rle": "rle"}),
    "rla": ("rla", {"rle": "rle"}),
    "hdr": ("hdr", {}),
}

OIIO_TYPES = {"u8": "uint8", "u16": "uint16", "f16": "half", "f32": "float", "rgbe": "float"}


def render_like(size: int, seed: int = 7) -> np.ndarray:
    """A float32 RGBA frame: flat background, a smooth sky gradient, film noise, shaded spheres."""
    rng = np.random.default_rng(seed)
    h = w = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 4), np.float32)
    img[..., 0] = 0.18
    img[..., 1] = 0.2
    img[..., 2] = 0.22
    img[..., 3] = 1.0
    sky = y < h * 0.45
    t = (y / (h * 0.45))[sky]
    img[sky, 0] = 0.3 + 0.4 * t
    img[sky, 1] = 0.45 + 0.35 * t
    img[sky, 2] = 0.8 + 0.15 * t
    light = np.array([-0.5, -0.6, 0.62], np.float32)
    light /= np.linalg.norm(light)
    for cx, cy, r, col in ((0.3, 0.6, 0.18, (0.9, 0.3, 0.2)), (0.68, 0.55, 0.22, (0.2, 0.6, 0.9)),
                           (0.5, 0.8, 0.1, (2.5, 2.2, 1.5))):
        dx, dy = (x - cx * w) / (r * w), (y - cy * h) / (r * h)
        d2 = dx * dx + dy * dy
        inside = d2 < 1.0
        nz = np.sqrt(np.clip(1.0 - d2, 0.0, 1.0))
        shade = np.clip(dx * light[0] + dy * light[1] + nz * light[2], 0.0, None) * 0.9 + 0.1
        for c in range(3):
            img[..., c][inside] = (col[c] * shade)[inside]
        img[..., 3][inside] = 1.0
    img[..., :3] += rng.normal(0.0, 0.01, (h, w, 3)).astype(np.float32)   # render noise
    return img


def file_bytes(size: int, dt) -> int:
    return size * size * dt.components * dt.file_dtype.itemsize


def best_pair(ours, theirs, repeat: int) -> tuple[float, float | None]:
    """Best time of each side, the two runs alternating so both see the same machine load (the
    figures are for a shared 2-core machine, where load changes from second to second)."""
    t_ours, t_theirs = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        ours()
        t_ours.append(time.perf_counter() - t0)
        if theirs is not None:
            t0 = time.perf_counter()
            theirs()
            t_theirs.append(time.perf_counter() - t0)
    return min(t_ours), (min(t_theirs) if t_theirs else None)


def oiio_writer(img: np.ndarray, path: str, dt, compression, quality):
    """A closure writing img with OIIO as data type dt (same conversion work as ours)."""
    channels = 4 if dt.components == 4 and dt.name != "rgbe" else (3 if dt.components >= 3 else 1)
    pixels = np.ascontiguousarray(img[..., :channels] if channels > 1 else img[..., 3:4])
    spec = oiio.ImageSpec(img.shape[1], img.shape[0], channels, OIIO_TYPES[dt.sample])
    if channels == 4:
        spec.alpha_channel = 3
    if compression:
        spec.attribute("compression", compression)
    if quality:
        spec.attribute("Compression", f"jpeg:{quality}")
    spec.attribute("oiio:UnassociatedAlpha", 1)

    def run():
        out = oiio.ImageOutput.create(path)
        if out is None or not out.open(path, spec):
            raise RuntimeError(f"OIIO cannot write {path}: {oiio.geterror()}")
        ok = out.write_image(pixels)
        out.close()
        if not ok:
            raise RuntimeError(f"OIIO write failed: {oiio.geterror()}")
    return run


def cases(formats: list[str] | None):
    table = registry().formats
    for name in sorted(table, key=str.lower):
        spec = table[name]
        if not spec.can_write or spec.fixed_size or (formats and name not in formats):
            continue
        if not compatible(datatype("rgba_fp"), datatype(spec.default_datatype)):
            continue    # depth/vector/label formats: not a colour writer
        comps = [spec.default_compression]
        if name == "exr":
            comps = list(spec.compressions)
        for comp in comps:
            yield spec, spec.default_datatype, comp


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=2048, help="image edge in pixels (default 2048)")
    ap.add_argument("--formats", default="", help="comma-separated format keywords (default: all)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best counts")
    args = ap.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()] or None
    if oiio is not None:
        oiio.attribute("threads", os.cpu_count() or 1)
    img = render_like(args.size)
    fbs = framebuf.FrameBufferSet(args.size, args.size)
    buf = fbs.add("beauty", "rgba_fp", user=True, data=img)
    rows = []
    with tempfile.TemporaryDirectory(prefix="fb-bench-") as tmp:
        # warm-up: Numba kernels, plugin registry, OIIO plugins
        framebuf.write(buf, os.path.join(tmp, "warm.png"), datatype="rgba")
        for spec, dtname, comp in cases(formats):
            dt = datatype(dtname)
            ext = spec.extensions[0] if spec.extensions else spec.name
            ours = os.path.join(tmp, f"ours.{ext}")
            kw = {"compression": comp} if comp else {}
            mb = file_bytes(args.size, dt) / 1e6
            label = spec.name + (f" {comp}" if comp and spec.name == "exr" else "")
            run_oiio = None
            equiv = OIIO_EQUIVALENT.get(spec.name)
            if oiio is not None and equiv and (comp in equiv[1] or not equiv[1] or comp is None):
                oext, comp_map = equiv
                theirs = os.path.join(tmp, f"oiio.{oext}")
                run_oiio = oiio_writer(img, theirs, dt, comp_map.get(comp), 75 if spec.name == "jpg" else None)
                try:
                    run_oiio()                  # OIIO may not write this variant at all
                except RuntimeError as exc:
                    print(f"  ({label}: {exc})", file=sys.stderr)
                    run_oiio = None
            t_ours, t_oiio = best_pair(
                lambda: framebuf.write(buf, ours, filetype=spec.name, datatype=dt, **kw),
                run_oiio, args.repeat)
            rows.append((label, dt.name, mb / t_ours, None if t_oiio is None else mb / t_oiio,
                         os.path.getsize(ours) if os.path.exists(ours) else 0))
    print(f"writers, {args.size}x{args.size} render-like image, {os.cpu_count()} cores, best of {args.repeat}")
    print(f"{'format':<12} {'type':<8} {'framebuf MB/s':>14} {'OIIO MB/s':>10} {'ratio':>7} {'file KB':>9}")
    for label, dtname, ours, theirs, size in rows:
        ratio = "-" if theirs is None else f"{ours / theirs:.2f}x"
        theirs_s = "-" if theirs is None else f"{theirs:.0f}"
        print(f"{label:<12} {dtname:<8} {ours:>14.0f} {theirs_s:>10} {ratio:>7} {size / 1024:>9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
