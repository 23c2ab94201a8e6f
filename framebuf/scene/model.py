"""The scene model: what a ``.mi`` file says about the output setup, after parsing.

Everything here is plain data. The parser (:mod:`framebuf.scene.parser`) fills it; the execution side
(``framebuf.scene.execute``, the renderer, ``framebuf render``) reads it. Nothing in this module runs a
shader, opens a file or checks a format name: those checks belong to execution, which can report
them with the ``location`` every statement carries.

Locations
    ``location`` is ``(file, line, column)``, 1-based, of the first token of the statement (for a
    framebuffer property: of the property keyword). Pass ``*location`` to
    :class:`framebuf.errors.SceneError` to report a runtime problem at the right place.

Data types
    Where a statement names buffers, each entry is ``(kind, filtering)`` where ``kind`` is a
    :class:`framebuf.datatypes.DataType`, the string ``"fbN"`` (deprecated user buffer N, see
    :attr:`Options.user_buffers`) or the string ``"contour"``, and ``filtering`` is ``True`` for a
    ``+`` prefix, ``False`` for ``-`` and ``None`` when no prefix was written (then the type's
    default applies: ``DataType.interpolated``; see :func:`effective_filtering`).

Mode
    A camera with at least one ``framebuffer`` statement is in *named-buffer mode* (mental ray 3.6+):
    all output shaders run in camera order, then every buffer with a ``filename`` is written. A camera
    without ``framebuffer`` statements is in *legacy mode*: its ``output`` statements (shader calls
    and file outputs) run strictly in sequence (reference section 1, item 5). ``output`` file
    statements may also appear in named-buffer mode; they still execute in their camera position.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any, Union

from ..datatypes import DataType
from ..resolve.filters import FILTERS

Location = tuple[str, int, int]

#: One requested buffer of an output statement: (DataType | "fbN" | "contour", filtering or None).
TypeRequest = tuple[Union[DataType, str], Union[bool, None]]

#: Default filter sizes in pixels (reference 2.3) of the filters a ``filter`` statement names
#: (``clip`` is a separate word there): taken from the one pixel-filter table.
DEFAULT_FILTER_SIZES = {f.name: f.default_size for f in FILTERS if not f.name.startswith("clip_")}

#: mental ray's built-in contour output shaders. Their declarations in contour.mi say
#: ``apply contour`` exactly like the contour store/contrast/line shaders, so the declaration alone
#: cannot tell them apart; these names are the ones the manual documents as output shaders.
CONTOUR_OUTPUT_SHADERS = frozenset({"contour_only", "contour_composite", "contour_ps", "contour_mi"})


# --------------------------------------------------------------------------------------------------
# Shader parameter values


@dataclass(frozen=True)
class ShaderRef:
    """A parameter value ``= "name"``: the result of another (named) shader instance."""

    name: str


@dataclass(frozen=True)
class InterfaceRef:
    """A parameter value ``= interface "name"`` (only meaningful inside phenomena)."""

    name: str


# A parameter value is one of:
#   bool (on/off/true/false), int, float, str, tuple of numbers (colour, vector, matrix: several
#   numbers written one after the other), list (``[ ... ]`` array), dict (``{ ... }`` struct),
#   ShaderRef, InterfaceRef, or bytes (``'hex'`` data).
ParamValue = Any


# --------------------------------------------------------------------------------------------------
# Declarations and instances


@dataclass
class ParamDecl:
    """One parameter of a ``declare shader``.

    ``type`` is the base type keyword as written: ``boolean``, ``integer``, ``scalar``, ``vector``,
    ``color``, ``transform``, ``string``, ``shader``, ``light``, ``material``, ``geometry``,
    ``data``, ``lightprofile``, ``color texture``, ``scalar texture``, ``vector texture``, ``struct``
    ... ``array`` is True for ``array T``. A struct has its members in ``fields``. ``default`` is the
    ``default`` value (a ParamValue) or None.
    """

    name: str
    type: str
    array: bool = False
    fields: list["ParamDecl"] = _field(default_factory=list)
    default: ParamValue = None


@dataclass
class ShaderDecl:
    """A ``declare shader [RETURNTYPE] "name" (params) ... end declare``.

    ``return_type`` is a ParamDecl with an empty name (``struct`` returns keep their fields) or None
    when the declaration has none (output and contour shaders usually have none). ``apply`` lists
    the shader types of the ``apply`` statement in order (``["lens", "output"]``).
    """

    name: str
    params: list[ParamDecl]
    return_type: ParamDecl | None = None
    version: int | None = None
    apply: list[str] = _field(default_factory=list)
    parallel: bool = False
    location: Location | None = None

    @property
    def is_output(self) -> bool:
        """Declared ``apply output`` (possibly among other types, e.g. ``apply lens, output``)."""
        return "output" in self.apply

    @property
    def is_contour_output(self) -> bool:
        """One of mental ray's contour output shaders (``contour_only`` ...), see CONTOUR_OUTPUT_SHADERS."""
        return self.name in CONTOUR_OUTPUT_SHADERS

    def param(self, name: str) -> ParamDecl | None:
        for p in self.params:
            if p.name == name:
                return p
        return None


@dataclass
class ShaderInstance:
    """A top-level named shader ``shader "name" "declaration" (params)``; ``output = "name"`` uses it."""

    name: str
    shader: str
    params: dict[str, ParamValue]
    location: Location | None = None


# --------------------------------------------------------------------------------------------------
# Options


@dataclass
class OptionStatement:
    """An options statement this project records but does not interpret (``trace depth 4 6 6``).

    ``words`` are the leading keywords joined by one space (``"trace depth"``, ``"acceleration bsp2"``),
    ``values`` the rest (numbers, booleans, strings, ``"[...]"`` for a bracketed list).
    """

    words: str
    values: tuple
    location: Location | None = None


@dataclass
class Options:
    """The ``options`` block. Defaults are mental ray's (reference 2.3), also when a scene has none.

    ``samples_min``/``samples_max``: 2^N samples per pixel per axis; ``samples N`` alone means
    min = N-2, max = N. ``samples_defaults`` is the optional (DEFMIN, DEFMAX) pair of the 4-number form.
    ``filter`` is one of box, triangle, gauss, mitchell, lanczos, with ``filter_clip`` True for
    ``filter clip mitchell|lanczos``; ``filter_width``/``filter_height`` in pixels (H defaults to W,
    unset sizes default per :data:`DEFAULT_FILTER_SIZES`).
    ``output_shaders_enabled`` is the options ``output on|off`` flag (off disables output shaders
    only; file output is unaffected).
    ``user_buffers`` are the deprecated ``frame buffer N "type"`` statements: ``{N: (DataType or None,
    filtering)}``; None as type means the empty string ``""`` (mental ray chooses); filtering is the
    ``+``/``-`` prefix, and False when no prefix was given (the documented default is padding, ``-``).
    ``string_options`` holds the quoted options (``"samples quality" 0.25``) as name -> tuple of
    values; ``extra`` every other recorded-and-skipped statement, in order.
    """

    name: str | None = None
    samples_min: int = -2
    samples_max: int = 0
    samples_defaults: tuple[int, int] | None = None
    filter: str = "box"
    filter_clip: bool = False
    filter_width: float = 1.0
    filter_height: float = 1.0
    colorclip: str = "rgb"
    desaturate: bool = False
    premultiply: bool = True
    dither: bool = False
    gamma: float = 1.0
    output_shaders_enabled: bool = True
    user_buffers: dict[int, tuple[DataType | None, bool]] = _field(default_factory=dict)
    string_options: dict[str, tuple] = _field(default_factory=dict)
    extra: list[OptionStatement] = _field(default_factory=list)
    location: Location | None = None

    def get_extra(self, words: str):
        """Values of the last recorded statement with these leading keywords, or None."""
        for st in reversed(self.extra):
            if st.words == words:
                return st.values
        return None


# --------------------------------------------------------------------------------------------------
# Camera, frame buffers and outputs


@dataclass
class FrameBufferDecl:
    """A named ``framebuffer "NAME"`` of the camera (reference 2.1), after all its edits.

    ``filtering`` None means "not written": the data type's default applies (``effective_filtering``).
    ``user`` already has the deprecated ``useprimary``/``autofill`` inverted into it.
    A buffer is written to a file when ``filename`` is set; ``filetype`` None means "from the file
    name's extension". ``seq`` is the camera statement index of its first ``framebuffer`` statement
    (outputs carry the same counter, so their relative order is known).
    """

    name: str
    datatype: DataType
    filtering: bool | None = None
    filename: str | None = None
    filetype: str | None = None
    compression: str | None = None
    quality: int | None = None
    primary: bool = False
    user: bool = False
    premultiplied: bool | None = None
    tiled: bool | None = None
    colorprofile: str | None = None
    dod: bool | None = None
    dpi: float | None = None
    field: str | None = None
    useopacity: bool = False
    deep: bool = False           # framebuf: keep every sample, write a deep OpenEXR (README)
    # framebuf extension: a Cryptomatte layer of "object" or "material" names (README)
    cryptomatte: str | None = None
    ranks: int | None = None
    manifest: str | None = None
    location: Location | None = None
    seq: int = 0

    @property
    def effective_filtering(self) -> bool:
        return self.datatype.interpolated if self.filtering is None else self.filtering


@dataclass
class ShaderOutput:
    """``output "SHADER" (PARAMS)``, ``output "TYPES" "SHADER" (PARAMS)`` or ``output = "instance"``.

    ``shader`` is the declaration name; for ``output = "inst"`` it is filled from the named top-level
    shader instance ``instance`` (None when that instance is not defined in the scene; a warning says
    so) and ``params`` are the instance's. ``types`` are the deprecated requested buffers (empty for
    the current form).
    """

    shader: str | None
    params: dict[str, ParamValue] = _field(default_factory=dict)
    types: list[TypeRequest] = _field(default_factory=list)
    instance: str | None = None
    location: Location | None = None
    seq: int = 0


@dataclass
class FileOutput:
    """Deprecated file output ``output [colorprofile "P"] ["TYPES"] "FORMAT" [OPT] "FILE"``.

    ``types`` is empty when no type was written (the format's default type applies). ``option`` is
    None or one of ``("quality", int)``, ``("even", True)``, ``("odd", True)``, ``("dod", True)``,
    ``("dpi", float)``, ``("compress", str)``.
    """

    types: list[TypeRequest]
    format: str
    filename: str
    option: tuple[str, Any] | None = None
    colorprofile: str | None = None
    location: Location | None = None
    seq: int = 0


@dataclass
class ClearOutputs:
    """A bare ``output``: clears all outputs and named buffers before it.

    The parser has already applied it (earlier outputs and framebuffers are gone); it stays in
    ``Camera.outputs`` as the first entry only as a record, and execution may ignore it.
    """

    location: Location | None = None
    seq: int = 0


Output = Union[ShaderOutput, FileOutput, ClearOutputs]


@dataclass
class Camera:
    """The ``camera`` block. Geometry defaults follow reference 2.4.

    ``resolution`` is None when the camera does not give one (execution picks its default).
    ``focal`` is ``math.inf`` for ``focal infinity`` (orthographic). ``window`` is (xl, yl, xh, yh) or
    None (whole image). ``frame`` is (number, time or None). ``outputs`` are in camera order, and
    ``framebuffers`` in order of first appearance; compare ``seq`` to interleave them
    (:meth:`statements`).
    """

    name: str
    resolution: tuple[int, int] | None = None
    aspect: float | None = None
    aperture: float | None = None
    focal: float | None = None
    clip: tuple[float, float] = (0.0001, 1000000.0)
    window: tuple[int, int, int, int] | None = None
    offset: tuple[float, float] = (0.0, 0.0)
    frame: tuple[int, float | None] = (0, None)
    field: int = 0
    framebuffers: dict[str, FrameBufferDecl] = _field(default_factory=dict)
    outputs: list[Output] = _field(default_factory=list)
    location: Location | None = None

    @property
    def mode(self) -> str:
        """``"named"`` when the camera has framebuffer statements, else ``"legacy"``."""
        return "named" if self.framebuffers else "legacy"

    @property
    def effective_aspect(self) -> float:
        """The aspect, or (as mental ray does when it is missing) square pixels: xres / yres."""
        if self.aspect is not None:
            return self.aspect
        if not self.resolution or not self.resolution[1]:
            return 1.0
        x, y = self.resolution
        return x / y

    def primary_buffer(self) -> FrameBufferDecl | None:
        """The ``primary on`` buffer, else the first non-user colour buffer (reference 2.1)."""
        for fb in self.framebuffers.values():
            if fb.primary:
                return fb
        for fb in self.framebuffers.values():
            if not fb.user and fb.datatype.storage == "colour" and not fb.cryptomatte:
                return fb
        return None

    def statements(self) -> list:
        """Framebuffers and outputs interleaved in camera order (by ``seq``)."""
        items = list(self.framebuffers.values()) + list(self.outputs)
        return sorted(items, key=lambda s: s.seq)


# --------------------------------------------------------------------------------------------------
# framebuf extension: analytic primitives


@dataclass
class Primitive:
    """A ``framebuf primitives`` entry: ``kind`` sphere|box|plane, ``params`` with every parameter
    resolved to its default when not written (see the package docstring for the table)."""

    kind: str
    name: str
    params: dict[str, Any]
    location: Location | None = None


@dataclass
class Light:
    """A ``framebuf primitives`` directional light: ``direction`` points *from* the light."""

    name: str
    direction: tuple[float, float, float]
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    location: Location | None = None


# --------------------------------------------------------------------------------------------------
# Scene


@dataclass
class Scene:
    """Everything the front end extracts from one ``.mi`` file and its includes.

    ``camera``/``options`` are the ones named by the last ``render`` statement when it can be
    resolved (through the camera instance), else the last defined; ``camera`` is None for a file
    without a camera (e.g. a shader-declaration file), ``options`` is always present (defaults when
    the scene has none). ``cameras`` and ``all_options`` hold every camera / options block by name,
``render`` is the last ``render "root" "camera instance" "options"`` statement. ``skipped`` counts statements that
    were parsed past (``Counter({"instance": 7, "link": 13, ...})``); ``warnings`` are human-readable,
    one of them summarising ``skipped``. ``includes`` lists the files actually read.
    """

    path: str
    options: Options = _field(default_factory=Options)
    camera: Camera | None = None
    cameras: dict[str, Camera] = _field(default_factory=dict)
    all_options: dict[str, Options] = _field(default_factory=dict)
    shader_decls: dict[str, ShaderDecl] = _field(default_factory=dict)
    shader_instances: dict[str, ShaderInstance] = _field(default_factory=dict)
    primitives: list[Primitive] = _field(default_factory=list)
    lights: list[Light] = _field(default_factory=list)
    warnings: list[str] = _field(default_factory=list)
    skipped: Counter = _field(default_factory=Counter)
    # output shaders called but not declared in the file: shader name -> its warning (a caller
    # that has the shader registered, like the renderer, drops the warning)
    undeclared_shaders: dict = _field(default_factory=dict)
    includes: list[str] = _field(default_factory=list)
    render: tuple[str, str, str] | None = None

    def output_shader_decls(self, contour: bool = True) -> dict[str, ShaderDecl]:
        """Declarations of output shaders (``apply output``), plus the contour output shaders if asked."""
        return {
            n: d for n, d in self.shader_decls.items()
            if d.is_output or (contour and d.is_contour_output)
        }

    @property
    def mode(self) -> str | None:
        return self.camera.mode if self.camera else None

    def describe(self) -> str:
        """A human-readable summary of the output setup (what ``framebuf render --dry-run`` prints)."""
        from .describe import describe  # the wording lives apart from the model (import cycle)

        return describe(self)


def effective_filtering(kind, filtering: bool | None) -> bool:
    """Resolve a TypeRequest's filtering: an explicit prefix wins, else the data type's default."""
    if filtering is not None:
        return filtering
    if isinstance(kind, DataType):
        return kind.interpolated
    return False


def format_types(types: list[TypeRequest]) -> str:
    parts = []
    for kind, filt in types:
        name = kind.name if isinstance(kind, DataType) else str(kind)
        parts.append(("" if filt is None else "+" if filt else "-") + name)
    return ",".join(parts)


__all__ = [
    "Location", "TypeRequest", "ShaderRef", "InterfaceRef", "ParamDecl", "ShaderDecl", "ShaderInstance",
    "OptionStatement", "Options", "FrameBufferDecl", "ShaderOutput", "FileOutput", "ClearOutputs",
    "Output", "Camera", "Primitive", "Light", "Scene", "effective_filtering", "format_types",
    "DEFAULT_FILTER_SIZES", "CONTOUR_OUTPUT_SHADERS",
]
