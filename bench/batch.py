"""Benchmark: the batch layer's executors, and what 10^6 renders on 100 machines would take.

1. ``framebuf extract`` as whole processes over the same render-like EXRs (512x512, 61 half
   channels, ``tests/post_fixtures.write_render_like``): inline (``-j 1``), the local pool with 2
   workers, a local Dask cluster with 1 and 2 workers (cluster start-up included, and printed on
   its own). Renders/s of each; the outputs are checked byte-identical.
2. Per-task overhead: 400 tasks that do nothing but return 1 KB, through ``framebuf.batch.run``
   with the local pool and with Dask (2 workers each), journal and folder writes included.
3. From those figures: an estimate of 10^6 renders on 100 machines, naming the limit (per-core
   compute, the scheduler's task rate, the client's ingest of every output byte).

    python bench/batch.py [--renders 24] [--tasks 400]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        if not p.name.startswith("."):
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def timed_cli(args, env) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "framebuf", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def tiny_task(path, params):
    from framebuf.batch import TaskOutput

    return TaskOutput(path, ok=True, files=[(Path(path).name + ".out", b"x" * 1024)])


def overhead(n_tasks: int, dask: bool, tmp: Path) -> float:
    """Seconds per task of dispatch + result transfer + journal + write, 2 workers."""
    from framebuf.batch import Job, run_job

    src = tmp / f"tiny-src-{dask}"
    src.mkdir()
    for i in range(n_tasks):
        (src / f"{i:05d}.exr").write_bytes(b"")
    job = Job("bench", tiny_task, None, {}, lambda p: Path(p).stem)
    # warm the executor once (Dask: cluster start-up is not per-task overhead)
    if dask:
        from framebuf.batch import executors, runner
        from framebuf.batch.journal import Journal
        from framebuf.batch.sinks import FolderSink

        ex = executors.DaskExecutor(2)
        out = tmp / "tiny-dask"
        out.mkdir()
        j = Journal(out, "bench")
        t = time.perf_counter()
        runner.run(job, (str(p) for p in sorted(src.iterdir())), FolderSink(out), j, ex, "k")
        dt = time.perf_counter() - t
        j.close()
        return dt / n_tasks
    t = time.perf_counter()
    run_job(job, [str(src)], output=str(tmp / "tiny-local"), workers=2, progress=False,
            say=lambda line: None)
    return (time.perf_counter() - t) / n_tasks


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--renders", type=int, default=24)
    ap.add_argument("--tasks", type=int, default=400)
    args = ap.parse_args()
    from post_fixtures import write_render_like

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "framebuf")], check=True,
                   stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmp:
        tmp = Path(tmp)
        src = tmp / "src"
        src.mkdir()
        for i in range(args.renders):
            write_render_like(src / f"{i}.exr", 512, 512, n_masks=50, seed=i)
        in_bytes = sum(p.stat().st_size for p in src.iterdir())
        timed_cli(["extract", str(src), "-o", str(tmp / "warm"), "-q", "-j", "1"], env)
        out_bytes = sum(p.stat().st_size for p in (tmp / "warm").iterdir() if not p.name.startswith("."))
        reference = tree_digest(tmp / "warm")
        rows = []
        for label, extra in (("inline (-j 1)", ["-j", "1"]), ("local pool, 2 workers", ["-j", "2"]),
                             ("dask, 1 worker", ["--dask", "-j", "1"]),
                             ("dask, 2 workers", ["--dask", "-j", "2"])):
            out = tmp / label.replace(" ", "_").replace(",", "")
            seconds = timed_cli(["extract", str(src), "-o", str(out), "-q", *extra], env)
            assert tree_digest(out) == reference, f"{label}: outputs differ from inline"
            rows.append((label, seconds))
        # Dask's fixed cost: a cluster started and closed around one trivial task
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from framebuf.batch.executors import DaskExecutor;"
                        "e = DaskExecutor(2); e.client.submit(int, 1).result(); e.shutdown()"],
                       check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dask_start = time.perf_counter() - t
        over_local = overhead(args.tasks, False, tmp)
        over_dask = overhead(args.tasks, True, tmp)

    n = args.renders
    print(f"framebuf extract through framebuf.batch: {n} renders 512x512, 61 half channels "
          f"({in_bytes / n / 1e6:.1f} MB in, {out_bytes / n / 1e6:.2f} MB out per render); "
          f"whole processes, outputs byte-identical across executors")
    print(f"{'executor':<26}{'seconds':>9}{'renders/s':>11}")
    for label, seconds in rows:
        print(f"{label:<26}{seconds:>9.2f}{n / seconds:>11.2f}")
    print(f"dask cluster start + stop (2 workers, one trivial task): {dask_start:.2f} s")
    print(f"per-task overhead (trivial task, 2 workers, journal + write included): "
          f"local pool {over_local * 1e3:.2f} ms, dask {over_dask * 1e3:.2f} ms "
          f"({over_dask / over_local:.1f}x)")

    # -- the estimate ----------------------------------------------------------------------
    inline = dict(rows)["inline (-j 1)"]
    per_render_core = inline / n                 # seconds of one core per render (start-up in)
    machines, cores, total = 100, 8, 10 ** 6
    compute = total * per_render_core / (machines * cores)
    scheduler = total * over_dask               # the client-side loop handles every task serially
    link = 125e6                                 # 1 Gbit/s into the machine running framebuf
    ingest = total * out_bytes / n / link
    limits = {"compute (100 machines x 8 cores)": compute,
              "scheduler + client loop (measured per-task overhead)": scheduler,
              "client ingest of all outputs over 1 Gbit/s": ingest}
    print(f"estimate, 10^6 renders on {machines} machines of {cores} cores (from the figures above):")
    for what, s in limits.items():
        print(f"  {what:<56}{s / 3600:>7.2f} h")
    worst = max(limits, key=limits.get)
    print(f"  -> about {limits[worst] / 3600:.1f} h, bound by {worst}; the inputs must be on storage "
          f"every worker reads ({total * in_bytes / n / 1e12:.1f} TB)")


if __name__ == "__main__":
    main()
