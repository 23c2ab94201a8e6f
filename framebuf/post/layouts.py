"""Channel layouts: which channels of a renderer's multi-channel EXR are the beauty, depth,
normals, points and segmentation masks -- and reading such a file as a :class:`FrameBufferSet`.

Everything renderer-specific is data: :data:`LAYOUT_TABLE` holds one row per naming scheme
(reference "synthetic-human" sections 0, 1.2 and 3), each role listing its *aliases* in order of
preference; the first alias whose channels are all present wins. Built-in layouts register
through the ``framebuf_channel_layouts`` hook like a plugin's would, so a studio can add its own
row without touching this file.

Channel names are *full names*: in a multi-part file whose parts are layers (Blender 5.x writes a
part ``ViewLayer.Depth`` holding channel ``Z``), the part name is prefixed
(:func:`framebuf.formats._exrfile.full_channel_name`), so one alias table covers single-part and
multi-part files. ``{L}`` in an alias is the view-layer prefix (``"ViewLayer."`` for Blender,
empty for the others); auto-detection tries every prefix the file has.

Decisions where the public sources are silent (all inference, documented in the README):

* V-Ray ``CameraNormals.RGB`` are camera space with OpenGL axes (x right, y up, z towards the
  camera) as they are; V-Ray ``normals.XYZ`` have x mirrored (exr-info multiplies X by -1).
* Blender ``Normal``/``Position`` and Arnold ``N``/``P`` are world space. They become camera space
  through the header's ``worldToCamera`` matrix (OpenEXR standard attribute: row vectors, camera
  looking down +z, left-handed) followed by a z flip to OpenGL axes; without that attribute they
  stay world space and extraction says so.
* Clothing masks: no public file shows their channel names; ``clothing_segmentation.<item>`` (and
  Blender AOVs ``clothing_segmentation_<item>``) is our convention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from ..buffers import FrameBufferSet
from ..errors import FramebufError, MemoryBudgetError
from ..hookspecs import hookimpl
from ..formats import _exrfile as exrread

@dataclass(frozen=True)
class Alias:
    """One way a role can be spelled: channel names (with ``{L}``), their space and sign."""

    channels: tuple[str, ...]
    space: str = "camera"                 # camera (OpenGL axes) | world | screen
    signs: tuple[float, ...] = ()         # per-component factor, e.g. (-1, 1, 1) for a mirrored x


@dataclass(frozen=True)
class ChannelLayout:
    """A naming scheme. ``roles`` maps a role to its aliases in order of preference; ``masks`` and
    ``clothing_masks`` are regexes with a ``part`` group (``{L}`` allowed); ``signature`` regexes
    mark files of this renderer for auto-detection; ``multipart`` is the file structure the
    renderer writes (True/False), None when either."""

    name: str
    description: str
    roles: dict
    masks: tuple[str, ...] = ()
    clothing_masks: tuple[str, ...] = ()
    signature: tuple[str, ...] = ()
    multipart: bool | None = None
    layer_prefix: bool = False            # channel names start with a view-layer name
    notes: str = ""

    def resolve(self, names, multipart: bool = False, prefix: str | None = None) -> "Resolved":
        """Match this layout against a file's full channel names (a list, in file order)."""
        names = list(names)
        if prefix is None:
            prefixes = _view_layers(names) if self.layer_prefix else [""]
            best = None
            for p in prefixes or [""]:
                r = self.resolve(names, multipart, p)
                if best is None or r.score > best.score:
                    best = r
            return best
        present = set(names)
        res = Resolved(layout=self, prefix=prefix, channel_names=names, multipart=multipart)
        for role, aliases in self.roles.items():
            for alias in aliases:
                chans = tuple(c.replace("{L}", prefix) for c in alias.channels)
                if all(c in present for c in chans):
                    res.roles[role] = RoleMatch(role, chans, alias.space,
                                                alias.signs or (1.0,) * len(chans))
                    break
        for attr, patterns in (("masks", self.masks), ("clothing_masks", self.clothing_masks)):
            found: dict = getattr(res, attr)
            regs = [_compiled(p, prefix) for p in patterns]
            for n in names:
                for reg in regs:
                    m = reg.match(n)
                    if m:
                        part = m.group("part")
                        if part in found:
                            res.problems.append(
                                f"class {part!r} has two mask channels, {found[part]!r} and {n!r}; "
                                f"using the first")
                        else:
                            found[part] = n
                        break
        sig = 0
        for p in self.signature:
            reg = _compiled(p, prefix)
            sig += any(reg.match(n) for n in names)
        res.signature_hits = sig
        return res


@lru_cache(maxsize=1024)
def _compiled(pattern: str, prefix: str) -> re.Pattern:
    return re.compile(pattern.replace("{L}", re.escape(prefix)))


@dataclass
class RoleMatch:
    role: str
    channels: tuple[str, ...]
    space: str
    signs: tuple[float, ...]


@dataclass
class Resolved:
    """A layout applied to one file: the channels of each role and of each mask."""

    layout: ChannelLayout
    prefix: str
    channel_names: list
    multipart: bool
    roles: dict = field(default_factory=dict)
    masks: dict = field(default_factory=dict)            # class -> channel
    clothing_masks: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    signature_hits: int = 0

    @property
    def score(self) -> float:
        s = len(self.roles) + (1 if self.masks else 0) + (1 if self.clothing_masks else 0)
        s += 2 * self.signature_hits
        if self.layout.multipart is not None:
            s += 1.5 if self.layout.multipart == self.multipart else -1.5
        return s

    def used_channels(self) -> list[str]:
        out = [c for m in self.roles.values() for c in m.channels]
        out += list(self.masks.values()) + list(self.clothing_masks.values())
        return list(dict.fromkeys(out))

    def summary(self) -> dict:
        return {
            "layout": self.layout.name,
            "view_layer": self.prefix.rstrip(".") or None,
            "roles": {r: {"channels": list(m.channels), "space": m.space,
                          **({"signs": list(m.signs)} if any(s != 1 for s in m.signs) else {})}
                      for r, m in self.roles.items()},
            "masks": dict(self.masks),
            "clothing_masks": dict(self.clothing_masks),
            "problems": list(self.problems),
        }


def _view_layers(names) -> list[str]:
    """Candidate ``"<layer>."`` prefixes: the first dotted component of names with 3+ components."""
    seen: dict[str, int] = {}
    for n in names:
        bits = n.split(".")
        if len(bits) >= 3:
            seen[bits[0] + "."] = seen.get(bits[0] + ".", 0) + 1
    return sorted(seen, key=lambda p: -seen[p])[:4]


# -- the alias table ---------------------------------------------------------------------------

def _a(*channels, space="camera", signs=()):
    return Alias(tuple(channels), space, tuple(signs))


_RGBA = ("R", "G", "B", "A")
_BLENDER_PASSES = (r"Combined|Depth|Normal|Position|Vector|Mist|IndexOB|IndexMA|Object Index|"
                   r"Material Index|DiffCol|Diffuse Color|Emit|Emission|AO|Ambient Occlusion|Env|"
                   r"Environment|Noisy Image|Denoising Normal|Denoising Albedo|Alpha")


def _blender_roles(long_names: bool) -> dict:
    index = [_a("{L}IndexOB.X")]
    if long_names:
        index.insert(0, _a("{L}Object Index.X"))
    else:
        index.append(_a("{L}Object Index.X"))
    return {
        "beauty": [_a(*(f"{{L}}Combined.{c}" for c in _RGBA)),
                   _a(*(f"{{L}}Combined.{c}" for c in "RGB"))],
        "alpha": [_a("{L}Combined.A"), _a("{L}Alpha.X"), _a("{L}Alpha.A")],
        "depth": [_a("{L}Depth.Z"), _a("{L}Depth.V"), _a("{L}Depth.X")],
        "normals": [_a("{L}Normal.X", "{L}Normal.Y", "{L}Normal.Z", space="world")],
        "points": [_a("{L}Position.X", "{L}Position.Y", "{L}Position.Z", space="world")],
        "object_index": index,
    }


#: name -> layout; the order breaks detection ties (the seed's V-Ray layout first).
LAYOUT_TABLE: dict[str, ChannelLayout] = {}


def _add(layout: ChannelLayout) -> None:
    LAYOUT_TABLE[layout.name] = layout


_add(ChannelLayout(
    name="vray",
    description="V-Ray synthetic-human EXR (the seed): R G B A, Z, CameraNormals.RGB, "
                "CameraPoints.RGB, normals.XYZ, segmentation.<part>, binary_segmentation.foreground",
    roles={
        "beauty": [_a(*_RGBA), _a("R", "G", "B"),
                   _a("effectsResult.R", "effectsResult.G", "effectsResult.B")],
        "alpha": [_a("A"), _a("binary_segmentation.foreground")],
        "depth": [_a("Z"), _a("Z.V"), _a("Z.Z")],
        "normals": [_a("CameraNormals.R", "CameraNormals.G", "CameraNormals.B"),
                    _a("normals.X", "normals.Y", "normals.Z", signs=(-1, 1, 1))],
        "points": [_a("CameraPoints.R", "CameraPoints.G", "CameraPoints.B")],
        "world_normals": [_a("worldNormals.X", "worldNormals.Y", "worldNormals.Z", space="world")],
        "world_points": [_a("worldPositions.X", "worldPositions.Y", "worldPositions.Z", space="world")],
        "foreground": [_a("binary_segmentation.foreground")],
    },
    masks=(r"^segmentation\.(?P<part>.+)$",),
    clothing_masks=(r"^clothing_segmentation\.(?P<part>.+)$",),
    signature=(r"^segmentation\.", r"^CameraNormals\.", r"^CameraPoints\.",
               r"^binary_segmentation\.", r"^effectsResults?\.", r"^denoiser\.", r"^normals\.X$",
               r"^surface(\.skin)?$", r"^noiseLevel$", r"^defocusAmount$"),
    multipart=False,
    notes="normals.XYZ has x mirrored (left-handed, as exr-info reads it); CameraNormals is "
          "preferred and used as is.",
))

_add(ChannelLayout(
    name="synthesis-blender",
    description="Synthesis AI Blender compositor names (exr-info): RGBA.R/G/B, alpha.V, Z.V, "
                "normals.X/Y/Z, segmentation.<part>",
    roles={
        "beauty": [_a("RGBA.R", "RGBA.G", "RGBA.B")],
        "alpha": [_a("alpha.V")],     # exr-info: "Don't use RGBA.A, it is unreliable"
        "depth": [_a("Z.V")],
        "normals": [_a("normals.X", "normals.Y", "normals.Z")],
    },
    masks=(r"^segmentation\.(?P<part>.+)$",),
    clothing_masks=(r"^clothing_segmentation\.(?P<part>.+)$",),
    signature=(r"^RGBA\.R$", r"^alpha\.V$", r"^Z\.V$"),
))

# Blender 4.x and 5.x name mask AOVs alike: <ViewLayer>.segmentation_<part> (or seg_), one value
# channel X/V/R/A
_BLENDER_MASKS = (r"^{L}(?:segmentation|seg)[._](?P<part>.+)\.[XVRA]$",)
_BLENDER_CLOTHING_MASKS = (r"^{L}clothing_segmentation[._](?P<part>.+)\.[XVRA]$",)

_add(ChannelLayout(
    name="blender4",
    description="Blender 4.x multilayer, single part: <ViewLayer>.Combined.RGBA, .Depth.Z, "
                ".Normal.XYZ, .Position.XYZ, .IndexOB.X, value AOVs <ViewLayer>.segmentation_<part>.X",
    roles=_blender_roles(long_names=False),
    masks=_BLENDER_MASKS,
    clothing_masks=_BLENDER_CLOTHING_MASKS,
    signature=(rf"^{{L}}(?:{_BLENDER_PASSES})\.",),
    multipart=False,
    layer_prefix=True,
    notes="Normal and Position are world space; Depth is not anti-aliased (Blender manual).",
))

_add(ChannelLayout(
    name="blender5",
    description="Blender 5.x multilayer, multi-part with long pass names: part "
                "<ViewLayer>.Depth holding Z, <ViewLayer>.Object Index holding X, ...",
    roles=_blender_roles(long_names=True),
    masks=_BLENDER_MASKS,
    clothing_masks=_BLENDER_CLOTHING_MASKS,
    signature=(rf"^{{L}}(?:{_BLENDER_PASSES})\.",
               r"^{L}(?:Object Index|Material Index|Diffuse Color|Ambient Occlusion)\."),
    multipart=True,
    layer_prefix=True,
    notes="Accepts short pass names too: the release that switched to long names is unknown.",
))

_add(ChannelLayout(
    name="arnold",
    description="Arnold AOVs: RGBA (bare R G B A), N, P, Z, ID, float AOVs segmentation_<part>",
    roles={
        "beauty": [_a(*_RGBA), _a(*(f"RGBA.{c}" for c in _RGBA)), _a("R", "G", "B")],
        "alpha": [_a("A"), _a("RGBA.A")],
        "depth": [_a("Z"), _a("Z.Z"), _a("Z.R")],
        "normals": [_a("N.X", "N.Y", "N.Z", space="world"), _a("N.R", "N.G", "N.B", space="world")],
        "points": [_a("P.X", "P.Y", "P.Z", space="world"), _a("P.R", "P.G", "P.B", space="world")],
        "object_index": [_a("ID")],
    },
    masks=(r"^(?:segmentation|seg)[._](?P<part>[^.]+)(?:\.[RXA])?$",),
    clothing_masks=(r"^clothing_segmentation[._](?P<part>[^.]+)(?:\.[RXA])?$",),
    signature=(r"^N\.[XR]$", r"^P\.[XR]$", r"^crypto_(object|material|asset)", r"^RGBA\.R$",
               r"^(diffuse|specular|coat|transmission|sss)_(direct|indirect|albedo)",
               r"^(Pref|albedo)\."),
    multipart=None,
    notes="N and P are world space.",
))


@hookimpl
def framebuf_channel_layouts():
    return list(LAYOUT_TABLE.values())


# -- lookup and detection ----------------------------------------------------------------------

def layouts() -> dict[str, ChannelLayout]:
    """Every registered layout (built-ins and plugins')."""
    from .. import plugins

    if plugins._registry is None:  # not built yet: do not import every format for the layouts
        return _plugin_layouts()
    return plugins.registry().layouts or dict(LAYOUT_TABLE)


@lru_cache(maxsize=1)
def _plugin_layouts() -> dict[str, ChannelLayout]:
    """The built-in layouts and those of entry-point plugins, without building the registry
    (which imports every format, shader and source module: 0.2 s of a short process). Only
    this module among the built-ins implements ``framebuf_channel_layouts``."""
    import sys

    import pluggy

    from .. import hookspecs, plugins

    pm = pluggy.PluginManager("framebuf")
    pm.add_hookspecs(hookspecs)
    pm.register(sys.modules[__name__], name=__name__)
    pm.load_setuptools_entrypoints(plugins.ENTRY_POINT_GROUP)
    return plugins.Registry.from_plugin_manager(pm).layouts or dict(LAYOUT_TABLE)


def get_layout(name: str | ChannelLayout) -> ChannelLayout:
    if isinstance(name, ChannelLayout):
        return name
    table = layouts()
    if name in table:
        return table[name]
    raise FramebufError(f"unknown channel layout {name!r}; layouts: {', '.join(table)}")


def detect(names, multipart: bool = False, layout: str | ChannelLayout | None = None) -> Resolved:
    """The best-matching layout for these full channel names (or apply the one given)."""
    table = layouts()
    chosen = get_layout(layout) if layout else None
    found = _detect_cached(tuple(names), bool(multipart), chosen, tuple(table.values()))
    # a copy: the caller may add to its lists, and the next render of the batch gets the same
    return replace(found, channel_names=list(found.channel_names), roles=dict(found.roles),
                   masks=dict(found.masks), clothing_masks=dict(found.clothing_masks),
                   problems=list(found.problems))


_DETECTED: dict = {}


def _detect_cached(names: tuple, multipart: bool, chosen, candidates: tuple) -> Resolved:
    # the renders of one batch share their channel names: matching every layout's patterns
    # against 61 names cost about 3 ms a render, a tenth of decoding it. Layouts are keyed by
    # identity (a plugin registry reset brings new objects) and the value keeps them alive.
    key = (names, multipart, id(chosen), tuple(map(id, candidates)))
    hit = _DETECTED.get(key)
    if hit is not None:
        return hit[0]
    if chosen is not None:
        best = chosen.resolve(list(names), multipart)
    else:
        best = None
        for lay in candidates:
            r = lay.resolve(list(names), multipart)
            if best is None or r.score > best.score:
                best = r
    if len(_DETECTED) >= 64:
        _DETECTED.clear()
    _DETECTED[key] = (best, chosen, candidates)
    return best


# -- typed buffers -----------------------------------------------------------------------------

_FLOAT = {"half": "h", "float": "fp"}


def _type_for(kind: str, pixel_type: str, n: int) -> str:
    if pixel_type == "uint":
        return "tag" if n == 1 else "rgba_fp"
    suffix = _FLOAT[pixel_type]
    if kind == "depth":
        return "z"
    if kind == "normal":
        return "n"
    if n == 1:
        return f"a_{suffix}"
    if n == 2:
        return "vta"
    return f"rgb_{suffix}" if n == 3 else f"rgba_{suffix}"


def camera_normals(normals: np.ndarray, space: str, world_to_camera) -> tuple[np.ndarray, str]:
    """(H, W, 3) normals to camera space with OpenGL axes, if the space allows; returns the array
    and the space it is in. Null vectors stay null."""
    if space != "world":
        return normals, space
    if world_to_camera is None:
        return normals, "world"
    m = np.asarray(world_to_camera, np.float64)[:3, :3]
    # OpenEXR matrices act on row vectors; its camera looks down +z, OpenGL's down -z
    out = (normals.reshape(-1, 3).astype(np.float64) @ m).reshape(normals.shape)
    out[..., 2] *= -1.0
    return out.astype(np.float32), "camera"


class Render:
    """An EXR opened with a layout: header, resolved roles, and on-demand channel decoding."""

    def __init__(self, path, layout=None, exr: exrread.ExrFile | None = None):
        self.path = str(path)
        self.exr = exr or exrread.read_header(path)
        self.names = list(self.exr.channel_index())
        self.resolved = detect(self.names, self.exr.multipart, layout)
        first = self.exr.parts[0]
        self.width, self.height = first.width, first.height
        for part in self.exr.parts[1:]:
            if (part.width, part.height) != (self.width, self.height):
                raise FramebufError(f"{self.path}: parts differ in size "
                                    f"({part.width}x{part.height} vs {self.width}x{self.height})")

    @property
    def attributes(self) -> dict:
        attrs = {}
        for part in self.exr.parts:
            for k, v in part.attributes.items():
                if not k.startswith("_"):
                    attrs.setdefault(k, v)
        return attrs

    def pixel_type(self, name: str) -> str:
        return self.exr.channel_index()[name][1].pixel_type

    def load(self, names, threads=None, float32=(), reuse=False) -> dict[str, np.ndarray]:
        return exrread.read_channels(self.path, list(dict.fromkeys(names)), exr=self.exr,
                                     threads=threads, float32=float32, reuse=reuse)

    def framebuffers(self, everything: bool = True, threads=None) -> FrameBufferSet:
        """The file as a FrameBufferSet: role buffers (``beauty``, ``depth`` (+inf where nothing
        was hit), ``normals`` (camera space when possible), ``points`` ...), masks as
        ``segmentation.<class>`` / ``clothing_segmentation.<class>`` scalars whatever the layout
        called them, and with ``everything`` every other channel grouped by layer."""
        res = self.resolved
        used = res.used_channels()
        rest = [n for n in self.names if n not in set(used)] if everything else []
        data = self.load(used + rest, threads)
        fbs = FrameBufferSet(self.width, self.height, attributes=self.attributes)
        fbs.attributes["layout"] = res.layout.name

        def add(name, chans, kind="", values=None, dtname=None):
            ptype = self.pixel_type(chans[0])
            arr = values if values is not None else np.stack(
                [data[c].astype(np.float32) if ptype != "uint" else data[c] for c in chans], -1)
            buf = fbs.add(name, dtname or _type_for(kind, ptype, len(chans)), user=True, data=arr)
            buf.channels = tuple(chans)
            return buf

        for role, m in res.roles.items():
            if role == "alpha" and "beauty" in res.roles and m.channels[0] in res.roles["beauty"].channels:
                continue  # already the beauty's alpha
            if role == "depth":
                z = data[m.channels[0]].astype(np.float32)
                add("depth", m.channels, "depth", depth_to_memory(z)[:, :, None])
            elif role in ("normals", "world_normals"):
                n = np.stack([data[c].astype(np.float32) * s for c, s in zip(m.channels, m.signs)], -1)
                n, space = camera_normals(n, m.space, self.attributes.get("worldToCamera"))
                add(role, m.channels, "normal", n).space = space
            else:
                add(role, m.channels)
        for prefix, table in (("segmentation.", res.masks), ("clothing_segmentation.", res.clothing_masks)):
            for part, chan in table.items():
                add(prefix + part, (chan,))
        # every other channel as framebuf.read names and types it (the exr format's one rule)
        from ..formats import exr as exr_format

        left = set(rest)
        for plan in exr_format.plan(self.exr):
            part = self.exr.parts[plan.part]
            full = [exrread.full_channel_name(part.name, c, self.exr.multipart) for c in plan.channels]
            groups = [(plan.name, full, plan.datatype)] if all(c in left for c in full) else \
                [(c, [c], None) for c in full if c in left]      # what a role did not take
            for name, chans, dtname in groups:
                while name in fbs:
                    name += "_"
                add(name, chans, dtname=dtname)
        return fbs


#: depth values at or beyond this are "nothing hit" (Cycles writes 1e10, others FLT_MAX or inf).
DEPTH_FAR = 1e9


def background_depth(z: np.ndarray, far: float = DEPTH_FAR) -> np.ndarray:
    """Where nothing was hit: non-finite, zero or negative (no hit can be at or behind the
    camera), or at/over ``far``."""
    if z.dtype == np.float16:
        # the same rule on the bit patterns, two integer passes instead of half arithmetic
        # (which numpy emulates): positive halves order as their bits, every negative one,
        # infinity and NaN lie at or above the first half >= far, and +0 is bits 0
        u = z.view(np.uint16)
        return (u == 0) | (u >= _half_bits_at_or_above(far))
    with np.errstate(invalid="ignore"):
        return ~np.isfinite(z) | (z <= 0) | (z >= far)


def _half_bits_at_or_above(far: float) -> int:
    """Bits of the smallest positive half >= ``far``, at most those of +inf (0x7C00)."""
    far = float(np.float32(far))          # the float rule compares in float32
    if not far > 0:                       # far <= 0 (every positive depth is past it) or NaN
        return 1 if far <= 0 else 0x7C00
    if far > 65504.0:                     # beyond the largest finite half
        return 0x7C00
    h = np.float16(far)
    if float(h) < far:
        h = np.nextafter(h, np.float16(np.inf))
    return int(np.array(h, np.float16).view(np.uint16))


def depth_to_memory(z: np.ndarray, far: float = DEPTH_FAR) -> np.ndarray:
    """A file's depth with every background convention turned into +inf (HACKING.md)."""
    z = np.array(z, np.float32, copy=True)
    z[background_depth(z, far)] = np.inf
    return z


def read_set(path, layout=None, everything: bool = True) -> FrameBufferSet:
    """Read a multi-channel EXR as typed framebuffers through a channel layout (auto-detected
    when ``layout`` is None)."""
    try:
        return Render(path, layout).framebuffers(everything)
    except MemoryError:
        # the readers check declared sizes against the budget first; this is the last line, for
        # the channel merges after decoding, so a caller sees a FramebufError, not a MemoryError
        raise MemoryBudgetError(f"{path}: reading its buffers ran out of memory (set "
                                f"FRAMEBUF_MEMORY_BUDGET lower or read fewer channels)") from None
