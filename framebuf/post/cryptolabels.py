"""Cryptomatte names -> classes -> label values: ``framebuf extract --labels-from cryptomatte``.

A Cryptomatte layer names every object (or material, asset) of a render; a training set wants a
few classes. A *rules file* maps names to classes::

    {"car": ["car_*", "re:^vehicle_[0-9]+$"], "tree": "tree*", "road": ["ground", "asphalt*"]}

Each class takes a pattern or a list of them: a glob (``fnmatch``, case-sensitive) or, after
``re:``, a regular expression that must match the whole name. The classes then go through the label
table exactly as mask channels do (``per-image`` numbering, ``face``, ``full_body``, ``clothing``,
a user table), with the same ``--unknown`` and ``--allow-merge`` policies. Without a rules file
every manifest name is its own class.

Policies, reported in the result's warnings and ``info.json``:

* a name no rule claims is *unclaimed*: with ``unknown="error"`` (the default) the render fails
  naming it, with ``"background"`` its coverage counts as background;
* a name two classes both claim fails the render with ``overlap="error"`` (the default), or goes to
  the first class of the file with ``overlap="first"``;
* ids in the pixels that the manifest does not list (damaged or stale manifests) count as
  background, and the number of pixels holding them is reported.

The label of a pixel (one Numba pass over the ranks, :func:`class_labels`): per class the sum of its
names' coverage; background = 1 - the sum over all classes; argmax with ties to background, then to
the class that sorts first (the mask rule of :mod:`framebuf.labels`), or with ``mode="threshold"``
the last class above the threshold. ``margin`` (argmax only): where the winner beats the runner-up (background
included) by less than ``margin``, the pixel gets ``ignore_value`` instead (an "ignore" label for
training losses that skip uncertain edges).
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import FramebufError

REGEX_PREFIX = "re:"
MODE_CODES = {"argmax": 0, "threshold": 1}


class ClassRulesError(FramebufError):
    """A rules file that cannot be read or holds a bad pattern."""


@dataclass
class ClassRules:
    """Class name -> patterns, in the file's order (the order ``overlap="first"`` follows)."""

    source: str
    rules: dict = field(default_factory=dict)     # class -> [(pattern text, compiled matcher)]

    def classes(self) -> list[str]:
        return list(self.rules)

    def claims(self, name: str) -> list[str]:
        """Every class whose patterns match ``name``, in file order."""
        return [c for c, pats in self.rules.items() if any(m(name) for _, m in pats)]


def _matcher(source: str, cls: str, pattern):
    if not isinstance(pattern, str) or not pattern:
        raise ClassRulesError(f"{source}: class {cls!r}: a pattern must be a non-empty string, "
                              f"not {pattern!r}")
    if pattern.startswith(REGEX_PREFIX):
        try:
            rx = re.compile(pattern[len(REGEX_PREFIX):])
        except re.error as exc:
            raise ClassRulesError(f"{source}: class {cls!r}: bad regular expression "
                                  f"{pattern!r} ({exc})") from None
        return lambda name: rx.fullmatch(name) is not None
    return lambda name: fnmatch.fnmatchcase(name, pattern)


def rules_from_dict(doc, source: str = "<rules>") -> ClassRules:
    if isinstance(doc, dict) and set(doc) == {"classes"} and isinstance(doc["classes"], dict):
        doc = doc["classes"]
    if not isinstance(doc, dict) or not doc:
        raise ClassRulesError(f"{source}: a rules file is a JSON object of class name -> pattern "
                              f"or list of patterns")
    rules = {}
    for cls, pats in doc.items():
        if cls == "background":
            raise ClassRulesError(f"{source}: 'background' is the label of uncovered pixels, "
                                  f"not a class to match")
        pats = [pats] if isinstance(pats, str) else pats
        if not isinstance(pats, list) or not pats:
            raise ClassRulesError(f"{source}: class {cls!r} needs a pattern or a list of patterns")
        rules[str(cls)] = [(p, _matcher(source, cls, p)) for p in pats]
    return ClassRules(source, rules)


def load_rules(path) -> ClassRules:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ClassRulesError(f"{path}: cannot read the rules file ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ClassRulesError(f"{path}: not JSON ({exc})") from None
    return rules_from_dict(doc, str(path))


@dataclass
class Assignment:
    """Which class each manifest name went to, and what did not fit."""

    classes: list                    # class names, in label tie order (sorted)
    name_class: dict                 # manifest name -> class
    unclaimed: list                  # names no rule claims
    overlaps: dict                   # name -> [classes claiming it]


def assign(names, rules: ClassRules | None, overlap: str = "error") -> Assignment:
    """Map manifest names to classes. Without rules each name is its own class."""
    if overlap not in ("error", "first"):
        raise FramebufError(f"overlap must be error or first, not {overlap!r}")
    names = list(names)
    if rules is None:
        return Assignment(sorted(names), {n: n for n in names}, [], {})
    name_class, unclaimed, overlaps = {}, [], {}
    for n in names:
        hit = rules.claims(n)
        if not hit:
            unclaimed.append(n)
            continue
        if len(hit) > 1:
            overlaps[n] = hit
        name_class[n] = hit[0]
    return Assignment(sorted(rules.classes()), name_class, sorted(unclaimed), overlaps)


def describe(names, limit: int = 6) -> str:
    names = list(names)
    text = ", ".join(repr(n) for n in names[:limit])
    return text + (f" ... ({len(names)} in all)" if len(names) > limit else "")


def class_labels(ranks, key_bits, key_class, values, background: int, nclass: int,
                 mode: str = "argmax", threshold: float = 0.48, margin: float = 0.0,
                 ignore_value: int = 0, soft: bool = False):
    """Labels (H, W) uint32 from a layer's ranks (:class:`framebuf.cryptomatte.Ranks`).

    ``key_bits``: uint32 ids of the manifest names, ``key_class``: the class index of each (-1:
    background), ``values``: the label value of each class. Returns ``(labels, soft, stray)``:
    ``soft`` is (nclass + 1, H, W) float32 coverage, background first, or None."""
    from .._labelkernels import _class_kernel

    nr, h, w = ranks.ids.shape
    order = np.argsort(np.asarray(key_bits, np.uint32), kind="stable")
    keys = np.ascontiguousarray(np.asarray(key_bits, np.uint32)[order])
    kc = np.ascontiguousarray(np.asarray(key_class, np.int64)[order])
    out = np.empty(h * w, np.uint32)
    soft_arr = np.zeros((nclass + 1, h * w) if soft else (0, 1), np.float32)
    stray = np.zeros(1, np.int64)
    _class_kernel(ranks.ids.reshape(nr, -1), ranks.coverage.reshape(nr, -1), keys, kc,
                  np.int64(nclass), np.ascontiguousarray(values, np.uint32), np.uint32(background),
                  np.int64(MODE_CODES[mode]), np.float32(threshold), np.float32(margin),
                  np.uint32(ignore_value), out, soft_arr, stray)
    return (out.reshape(h, w), soft_arr.reshape(nclass + 1, h, w) if soft else None,
            int(stray[0]))


def parse_source(text: str) -> tuple[str, str | None]:
    """``masks`` | ``cryptomatte`` | ``cryptomatte:LAYER`` -> (kind, layer)."""
    kind, _, layer = text.partition(":")
    if kind not in ("masks", "cryptomatte") or (kind == "masks" and layer):
        raise FramebufError(f"labels come from masks or cryptomatte[:LAYER], not {text!r}")
    return kind, (layer or None)
