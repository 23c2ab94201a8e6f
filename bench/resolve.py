"""Sample-resolve throughput: every rule, samples in pixel order and in random order, against a
numpy baseline and this machine's memory-copy bandwidth, all measured in this run.

    python bench/resolve.py                      # 2048 x 2048 pixels x 16 samples (67M samples)
    python bench/resolve.py --size 512 --samples 4

Three kernels per rule, in this run, single-threaded:
    general/pixel   ``SampleBatch(x=, y=, ...)`` with samples in pixel order: the general kernel reads
                    x, y of every sample to find its pixel (runs of one pixel fold in locals);
    dense/pixel     ``SampleBatch.dense(0, 0, size, size, spp, ...)``: the same samples, no x, y read;
                    the layout numpy's reshape baseline also relies on;
    general/random  the general kernel on the same samples in random order.
Baselines: in pixel order, numpy reshape-reduce over the (pixels, samples) axes (it knows the layout,
so it is the dense kernel's equal; the general kernel additionally reads x, y); in random order,
``np.add.at`` / ``np.minimum.at`` / ``np.maximum.at`` / fancy assignment on the flat pixel index
(computing that index is part of the baseline's time, as it is part of the kernel's). Figures are
CPU seconds of this process (``time.process_time``; the machine is shared, wall seconds are printed
beside them), best of ``--repeat`` runs (the slow scattered numpy baselines run once; the numpy
Mitchell baseline runs on 1/16 of the samples and is scaled). The filtered (Mitchell) rule spreads
samples by position, so its dense figure is the general kernel (a dense batch must carry x, y for it).
The ranked rows (Cryptomatte ranking, 6 ranks of the same tags, beside ``+tag max``) compare with
numpy per-(pixel, tag) ``np.bincount`` weight sums and a per-pixel sort (``numpy_ranked``); the
gauss 2 row spreads by position like Mitchell (general kernel only, 9 weighted bincounts in numpy).
The copy bandwidth is ``np.copyto`` of a 512 MiB float32 array, in bytes read per CPU second; the
sorted-average fraction compares bytes of samples read per second (general: x, y, rgba = 24 B;
dense: rgba = 16 B) with it. A copy writes as much as it reads, so a read-only pass (``max`` over
the same 512 MiB as int32) is faster; that read-only figure is the ceiling a row must exceed to be
called physically impossible. "GB/s read" of a dense "last" row counts whole 64-byte lines (one per
pixel), since that is what memory delivers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from framebuf.resolve import Filter, Resolver, SampleBatch  # noqa: E402


def best_time(fn, repeat):
    """(best CPU seconds, wall seconds of that run) over ``repeat`` runs."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        c, t = time.process_time() - c0, time.perf_counter() - t0
        best = min(best, (c, t))
    return best


def make_samples(size, per_pixel, seed=1):
    """Stratified jitter in pixel order: per pixel, ``per_pixel`` samples in a sqrt x sqrt grid."""
    rng = np.random.default_rng(seed)
    side = int(round(per_pixel ** 0.5))
    n = size * size * per_pixel
    pix = np.repeat(np.arange(size * size, dtype=np.int64), per_pixel)
    k = np.tile(np.arange(per_pixel), size * size)
    sx = (k % side + rng.random(n, dtype=np.float32)) / side
    sy = ((k // side) % side + rng.random(n, dtype=np.float32)) / side
    x = ((pix % size) + sx).astype(np.float32)
    y = ((pix // size) + sy).astype(np.float32)
    # float32 rounding can push a sample onto the next pixel's edge: keep it in its own pixel
    for coord, cell in ((x, pix % size), (y, pix // size)):
        over = coord >= cell + 1
        coord[over] = np.nextafter((cell[over] + 1).astype(np.float32), np.float32(0))
    del pix, k, sx, sy
    z = rng.uniform(1, 100, n).astype(np.float32)
    z[rng.random(n) < 0.1] = np.inf
    return dict(
        x=x, y=y,
        rgba=rng.random((n, 4), dtype=np.float32),
        z=z,
        n=rng.standard_normal((n, 3), dtype=np.float32),
        tag=rng.integers(0, 6, n).astype(np.uint32),
    )


# (label, channels for Resolver, batch fields it reads, numpy baseline key)
RULES = [
    ("+rgba average", {"rgba": {}}, ("rgba",), "avg_rgba"),
    ("-rgba last", {"rgba": {"filtering": False}}, ("rgba",), "last_rgba"),
    ("-z min", {"z": {}}, ("z",), "min_z"),
    ("+z finite average", {"z": {"filtering": True}}, ("z",), "avg_z"),
    ("-n last (= -m)", {"n": {}}, ("n",), "last_n"),
    ("+n non-null average (= +m)", {"n": {"filtering": True}}, ("n",), "avg_n"),
    ("-tag last", {"tag": {}}, ("tag",), "last_tag"),
    ("+tag max", {"tag": {"filtering": True}}, ("tag",), "max_tag"),
    ("coverage (+tag)", {"tag": {"filtering": True}, "coverage": {}}, ("tag",), "cov_max"),
    ("coverage (-tag, 4 slots)", {"tag": {}, "coverage": {}}, ("tag",), "cov_last"),
    ("mitchell 4x4", {"rgba": {"filter": Filter("mitchell")}}, ("rgba",), "filter"),
    # Cryptomatte ranking (resolve/ranked.py) on the same tags, beside +tag: 6 ranks, 12 slots
    ("ranked 6 (tag, box 1)", {"rk": {"kind": "ranked", "source": "tag"}}, ("tag",), "ranked"),
    ("ranked 6 (tag, gauss 2)", {"rk": {"kind": "ranked", "source": "tag",
                                        "filter": Filter("gauss", 2)}}, ("tag",), "ranked_gauss"),
]
#: rules whose filter spreads samples by position: no dense kernel, their own numpy baseline
SPREADING = ("filter", "ranked_gauss")


def numpy_rank(weights, npix, ntags, k=6):
    """Top-k nonzero tags per pixel from (npix * ntags) summed weights, as the rule sorts them
    (coverage descending, smaller id first), and their coverage."""
    w = weights.reshape(npix, ntags)
    total = w.sum(axis=1)
    order = np.argsort(-w[:, 1:], axis=1, kind="stable")[:, :k] + 1
    cov = np.take_along_axis(w, order, axis=1) / np.maximum(total, 1e-300)[:, None]
    return np.where(cov > 0, order, 0), cov


def numpy_ranked(s, size, gauss):
    """The ranked rule in numpy: per-(pixel, tag) weight sums by np.bincount (order-free), one pass
    per offset of the 3x3 footprint for the gauss 2 filter, then a per-pixel sort."""
    npix = size * size
    tag = s["tag"].astype(np.int64)
    ntags = int(tag.max()) + 1
    x, y = s["x"], s["y"]
    ix, iy = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    if not gauss:
        weights = np.bincount((iy * size + ix) * ntags + tag, minlength=npix * ntags)
        return numpy_rank(weights.astype(np.float64), npix, ntags)
    f = Filter("gauss", 2)
    weights = np.zeros(npix * ntags)
    for oy in range(-1, 2):
        for ox in range(-1, 2):
            px, py = ix + ox, iy + oy
            w = f.evaluate(x - (px + 0.5), y - (py + 0.5))
            ok = (px >= 0) & (px < size) & (py >= 0) & (py < size) & (w > 0)
            weights += np.bincount(((py * size + px) * ntags + tag)[ok], weights=w[ok],
                                   minlength=npix * ntags)
    return numpy_rank(weights, npix, ntags)


def numpy_baseline(key, s, size, per_pixel, ordered):
    """The same rule in plain numpy; returns nothing, only the time matters."""
    npix = size * size
    if ordered:
        def grid(a):
            return a.reshape(npix, per_pixel, *a.shape[1:])
        if key == "avg_rgba":
            grid(s["rgba"]).mean(axis=1)
        elif key == "last_rgba":
            grid(s["rgba"])[:, -1].copy()
        elif key == "min_z":
            grid(s["z"]).min(axis=1)
        elif key == "avg_z":
            z = grid(s["z"])
            fin = np.isfinite(z)
            cnt = fin.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                np.where(cnt > 0, np.where(fin, z, 0).sum(axis=1) / cnt, np.inf)
        elif key == "last_n":
            grid(s["n"])[:, -1].copy()
        elif key == "avg_n":
            v = grid(s["n"])
            ok = np.any(v != 0, axis=2) & ~np.any(np.isnan(v), axis=2)
            cnt = ok.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                np.where(ok[..., None], v, 0).sum(axis=1) / cnt[:, None]
        elif key == "last_tag":
            grid(s["tag"])[:, -1].copy()
        elif key == "max_tag":
            grid(s["tag"]).max(axis=1)
        elif key in ("cov_max", "cov_last"):
            t = grid(s["tag"])
            lab = t.max(axis=1) if key == "cov_max" else t[:, -1]
            cov = (t == lab[:, None]).mean(axis=1)
            cov[lab == 0] = 0
        return
    idx = (s["y"].astype(np.int64) * size + s["x"].astype(np.int64))
    if key == "avg_rgba":
        acc = np.zeros((npix, 4))
        np.add.at(acc, idx, s["rgba"])
        cnt = np.bincount(idx, minlength=npix)
        acc / np.maximum(cnt, 1)[:, None]
    elif key in ("last_rgba", "last_n", "last_tag"):
        a = s[{"last_rgba": "rgba", "last_n": "n", "last_tag": "tag"}[key]]
        out = np.zeros((npix, *a.shape[1:]), a.dtype)
        out[idx] = a            # numpy keeps the last of repeated indices
    elif key == "min_z":
        out = np.full(npix, np.inf, np.float32)
        np.minimum.at(out, idx, s["z"])
    elif key == "avg_z":
        z = s["z"]
        fin = np.isfinite(z)
        acc = np.zeros(npix)
        np.add.at(acc, idx[fin], z[fin])
        cnt = np.zeros(npix, np.int64)
        np.add.at(cnt, idx[fin], 1)
    elif key == "avg_n":
        v = s["n"]
        ok = np.any(v != 0, axis=1) & ~np.any(np.isnan(v), axis=1)
        acc = np.zeros((npix, 3))
        np.add.at(acc, idx[ok], v[ok])
        cnt = np.zeros(npix, np.int64)
        np.add.at(cnt, idx[ok], 1)
    elif key in ("max_tag", "cov_max"):
        lab = np.zeros(npix, np.uint32)
        np.maximum.at(lab, idx, s["tag"])
        if key == "cov_max":
            hits = np.zeros(npix, np.int64)
            np.add.at(hits, idx, s["tag"] == lab[idx])
            np.bincount(idx, minlength=npix)
    elif key == "cov_last":
        lab = np.zeros(npix, np.uint32)
        lab[idx] = s["tag"]
        hits = np.zeros(npix, np.int64)
        np.add.at(hits, idx, s["tag"] == lab[idx])
        np.bincount(idx, minlength=npix)


def numpy_filter(s, size):
    """Mitchell 4x4 in numpy: one np.add.at per offset of the 5x5 pixel footprint."""
    f = Filter("mitchell")
    npix = size * size
    acc = np.zeros((npix, 5))
    x, y = s["x"], s["y"]
    ix, iy = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    for oy in range(-2, 3):
        for ox in range(-2, 3):
            px, py = ix + ox, iy + oy
            w = f.evaluate(x - (px + 0.5), y - (py + 0.5))
            ok = (px >= 0) & (px < size) & (py >= 0) & (py < size) & (w != 0)
            p = (py * size + px)[ok]
            np.add.at(acc[:, :4], p, s["rgba"][ok] * w[ok, None])
            np.add.at(acc[:, 4], p, w[ok])


def copy_bandwidth(repeat):
    """(copy: bytes read per CPU s, per wall s; read-only: bytes per CPU s of np.max over int32).

    A copy also writes as much as it reads, so a kernel that only reads can go faster than the
    copy's read rate; the read-only figure is the ceiling used to call a target impossible."""
    src = np.ones(128 * 1024 * 1024, np.float32)   # 512 MiB
    dst = np.zeros_like(src)
    c, t = best_time(lambda: np.copyto(dst, src), repeat)
    del dst
    ints = src.view(np.int32)
    r, _ = best_time(lambda: ints.max(), repeat)
    return src.nbytes / c, src.nbytes / t, src.nbytes / r


def limit_note(label, kernel, order, ours, base, sample_bytes, bandwidth, state_mb):
    """Why a row below 5x cannot (or does not) reach it, from figures measured in this run;
    ``bandwidth`` is the read-only bandwidth."""
    need = 5 * base * sample_bytes
    if order == "pixel":
        if need > bandwidth:
            return (f"5x numpy would need {need / 1e9:.1f} GB/s of samples read, above the "
                    f"{bandwidth / 1e9:.1f} GB/s read-only bandwidth: physically impossible here")
        if "last" in label and "coverage" not in label and kernel == "general":
            return ("numpy's reshape baseline copies only the last sample of each pixel and "
                    "reads no x, y; the general kernel must read every x, y to find the runs "
                    "(the dense kernel is the like for like)")
        if kernel == "general":
            return ("the reshape baseline knows the layout and reads no x, y; the general kernel "
                    "reads 8 bytes of coordinates per sample more (the dense kernel is the like "
                    "for like)")
        return (f"5x needs {need / 1e9:.1f} GB/s, within the {bandwidth / 1e9:.1f} GB/s read-only "
                "bandwidth: unmet, not proven impossible")
    return (f"scattered: one random access per sample into {state_mb:.0f} MB of state, "
            f"{1e9 / ours:.0f} ns per sample here; 5x numpy needs {1e9 / (5 * base):.0f} ns "
            "per sample: unmet")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=2048, help="image width = height (pixels)")
    ap.add_argument("--samples", type=int, default=16, help="samples per pixel (a square number)")
    ap.add_argument("--repeat", type=int, default=2, help="runs per figure; the best counts (numpy in random order: once)")
    ap.add_argument("--rules", default="", help="comma-separated substrings of rule labels to run")
    args = ap.parse_args(argv)
    size, per_pixel = args.size, args.samples
    n = size * size * per_pixel

    print(f"{size} x {size} pixels x {per_pixel} samples = {n / 1e6:.1f}M samples; "
          f"best of {args.repeat}; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    t0 = time.perf_counter()
    sorted_s = make_samples(size, per_pixel)
    perm = np.random.default_rng(2).permutation(n)
    print(f"generated in {time.perf_counter() - t0:.1f} s")

    # compile every kernel on a tiny image first, so no figure includes compilation
    tiny = {k: v[:64] for k, v in sorted_s.items()}
    for _, channels, fields, key in RULES:
        r = Resolver(4, 4, channels)
        r.add(SampleBatch(**tiny))
        if key not in SPREADING:
            r.add(SampleBatch.dense(0, 0, 2, 2, 16, **{k: tiny[k] for k in fields}))
        r.resolve()

    bandwidth, bandwidth_wall, read_bw = copy_bandwidth(args.repeat)
    print(f"memory copy (np.copyto, 512 MiB): {bandwidth / 1e9:.2f} GB/s read per CPU second "
          f"({bandwidth_wall / 1e9:.2f} GB/s wall); read-only (int32 max): "
          f"{read_bw / 1e9:.2f} GB/s")
    print("M/s = million samples per CPU second (wall in brackets); ratio = numpy CPU s / ours")

    rows = []
    wanted = [w.strip() for w in args.rules.split(",") if w.strip()]
    for label, channels, fields, key in RULES:
        if wanted and not any(w in label for w in wanted):
            continue
        for order in ("pixel order", "random order"):
            if order == "pixel order":
                s = {k: sorted_s[k] for k in ("x", "y", *fields)}
            else:
                s = {k: sorted_s[k][perm] for k in ("x", "y", *fields)}
            if key in ("ranked", "ranked_gauss"):   # order-free: once
                t_np = best_time(lambda: numpy_ranked(s, size, key == "ranked_gauss"), 1)
            elif key == "filter":   # 25 np.add.at passes: measured on a slice, rate per sample
                part = {k: v[: max(1, n // 16)] for k, v in s.items()}
                c, t = best_time(lambda: numpy_filter(part, size), 1)
                t_np = (c * n / part["x"].size, t * n / part["x"].size)
            else:
                t_np = best_time(lambda: numpy_baseline(key, s, size, per_pixel,
                                                        order == "pixel order"),
                                 args.repeat if order == "pixel order" else 1)
            kernels = [("general", SampleBatch(**s))]
            if order == "pixel order" and key not in SPREADING:
                kernels.append(("dense", SampleBatch.dense(0, 0, size, size, per_pixel,
                                                           **{k: s[k] for k in fields})))
            for kernel, batch in kernels:
                # state is allocated once per frame, outside the per-batch figure (as is numpy's
                # input); repeated adds only accumulate more
                resolver = Resolver(size, size, channels)
                t_ours = best_time(lambda: resolver.add(batch), args.repeat)
                read = ("x", "y", *fields) if kernel == "general" else fields
                sample_bytes = sum(s[k].itemsize * (s[k].size // n) for k in read)
                if kernel == "dense" and "last" in label and "coverage" not in label:
                    # one sample per pixel is read (a 4-byte label: its whole 64-byte line)
                    sample_bytes = max(sample_bytes / per_pixel, min(sample_bytes, 64 / per_pixel))
                state_mb = sum(a.nbytes for ch in resolver.channels.values()
                               for a in vars(ch).values() if isinstance(a, np.ndarray)) / 2**20
                ours, base = n / t_ours[0], n / t_np[0]
                note = limit_note(label, kernel, order.split()[0], ours, base, sample_bytes,
                                  read_bw, state_mb) if ours < 5 * base else ""
                rows.append((label, f"{kernel}/{order.split()[0]}", ours, base,
                             sample_bytes * ours, note))
                print(f"  {label:28s} {kernel + '/' + order.split()[0]:15s} "
                      f"{n / t_ours[0] / 1e6:8.1f} M/s ({n / t_ours[1] / 1e6:7.1f})   numpy "
                      f"{n / t_np[0] / 1e6:7.1f} M/s ({n / t_np[1] / 1e6:7.1f})   "
                      f"x{t_np[0] / t_ours[0]:6.1f}", flush=True)
                del resolver
            del s, kernels, batch

    print()
    print("| rule | kernel/order | ours M samples/s | numpy M samples/s | ratio | GB/s read | of copy bw |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for label, order, ours, base, bps, _ in rows:
        print(f"| {label} | {order} | {ours / 1e6:.1f} | {base / 1e6:.1f} | {ours / base:.1f}x | "
              f"{bps / 1e9:.2f} | {bps / bandwidth:.2f} |")
    print()
    failing = [r for r in rows if r[2] < 5 * r[3]]
    if not failing:
        print("every kernel at least 5x its numpy baseline")
    for label, order, ours, base, _, note in failing:
        print(f"below 5x: {label} {order} ({ours / base:.1f}x)" + (f": {note}" if note else ""))
    for r in rows:
        if r[0] == "+rgba average" and r[1].endswith("pixel"):
            print(f"sorted +rgba average, {r[1].split('/')[0]} kernel: {r[4] / 1e9:.2f} GB/s of "
                  f"samples read = {r[4] / bandwidth:.2f} of copy bandwidth (target 0.3)")


if __name__ == "__main__":
    main()
