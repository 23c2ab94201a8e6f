"""Deep images against OpenImageIO, same files, same run: flatten, merge, read and write MB/s,
and framebuf's peak memory while reading against the samples' own bytes.

    PYTHONPATH=. python bench/deep.py

Targets (issue "Deep output"): flatten and merge 3x OpenImageIO; read peak memory at most 1.5x
the samples' bytes. Not part of the test suite. Flatten, merge (with itself, occlusion culled)
and write use part 0; read and its memory every part (OpenImageIO reads each subimage). Each
time is the best of 3 (5 for flatten); OpenImageIO runs with 2 threads, framebuf with one.

One run, 2 Dec 2026, 2 cores shared with other jobs, load average 1.02 (OpenImageIO 3.2)::

    Stereo/Trunks.exr (2 parts, 1920x814, 172743 samples in part 0, 3.86 MB)
      read     framebuf  46.5 MB/s   OIIO  21.4 MB/s   2.17x  (OIIO 35-40 MB/s in other runs)
      write    framebuf  27.2 MB/s   OIIO  19.7 MB/s   1.38x
      flatten  framebuf   8.1 ms     OIIO  36.0 ms     4.46x
      merge    framebuf  64.0 ms     OIIO 237.4 ms     3.71x
      read peak memory 36.1 MB for 32.1 MB of samples: 1.13x (resident growth in a child 1.14x)
    LowResLeftView/Balls.exr (764x406, 162877 samples, 1.61 MB)
      read     framebuf  87.8 MB/s   OIIO 121.3 MB/s   0.72x  (inflating is 60% of it, one thread)
      write    framebuf  44.0 MB/s   OIIO  40.8 MB/s   1.08x
      flatten  framebuf   2.9 ms     OIIO  12.3 ms     4.27x
      merge    framebuf  39.5 ms     OIIO 144.8 ms     3.67x
      read peak memory 7.4 MB for 5.7 MB of samples: 1.30x (resident growth in a child 1.38x)

Before this issue's work (same machine, load 0.5): flatten 1.43x / 0.76x, merge 1.56x / 3.01x,
read peak 49.9 MB on Trunks (1.55x its two parts' samples; the bench then divided by part 0's
alone and printed 3.13x) / 1.78x on Balls.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import OpenImageIO as oiio

from framebuf import deep
from framebuf.formats import _exrdeep

CORPUS = Path(__file__).resolve().parents[2] / "shared/corpus/images"
FILES = ["openexr-images/v2/Stereo/Trunks.exr", "openexr-images/v2/LowResLeftView/Balls.exr"]


def best(fn, n=3):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


CHILD = """
import os, sys, tempfile
from framebuf import deep
from framebuf.formats import _exrdeep

def status(key):
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) * 1024 for l in fh if l.startswith(key + ":"))

with tempfile.TemporaryDirectory() as tmp:            # load the kernels on a tiny file
    tiny = os.path.join(tmp, "tiny.exr")
    _exrdeep.write(tiny, [deep.from_pixels(2, 1, {(0, 0): {"A": [1.0], "Z": [1.0]}})], {})
    _exrdeep.read(tiny)
with open("/proc/self/clear_refs", "w") as fh:        # restart the peak (compiling and
    fh.write("5")                                     # importing may have set it higher)
base = status("VmRSS")
got = _exrdeep.read(sys.argv[1])
print(status("VmHWM") - base)
"""


def child_peak(path) -> int:
    """Growth of a fresh process's peak resident memory (Linux VmHWM, reset just before) while
    it reads ``path``, after a tiny file loaded the kernels: the system's view of the peak,
    next to tracemalloc's count of allocations."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                         text=True, env=env, check=True)
    return int(out.stdout.split()[-1])


def main():
    oiio.attribute("threads", os.cpu_count() or 1)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for rel in FILES:
        path = CORPUS / rel
        if not path.exists():
            print(f"{rel}: not found", file=sys.stderr)
            continue
        size = path.stat().st_size
        parts = _exrdeep.read(path)
        img = parts[0]
        deep.flatten(img)
        deep.merge([img, img])                     # compile outside the timings
        buf = oiio.ImageBuf(str(path))
        buf.read(force=True)
        nsub = buf.nsubimages

        def theirs_read_all():
            # every part, as ours reads them (ImageBuf(path) alone reads only the first)
            for s in range(nsub):
                oiio.ImageBuf(str(path), s, 0).read(force=True)

        ours_read = best(lambda: _exrdeep.read(path))
        theirs_read = best(theirs_read_all)
        ours_flat = best(lambda: deep.flatten(img), 5)
        theirs_flat = best(lambda: oiio.ImageBufAlgo.flatten(buf), 5)
        ours_merge = best(lambda: deep.merge([img, img], occlusion_cull=True))
        theirs_merge = best(lambda: oiio.ImageBufAlgo.deep_merge(buf, buf, True))
        with tempfile.TemporaryDirectory() as tmp:
            a, b = Path(tmp) / "a.exr", Path(tmp) / "b.exr"
            ours_write = best(lambda: _exrdeep.write(a, [img], {"compression": "zips"}))
            theirs_write = best(lambda: buf.write(str(b)))
            out_mb, their_mb = a.stat().st_size / 1e6, b.stat().st_size / 1e6
        del parts
        tracemalloc.start()
        got = _exrdeep.read(path)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        own = sum(im.nbytes for im in got)
        mb = size / 1e6
        print(f"{rel}: {len(got)} part(s), part 0 {img.width}x{img.height}, {img.samples} samples, "
              f"file {mb:.2f} MB")
        print(f"  read     framebuf {mb / ours_read:7.1f} MB/s   OIIO {mb / theirs_read:7.1f} MB/s"
              f"   ratio {theirs_read / ours_read:5.2f}x (every part)")
        print(f"  write    framebuf {out_mb / ours_write:7.1f} MB/s   OIIO "
              f"{their_mb / theirs_write:7.1f} MB/s   ratio {theirs_write / ours_write:5.2f}x "
              f"(part 0: {out_mb:.2f} / {their_mb:.2f} MB)")
        print(f"  flatten  framebuf {ours_flat * 1e3:7.1f} ms     OIIO {theirs_flat * 1e3:7.1f} ms"
              f"     ratio {theirs_flat / ours_flat:5.2f}x (target 3x)")
        print(f"  merge    framebuf {ours_merge * 1e3:7.1f} ms     OIIO "
              f"{theirs_merge * 1e3:7.1f} ms     ratio {theirs_merge / ours_merge:5.2f}x "
              f"(target 3x)")
        rss = child_peak(path)
        print(f"  read peak memory {peak / 1e6:.1f} MB for {own / 1e6:.1f} MB of samples (every "
              f"part): {peak / own:.2f}x (target 1.5x); resident-memory growth in a child "
              f"{rss / 1e6:.1f} MB, {rss / own:.2f}x")
        del got


if __name__ == "__main__":
    main()
