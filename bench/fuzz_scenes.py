"""Scene fuzz: N seeded mutants of the corpus ``.mi`` files and ``scenes/*.mi`` through the scene
front end and the render planner (what ``framebuf render --dry-run`` runs), with a report.

    python bench/fuzz_scenes.py N [--seed S] [--cap SECONDS]

Prints the outcomes per mutation (parsed / refused with a FramebufError / other exception /
over the time cap), every finding (other or timeout) with the mutant's index so it can be rebuilt
(`framebuf.testing.scene_fuzz.mutant(files, index, seed)`), the slowest mutants and the peak
memory of the process. Exit status 1 when there is a finding. Mutations are described in
:mod:`framebuf.testing.scene_fuzz`.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections import Counter, defaultdict

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from framebuf.testing import scene_fuzz as F  # noqa: E402

CORPUS = os.path.join(ROOT, "..", "shared", "corpus", "mi")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("count", type=int, help="number of mutants")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cap", type=float, default=5.0, help="seconds one mutant may take (default 5)")
    args = ap.parse_args(argv)
    files = F.sources(CORPUS, os.path.join(ROOT, "scenes"))
    if not files:
        print(f"no .mi files under {CORPUS} or scenes/", file=sys.stderr)
        return 2
    by_kind: dict[str, Counter] = defaultdict(Counter)
    findings, slowest = [], []
    t0 = time.perf_counter()
    for o in F.campaign(files, args.count, seed=args.seed, cap=args.cap):
        by_kind[o.kind][o.result] += 1
        if o.result in ("other", "timeout"):
            findings.append(o)
        slowest = sorted(slowest + [o], key=lambda x: -x.seconds)[:5]
    wall = time.perf_counter() - t0
    results = ("parsed", "refused", "other", "timeout")
    print(f"{args.count} mutants of {len(files)} scenes, seed {args.seed}, cap {args.cap} s: "
          f"{wall:.1f} s wall, load {os.getloadavg()[0]:.2f}")
    print(f"{'mutation':<11}" + "".join(f"{r:>9}" for r in results))
    total = Counter()
    for kind in F.MUTATIONS:
        c = by_kind.get(kind, Counter())
        total.update(c)
        print(f"{kind:<11}" + "".join(f"{c[r]:>9}" for r in results))
    print(f"{'all':<11}" + "".join(f"{total[r]:>9}" for r in results))
    print(f"max time {slowest[0].seconds:.3f} s" if slowest else "max time -")
    for o in slowest:
        print(f"  {o.seconds:.3f} s  #{o.index} {o.kind} of {o.source}: {o.result}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS) {peak:.0f} MiB")
    print(f"findings (not a FramebufError, or over the cap): {len(findings)}")
    for o in findings:
        print(f"  #{o.index} {o.kind} of {o.source}: {o.result}: {o.error}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
