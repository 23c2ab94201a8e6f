"""Legacy-format encoders (SGI, IFF, RLA, PIC, HDR) against OpenImageIO writing the same pixels.

Usage: ``python bench/legacy_encoders.py [size]`` (default 2048). Each figure is the best of
several runs of a whole file write (header, encoding, file output) from pixels already in the
file's sample type; OpenImageIO gets the same array through ``ImageOutput.write_image``. The
ratio is OIIO time / our time, so >= 1.0 means we are at least as fast. OpenImageIO has no
Softimage PIC writer; PIC is compared with its run-length Targa writer as the nearest job.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import OpenImageIO as oiio  # noqa: E402

from framebuf import convert  # noqa: E402
from framebuf.datatypes import datatype  # noqa: E402
from framebuf.formats import hdr, iff, pic, rla, sgi  # noqa: E402
from framebuf.formats.base import Image, Layer  # noqa: E402


def render_like(size: int) -> np.ndarray:
    """Float RGBA: flat background, a gradient band, a noisy band and shaded spheres."""
    rng = np.random.default_rng(7)
    h = w = size
    img = np.zeros((h, w, 4), np.float32)
    img[..., :3] = (0.18, 0.2, 0.25)                     # flat background, alpha 0
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    band = slice(h // 8, h // 4)
    img[band, :, 0] = x[band] / w
    img[band, :, 1] = 1.0 - x[band] / w
    img[band, :, 3] = 1.0
    noise = slice(h - h // 8, h)
    img[noise, :, :3] = rng.random((h // 8, w, 3), dtype=np.float32)
    img[noise, :, 3] = 1.0
    for cx, cy, r, col in ((0.3, 0.5, 0.18, (0.9, 0.3, 0.2)), (0.7, 0.55, 0.22, (0.2, 0.5, 0.9)),
                           (0.5, 0.35, 0.08, (0.9, 0.9, 0.3))):
        dx, dy = (x - cx * w) / (r * w), (y - cy * h) / (r * h)
        d2 = dx * dx + dy * dy
        inside = d2 < 1.0
        nz = np.sqrt(np.clip(1.0 - d2, 0.0, 1.0))
        shade = np.clip(0.6 * nz - 0.3 * dx - 0.4 * dy, 0.05, 1.0)
        for c in range(3):
            img[..., c] = np.where(inside, col[c] * shade, img[..., c])
        img[..., 3] = np.where(inside, 1.0, img[..., 3])
    return img


def best(fn, runs: int = 5) -> tuple[float, float]:
    """(best wall time, best CPU time of this process) over ``runs`` calls, after a warm-up."""
    fn()  # warm-up (compilation, page cache)
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - t)
    return min(wall), min(cpu)


def best_pair(a, b, runs: int = 7):
    """Like best() for two functions, alternating them so that load from other processes on
    this shared machine hits both alike."""
    a(), b()
    res = {0: ([], []), 1: ([], [])}
    for _ in range(runs):
        for i, fn in ((0, a), (1, b)):
            t, c = time.perf_counter(), time.process_time()
            fn()
            res[i][1].append(time.process_time() - c)
            res[i][0].append(time.perf_counter() - t)
    return [(min(res[i][0]), min(res[i][1])) for i in (0, 1)]


def oiio_writer(path, pixels, fmt_name, typedesc, **attrs):
    h, w, c = pixels.shape

    def run():
        spec = oiio.ImageSpec(w, h, c, typedesc)
        for k, v in attrs.items():
            spec.attribute(k, v)
        out = oiio.ImageOutput.create(fmt_name)
        if out is None or not out.open(path, spec):
            raise RuntimeError(f"OIIO cannot write {fmt_name}: {oiio.geterror()}")
        if not out.write_image(pixels):
            raise RuntimeError(out.geterror())
        out.close()
    return run


def our_writer(spec_writer, path, layers, **options):
    image = Image(layers)
    return lambda: spec_writer(path, image, options)


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
    img = render_like(size)
    u8 = convert.to_file(img, "rgba_fp", "rgba")
    u16 = convert.to_file(img, "rgba_fp", "rgba_16")
    rgb_f = np.ascontiguousarray(img[..., :3] * 3.0)
    rgbe = convert.rgbe_encode(rgb_f)
    depth = np.ascontiguousarray((1.0 + np.arange(size * size, dtype=np.float32) % 997).reshape(size, size, 1))
    L = lambda name, px: Layer("", datatype(name), np.ascontiguousarray(px), datatype(name).channels)  # noqa: E731

    d = tempfile.mkdtemp()
    p = lambda ext: os.path.join(d, "bench." + ext)  # noqa: E731
    cases = [
        ("sgi rgba 8 rle", our_writer(sgi._write, p("rgb"), [L("rgba", u8)], compression="rle"),
         oiio_writer(p("o.rgb"), u8, "sgi", "uint8", compression="rle")),
        ("sgi rgba 16 rle", our_writer(sgi._write, p("rgb"), [L("rgba_16", u16)], compression="rle"),
         oiio_writer(p("o.rgb"), u16, "sgi", "uint16", compression="rle")),
        ("sgi rgba 8 verbatim", our_writer(sgi._write, p("rgb"), [L("rgba", u8)], compression="none"),
         oiio_writer(p("o.rgb"), u8, "sgi", "uint8")),
        ("iff rgba 8 rle", our_writer(iff._write, p("iff"), [L("rgba", u8)], compression="rle"),
         oiio_writer(p("o.iff"), u8, "iff", "uint8", compression="rle")),
        ("iff rgba 16 rle", our_writer(iff._write, p("iff"), [L("rgba_16", u16)], compression="rle"),
         oiio_writer(p("o.iff"), u16, "iff", "uint16", compression="rle")),
        ("iff rgba 8 rle + z", our_writer(iff._write, p("iff"), [L("rgba", u8), L("z", depth)]),
         None),
        ("rla rgba 8", our_writer(rla._write, p("rla"), [L("rgba", u8)]),
         oiio_writer(p("o.rla"), u8, "rla", "uint8")),
        ("pic rgba 8 (vs OIIO tga rle)", our_writer(pic._write, p("pic"), [L("rgba", u8)]),
         oiio_writer(p("o.tga"), u8, "targa", "uint8", compression="rle")),
        ("hdr rle (rgbe given)", our_writer(hdr._write, p("hdr"), [L("rgbe", rgbe)], compression="rle"),
         oiio_writer(p("o.hdr"), rgb_f, "hdr", "float")),
    ]
    print(f"{size}x{size} render-like image, best of 7 alternating runs, ms; ratio = OIIO / ours")
    print("(CPU = process time, steadier than wall time on a shared machine)")
    print(f"{'case':32s} {'ours':>7s} {'OIIO':>7s} {'ratio':>6s}   {'CPU ours':>8s} {'OIIO':>7s} {'ratio':>6s}")
    for name, ours, theirs in cases:
        if theirs is None:
            w, c = best(ours)
            print(f"{name:32s} {w * 1e3:7.1f} {'-':>7s} {'-':>6s}   {c * 1e3:8.1f}")
            continue
        (w1, c1), (w2, c2) = best_pair(ours, theirs)
        print(f"{name:32s} {w1 * 1e3:7.1f} {w2 * 1e3:7.1f} {w2 / w1:6.2f}   "
              f"{c1 * 1e3:8.1f} {c2 * 1e3:7.1f} {c2 / c1:6.2f}")
    # the RGBE conversion is the dispatcher's job, but OIIO's hdr time includes its own
    w, c = best(lambda: convert.rgbe_encode(rgb_f))
    print(f"{'  (rgbe_encode of the floats)':32s} {w * 1e3:7.1f} {'':7s} {'':6s}   {c * 1e3:8.1f}")
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    os.rmdir(d)


if __name__ == "__main__":
    main()
