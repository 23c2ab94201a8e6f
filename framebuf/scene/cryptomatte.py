"""Cryptomatte framebuffers of a scene (framebuf extension of the ``.mi`` syntax, README
"Cryptomatte"): planning, per-sample ids, resolve and the file's header.

A camera statement ``framebuffer "CryptoObject" cryptomatte "object"`` (optionally ``ranks N``,
``manifest "auto|inline|sidecar"``, and the usual ``filetype "exr" filename ...``) makes one
Cryptomatte layer named after the framebuffer:

* ``object``: the names of the ``framebuf primitives`` (``CryptoObject``); primitives sharing a
  name share an id.
* ``material``: the primitives' ``material "NAME"`` parameter (``CryptoMaterial``); a primitive
  without one is not in the layer (its samples count as nothing, like the background).

Samples name their primitive in the ``object`` sample channel (1 + index into
``scene.primitives``, 0 = nothing; :mod:`framebuf.sources.raycast`). Per batch the layer maps
those to its own name indices, the resolver's ``ranked`` rule keeps ``ranks`` of them per pixel
through the options' pixel filter (the colour filter, as the specification asks), and
:func:`framebuf.cryptomatte_encode.encode` turns them into the rank and preview buffers and the
``cryptomatte/<key>/...`` header of the file that holds them. Outside the camera window the ranks
are empty (id 0, coverage 0).

Checks at planning time, so nothing is rendered or written first: the file must be an EXR, with a
lossless compression (float32 ids do not survive PXR24, B44 or DWA), and with ``premultiply off``
the Cryptomatte layer needs a file of its own (un-premultiplying would divide ids by coverage).
"""

from __future__ import annotations

import numpy as np

from ..buffers import FileProperties
from ..cryptomatte_encode import encode, split_ranks
from ..errors import FramebufError, SceneError

DEFAULT_RANKS = 6
#: compressions that keep float32 bits exactly
LOSSLESS = ("none", "rle", "zip", "zips", "piz")


def _error(decl, message: str) -> SceneError:
    loc = decl.location or ("<scene>", 1, 1)
    return SceneError(loc[0], loc[1], loc[2], f"framebuffer {decl.name!r}: {message}")


class CryptoLayer:
    """One Cryptomatte framebuffer of a render: its names, id map, resolver channel, buffers."""

    def __init__(self, ex, decl, fprops: FileProperties):
        if not decl.cryptomatte:
            raise _error(decl, "ranks and manifest apply to a cryptomatte framebuffer "
                               "(cryptomatte \"object\" or \"material\")")
        if decl.primary:
            raise _error(decl, "a cryptomatte framebuffer holds ids, it cannot be primary")
        self.decl = decl
        self.name = decl.name
        self.kind = decl.cryptomatte
        self.ranks = decl.ranks or DEFAULT_RANKS
        self.manifest = decl.manifest or "auto"
        self.file = fprops
        self.fbs = ex.fbs
        self.exr_path = ex._target(decl.filename, decl.location) if decl.filename else None
        self.names, self.lut = self._names(ex.scene.primitives)
        self.channel = f"cryptomatte:{self.name}"
        self.options = {"kind": "ranked", "source": self.channel, "ranks": self.ranks,
                        "filter": ex._colour_filter()}
        shape = (self.fbs.height, self.fbs.width, self.ranks)
        self._encode(np.zeros(shape, np.uint32), np.zeros(shape, np.float32))

    def _names(self, primitives):
        """(names, lut): lut[1 + primitive index] = 1 + index of its name, 0 for none."""
        names: list[str] = []
        index: dict[str, int] = {}
        lut = np.zeros(len(primitives) + 1, np.uint32)
        for i, prim in enumerate(primitives):
            key = prim.name if self.kind == "object" else (prim.params or {}).get("material")
            if key is None:
                continue
            key = str(key)
            if key not in index:
                index[key] = len(names)
                names.append(key)
            lut[i + 1] = index[key] + 1
        return names, lut

    def _encode(self, ids, coverage) -> None:
        try:
            self.encoded = encode(self.name, ids, coverage, self.names, manifest=self.manifest,
                                  exr_path=self.exr_path, file=self.file)
        except FramebufError as exc:
            raise _error(self.decl, str(exc)) from None

    @property
    def buffer_names(self) -> list[str]:
        return self.encoded.buffer_names

    def add_ids(self, batch) -> None:
        """Give ``batch`` this layer's per-sample name indices (the resolver channel's source)."""
        obj = batch.values.get("object")
        if obj is None:
            raise _error(self.decl, "the sample source gives no per-sample object ids (the "
                                    "'object' sample channel) for the Cryptomatte layer")
        obj = np.asarray(obj).reshape(-1)
        if obj.size and (obj.min() < 0 or obj.max() >= self.lut.size):
            raise _error(self.decl, f"sample object id {int(obj.max())} is not one of the scene's "
                                    f"{self.lut.size - 1} primitives")
        batch.values[self.channel] = self.lut[obj.astype(np.int64)]

    def fill(self, ranked: np.ndarray, window) -> None:
        """Turn the resolved ranks into the layer's buffers (replacing the placeholders)."""
        ids, coverage = split_ranks(ranked)
        if window is not None:
            x0, y0, x1, y1 = window
            inside = np.zeros(ids.shape[:2], bool)
            inside[y0:y1, x0:x1] = True
            ids = np.where(inside[:, :, None], ids, np.uint32(0))
            coverage = np.where(inside[:, :, None], coverage, np.float32(0))
        self._encode(ids, coverage)
        for buf in self.encoded.buffers:
            self.fbs.add_buffer(buf)


def plan_layer(ex, decl, fprops: FileProperties) -> CryptoLayer:
    return CryptoLayer(ex, decl, fprops)


def check_job(ex, job, decls) -> None:
    """A file holding Cryptomatte layers: EXR, lossless, premultiplied (module docstring)."""
    if not decls:
        return
    decl = decls[0]
    if job.spec.name != "exr":
        raise _error(decl, f"a Cryptomatte layer needs an EXR file (header attributes, float32 "
                           f"channels), not format {job.spec.name!r}")
    comp = job.options.get("compression")
    if comp is not None and comp not in LOSSLESS:
        raise _error(decl, f"compression {comp!r} is lossy for float32 ids; use one of "
                           f"{', '.join(LOSSLESS)}")
    if not ex.options.premultiply:
        crypto = {n for d in decls for n in ex.crypto[d.name].buffer_names}
        others = [n for n in job.buffer_names if n not in crypto]
        if others:
            raise _error(decl, f"with premultiply off colour is un-premultiplied on write, which "
                               f"would change the ids; write the Cryptomatte layer to a file of "
                               f"its own, not with {', '.join(others)}")
    job.options["premultiply"] = True
