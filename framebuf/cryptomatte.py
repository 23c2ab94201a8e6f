"""Cryptomatte (specification v1.2): find a file's layers, decode mattes of names or glob patterns.

A layer is declared in a part's header by ``cryptomatte/<key>/name`` (any key: the spec only
*suggests* 7 hex digits of the name's hash, PxrCryptomatte uses others), with ``hash``
(``MurmurHash3_32``), ``conversion`` (``uint32_to_float32``) and optionally ``manifest`` (JSON
``{"name": "8 hex digits"}``) or ``manif_file`` (a sidecar JSON, relative to the EXR's folder).

Its ranks are the channels ``<name>NN.<r|red|R|RED...>`` ..., ``NN`` = 00, 01 ...: in level NN,
R (or red) holds the id of rank 2·NN and G its coverage, B the id of rank 2·NN+1 and A its
coverage. Channel names are full names across the file, so the same rule finds V-Ray / Arnold /
Nuke layers (``uCryptoAsset00.red``), Blender's view-layer prefix (``ViewLayer.CryptoObject00.R``)
and Blender 5's multi-part files (part ``ViewLayer.CryptoObject00`` holding ``r g b a``); a layer
whose dots Nuke turned into underscores (``ViewLayer_CryptoObject00``) is found too. The
un-numbered preview channels ``<name>.r/g/b`` (deprecated) are not used.

A name's id is MurmurHash3_x86_32 of its UTF-8 bytes, seed 0, with bit 23 flipped when the
exponent bits are 0 or 255, reinterpreted as float32. Manifest hex is read as a uint32 and given
the same exponent fix, so Blender's raw hashes and V-Ray's fixed ones both compare equal.
matte(S) = the sum, over the ranks in order, of the coverage whose id is the id of a name in S.
Rank order is not trusted (real files have rank 1 above rank 0).

Errors (:mod:`framebuf.errors`): :class:`CryptomatteError` (no such layer, its channels missing or
not float32), :class:`CryptomatteManifestError` (truncated or invalid manifest, missing sidecar,
a hash that is not MurmurHash3 of its name), :class:`CryptomatteNameError` (a name or pattern the
manifest does not list). Each is one line naming the file and the layer.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import mmh3
import numpy as np
from numba import njit

from .buffers import FrameBufferSet
from .errors import (CryptomatteError, CryptomatteManifestError, CryptomatteNameError,
                     FramebufError)
from .formats import _exrfile as exrfile

HASH = "MurmurHash3_32"
CONVERSION = "uint32_to_float32"
_SUFFIX = {"r": 0, "red": 0, "g": 1, "green": 1, "b": 2, "blue": 2, "a": 3, "alpha": 3}
_GLOB = set("*?[")


# -- name -> id --------------------------------------------------------------------------------

def fix_bits(h: int) -> int:
    """The spec's exponent fix: bit 23 flipped when the exponent bits are 0 or 255 (so the float is
    neither zero, subnormal, inf nor NaN). Idempotent."""
    h &= 0xFFFFFFFF
    exponent = (h >> 23) & 255
    return h ^ (1 << 23) if exponent in (0, 255) else h


def name_bits(name: str) -> int:
    """The uint32 bits of a name's id: MurmurHash3_x86_32 of the UTF-8 bytes, seed 0, fixed."""
    return fix_bits(mmh3.hash(name.encode("utf-8"), 0, signed=False))


def bits_to_float(bits: int) -> float:
    return float(np.array([bits], dtype=np.uint32).view(np.float32)[0])


def name_id(name: str) -> float:
    """A name's id as the float32 value the rank channels hold."""
    return bits_to_float(name_bits(name))


# -- layers ------------------------------------------------------------------------------------

@dataclass
class Layer:
    """One Cryptomatte layer of a file: its metadata and its rank channels."""

    path: str
    name: str
    key: str
    part: int                                   # the part whose header declares it
    hash: str = HASH
    conversion: str = CONVERSION
    manifest_text: str | None = None            # inline JSON
    manif_file: str | None = None               # sidecar, relative to the EXR's folder
    ranks: list = field(default_factory=list)   # [(id channel, coverage channel)], full names
    pixel_types: dict = field(default_factory=dict)   # full channel name -> half/float/uint
    problem: CryptomatteError | None = None     # declared, but its channels are unusable
    _manifest: dict | None = field(default=None, repr=False)

    def error(self, problem: str, cls=CryptomatteError):
        return cls(self.path, self.name, problem)

    @property
    def has_manifest(self) -> bool:
        return self.manifest_text is not None or self.manif_file is not None

    @property
    def manifest_source(self) -> str:
        if self.manif_file is not None:
            return f"sidecar {self.manif_file}"
        return "inline" if self.manifest_text is not None else "none"

    @property
    def channels(self) -> list[str]:
        return [c for pair in self.ranks for c in pair]

    def manifest(self) -> dict[str, int]:
        """name -> id bits (exponent-fixed), every entry checked against MurmurHash3 of its name."""
        if self._manifest is not None:
            return self._manifest
        if not self.has_manifest:
            raise self.error("has no manifest (cryptomatte/<key>/manifest or manif_file)",
                             CryptomatteManifestError)
        text, where = self.manifest_text, "manifest"
        if self.manif_file is not None:
            text, where = self._sidecar(), f"sidecar manifest {self.manif_file}"
        try:
            doc = json.loads(text)
        except ValueError as exc:
            kind = "truncated" if exc.pos >= len(text.rstrip()) - 1 else "invalid"
            raise self.error(f"{where} is {kind} JSON ({exc.msg} at character {exc.pos} of "
                             f"{len(text)})", CryptomatteManifestError) from None
        if not isinstance(doc, dict):
            raise self.error(f"{where} is not a JSON object of name: hex", CryptomatteManifestError)
        out = {}
        for name, hexid in doc.items():
            if not isinstance(hexid, str) or not re.fullmatch(r"[0-9a-fA-F]{1,8}", hexid):
                raise self.error(f"{where}: {name!r} has id {hexid!r}, not 8 hex digits",
                                 CryptomatteManifestError)
            stored, want = fix_bits(int(hexid, 16)), name_bits(name)
            if stored != want:
                raise self.error(f"{where}: {name!r} has id {hexid}, but MurmurHash3 of the name "
                                 f"is {want:08x}", CryptomatteManifestError)
            out[name] = want
        self._manifest = out
        return out

    def _sidecar(self) -> str:
        rel = self.manif_file
        if not rel or os.path.isabs(rel) or "\\" in rel or any(p in ("..", ".") for p in rel.split("/")):
            raise self.error(f"manif_file {rel!r} must be a path relative to the EXR's folder "
                             "(no ./, ../, backslashes)", CryptomatteManifestError)
        side = Path(self.path).parent / rel
        try:
            return side.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise self.error(f"sidecar manifest {str(side)!r} does not exist",
                             CryptomatteManifestError) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise self.error(f"sidecar manifest {str(side)!r} cannot be read ({exc})",
                             CryptomatteManifestError) from None

    def resolve(self, selectors) -> dict[str, int]:
        """Names and glob patterns -> {name: id bits}. An argument equal to a manifest name is that
        name (names may hold ``* ? [ ]``); else, if it has glob characters, the manifest names it
        matches (``fnmatch``, case-sensitive; ``[*]`` matches a literal ``*``). Without a manifest
        a plain name is hashed as it is (the spec: decoders should not rely on the manifest)."""
        if isinstance(selectors, str):
            selectors = [selectors]
        if not selectors:
            raise self.error("no name to select", CryptomatteNameError)
        manifest = self.manifest() if self.has_manifest else None
        out: dict[str, int] = {}
        for sel in selectors:
            if manifest is None:
                if _GLOB & set(sel):
                    raise self.error(f"{sel!r} is a pattern, and the layer has no manifest to match "
                                     "it against", CryptomatteNameError)
                out[sel] = name_bits(sel)
            elif sel in manifest:
                out[sel] = manifest[sel]
            else:
                hits = [n for n in manifest if _GLOB & set(sel) and fnmatch.fnmatchcase(n, sel)]
                if not hits:
                    near = ", ".join(repr(n) for n in sorted(manifest)[:8])
                    more = f" ... ({len(manifest)} names)" if len(manifest) > 8 else ""
                    what = "pattern" if _GLOB & set(sel) else "name"
                    raise self.error(f"the manifest has no {what} {sel!r}; names: {near}{more}",
                                     CryptomatteNameError)
                out.update((n, manifest[n]) for n in sorted(hits))
        return out


def _declared(exr) -> list[tuple[int, str, dict]]:
    """(part, key, {field: value}) for every cryptomatte/<key>/<field> of every part's header."""
    out = []
    for part in exr.parts:
        keys: dict[str, dict] = {}
        for k, v in part.attributes.items():
            if k.startswith("cryptomatte/") and k.count("/") >= 2:
                key, _, fld = k[len("cryptomatte/"):].rpartition("/")
                keys.setdefault(key, {})[fld] = v
        out.extend((part.index, key, f) for key, f in sorted(keys.items()) if "name" in f)
    return out


def _find_ranks(path, name: str, full: dict[str, str]) -> tuple[list, dict]:
    """The rank channels of layer ``name`` among ``full`` (full channel name -> pixel type)."""
    for stem in dict.fromkeys([name, name.replace(".", "_")]):
        pattern = re.compile(re.escape(stem) + r"(\d+)\.([A-Za-z]+)")
        levels: dict[int, dict[int, str]] = {}
        for ch in full:
            m = pattern.fullmatch(ch)
            if m and m.group(2).lower() in _SUFFIX:
                levels.setdefault(int(m.group(1)), {}).setdefault(_SUFFIX[m.group(2).lower()], ch)
        if levels:
            break
    else:
        raise CryptomatteError(path, name, f"no rank channels {name}00.R ... (or .r, .red) in the file")
    ranks = []
    for n in range(max(levels) + 1):
        chans = levels.get(n, {})
        if 0 not in chans or 1 not in chans:
            raise CryptomatteError(path, name, f"rank level {n:02d} lacks its id or coverage channel "
                                   f"(has {', '.join(sorted(chans.values())) or 'nothing'})")
        ranks.append((chans[0], chans[1]))
        if 2 in chans and 3 in chans:
            ranks.append((chans[2], chans[3]))
    types = {c: full[c] for pair in ranks for c in pair}
    return ranks, types


def layers(path) -> list[Layer]:
    """Every Cryptomatte layer of an EXR file, from its headers only (no pixels decoded). A layer
    whose rank channels are missing is listed with its ``problem``, raised when it is read."""
    path = str(path)
    try:
        exr = exrfile.read_header(path)
    except FramebufError:
        raise
    except (ValueError, IndexError, KeyError) as exc:          # not an EXR or a broken header
        raise CryptomatteError(path, None, f"not a readable OpenEXR header ({exc})") from None
    full = {}
    for part in exr.parts:
        for ch in part.channels:
            full.setdefault(exrfile.full_channel_name(part.name, ch.name, exr.multipart), ch.pixel_type)
    out, seen = [], set()
    for part, key, f in _declared(exr):
        name = str(f["name"])
        if name in seen:            # Blender 5 repeats the metadata in every part's header
            continue
        seen.add(name)
        lay = Layer(path, name, key, part, str(f.get("hash", HASH)), str(f.get("conversion", CONVERSION)),
                    None if f.get("manifest") is None else str(f["manifest"]),
                    None if f.get("manif_file") is None else str(f["manif_file"]))
        try:            # metadata often survives a comp that dropped the channels: keep the
            lay.ranks, lay.pixel_types = _find_ranks(path, name, full)    # other layers usable
        except CryptomatteError as exc:
            lay.problem = exc
        out.append(lay)
    return out


def layer(path, name: str | None = None) -> Layer:
    """The layer called ``name``, or the file's only layer when ``name`` is None."""
    found = layers(path)
    if not found:
        raise CryptomatteError(path, name, "no cryptomatte layer in the file (no cryptomatte/<key>/name "
                                           "attribute)" if name is None else "not in the file: it has "
                                           "no cryptomatte layer")
    if name is None:
        if len(found) > 1:
            raise CryptomatteError(path, None, f"{len(found)} cryptomatte layers, choose one: "
                                   + ", ".join(l.name for l in found))
        return found[0]
    for lay in found:
        if lay.name == name:
            return lay
    raise CryptomatteError(path, name, "not in the file; layers: " + ", ".join(l.name for l in found))


# -- pixels ------------------------------------------------------------------------------------

@dataclass
class Ranks:
    """A layer's ranks as read: ``ids`` uint32 bits and ``coverage`` float32, each (ranks, H, W),
    with the set's ``origin`` and ``display_window``."""

    layer: Layer
    ids: np.ndarray
    coverage: np.ndarray
    origin: tuple
    display_window: tuple | None

    @property
    def shape(self) -> tuple[int, int]:
        return self.ids.shape[1:]


def read_ranks(lay: Layer, window: str = "data") -> Ranks:
    """Decode only the layer's rank channels (``framebuf.read(..., channels=...)``)."""
    from .io import read

    if lay.problem is not None:
        raise lay.problem
    if lay.hash != HASH:
        raise lay.error(f"hash {lay.hash!r} is not supported (only {HASH})")
    if lay.conversion != CONVERSION:
        raise lay.error(f"conversion {lay.conversion!r} is not supported (only {CONVERSION})")
    bad = [c for c, t in lay.pixel_types.items() if t != "float"]
    if bad:
        raise lay.error(f"channel {bad[0]} is {lay.pixel_types[bad[0]]}, ids and coverage must be "
                        "float32 (half cannot hold the hashes)")
    fbs = read(lay.path, channels=lay.channels, window=window)
    exr_multipart = len(fbs.parts) > 1
    planes: dict[str, np.ndarray] = {}
    for buf in fbs:
        pname = fbs.parts[buf.part].name if buf.part is not None and buf.part < len(fbs.parts) else ""
        for i, c in enumerate(buf.channels or ()):
            planes[exrfile.full_channel_name(pname, c, exr_multipart)] = buf.data[:, :, i]
    missing = [c for c in lay.channels if c not in planes]
    if missing:
        raise lay.error(f"channel {missing[0]} was not decoded")
    n = len(lay.ranks)
    ids = np.empty((n, fbs.height, fbs.width), np.uint32)
    cov = np.empty((n, fbs.height, fbs.width), np.float32)
    for r, (ic, cc) in enumerate(lay.ranks):
        ids[r] = np.ascontiguousarray(planes[ic], dtype=np.float32).view(np.uint32)
        cov[r] = planes[cc]
    return Ranks(lay, ids, cov, fbs.origin, fbs.display_window)


@njit(cache=True, inline="always")
def _lower_bound(keys, v):
    """The first index of sorted ``keys`` whose key is not below ``v`` (binary search)."""
    lo, hi = 0, keys.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _matte_kernel(ids, cov, keys, out):
    """out[p] = sum over ranks r (in order) of cov[r, p] where ids[r, p] is in the sorted ``keys``.
    Rank-major, so each rank is one contiguous sweep; up to 4 keys compared directly."""
    nr, npx = ids.shape
    nk = keys.shape[0]
    for p in range(npx):
        out[p] = 0.0
    for r in range(nr):
        idr = ids[r]
        cr = cov[r]
        if nk == 1:
            k0 = keys[0]
            for p in range(npx):
                if idr[p] == k0:
                    out[p] += cr[p]
        elif nk <= 4:
            for p in range(npx):
                v = idr[p]
                for k in range(nk):
                    if v == keys[k]:
                        out[p] += cr[p]
                        break
        else:
            for p in range(npx):
                v = idr[p]
                lo = _lower_bound(keys, v)
                if lo < nk and keys[lo] == v:
                    out[p] += cr[p]


@njit(cache=True)
def _index_kernel(ids, cov, keys, kidx, counts, positive, stray):
    """One pass over the ranks: kidx[r, p] = index of ids[r, p] in ``keys`` (-1: none, or an id
    already seen at an earlier rank of the pixel, whose coverage then joins that rank's);
    counts[k] = pixels holding name k, positive[k] = those with coverage > 0, stray = pixels with
    coverage > 0 on an id not in ``keys`` (other than 0)."""
    nr, npx = ids.shape
    nk = keys.shape[0]
    acc = np.zeros(nr, np.float32)
    for p in range(npx):
        lost = False
        for r in range(nr):
            v = ids[r, p]
            kidx[r, p] = -1
            acc[r] = cov[r, p]
            lo = _lower_bound(keys, v)
            if lo < nk and keys[lo] == v:
                dup = -1
                for q in range(r):
                    if kidx[q, p] == lo:
                        dup = q
                        break
                if dup >= 0:
                    acc[dup] += cov[r, p]
                else:
                    kidx[r, p] = lo
            elif v != 0 and cov[r, p] > 0:
                lost = True
        for r in range(nr):
            k = kidx[r, p]
            if k >= 0:
                counts[k] += 1
                if acc[r] > 0:
                    positive[k] += 1
                cov[r, p] = acc[r]      # the pixel's summed coverage of name k (cov is a copy)
        if lost:
            stray[0] += 1


@njit(cache=True)
def _fill_kernel(kidx, cov, offsets, pixels, values):
    nr, npx = kidx.shape
    pos = offsets[:-1].copy()
    for p in range(npx):
        for r in range(nr):
            k = kidx[r, p]
            if k >= 0:
                i = pos[k]
                pixels[i] = p
                values[i] = cov[r, p]
                pos[k] = i + 1


def _keys(bits) -> np.ndarray:
    return np.unique(np.asarray(list(bits), dtype=np.uint32))


def matte(source, names, layer_name: str | None = None) -> np.ndarray:
    """float32 (H, W) coverage of the names / glob patterns ``names`` (one pass over the ranks).
    ``source``: a path, a :class:`Layer` or :class:`Ranks` already read."""
    ranks = _ranks_of(source, layer_name)
    keys = _keys(ranks.layer.resolve(names).values())
    nr, h, w = ranks.ids.shape
    out = np.empty(h * w, np.float32)
    _matte_kernel(ranks.ids.reshape(nr, -1), ranks.coverage.reshape(nr, -1), keys, out)
    return out.reshape(h, w)


def matte_set(source, names, layer_name: str | None = None, rgb: bool = False) -> FrameBufferSet:
    """The matte as a one-buffer set (``matte``, a_fp; ``rgb``: rgba_fp with the matte in all four
    channels) keeping the file's data window and display window."""
    ranks = _ranks_of(source, layer_name)
    m = matte(ranks, names)
    h, w = m.shape
    fbs = FrameBufferSet(w, h, origin=ranks.origin, display_window=ranks.display_window)
    if rgb:
        fbs.add("matte", "rgba_fp", user=True, data=np.repeat(m[:, :, None], 4, axis=2))
    else:
        fbs.add("matte", "a_fp", user=True, data=m)
    return fbs


def _ranks_of(source, layer_name) -> Ranks:
    if isinstance(source, Ranks):
        return source
    if isinstance(source, Layer):
        return read_ranks(source)
    return read_ranks(layer(source, layer_name))


class Mattes:
    """Every manifest name's matte from one pass over the ranks, stored sparse: for name k the
    flat pixel indices ``pixels[offsets[k]:offsets[k+1]]`` and their coverage ``values[...]``."""

    def __init__(self, ranks: Ranks, names: list[str], keys: np.ndarray):
        nr, h, w = ranks.ids.shape
        self.shape, self.origin, self.display_window = (h, w), ranks.origin, ranks.display_window
        order = np.argsort(keys, kind="stable")
        self.names = [names[i] for i in order]
        self.keys = np.ascontiguousarray(keys[order])
        ids = ranks.ids.reshape(nr, -1)
        cov = ranks.coverage.reshape(nr, -1).copy()
        kidx = np.empty(ids.shape, np.int32)
        counts = np.zeros(len(self.keys), np.int64)
        self.positive = np.zeros(len(self.keys), np.int64)
        stray = np.zeros(1, np.int64)
        _index_kernel(ids, cov, self.keys, kidx, counts, self.positive, stray)
        self.stray_pixels = int(stray[0])
        self.offsets = np.zeros(len(self.keys) + 1, np.int64)
        np.cumsum(counts, out=self.offsets[1:])
        self.pixels = np.empty(int(self.offsets[-1]), np.int64)
        self.values = np.empty(int(self.offsets[-1]), np.float32)
        _fill_kernel(kidx, cov, self.offsets, self.pixels, self.values)
        # names sharing an id (a hash collision) share the first one's entries
        first = np.searchsorted(self.keys, self.keys, side="left")
        self._index = {n: int(first[i]) for i, n in enumerate(self.names)}

    def __len__(self) -> int:
        return len(self.names)

    def id_bits(self, name: str) -> int:
        return int(self.keys[self._index[name]])

    def pixel_count(self, name: str) -> int:
        """Pixels where the name's coverage is > 0."""
        return int(self.positive[self._index[name]])

    def sparse(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        k = self._index[name]
        a, b = self.offsets[k], self.offsets[k + 1]
        return self.pixels[a:b], self.values[a:b]

    def matte(self, name: str) -> np.ndarray:
        out = np.zeros(self.shape[0] * self.shape[1], np.float32)
        pix, val = self.sparse(name)
        out[pix] = val                  # a pixel appears once per name
        return out.reshape(self.shape)


def mattes(source, layer_name: str | None = None, names=None) -> Mattes:
    """Every manifest name's matte (or those of ``names`` / patterns) in one pass over the ranks."""
    ranks = _ranks_of(source, layer_name)
    chosen = ranks.layer.resolve(names) if names is not None else ranks.layer.manifest()
    return Mattes(ranks, list(chosen), np.asarray(list(chosen.values()), dtype=np.uint32))
