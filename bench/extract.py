"""Benchmark: framebuf extract against a straightforward script, in the same run.

Renders: 512x512, 61 half channels (R G B A, Z, CameraNormals.RGB, CameraPoints.RGB, 50
anti-aliased overlapping segmentation masks), ZIP compressed, as the seed's V-Ray EXRs.

Baseline (what one would write first): ``OpenEXR.File(path, separate_channels=True)`` reading
every channel, ``np.argmax`` over the stacked masks with a ``1 - sum`` background plane, sRGB in
numpy, Pillow for the PNGs and tifffile (same compressions as ours) for the TIFFs.

Both produce the same assets (rgb, alpha, depth, normals, segments, info.json); the labels are
checked equal. Printed: frames per second single process and with worker processes, and the
ratio ours / baseline of each mode.

    python bench/extract.py [--renders 8] [--workers 2] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import OpenEXR  # noqa: E402
import tifffile  # noqa: E402
from PIL import Image  # noqa: E402

from framebuf.post.extract import ExtractOptions, extract_many, extract_one  # noqa: E402
from post_fixtures import write_many_channels  # noqa: E402


def straightforward(path: str, outdir: str) -> None:
    """The baseline script: read everything, numpy argmax, Pillow + tifffile."""
    f = OpenEXR.File(path, separate_channels=True)
    ch = f.channels()
    header = f.header()
    stem = Path(outdir) / Path(path).stem
    names = sorted(k[len("segmentation."):] for k in ch if k.startswith("segmentation."))
    masks = np.stack([ch[f"segmentation.{n}"].pixels.astype(np.float32) for n in names])
    background = 1.0 - masks.sum(axis=0)
    labels = np.argmax(np.concatenate([background[None], masks]), axis=0).astype(np.uint16)
    rgb = np.stack([ch[c].pixels.astype(np.float32) for c in "RGB"], -1)
    rgb = np.clip(rgb, 0, 1)
    rgb = np.where(rgb <= 0.0031308, rgb * 12.92, 1.055 * rgb ** (1 / 2.4) - 0.055)
    Image.fromarray((rgb * 255 + 0.5).astype(np.uint8)).save(f"{stem}.rgb.png")
    alpha = (np.clip(ch["A"].pixels.astype(np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)
    tifffile.imwrite(f"{stem}.alpha.tif", alpha, compression="lzw", predictor=2)
    z = ch["Z"].pixels.copy()
    z[~np.isfinite(z)] = 0
    tifffile.imwrite(f"{stem}.depth.tif", z, compression="zlib", predictor=3)
    n = np.stack([ch[f"CameraNormals.{c}"].pixels for c in "RGB"], -1)
    n[~np.any(n != 0, axis=-1)] = (0, 0, 1)
    tifffile.imwrite(f"{stem}.normals.tif", n, compression="zlib", predictor=3, photometric="rgb")
    Image.fromarray(labels).save(f"{stem}.segments.png")
    mapping = {"background": 0, **{n: i + 1 for i, n in enumerate(names)}}
    Path(f"{stem}.info.json").write_text(json.dumps({
        "segments_mapping": mapping,
        "render": {"zmin": header.get("zmin"), "zmax": header.get("zmax")}}))


def _baseline_job(args):
    straightforward(*args)


def run_baseline(paths, outdir, workers):
    if workers == 1:
        for p in paths:
            straightforward(str(p), outdir)
    else:
        with get_context("fork").Pool(workers) as pool:
            pool.map(_baseline_job, [(str(p), outdir) for p in paths])


def run_ours(paths, outdir, workers, opts):
    if workers == 1:
        for p in paths:
            r = extract_one(p, outdir, opts)
            assert r.ok, r.error
    else:
        results = extract_many(paths, outdir, opts, workers=workers, progress=False)
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]


def best_fps(fn, n, repeat):
    best = 0.0
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = max(best, n / (time.perf_counter() - t))
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--renders", type=int, default=8)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--repeat", type=int, default=2, help="best of N runs per row")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_extract_") as tmp:
        tmp = Path(tmp)
        src, base_out, our_out = tmp / "src", tmp / "baseline", tmp / "ours"
        for d in (src, base_out, our_out):
            d.mkdir()
        paths = []
        for i in range(args.renders):
            write_many_channels(src / f"{i}.exr", args.size, args.size, n_masks=50, seed=i)
            paths.append(src / f"{i}.exr")
        nch = len(OpenEXR.File(str(paths[0]), header_only=True).header()["channels"])
        opts = ExtractOptions()
        # warm both (imports, Numba cache, lookup tables) and check they agree
        straightforward(str(paths[0]), str(base_out))
        run_ours(paths[:1], our_out, 1, opts)
        a = np.asarray(Image.open(base_out / "0.segments.png"))
        b = np.asarray(Image.open(our_out / "0.segments.png"))
        assert np.array_equal(a, b), "labels differ between baseline and framebuf"
        rows = []
        for workers in (1, args.workers):
            fb = best_fps(lambda: run_baseline(paths, str(base_out), workers), len(paths), args.repeat)
            fo = best_fps(lambda: run_ours(paths, our_out, workers, opts), len(paths), args.repeat)
            rows.append((workers, fb, fo))
        print(f"framebuf extract vs straightforward script: {args.renders} renders "
              f"{args.size}x{args.size}, {nch} half channels (50 masks), ZIP; best of {args.repeat}")
        print(f"{'mode':<22}{'baseline fps':>14}{'framebuf fps':>14}{'ratio':>8}")
        for workers, fb, fo in rows:
            mode = "single process" if workers == 1 else f"{workers} worker processes"
            print(f"{mode:<22}{fb:>14.2f}{fo:>14.2f}{fo / fb:>7.2f}x")


if __name__ == "__main__":
    main()
