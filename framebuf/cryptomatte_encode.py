"""Writing Cryptomatte layers (specification v1.2): ranked ids and coverage -> EXR buffers + header.

:func:`encode` takes a layer name, per-pixel ranks (``ids`` uint32 indices into ``names``, 1-based,
0 = nothing; ``coverage`` float32), e.g. from the resolver's ``ranked`` rule, and returns an
:class:`EncodedLayer`:

* **rank buffers** ``<layer>00``, ``<layer>01`` ... (``rgba_fp``, channels ``<layer>NN.R G B A``,
  float32): level NN holds rank 2·NN in R (id) and G (coverage), rank 2·NN+1 in B and A. An odd
  rank count leaves the last level's B and A at 0. The default 6 ranks are levels 00, 01, 02.
* **ids**: a name's id is MurmurHash3_x86_32 of its UTF-8 bytes (seed 0) with bit 23 flipped when
  the exponent bits are 0 or 255, stored as those 32 bits of a float32
  (:func:`framebuf.cryptomatte.name_bits`). Nothing is id 0.0 with coverage 0.
* **header** ``cryptomatte/<key>/name``, ``hash`` (``MurmurHash3_32``), ``conversion``
  (``uint32_to_float32``) and ``manifest`` (JSON ``{"name": "8 hex digits"}``, the id's bits as a
  big-endian hex uint32, names sorted, UTF-8) or, for a sidecar, ``manif_file``. ``<key>`` is the
  first 7 hex digits of MurmurHash3 of the layer name, the specification's suggestion.
* **sidecar**: ``manifest="sidecar"``, or ``"auto"`` (default) when the inline JSON would exceed
  :data:`SIDECAR_BYTES`: the JSON goes to ``<exr stem>.<layer>.json`` beside the EXR (``manif_file``
  is that name, relative, as the specification requires); the caller writes it
  (:meth:`EncodedLayer.write_sidecar`), before the EXR.
* **preview** ``<layer>`` (``rgb_fp``, channels ``<layer>.R G B``; deprecated by the specification,
  written for viewers): per pixel the sum over ranks of coverage times the id's colour, whose
  R, G, B are bits 16-23, 8-15 and 0-7 of the id over 255 (distinct names get distinct-looking
  colours; nothing reads the preview back).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import mmh3
import numpy as np

from ._atomic import atomic_output
from .buffers import FileProperties, FrameBuffer
from .cryptomatte import CONVERSION, HASH, name_bits
from .errors import CryptomatteError, FramebufError

#: inline manifests up to this many bytes of JSON; larger ones go to a sidecar with "auto"
SIDECAR_BYTES = 1 << 16
MANIFEST_MODES = ("auto", "inline", "sidecar")
RANK_CHANNELS = ("R", "G", "B", "A")


def layer_key(name: str) -> str:
    """The header key of a layer: the first 7 hex digits of MurmurHash3 of its name."""
    return f"{mmh3.hash(name.encode('utf-8'), 0, signed=False):08x}"[:7]


def manifest_json(names) -> str:
    """``{"name": "8 hex digits", ...}`` for the names, sorted, UTF-8 (no escapes)."""
    return json.dumps({n: f"{name_bits(n):08x}" for n in sorted(set(names))}, ensure_ascii=False,
                      separators=(",", ":"))


def id_table(names) -> np.ndarray:
    """uint32 id bits by index: entry 0 is nothing (0), entry i the id of ``names[i - 1]``."""
    return np.array([0] + [name_bits(n) for n in names], np.uint32)


def preview_colour(bits: np.ndarray, coverage: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32: the sum over ranks of coverage times the id's colour (module docstring)."""
    b = bits.astype(np.uint32)
    rgb = np.stack([(b >> 16) & 255, (b >> 8) & 255, b & 255], axis=-1).astype(np.float32) / 255.0
    return np.einsum("hwk,hwkc->hwc", coverage.astype(np.float32), rgb).astype(np.float32)


def sidecar_name(exr_path, layer: str) -> str:
    """``<exr stem>.<layer>.json``, the layer name reduced to characters safe in a file name."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", layer).strip(".") or "layer"
    return f"{Path(exr_path).stem}.{safe}.json"


@dataclass
class EncodedLayer:
    """One layer ready for an EXR: its buffers (ranks, then the preview), header attributes and,
    when the manifest is a sidecar, (file name relative to the EXR, JSON text)."""

    name: str
    buffers: list[FrameBuffer]
    attributes: dict[str, str]
    names: list[str] = field(default_factory=list)
    sidecar: tuple[str, str] | None = None

    @property
    def buffer_names(self) -> list[str]:
        return [b.name for b in self.buffers]

    def write_sidecar(self, exr_path) -> Path | None:
        """Write the sidecar manifest beside ``exr_path`` (atomically); None without one."""
        if self.sidecar is None:
            return None
        target = Path(exr_path).parent / self.sidecar[0]
        with atomic_output(target) as tmp:
            Path(tmp).write_text(self.sidecar[1], encoding="utf-8")
        return target


def encode(name: str, ids: np.ndarray, coverage: np.ndarray, names, *, manifest: str = "auto",
           exr_path=None, file: FileProperties | None = None) -> EncodedLayer:
    """Encode ranks into a layer (module docstring). ``ids`` (H, W, K) uint32 index + 1 into
    ``names`` (0 = nothing), ``coverage`` (H, W, K); ``exr_path`` names the sidecar."""
    names = [str(n) for n in names]
    if not name or any(c in name for c in "\0"):
        raise FramebufError(f"cryptomatte layer name {name!r} is empty or holds a NUL")
    if manifest not in MANIFEST_MODES:
        raise FramebufError(f"cryptomatte layer {name!r}: manifest must be one of "
                            f"{', '.join(MANIFEST_MODES)}, not {manifest!r}")
    ids = np.asarray(ids)
    coverage = np.asarray(coverage, np.float32)
    if ids.ndim != 3 or ids.shape != coverage.shape:
        raise FramebufError(f"cryptomatte layer {name!r}: ids {ids.shape} and coverage "
                            f"{coverage.shape} must both be (height, width, ranks)")
    if ids.size and int(ids.max()) > len(names):
        raise FramebufError(f"cryptomatte layer {name!r}: id index {int(ids.max())} but only "
                            f"{len(names)} names")
    h, w, k = ids.shape
    bits = id_table(names)[ids.astype(np.int64)]
    levels = (k + 1) // 2
    buffers = []
    for level in range(levels):
        data = np.zeros((h, w, 4), np.float32)
        for half in range(2):
            r = 2 * level + half
            if r < k:
                data[:, :, 2 * half] = bits[:, :, r].view(np.float32)
                data[:, :, 2 * half + 1] = coverage[:, :, r]
        lname = f"{name}{level:02d}"
        buffers.append(FrameBuffer(lname, "rgba_fp", data, user=True, file=file,
                                   channels=tuple(f"{lname}.{c}" for c in RANK_CHANNELS)))
    buffers.append(FrameBuffer(name, "rgb_fp", preview_colour(bits, coverage), user=True, file=file,
                               channels=tuple(f"{name}.{c}" for c in RANK_CHANNELS[:3])))
    key = layer_key(name)
    attrs = {f"cryptomatte/{key}/name": name, f"cryptomatte/{key}/hash": HASH,
             f"cryptomatte/{key}/conversion": CONVERSION}
    text = manifest_json(names)
    sidecar = None
    if manifest == "sidecar" or (manifest == "auto" and len(text.encode("utf-8")) > SIDECAR_BYTES):
        if exr_path is None:
            raise CryptomatteError("(no file)", name, "a sidecar manifest needs the EXR's path")
        rel = sidecar_name(exr_path, name)
        attrs[f"cryptomatte/{key}/manif_file"] = rel
        sidecar = (rel, text)
    else:
        attrs[f"cryptomatte/{key}/manifest"] = text
    return EncodedLayer(name, buffers, attrs, names, sidecar)


def split_ranks(ranked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The resolver's ``ranked`` result (H, W, 2K) float32 -> (ids uint32, coverage float32)."""
    r = np.ascontiguousarray(ranked, np.float32)
    return np.ascontiguousarray(r[..., 0::2]).view(np.uint32), np.ascontiguousarray(r[..., 1::2])
