"""Numba compile cache: the first demo render, and a tiny resolve of every rule, each in two
fresh processes.

Demo render: ``framebuf render scenes/demo.mi`` into a temporary folder, first with an empty
NUMBA_CACHE_DIR (every kernel the render uses is compiled) and then with that cache warm; shown
as wall and CPU seconds of the whole process and the number of kernels compiled. Their
difference is the compile time a user's first render pays.

Resolve kernels:

The first process compiles every kernel it touches into an empty cache folder (NUMBA_CACHE_DIR,
a temporary directory so an existing cache cannot hide the compile); the second loads them from
that cache. Each child reports, in CPU seconds (``time.process_time``) and wall seconds:

    import      ``import numpy`` + ``from framebuf.resolve import ...`` (numba itself included)
    resolve     a tiny resolve of every rule, general and dense batches, + and - flags,
                coverage with both label rules, clip Mitchell; the first call of a jitted function
                in a process also pays Numba's one-time target set-up, which imports
                ``numba.np.arraymath`` and through its BLAS check ``scipy.linalg``
                (shown separately as "numba set-up": a trivial cached function is called first)

and the parent checks with NUMBA_DEBUG_CACHE that the second process saved nothing (every kernel
a cache hit). On a loaded 2-core machine compare CPU seconds; wall seconds include waiting.

    python bench/compile_cache.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

CHILD = r"""
import time
w0, c0 = time.perf_counter(), time.process_time()
import numpy as np
from framebuf.resolve import Filter, Resolver, SampleBatch
from framebuf.resolve.kernels import finish_average_depth
w1, c1 = time.perf_counter(), time.process_time()
finish_average_depth(np.ones((1, 2)), np.empty(1, np.float32))    # Numba's one-time set-up
w2, c2 = time.perf_counter(), time.process_time()
rng = np.random.default_rng(0)
side, spp = 8, 4
n = side * side * spp
pix = np.repeat(np.arange(side * side), spp)
x = (pix % side + rng.uniform(0, 0.99, n)).astype(np.float32)
y = (pix // side + rng.uniform(0, 0.99, n)).astype(np.float32)
values = dict(rgba=rng.random((n, 4), dtype=np.float32), z=rng.random(n, dtype=np.float32),
              n=rng.random((n, 3), dtype=np.float32), m=rng.random((n, 3), dtype=np.float32),
              tag=rng.integers(0, 4, n).astype(np.uint32))
for plus in (True, False):
    ch = {k: {"filtering": plus} for k in ("rgba", "z", "n", "m", "tag")}
    ch["coverage"] = {}
    ch["filtered"] = {"kind": "colour", "source": "rgba", "filter": Filter("clip_mitchell")}
    r = Resolver(side, side, ch)
    r.add(SampleBatch(x=x, y=y, **values))
    r.add(SampleBatch.dense(0, 0, side, side, spp, x=x, y=y, **values))
    r.resolve()
w3, c3 = time.perf_counter(), time.process_time()
print(c1 - c0, w1 - w0, c2 - c1, w2 - w1, c3 - c2, w3 - w2)
"""


def run_once(cache_dir: str):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=ROOT, NUMBA_DEBUG_CACHE="1")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    lines = out.stdout.strip().splitlines()
    figures = [float(v) for v in lines[-1].split()]
    saved = sum(1 for ln in lines if "data saved" in ln)
    loaded = sum(1 for ln in lines if "data loaded" in ln)
    return wall, figures, saved, loaded


def render_once(cache_dir: str, out_dir: str):
    """Wall and CPU (children's user + system) seconds of one demo render, kernels compiled."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=ROOT, NUMBA_DEBUG_CACHE="1")
    before = os.times()
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "framebuf", "render", "scenes/demo.mi", "-o", out_dir],
                         env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu, sum(1 for ln in out.stdout.splitlines() if "data saved" in ln)


def main():
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="framebuf-numba-cache-") as cache, \
            tempfile.TemporaryDirectory(prefix="framebuf-demo-") as out_dir:
        cold = render_once(cache, out_dir)
        warm = render_once(cache, out_dir)
    print("demo render          wall s | CPU s | kernels compiled")
    for label, (wall, cpu, saved) in (("first  (empty cache)", cold), ("second (warm cache) ", warm)):
        print(f"{label}  {wall:6.2f} | {cpu:5.2f} | {saved:3d}")
    print(f"compile time of the first render: {cold[0] - warm[0]:.2f} s wall, {cold[1] - warm[1]:.2f} s CPU")
    print()
    with tempfile.TemporaryDirectory(prefix="framebuf-numba-cache-") as cache:
        first = run_once(cache)
        second = run_once(cache)
    print("process              wall total | import cpu / wall | numba set-up cpu / wall | "
          "resolve cpu / wall | kernels compiled, loaded")
    for label, (wall, f, saved, loaded) in (("first  (empty cache)", first),
                                           ("second (warm cache) ", second)):
        print(f"{label}  {wall:8.2f} s | {f[0]:6.2f} / {f[1]:6.2f} | {f[2]:6.2f} / {f[3]:6.2f}"
              f"            | {f[4]:6.2f} / {f[5]:6.2f} | {saved:3d}, {loaded:3d}")
    print(f"second process: {second[2]} kernels compiled (0 = every kernel a cache hit); "
          f"import + set-up + resolve = {sum(second[1][0:5:2]):.2f} CPU s")


if __name__ == "__main__":
    main()
