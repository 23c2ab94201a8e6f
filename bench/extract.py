"""Benchmark: ``framebuf extract`` against a straightforward script, whole processes, same run.

Renders (render-like): 512x512, 61 half channels -- a smooth beauty (R G B A), depth Z,
CameraNormals.RGB, CameraPoints.RGB and 50 masks ``segmentation.<part>`` that partition the frame
with soft one-to-two-pixel anti-aliased borders (mostly exactly 0 or 1;
``tests/post_fixtures.render_like_masks``), ZIP compressed, as a segmentation renderer writes.

Baseline (what one would write first, see ``straightforward``): ``OpenEXR.File(path,
separate_channels=True)`` decoding every channel, ``np.argmax`` over the stacked masks with a
``1 - sum`` background plane, sRGB in numpy, Pillow for the PNGs and tifffile (same compressions
as ours) for the TIFFs. It runs as its own process (``--baseline OUTDIR FILES``), importing
nothing of framebuf.

Ours: the ``framebuf extract FILES -o OUTDIR -q`` command, single process (``-j 1``) and with
its default worker processes. Every row is a whole process, start-up included; the framebuf
sources are byte-compiled first (as an installed package is). The labels of both are checked
equal. Printed: seconds for all renders, best of ``--repeat``, and the ratio baseline / ours.

    python bench/extract.py [--renders 24] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def straightforward(path: str, outdir: str) -> None:
    """The baseline script: read everything, numpy argmax, Pillow + tifffile."""
    import OpenEXR
    import tifffile
    from PIL import Image

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


def baseline_main(outdir: str, paths: list[str]) -> None:
    for p in paths:
        straightforward(p, outdir)


def timed(cmd, env, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t)
    return best


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--baseline":
        return baseline_main(sys.argv[2], sys.argv[3:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--renders", type=int, default=24)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs per row")
    args = ap.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    import OpenEXR
    from PIL import Image

    from post_fixtures import write_render_like

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "framebuf")], check=True,
                   stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory(prefix="bench_extract_") as tmp:
        tmp = Path(tmp)
        src, base_out, our_out = tmp / "src", tmp / "baseline", tmp / "ours"
        for d in (src, base_out, our_out):
            d.mkdir()
        paths = []
        for i in range(args.renders):
            write_render_like(src / f"{i}.exr", args.size, args.size, n_masks=50, seed=i)
            paths.append(str(src / f"{i}.exr"))
        nch = len(OpenEXR.File(paths[0], header_only=True).header()["channels"])
        base_cmd = [sys.executable, __file__, "--baseline", str(base_out), *paths]
        # --force: the output folder's job journal would otherwise skip every render done by the
        # warm-up run (the time of such a rerun is printed apart, below)
        ours = [sys.executable, "-m", "framebuf", "extract", *paths, "-o", str(our_out), "-q", "--force"]
        # warm once (OS file cache, Numba cache of anything compiled) and check they agree
        subprocess.run(base_cmd, check=True, env=env)
        subprocess.run(ours + ["-j", "1"], check=True, env=env, stdout=subprocess.DEVNULL)
        for p in paths:
            stem = Path(p).stem
            a = np.asarray(Image.open(base_out / f"{stem}.segments.png"))
            b = np.asarray(Image.open(our_out / f"{stem}.segments.png"))
            assert np.array_equal(a, b), f"labels differ between baseline and framebuf ({stem})"
        rows = []
        for label, extra in (("single process (-j 1)", ["-j", "1"]),
                             (f"default ({os.cpu_count()} workers)", [])):
            tb = timed(base_cmd, env, args.repeat)
            to = timed(ours + extra, env, args.repeat)
            rows.append((label, tb, to))
        resumed = timed(ours[:-1], env, args.repeat)
        print(f"framebuf extract vs straightforward script, whole processes: {args.renders} renders "
              f"{args.size}x{args.size}, {nch} half channels (50 partition masks), ZIP; "
              f"best of {args.repeat}")
        print(f"{'framebuf mode':<24}{'baseline s':>12}{'framebuf s':>12}{'ratio':>8}")
        for label, tb, to in rows:
            print(f"{label:<24}{tb:>12.2f}{to:>12.2f}{tb / to:>7.2f}x")
        print(f"a rerun that finds every render done (the job journal, no --force): {resumed:.2f} s")


if __name__ == "__main__":
    main()
