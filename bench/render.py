"""Render throughput: the ray caster alone and the whole render path (ray cast + resolve + output
shaders + file writes), in samples per second, against the resolve-only throughput on the very
same samples, all measured in this run. Then the demo scene's wall time as a user sees it, and,
when the ``mitsuba`` extra is installed, the Mitsuba 3 source beside the ray caster.

    python bench/render.py                          # scenes/demo.mi (or a generated scene)
    python bench/render.py --scene my.mi --repeat 5
    python bench/render.py --generated --size 640 --samples 2 --objects 40
    python bench/render.py --mitsuba-only --mitsuba-variant scalar_rgb

Baselines
    ``resolve kernels``: the accumulation kernels of ``framebuf.resolve.kernels`` on the ray
    caster's samples, one call per batch per channel, for the channels the scene asks for, with its
    colour filter: the floor under any render path that resolves those samples.
    ``Resolver``: the same through the Resolver class (argument checks, padding of empty pixels).
Figures are the best of ``--repeat`` runs after one warm-up run (Numba cache loading and the first
dispatch are not counted). CPU seconds (all threads) are printed beside wall seconds: on a machine
shared with other work they are the steadier figure. ``demo command`` is the wall time of ``python -m framebuf render SCENE
-o TMP --preview`` in a fresh process with the Numba cache warm (imports included), best of
``--repeat``.

Mitsuba (``--mitsuba-variant``, default ``auto``: every variant that runs here): samples/s of the
source alone beside the ray caster's, and how the whole render path's time divides into tracing
(the source's own work), resolve and output (shaders and file writes). Best of ``--mitsuba-repeat``
(default 1: one scalar demo render takes seconds) after a warm-up render at a tenth of the size.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from framebuf.resolve import Resolver  # noqa: E402
from framebuf.resolve import kernels as K  # noqa: E402
from framebuf.scene import load, loads  # noqa: E402
from framebuf.scene.execute import _Execution, render_scene  # noqa: E402
from framebuf.sources.raycast import RayCaster  # noqa: E402


def generated_scene(size: int, samples: int, objects: int, seed: int = 1):
    """A scene of random spheres and boxes over a ground plane, every standard buffer to one EXR."""
    rng = np.random.default_rng(seed)
    lines = [f'options "o"\n    samples 0 {samples}\n    filter mitchell 4 4\nend options',
             "framebuf primitives",
             '    plane "ground" point 0 -1 0 normal 0 1 0 color 0.5 0.5 0.5 1 label 1']
    for i in range(objects):
        x, y, z = rng.uniform(-4, 4), rng.uniform(-1, 2), rng.uniform(-14, -4)
        r, g, b = rng.uniform(0.1, 1, 3)
        vx, vy = rng.uniform(-0.5, 0.5, 2)
        if i % 3:
            lines.append(f'    sphere "s{i}" center {x:.3f} {y:.3f} {z:.3f} radius {rng.uniform(0.2, 0.8):.3f} '
                         f"color {r:.3f} {g:.3f} {b:.3f} 1 opacity {1.0 if i % 4 else 0.5} "
                         f"label {i + 2} velocity {vx:.3f} {vy:.3f} 0")
        else:
            s = rng.uniform(0.2, 0.6)
            lines.append(f'    box "b{i}" min {x - s:.3f} {y - s:.3f} {z - s:.3f} max {x + s:.3f} {y + s:.3f} '
                         f"{z + s:.3f} color {r:.3f} {g:.3f} {b:.3f} 1 label {i + 2}")
    lines.append("end framebuf")
    lines.append(f'camera "c"\n    resolution {size} {size * 3 // 4}\n    aperture 1\n    focal 1.2')
    for name, dt in (("beauty", "rgba_h"), ("depth", "z"), ("nrm", "n"), ("mot", "m"), ("lab", "tag")):
        lines.append(f'    framebuffer "{name}" datatype "{dt}" filename "gen.exr"' if dt != "tag" else
                     f'    framebuffer "{name}" datatype "{dt}" filename "gen.tt"')
    lines.append('    framebuffer "png" datatype "rgba" filename "gen.png"')
    lines.append("end camera")
    return loads("\n".join(lines), filename="<generated>")


CPU: dict[str, float] = {}


def best(fn, repeat, label=None):
    """Best wall time of ``repeat`` runs; the best CPU time (all threads) goes to CPU[label]."""
    t_best, c_best, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        out = fn()
        t_best = min(t_best, time.perf_counter() - t0)
        c_best = min(c_best, time.process_time() - c0)
    if label:
        CPU[label] = c_best
    return t_best, out


def resolver_channels(scene, outdir):
    """The Resolver channel options render_scene would use for this scene."""
    ex = _Execution(scene, Path(outdir), 0, None, dry=True)
    ex.plan()
    return {name: opts for name, (opts, _) in ex.resolver_channels().items()}


def kernels_only(batches, width, height, channels):
    """Accumulation only: each channel's resolve kernel (``framebuf.resolve.kernels``) on every
    batch, without the Resolver's per-batch checks, finishing pass or padding of empty pixels.

    The per-pixel state and the kernel call come from the resolver's own channel objects, so this
    baseline follows the kernels' signatures as they evolve.
    """
    r = Resolver(width, height, channels)
    chans = list(r.channels.values())
    for b in batches:
        for ch in chans:
            ch.add(b)
    return K  # the module whose kernels ran


def command_time(scene_path, repeat):
    """(best wall, best CPU user+system) of the command in a fresh process."""
    import resource

    times, cpus = [], []
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "framebuf", "render", str(scene_path), "-o", tmp, "--preview"]
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)  # warm the cache
        for _ in range(repeat):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
            times.append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return min(times), min(cpus)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scene", default=str(ROOT / "scenes" / "demo.mi"))
    ap.add_argument("--generated", action="store_true", help="use a generated scene")
    ap.add_argument("--size", type=int, default=320, help="generated scene width")
    ap.add_argument("--samples", type=int, default=2, help="generated scene: samples 0 N")
    ap.add_argument("--objects", type=int, default=20, help="generated scene: primitives")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-command", action="store_true", help="skip the fresh-process demo timing")
    ap.add_argument("--mitsuba-variant", default="auto",
                    help="auto (every variant that runs here), scalar_rgb, llvm_ad_rgb or none")
    ap.add_argument("--mitsuba-repeat", type=int, default=1)
    ap.add_argument("--mitsuba-only", action="store_true", help="only the Mitsuba comparison")
    args = ap.parse_args(argv)

    scene_path = Path(args.scene)
    if args.generated or not scene_path.exists():
        scene = generated_scene(args.size, args.samples, args.objects)
        label = f"generated ({args.objects} objects)"
    else:
        scene = load(scene_path)
        label = str(scene_path.relative_to(ROOT) if scene_path.is_relative_to(ROOT) else scene_path)
    if args.mitsuba_only:
        mitsuba_comparison(scene, label, args)
        return
    rc = RayCaster()
    with tempfile.TemporaryDirectory() as tmp:
        render_scene(scene, tmp)  # warm-up: Numba cache loading and first dispatch
        t_cast, batches = best(lambda: list(rc.render(scene)), args.repeat, "ray caster")
        n = sum(len(b) for b in batches)
        fbs_w, fbs_h = scene.camera.resolution or (768, 576)
        channels = resolver_channels(scene, tmp)

        def via_resolver():
            r = Resolver(fbs_w, fbs_h, channels)
            for b in batches:
                r.add(b)
            return r.resolve()

        kernels_only(batches[:1], fbs_w, fbs_h, channels)
        t_kernels, _ = best(lambda: kernels_only(batches, fbs_w, fbs_h, channels), args.repeat,
                            "resolve kernels (baseline)")
        t_resolver, _ = best(via_resolver, args.repeat, "Resolver")
        t_whole, result = best(lambda: render_scene(scene, tmp), args.repeat, "whole render path")

    rate = lambda t: n / t / 1e6
    base = rate(t_kernels)
    print(f"scene: {label}, {fbs_w}x{fbs_h}, {n} samples ({n // (fbs_w * fbs_h)} per pixel), "
          f"{len(scene.primitives)} primitives; channels {', '.join(channels)}; "
          f"colour filter {channels.get('rgba', {}).get('filter', 'none')}")
    print(f"{'path':<28}{'wall s':>8}{'Msamples/s':>12}{'x resolve kernels':>19}{'CPU s':>8}"
          f"{'CPU Msamples/s':>16}")
    rows = [("resolve kernels (baseline)", t_kernels), ("Resolver", t_resolver),
            ("ray caster", t_cast), ("whole render path", t_whole)]
    for name, t in rows:
        c = CPU[name]
        print(f"{name:<28}{t:>8.3f}{rate(t):>12.2f}{rate(t) / base:>19.2f}{c:>8.3f}{rate(c):>16.2f}")
    phases = ", ".join(f"{k} {v:.3f}" for k, v in result.timings.items())
    print(f"whole render path phases (s): {phases}")
    if not args.no_command and scene_path.exists() and not args.generated:
        t_cmd, c_cmd = command_time(scene_path, args.repeat)
        print(f"demo command (fresh process, cache warm, --preview): wall {t_cmd:.2f} s "
              f"({'under' if t_cmd < 3.0 else 'OVER'} the 3 s budget), CPU {c_cmd:.2f} s")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    if args.mitsuba_variant != "none":
        mitsuba_comparison(scene, label, args)


def mitsuba_comparison(scene, label, args):
    """The Mitsuba source beside the ray caster on the same scene and samples."""
    import copy

    try:
        from framebuf.sources import mitsuba as fbmi

        fbmi.import_mitsuba()
    except Exception as exc:  # the extra is optional
        print(f"mitsuba: skipped ({exc})")
        return
    if args.mitsuba_variant == "auto":
        variants = [fbmi.SCALAR] + [v for v in fbmi.VECTOR_VARIANTS if fbmi.probe_variant(v)[0]]
        skipped = [f"{v} ({fbmi.probe_variant(v)[1]})" for v in fbmi.VECTOR_VARIANTS
                   if v not in variants]
    else:
        variants, skipped = [args.mitsuba_variant], []
    small = copy.deepcopy(scene)
    w, h = scene.camera.resolution or (768, 576)
    small.camera.resolution = (max(1, w // 10), max(1, h // 10))
    rc = RayCaster()
    with tempfile.TemporaryDirectory() as tmp:
        render_scene(scene, tmp)
        t_rc, batches = best(lambda: list(rc.render(scene)), args.repeat, "ray caster")
        n = sum(len(b) for b in batches)
        t_rc_whole, rc_result = best(lambda: render_scene(scene, tmp), args.repeat, "ray caster path")
        rows = [("ray caster", t_rc, t_rc_whole, rc_result.timings, CPU["ray caster"])]
        for v in variants:
            src = fbmi.MitsubaSource(variant=v)
            render_scene(small, tmp, source=src)  # warm-up: Numba cache, Dr.Jit kernels
            t_src, _ = best(lambda: sum(len(b) for b in src.render(scene)), args.mitsuba_repeat, v)
            t_whole, result = best(lambda: render_scene(scene, tmp, source=src), args.mitsuba_repeat,
                                   f"{v} path")
            rows.append((f"mitsuba {v}", t_src, t_whole, result.timings, CPU[v]))
    print(f"\nMitsuba source vs ray caster: {label}, {w}x{h}, {n} samples")
    print(f"{'source':<24}{'source s':>9}{'Msamples/s':>12}{'x ray caster':>14}{'CPU s':>8}"
          f"{'whole s':>9}{'tracing':>9}{'resolve':>9}{'output':>9}")
    base = n / t_rc
    for name, t_src, t_whole, tm, cpu in rows:
        trace = tm.get("render", 0.0)
        resolve = tm.get("resolve", 0.0)
        output = tm.get("shaders", 0.0) + tm.get("write", 0.0)
        total = max(tm.get("total", t_whole), 1e-12)
        print(f"{name:<24}{t_src:>9.3f}{n / t_src / 1e6:>12.3f}{n / t_src / base:>14.3f}{cpu:>8.2f}"
              f"{t_whole:>9.3f}{trace / total:>9.0%}{resolve / total:>9.0%}{output / total:>9.0%}")
    print("(tracing / resolve / output: shares of the whole render path's time; output = output "
          "shaders + file writes; the rest is planning)")
    for s_ in skipped:
        print(f"not measured: {s_}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
