"""Fuzz every reader: N seeded mutants per format (truncation, bit flips, extreme header fields,
every EXR attribute type), each read in a child process under a 5 s and memory cap, and a table of
outcomes per format (framebuf.testing.fuzz). Exit status 1 when any mutant ended in an exception
that is not a FramebufError, a hang, an allocation over the budget or a truncated read.

    python bench/fuzz.py --mutants 2000
    python bench/fuzz.py --mutants 200 --format png --format exr --seed 3
"""

from __future__ import annotations

import argparse
import sys
import time

from framebuf.testing import fuzz


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=200, help="mutants per format (default 200)")
    parser.add_argument("--format", action="append", help="only this format (repeatable)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-cap", type=float, default=fuzz.TIME_CAP)
    parser.add_argument("--progress", type=int, default=500, help="print a line every N reads")
    parser.add_argument("--bad", action="store_true", help="list every bad mutant")
    parser.add_argument("--keep", metavar="DIR", help="save every bad mutant into DIR")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    def progress(done, total, result):
        if done % args.progress == 0 or done == total:
            print(f"[{time.perf_counter() - start:7.0f} s] {done}/{total} {result.fmt}", file=sys.stderr,
                  flush=True)

    results = fuzz.run(args.mutants, args.format, args.seed, progress=progress, time_cap=args.time_cap,
                       keep=args.keep)
    elapsed = time.perf_counter() - start
    print(f"{len(results)} mutants, seed {args.seed}, {elapsed:.0f} s "
          f"({1000 * elapsed / max(1, len(results)):.0f} ms per read)")
    print(fuzz.table(results))
    bad = [r for r in results if r.outcome in fuzz.BAD_OUTCOMES]
    if args.bad:
        for r in bad:
            print(f"{r.fmt:<8} {r.kind:<16} {r.outcome:<10} {r.detail}")
    print(f"{len(bad)} bad outcomes")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
