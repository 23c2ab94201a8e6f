"""Label mappings and the mask-to-label kernel.

A renderer such as V-Ray (the synthetic-human pipeline) writes one coverage mask per body part,
``segmentation.<part>``; a training asset wants one label image. The rule (reference
"synthetic-human" 1.3 and 5.1):

* ``argmax`` (default): every pixel takes the class with the largest coverage, compared against an
  explicit background term ``1 - sum(coverage)``. Ties are deterministic: background wins a tie,
  then the class that comes first in the order given (callers pass classes in alphabetical order,
  as exr-info's ``get_combined_mask`` does). Empty masks everywhere give background.
* ``threshold``: the legacy rule of cryptomatte-masks before its argmax commit: a pixel takes the
  *last* class (in the order given) whose coverage is above ``threshold`` (0.48 by default), else
  background.

Label values come from a :class:`LabelMapping`. Built-in tables (``face``, ``full_body``,
``clothing``, copied from the seed page into ``shaders/data/*.json``) register through the
``framebuf_label_mappings`` hook; :func:`per_image_mapping` builds the per-image numbering the
sample outputs use (background 0, classes 1..N in alphabetical order). Tables may give two names
one value (the seed's ``eyelid_left``/``eyelashes_left`` = 92, ``eyebrows``/``foot_right`` = 89):
:meth:`LabelMapping.duplicates` reports them and callers decide; nothing here merges silently.
Label values are uint32 in memory; a 16-bit PNG holds values up to 65535.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from .errors import FramebufError

MODES = ("argmax", "threshold")
#: names a table uses for the background value; they are aliases, not classes.
BACKGROUND_NAMES = ("background", "default")


class LabelMappingError(FramebufError):
    """A label table that cannot be loaded or does not fit the masks."""


@dataclass(frozen=True)
class LabelMapping:
    """A named table ``class name -> label value`` (uint32), in the order it was written."""

    name: str
    table: Mapping[str, int]
    source: str = ""
    notes: str = field(default="", compare=False)

    def __post_init__(self):
        clean = {}
        for key, value in dict(self.table).items():
            if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise LabelMappingError(f"label mapping {self.name!r}: {key!r}: {value!r} is not name: integer")
            if not 0 <= int(value) <= 0xFFFFFFFF:
                raise LabelMappingError(f"label mapping {self.name!r}: {key!r} = {value} is not a uint32")
            clean[key] = int(value)
        object.__setattr__(self, "table", clean)

    def __getitem__(self, name: str) -> int:
        return self.table[name]

    def __contains__(self, name: object) -> bool:
        return name in self.table

    def __len__(self) -> int:
        return len(self.table)

    @property
    def background(self) -> int:
        """The value of ``background`` (or ``default``); 0 when the table names neither."""
        for key in BACKGROUND_NAMES:
            if key in self.table:
                return self.table[key]
        return 0

    def duplicates(self, include_background: bool = False) -> dict[int, list[str]]:
        """``{value: [names...]}`` for every value two or more names share, in table order.

        The background aliases (``background`` and ``default`` sharing 0) are an intentional
        duplicate and are left out unless ``include_background``.
        """
        by_value: dict[int, list[str]] = {}
        for key, value in self.table.items():
            by_value.setdefault(value, []).append(key)
        out = {}
        for value, names in by_value.items():
            if not include_background:
                names = [n for n in names if n not in BACKGROUND_NAMES]
            if len(names) > 1:
                out[value] = names
        return out

    def values_for(self, names: Iterable[str]) -> tuple[np.ndarray, list[str]]:
        """Label values of ``names`` (uint32) and the list of names the table does not hold
        (their value is set to the table's background; the caller decides whether that is an error)."""
        names = list(names)
        unknown = [n for n in names if n not in self.table]
        bg = self.background
        values = np.array([self.table.get(n, bg) for n in names], np.uint32)
        return values, unknown

    def collisions(self, names: Iterable[str]) -> dict[int, list[str]]:
        """Values shared by two or more of ``names`` (the merges using these classes would cause)."""
        by_value: dict[int, list[str]] = {}
        for n in names:
            if n in self.table:
                by_value.setdefault(self.table[n], []).append(n)
        return {v: ns for v, ns in by_value.items() if len(ns) > 1}


def describe_duplicates(dups: Mapping[int, list[str]]) -> str:
    return "; ".join(f"{v}: {', '.join(ns)}" for v, ns in sorted(dups.items()))


def per_image_mapping(names: Iterable[str], present=None, name: str = "per_image") -> LabelMapping:
    """The per-image numbering of the sample outputs: ``background`` 0, then the present classes
    sorted alphabetically and numbered 1..N.

    ``present`` selects which of ``names`` count: ``None`` (all of them, as the sample files list
    every class that had a mask channel), a collection of names, or booleans parallel to ``names``
    (e.g. ``masks.any(axis=(1, 2))``).
    """
    names = list(names)
    if present is None:
        keep = names
    else:
        present = list(present) if not isinstance(present, np.ndarray) else present.tolist()
        if present and all(isinstance(p, (bool, np.bool_)) for p in present):
            if len(present) != len(names):
                raise LabelMappingError(
                    f"per-image mapping: {len(present)} present flags for {len(names)} names"
                )
            keep = [n for n, p in zip(names, present) if p]
        else:
            wanted = set(present)
            keep = [n for n in names if n in wanted]
    classes = sorted(set(keep) - set(BACKGROUND_NAMES))
    table = {"background": 0}
    table.update({n: i + 1 for i, n in enumerate(classes)})
    return LabelMapping(name, table, source="per-image numbering (alphabetical, background 0)")


def load_mapping(name_or_path) -> LabelMapping:
    """A registered mapping by name (``face``, ``full_body``, ``clothing`` or a plugin's), or a
    JSON file: either ``{"name": ..., "table": {...}}`` or a bare ``{class: value}`` object (e.g. the
    ``segments_mapping`` of an ``info.json``)."""
    if isinstance(name_or_path, LabelMapping):
        return name_or_path
    text = str(name_or_path)
    path = Path(text)
    if path.suffix.lower() == ".json" or path.exists():
        return mapping_from_file(path)
    from .plugins import registry

    table = registry().mappings
    if text in table:
        return table[text]
    raise LabelMappingError(
        f"unknown label mapping {text!r}; mappings: {', '.join(sorted(table)) or '(none)'}, "
        f"or a path to a .json table"
    )


def mapping_from_file(path) -> LabelMapping:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LabelMappingError(f"{path}: no such label table") from None
    except (OSError, ValueError) as exc:
        raise LabelMappingError(f"{path}: not a JSON label table: {exc}") from None
    if not isinstance(doc, dict):
        raise LabelMappingError(f"{path}: a label table is a JSON object")
    for key in ("table", "segments_mapping", "clothing_segments_mapping"):
        if isinstance(doc.get(key), dict):
            return LabelMapping(doc.get("name", path.stem) if key == "table" else path.stem,
                                doc[key], source=doc.get("source", str(path)),
                                notes=doc.get("notes", ""))
    return LabelMapping(path.stem, doc, source=str(path))


# -- combining masks -------------------------------------------------------------------------------

#: bit pattern of 0.5 in half precision: above it a class beats background whatever the sum
_HALF_ONE_HALF = 0x3800
_HALF_INF = 0x7C00


def half_masks_to_labels(masks: np.ndarray, values, background: int = 0) -> np.ndarray:
    """``masks_to_labels(masks, values, "argmax")`` for a (K, H, W) float16 stack, in numpy.

    Same result bit for bit, without Numba (whose import and cache loading cost a short
    process more than the whole combine). Non-negative finite halves order as their uint16 bit
    patterns, so the running best and its class come from integer max/compare passes. Where the
    best coverage is above 0.5, background (``1 - sum``, and the sum is at least the best)
    cannot win; where every mask is +0, background wins. Only the remaining pixels -- soft
    edges at or below one half, negative, NaN or infinite values -- go through the exact rule
    (float32 running sum in class order) on just those pixels.
    """
    k, h, w = masks.shape
    vals = np.ascontiguousarray(values, dtype=np.uint32).reshape(-1)
    if vals.shape[0] != k:
        raise FramebufError(f"{k} masks but {vals.shape[0]} label values")
    keys = masks.reshape(k, h * w).view(np.uint16)
    best = keys[0].copy()
    idx = np.zeros(h * w, np.uint8 if k <= 256 else np.uint16)
    gt = np.empty(h * w, bool)
    for i in range(1, k):
        np.greater(keys[i], best, out=gt)
        np.copyto(idx, i, where=gt)
        np.maximum(best, keys[i], out=best)
    lut = vals.astype(np.uint32)
    out = lut[idx]
    out[best == 0] = background
    hard = np.flatnonzero((best <= _HALF_ONE_HALF) & (best != 0) | (best >= _HALF_INF))
    if hard.size:
        sub = masks.reshape(k, h * w)[:, hard].astype(np.float32)
        if (best[hard] >= _HALF_INF).any():  # negative, NaN, inf: the kernel's own rule
            from ._labelkernels import CHUNK, _argmax_labels

            part = np.empty(hard.size, np.uint32)
            _argmax_labels(np.ascontiguousarray(sub), vals, np.uint32(background), part, CHUNK)
            out[hard] = part
        else:
            total = np.zeros(hard.size, np.float32)
            for plane in sub:  # sequential, in class order, as the kernel sums
                total += plane
            top = sub.max(axis=0)
            pick = lut[np.argmax(sub, axis=0)]  # first maximum: earlier class keeps a tie
            out[hard] = np.where(np.float32(1.0) - total >= top, np.uint32(background), pick)
    return out.reshape(h, w)


def masks_to_labels(masks, values, mode: str = "argmax", threshold: float = 0.48,
                    background: int = 0) -> np.ndarray:
    """Combine K coverage masks into one (H, W) uint32 label image.

    ``masks`` is a (K, H, W) array or a list of (H, W) arrays (float coverage in [0, 1]; other
    dtypes are converted to float32), ``values`` the K label values (uint32), in the class order
    that breaks ties. ``mode`` is ``"argmax"`` or ``"threshold"`` (module docstring).
    """
    if mode not in MODES:
        raise FramebufError(f"mask-to-label mode must be one of {', '.join(MODES)}, not {mode!r}")
    if isinstance(masks, np.ndarray):
        stack = masks
    else:
        planes = [np.asarray(m) for m in masks]
        planes = [p[:, :, 0] if p.ndim == 3 and p.shape[2] == 1 else p for p in planes]
        if not planes:
            raise FramebufError("masks_to_labels needs at least one mask (or a (0, H, W) array)")
        if len({p.shape for p in planes}) != 1:
            raise FramebufError(f"masks differ in size: {sorted({p.shape for p in planes})}")
        stack = np.stack(planes)
    if stack.ndim != 3:
        raise FramebufError(f"masks must be (K, H, W), got shape {stack.shape}")
    stack = np.ascontiguousarray(stack, dtype=np.float32)
    vals = np.ascontiguousarray(values, dtype=np.uint32).reshape(-1)
    if vals.shape[0] != stack.shape[0]:
        raise FramebufError(f"{stack.shape[0]} masks but {vals.shape[0]} label values")
    from ._labelkernels import CHUNK, _argmax_labels, _threshold_labels

    out = np.empty(stack.shape[1:], np.uint32)
    if mode == "argmax":
        k, h, w = stack.shape
        _argmax_labels(stack.reshape(k, h * w), vals, np.uint32(background), out.reshape(h * w), CHUNK)
    else:
        _threshold_labels(stack, vals, np.uint32(background), np.float32(threshold), out)
    return out
