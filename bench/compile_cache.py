"""Numba compile cache of the resolve kernels: a tiny resolve in two fresh Python processes.

The first process compiles every kernel it touches into an empty cache folder (NUMBA_CACHE_DIR,
a temporary directory so an existing cache cannot hide the compile); the second loads them from
that cache. Printed: wall time of import + one tiny resolve of every rule, per process.

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
t0 = time.perf_counter()
import numpy as np
from framebuf.resolve import Filter, Resolver, SampleBatch
rng = np.random.default_rng(0)
n = 200
batch = SampleBatch(x=rng.uniform(0, 8, n).astype(np.float32), y=rng.uniform(0, 8, n).astype(np.float32),
                    rgba=rng.random((n, 4), dtype=np.float32), z=rng.random(n, dtype=np.float32),
                    n=rng.random((n, 3), dtype=np.float32), m=rng.random((n, 3), dtype=np.float32),
                    tag=rng.integers(0, 4, n).astype(np.uint32))
for plus in (True, False):
    ch = {k: {"filtering": plus} for k in ("rgba", "z", "n", "m", "tag")}
    ch["coverage"] = {}
    ch["filtered"] = {"kind": "colour", "source": "rgba", "filter": Filter("clip_mitchell")}
    r = Resolver(8, 8, ch)
    r.add(batch)
    r.resolve()
print(time.perf_counter() - t0)
"""


def run_once(cache_dir: str) -> tuple[float, float]:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=ROOT)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return time.perf_counter() - t0, float(out.stdout.strip().splitlines()[-1])


def main():
    with tempfile.TemporaryDirectory(prefix="framebuf-numba-cache-") as cache:
        first = run_once(cache)
        second = run_once(cache)
    print("process                      wall (s)   import + tiny resolve (s)")
    print(f"first  (compiles)            {first[0]:8.2f}   {first[1]:8.2f}")
    print(f"second (cache hit)           {second[0]:8.2f}   {second[1]:8.2f}")
    print(f"speed-up of the in-process part: x{first[1] / second[1]:.1f}")


if __name__ == "__main__":
    main()
