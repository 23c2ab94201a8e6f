"""Compare rendered files with golden files, with a tolerance that fits each data type.

* integer colour, labels, masks: exact;
* half and float: a number of ULPs (units in the last place) of the file's own precision, so a
  tolerance means the same thing for half and float and for large and small values; NaN matches
  NaN and an infinity matches only the same infinity;
* JPEG (lossy by design): a minimum PSNR over the whole image.

A failed comparison reports which buffer, how many pixels differ, and the worst pixel with both
values, and can write a difference image (differing pixels bright, scaled to the worst error).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..formats.base import Image, Layer


@dataclass(frozen=True)
class Tolerance:
    """How close counts as equal. ``ulps`` applies to half/float samples, ``psnr`` to lossy formats."""

    ulps: int = 4
    psnr: float = 40.0
    integer: int = 0  # allowed absolute difference for integer samples (default exact)


LOSSY_FORMATS = {"jpg"}


@dataclass
class LayerReport:
    layer: str
    channels: tuple
    pixels: int
    differing: int
    worst_xy: tuple[int, int] | None = None
    worst_channel: str = ""
    actual: float | None = None
    expected: float | None = None
    error: float = 0.0
    unit: str = ""
    diff: np.ndarray | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.differing == 0

    def describe(self) -> str:
        name = self.layer or "(primary)"
        if self.ok:
            return f"{name}: identical within tolerance"
        x, y = self.worst_xy
        return (
            f"{name}: {self.differing} of {self.pixels} pixels differ; worst at x={x} y={y} "
            f"channel {self.worst_channel}: got {self.actual!r}, expected {self.expected!r} "
            f"({self.error:g} {self.unit})"
        )


@dataclass
class Comparison:
    actual: str
    expected: str
    problems: list[str] = field(default_factory=list)
    layers: list[LayerReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.layers)

    def report(self) -> str:
        lines = [f"{self.actual} vs golden {self.expected}:"]
        lines += [f"  {p}" for p in self.problems]
        lines += [f"  {r.describe()}" for r in self.layers if not r.ok]
        return "\n".join(lines)

    def write_diff_image(self, path) -> Path | None:
        """A PNG with one panel per differing layer: grey = equal, red = worst error."""
        from PIL import Image as PILImage

        panels = [r.diff for r in self.layers if r.diff is not None and not r.ok]
        if not panels:
            return None
        h = max(p.shape[0] for p in panels)
        strip = np.zeros((h, sum(p.shape[1] for p in panels) + 4 * (len(panels) - 1), 3), np.uint8)
        x = 0
        for p in panels:
            peak = float(p.max()) or 1.0
            v = (p / peak)
            strip[: p.shape[0], x: x + p.shape[1], 0] = np.where(v > 0, 64 + 191 * v, 40).astype(np.uint8)
            strip[: p.shape[0], x: x + p.shape[1], 1] = np.where(v > 0, 0, 40).astype(np.uint8)
            strip[: p.shape[0], x: x + p.shape[1], 2] = np.where(v > 0, 0, 40).astype(np.uint8)
            x += p.shape[1] + 4
        PILImage.fromarray(strip).save(path)
        return Path(path)


def _ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in representable steps between same-dtype floats (monotonic integer mapping)."""
    int_type = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]
    wide = np.int64

    def ordered(x):
        i = x.view(int_type).astype(wide)
        return np.where(i < 0, np.iinfo(int_type).min - i, i)

    d = np.abs(ordered(a) - ordered(b)).astype(np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    d[both_nan] = 0
    d[np.isnan(a) ^ np.isnan(b)] = np.inf
    # an infinity matches only the same infinity (it is one ULP above the largest finite value)
    d[(np.isinf(a) | np.isinf(b)) & (a != b)] = np.inf
    return d


def _psnr(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(peak * peak / mse)


def compare_layers(actual: Layer, expected: Layer, tol: Tolerance, lossy: bool) -> LayerReport:
    a, e = actual.pixels, expected.pixels
    h, w = e.shape[:2]
    channels = expected.channels or tuple(str(i) for i in range(e.shape[2]))
    if a.dtype.kind == "f" or e.dtype.kind == "f":
        common = np.result_type(a.dtype, e.dtype)
        a, e = a.astype(common), e.astype(common)
    if lossy:
        peak = 255.0 if e.dtype == np.uint8 else (65535.0 if e.dtype == np.uint16 else 1.0)
        psnr = _psnr(a, e, peak)
        err = np.abs(a.astype(np.float64) - e.astype(np.float64))
        bad = err.max(axis=2) > 0 if psnr < tol.psnr else np.zeros((h, w), bool)
        unit, metric = f"PSNR {psnr:.1f} dB < {tol.psnr} dB", err
    elif e.dtype.kind == "f":
        metric = _ulp_distance(a, e)
        bad = (metric > tol.ulps).any(axis=2)
        unit = f"ULPs > {tol.ulps}"
    else:
        metric = np.abs(a.astype(np.int64) - e.astype(np.int64)).astype(np.float64)
        bad = (metric > tol.integer).any(axis=2)
        unit = "difference" if tol.integer == 0 else f"difference > {tol.integer}"
    report = LayerReport(expected.name, channels, h * w, int(bad.sum()), unit=unit)
    if report.differing:
        masked = np.where(bad[:, :, None], metric, -1.0)
        y, x, c = np.unravel_index(int(np.argmax(masked)), masked.shape)
        report.worst_xy = (int(x), int(y))
        report.worst_channel = channels[c] if c < len(channels) else str(c)
        report.actual = a[y, x, c].item()
        report.expected = e[y, x, c].item()
        report.error = float(metric[y, x, c])
        finite = np.where(np.isfinite(metric), metric, np.nanmax(np.where(np.isfinite(metric), metric, 0)) + 1)
        report.diff = np.where(bad, finite.max(axis=2), 0.0)
    return report


def compare_images(actual: Image, expected: Image, tol: Tolerance = Tolerance(), lossy: bool = False,
                   actual_name: str = "actual", expected_name: str = "golden") -> Comparison:
    cmp = Comparison(actual_name, expected_name)
    if (actual.width, actual.height) != (expected.width, expected.height):
        cmp.problems.append(
            f"size {actual.width}x{actual.height}, golden is {expected.width}x{expected.height}"
        )
        return cmp
    by_channels = {l.channels: l for l in actual.layers}
    for exp in expected.layers:
        act = by_channels.get(exp.channels)
        if act is None:
            cmp.problems.append(f"buffer {exp.name or '(primary)'} with channels "
                                f"{' '.join(exp.channels)} is missing")
            continue
        if act.datatype.name != exp.datatype.name:
            cmp.problems.append(f"buffer {exp.name or '(primary)'} is {act.datatype.name}, "
                                f"golden is {exp.datatype.name}")
            continue
        cmp.layers.append(compare_layers(act, exp, tol, lossy))
    extra = set(by_channels) - {l.channels for l in expected.layers}
    for ch in sorted(extra):
        cmp.problems.append(f"unexpected extra channels {' '.join(ch)}")
    return cmp


def compare_files(actual, expected, tol: Tolerance = Tolerance()) -> Comparison:
    """Read both files with framebuf's readers and compare them layer by layer."""
    from ..io import read_image

    a, e = read_image(actual), read_image(expected)
    lossy = e.info.get("format") in LOSSY_FORMATS
    cmp = compare_images(a, e, tol, lossy, str(actual), str(expected))
    if a.info.get("format") != e.info.get("format"):
        cmp.problems.insert(0, f"format {a.info.get('format')}, golden is {e.info.get('format')}")
    return cmp
