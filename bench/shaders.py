"""Benchmark: built-in output shaders against OpenImageIO, scipy and numpy, measured in one run.

    python bench/shaders.py [--size 2048] [--repeat 5]

* gauss / mitchell post-filter (radius 3, separable, border renormalised) on a 2048x2048 RGBA
  float buffer, through ``apply_shader`` (in place, as a scene runs it), against
  ``ImageBufAlgo.convolve`` with ``make_kernel(name, 6, 6)`` (same support; OIIO's default
  threads) and scipy ``ndimage.convolve1d`` along x then y with the same 1-D taps.
* ``over`` (another buffer as background, written in place: the default) against ``ImageBufAlgo.over`` and the numpy
  expression ``fg + (1 - fg[..., 3:4]) * bg``.
* 50 coverage masks at 512x512 to a label image (``masks_to_labels``) against numpy: stack with
  the background plane ``1 - sum``, ``argmax``, look up the values.

Each figure is the best of ``--repeat`` runs after one warm-up (Numba compile, caches). Targets:
filters >= 10x OIIO and >= 2x scipy; over >= 3x numpy; labels >= 10x numpy. All kernels are
single-threaded (see HACKING.md: measure before parallel=True).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from framebuf import FrameBufferSet  # noqa: E402
from framebuf.labels import masks_to_labels  # noqa: E402
from framebuf.shading import apply_shader  # noqa: E402
from framebuf.postfilters import kernel_weights  # noqa: E402


def best_of(fn, repeat: int) -> float:
    fn()  # warm-up: JIT compile / load from cache, first-touch allocations
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--masks", type=int, default=50)
    ap.add_argument("--mask-size", type=int, default=512)
    args = ap.parse_args(argv)

    import OpenImageIO as oiio
    from OpenImageIO import ImageBufAlgo as IBA
    from scipy import ndimage

    rng = np.random.default_rng(0)
    n = args.size
    img = rng.random((n, n, 4), dtype=np.float32)
    img[..., :3] *= img[..., 3:4]  # premultiplied
    bg = rng.random((n, n, 4), dtype=np.float32)
    fbs = FrameBufferSet(n, n)
    fbs.add("beauty", "rgba_fp", data=img)
    fbs.add("plate", "rgba_fp", user=True, data=bg)
    oiio_img = oiio.ImageBuf(img)
    oiio_bg = oiio.ImageBuf(bg)
    rows = []

    def row(what, ours, base_name, base, target):
        ratio = base / ours
        rows.append((what, ours, base_name, base, ratio, target))

    radius = 3.0
    for name, oiio_name in (("gauss", "gaussian"), ("mitchell", "mitchell")):
        w = kernel_weights(name, radius)
        ours = best_of(lambda: apply_shader(name, fbs, {"radius": radius}), args.repeat)
        kern = IBA.make_kernel(oiio_name, 2 * radius, 2 * radius)
        t_oiio = best_of(lambda: IBA.convolve(oiio_img, kern), max(1, args.repeat // 2))
        t_scipy = best_of(lambda: ndimage.convolve1d(ndimage.convolve1d(img, w, axis=1), w, axis=0),
                          max(1, args.repeat // 2))
        row(f"{name} r={radius:g} {n}x{n} RGBA", ours, "OIIO convolve", t_oiio, 10.0)
        row(f"{name} r={radius:g} {n}x{n} RGBA", ours, "scipy convolve1d x,y", t_scipy, 2.0)

    fbs["beauty"].data = img
    # in place (the shader's default dst), as a scene runs it; repeated runs keep the values finite
    ours = best_of(lambda: apply_shader("over", fbs, {"background": "plate"}), args.repeat)
    t_oiio = best_of(lambda: IBA.over(oiio_img, oiio_bg), args.repeat)
    t_np = best_of(lambda: img + (1.0 - img[..., 3:4]) * bg, args.repeat)
    row(f"over {n}x{n} RGBA", ours, "OIIO over", t_oiio, None)
    row(f"over {n}x{n} RGBA", ours, "numpy expression", t_np, 3.0)

    k, m = args.masks, args.mask_size
    raw = rng.random((k, m, m), dtype=np.float32)
    masks = (raw / raw.sum(axis=0, keepdims=True) * rng.random((1, m, m), dtype=np.float32)).astype(np.float32)
    values = np.arange(1, k + 1, dtype=np.uint32)

    def numpy_labels():
        stack = np.concatenate([1.0 - masks.sum(axis=0)[None], masks])
        return np.concatenate([[0], values]).astype(np.uint32)[np.argmax(stack, axis=0)]

    assert np.array_equal(masks_to_labels(masks, values), numpy_labels())
    ours = best_of(lambda: masks_to_labels(masks, values), args.repeat)
    t_np = best_of(numpy_labels, args.repeat)
    row(f"{k} masks -> labels {m}x{m}", ours, "numpy argmax", t_np, 10.0)

    print(f"framebuf shaders benchmark (best of {args.repeat}; OIIO threads: default; "
          f"numba threads: 1, cpus: {os.cpu_count()})")
    head = f"{'operation':<28} {'ours ms':>9}  {'baseline':<22} {'base ms':>9} {'ratio':>7}  target"
    print(head)
    print("-" * len(head))
    ok = True
    for what, ours, bname, base, ratio, target in rows:
        verdict = "" if target is None else (f">= {target:g}x " + ("ok" if ratio >= target else "MISSED"))
        ok &= target is None or ratio >= target
        print(f"{what:<28} {ours * 1e3:9.1f}  {bname:<22} {base * 1e3:9.1f} {ratio:6.1f}x  {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
