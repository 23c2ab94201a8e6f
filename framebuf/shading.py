"""The output-shader authoring API: declare a shader, validate its parameters, run it on a frame.

mental ray calls an output shader once per frame, after rendering, with access to every pixel of
every frame buffer (reference section 3). Here a shader is a Python function decorated with
:func:`output_shader`; it receives a :class:`ShaderContext` and its validated parameters, and does
its pixel work in a whole-buffer Numba kernel (``@njit(cache=True)``) called once per frame, never
a Python callback per pixel::

    import numpy as np
    from numba import njit
    from framebuf import hookimpl
    from framebuf.shading import PRIMARY, Param, output_shader

    @njit(cache=True)
    def _scale(src, dst, k):
        h, w, c = src.shape
        for y in range(h):
            for x in range(w):
                for i in range(c):
                    dst[y, x, i] = src[y, x, i] * k

    @output_shader("scale", params=[Param("src", "buffer", PRIMARY), Param("dst", "buffer", None),
                                    Param("factor", "scalar", 1.0)],
                   reads=["src"], writes=["dst"], creates={"dst": "src"})
    def scale(ctx, src, dst, factor):
        out = np.empty(src.data.shape, np.float32)
        _scale(np.ascontiguousarray(src.data), out, factor)
        dst.data = out

    @hookimpl
    def framebuf_output_shaders():
        return [scale.spec]

Parameter types (``PARAM_TYPES``): ``scalar``/``float``, ``integer``, ``boolean``, ``color``,
``string``, ``buffer`` (a string naming a frame buffer) and ``enum`` (a string out of ``choices``).
Values from a .mi scene arrive as Python values (str, int, float, bool, tuples for colours); values
from the command line arrive as strings and go through :func:`parse_param_string` first.

Buffer parameters reach the function as :class:`~framebuf.buffers.FrameBuffer` objects:

* default :data:`PRIMARY` names the set's primary colour buffer;
* default ``None`` on a parameter listed in ``writes`` but not in ``reads`` means "in place": the
  buffer of the first ``reads`` parameter; on any other parameter it means "not given" and the
  function gets ``None`` (it may then look for a buffer by kind);
* a missing buffer is a :class:`~framebuf.errors.ShaderError` naming the shader and the buffer,
  except for a ``writes`` parameter listed in ``creates``: that one is added as a *user* buffer,
  of the data type of the buffer named by ``creates[param]`` when that is another buffer
  parameter, else of the data type named there (``"tag"``, ``"rgba_fp"`` ...).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .buffers import FrameBuffer, FrameBufferSet
from .datatypes import DATATYPES, datatype
from .errors import ShaderError, ShaderParameterError, UnknownDataTypeError
from .onoff import OFF_WORDS, ON_WORDS

#: every parameter type a shader may declare; "float" is a synonym of "scalar".
PARAM_TYPES = ("scalar", "float", "integer", "boolean", "color", "string", "buffer", "enum")

#: default of a buffer parameter that names the set's primary colour buffer.
PRIMARY = "<primary>"


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: default of a parameter the caller must give.
REQUIRED: Any = _Required()


class ShaderWarning(UserWarning):
    """Something a shader did that the user should know about (merged labels, unknown classes)."""


@dataclass(frozen=True)
class Param:
    """One declared shader parameter: name, type, default, and the choices of an ``enum``."""

    name: str
    type: str
    default: Any = REQUIRED
    choices: tuple[str, ...] = ()
    doc: str = ""

    def __post_init__(self):
        if self.type not in PARAM_TYPES:
            raise ShaderError(
                f"parameter {self.name!r} has unknown type {self.type!r}; types: {', '.join(PARAM_TYPES)}"
            )
        if self.type == "enum" and not self.choices:
            raise ShaderError(f"enum parameter {self.name!r} declares no choices")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def describe_default(self) -> str:
        if self.required:
            return "(required)"
        if self.default is None:
            return "-"
        if self.default == "":
            return '""'
        if self.default == PRIMARY and self.type == "buffer":
            return "primary"
        if self.type == "color":
            return ",".join(f"{v:g}" for v in self.default)
        if self.type == "boolean":
            return "on" if self.default else "off"
        return str(self.default)


@dataclass(frozen=True)
class ShaderSpec:
    """What the registry knows about one output shader (what ``framebuf_output_shaders`` returns)."""

    name: str
    function: Callable
    params: tuple[Param, ...] = ()
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    creates: Mapping[str, str] = field(default_factory=dict)
    doc: str = ""

    def __post_init__(self):
        names = [p.name for p in self.params]
        if len(names) != len(set(names)):
            raise ShaderError(f"shader {self.name!r} declares a parameter twice: {names}")
        by_name = {p.name: p for p in self.params}
        for role, listed in (("reads", self.reads), ("writes", self.writes), ("creates", self.creates)):
            for pname in listed:
                if pname not in by_name or by_name[pname].type != "buffer":
                    raise ShaderError(
                        f"shader {self.name!r}: {role} names {pname!r}, which is not a buffer parameter"
                    )
        for pname, like in self.creates.items():
            if pname not in self.writes:
                raise ShaderError(f"shader {self.name!r}: creates {pname!r}, which it does not write")
            if like not in by_name and like not in DATATYPES:
                raise ShaderError(
                    f"shader {self.name!r}: {pname!r} is created like {like!r}, which is neither a "
                    f"buffer parameter nor a data type"
                )

    @property
    def param(self) -> dict[str, Param]:
        return {p.name: p for p in self.params}

    def summary(self) -> str:
        return (self.doc or "").strip().splitlines()[0] if self.doc else ""

    def __call__(self, buffers: FrameBufferSet, params: Mapping | None = None, *, context=None):
        return run_shader(self, buffers, params or {}, context=context)


@dataclass
class ShaderContext:
    """What a running shader sees besides its parameters.

    ``buffers`` is the frame's FrameBufferSet; ``options`` the scene's options (output settings such
    as ``gamma``/``premultiply``, a plain dict here); ``scene_dir`` the folder relative file
    parameters are resolved against; ``buffer_names`` the names each buffer parameter resolved to;
    ``info`` is where a shader leaves results for its caller (e.g. the per-image label mapping).
    """

    buffers: FrameBufferSet
    options: dict = field(default_factory=dict)
    scene_dir: Path | None = None
    shader: str = ""
    params: dict = field(default_factory=dict)
    buffer_names: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def path(self, value: str) -> Path:
        """A file parameter resolved against the scene's folder (absolute paths stay as they are)."""
        p = Path(value).expanduser()
        if not p.is_absolute() and self.scene_dir is not None:
            p = Path(self.scene_dir) / p
        return p

    def error(self, message: str) -> ShaderError:
        return ShaderError(f"shader {self.shader!r}: {message}")

    def warn(self, message: str) -> None:
        warnings.warn(f"shader {self.shader!r}: {message}", ShaderWarning, stacklevel=3)
        self.info.setdefault("warnings", []).append(message)


def output_shader(name: str, params=(), reads=(), writes=(), creates: Mapping | None = None,
                  doc: str | None = None):
    """Decorator declaring an output shader; the decorated function gains a ``.spec``.

    The function is called as ``function(ctx, **params)`` with buffer parameters resolved to
    FrameBuffer objects (or ``None`` for an optional buffer not given).
    """

    def wrap(function):
        spec = ShaderSpec(name=name, function=function, params=tuple(params), reads=tuple(reads),
                          writes=tuple(writes), creates=dict(creates or {}),
                          doc=doc if doc is not None else (function.__doc__ or ""))

        @functools.wraps(function)
        def call(*args, **kwargs):
            return function(*args, **kwargs)

        call.spec = spec
        return call

    return wrap


# -- parameter validation ------------------------------------------------------------------------

def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) or _is_numpy_number(v)


def _is_numpy_number(v) -> bool:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        return False
    return isinstance(v, (np.integer, np.floating))


def coerce_param(shader: str, param: Param, value):
    """Check one value against its declared type and return it in canonical form."""

    def bad(problem):
        return ShaderParameterError(shader, param.name, problem)

    t = param.type
    if t in ("scalar", "float"):
        if not _is_number(value):
            raise bad(f"expected a number, got {value!r}")
        v = float(value)
        if math.isnan(v):
            raise bad("NaN is not a valid value")
        return v
    if t == "integer":
        if _is_number(value) and float(value).is_integer():
            return int(value)
        raise bad(f"expected an integer, got {value!r}")
    if t == "boolean":
        if isinstance(value, bool):
            return value
        if _is_number(value) and value in (0, 1):
            return bool(value)
        raise bad(f"expected a boolean (on/off), got {value!r}")
    if t == "color":
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) not in (3, 4):
            raise bad(f"expected a colour of 3 or 4 numbers, got {value!r}")
        if not all(_is_number(v) for v in value):
            raise bad(f"expected a colour of 3 or 4 numbers, got {value!r}")
        vals = tuple(float(v) for v in value)
        return vals + (1.0,) if len(vals) == 3 else vals
    if t in ("string", "buffer"):
        if not isinstance(value, str):
            raise bad(f"expected a {'buffer name' if t == 'buffer' else 'string'}, got {value!r}")
        return value
    # enum
    if not isinstance(value, str) or value not in param.choices:
        raise bad(f"expected one of {', '.join(param.choices)}, got {value!r}")
    return value


def validate_params(spec: ShaderSpec, params: Mapping) -> dict:
    """All of the shader's parameters: given values checked and converted, defaults filled in."""
    declared = spec.param
    for key in params:
        if key not in declared:
            raise ShaderParameterError(
                spec.name, str(key),
                f"unknown parameter; parameters: {', '.join(declared) or '(none)'}",
            )
    out = {}
    for p in spec.params:
        if p.name in params and params[p.name] is not None:
            out[p.name] = coerce_param(spec.name, p, params[p.name])
        elif p.required:
            raise ShaderParameterError(spec.name, p.name, "required parameter not given")
        else:
            out[p.name] = p.default
    return out




def parse_param_string(spec: ShaderSpec, name: str, text: str):
    """Convert a command-line value (always a string) to the Python value the parameter takes."""
    p = spec.param.get(name)
    if p is None:
        raise ShaderParameterError(
            spec.name, name, f"unknown parameter; parameters: {', '.join(spec.param) or '(none)'}"
        )
    text = text.strip()
    try:
        if p.type in ("scalar", "float"):
            return float(text)
        if p.type == "integer":
            return int(text)
        if p.type == "color":
            parts = [s for s in text.replace(" ", ",").split(",") if s]
            return tuple(float(s) for s in parts)
    except ValueError:
        raise ShaderParameterError(spec.name, name, f"cannot read {text!r} as {p.type}") from None
    if p.type == "boolean":
        if text.lower() in ON_WORDS:
            return True
        if text.lower() in OFF_WORDS:
            return False
        raise ShaderParameterError(spec.name, name, f"expected on/off, got {text!r}")
    return text


def parse_shader_option(text: str) -> tuple[str, dict]:
    """``NAME[:param=value,param=value...]`` -> (name, {param: string}).

    A comma-separated piece without ``=`` continues the previous value, so colours can be written
    ``color=0.1,0.2,0.3``.
    """
    name, _, rest = text.partition(":")
    name = name.strip()
    if not name:
        raise ShaderError(f"--shader {text!r}: no shader name")
    values: dict[str, str] = {}
    last = None
    for piece in rest.split(",") if rest.strip() else []:
        if "=" in piece:
            key, _, val = piece.partition("=")
            last = key.strip()
            if not last:
                raise ShaderError(f"--shader {text!r}: parameter without a name in {piece!r}")
            values[last] = val
        elif last is not None:
            values[last] += "," + piece
        else:
            raise ShaderError(f"--shader {text!r}: expected param=value, got {piece!r}")
    return name, values


# -- lookup and running ----------------------------------------------------------------------------

def shaders() -> dict[str, ShaderSpec]:
    """Every registered output shader, by name."""
    from .plugins import registry

    return registry().shaders


def get_shader(name: str) -> ShaderSpec:
    table = shaders()
    spec = table.get(name)
    if spec is None:
        raise ShaderError(
            f"unknown output shader {name!r}; shaders: {', '.join(sorted(table)) or '(none)'}"
        )
    return spec


def _context_from(context, buffers: FrameBufferSet) -> ShaderContext:
    if context is None:
        return ShaderContext(buffers)
    if isinstance(context, ShaderContext):
        return ShaderContext(buffers, options=context.options, scene_dir=context.scene_dir)
    if isinstance(context, Mapping):
        sd = context.get("scene_dir")
        return ShaderContext(buffers, options=dict(context.get("options") or {}),
                             scene_dir=Path(sd) if sd is not None else None)
    raise ShaderError(f"context must be a ShaderContext or a mapping, not {type(context).__name__}")


def _resolve_buffers(spec: ShaderSpec, ctx: ShaderContext, values: dict) -> dict:
    buffers = ctx.buffers
    resolved: dict[str, FrameBuffer | None] = {}
    first_read = spec.reads[0] if spec.reads else None
    order = [p for p in spec.params if p.type == "buffer"]
    # reads first, so in-place writes and "created like" can refer to them
    order.sort(key=lambda p: p.name not in spec.reads)
    for p in order:
        name = values[p.name]
        if name == PRIMARY:
            prim = buffers.primary
            if prim is None:
                raise ShaderError(
                    f"shader {spec.name!r}: parameter {p.name!r} defaults to the primary colour "
                    f"buffer, but the set has no colour buffer; buffers: {', '.join(buffers.names) or '(none)'}"
                )
            name = prim.name
        elif name is None:
            in_place = p.name in spec.writes and p.name not in spec.reads
            if in_place and first_read is not None and resolved.get(first_read) is not None:
                name = resolved[first_read].name
            else:
                resolved[p.name] = None
                continue
        if name in buffers:
            resolved[p.name] = buffers[name]
        elif p.name in spec.creates:
            like = spec.creates[p.name]
            if like in spec.param:
                src = resolved.get(like)
                if src is None:
                    raise ShaderError(
                        f"shader {spec.name!r}: cannot create buffer {name!r} like parameter "
                        f"{like!r}, which names no buffer"
                    )
                dt = src.datatype
            else:
                dt = datatype(like)
            resolved[p.name] = buffers.add(name, dt, user=True)
        else:
            raise ShaderError(
                f"shader {spec.name!r}: parameter {p.name!r} names buffer {name!r}, which does not "
                f"exist; buffers: {', '.join(buffers.names) or '(none)'}"
            )
        ctx.buffer_names[p.name] = name
    return resolved


def run_shader(spec: ShaderSpec, buffers: FrameBufferSet, params: Mapping, *, context=None) -> ShaderContext:
    values = validate_params(spec, params)
    ctx = _context_from(context, buffers)
    ctx.shader = spec.name
    ctx.params = dict(values)
    values.update(_resolve_buffers(spec, ctx, values))
    try:
        spec.function(ctx, **values)
    except (ShaderError, UnknownDataTypeError):
        raise
    except Exception as exc:  # a shader bug or a numerical failure: still one line, naming it
        raise ShaderError(f"shader {spec.name!r} failed: {type(exc).__name__}: {exc}") from exc
    return ctx


def apply_shader(name: str, buffers: FrameBufferSet, params: Mapping | None = None, *,
                 context=None) -> ShaderContext:
    """Validate ``params`` against shader ``name``'s declaration and run it once on ``buffers``.

    This is what scene execution calls for ``output "NAME" (params)``. ``context`` may be a
    :class:`ShaderContext` (its ``options`` and ``scene_dir`` are used) or a mapping with those
    keys. Returns the context the shader ran with (``ctx.info`` holds anything it reports).
    """
    return run_shader(get_shader(name), buffers, params or {}, context=context)


def describe(spec: ShaderSpec) -> list[dict]:
    """One row per parameter, for ``framebuf shaders`` and the docs."""
    rows = []
    for p in spec.params:
        role = []
        if p.name in spec.reads:
            role.append("reads")
        if p.name in spec.writes:
            role.append("writes")
        if p.name in spec.creates:
            role.append("creates")
        t = p.type if p.type != "enum" else "enum(" + "|".join(p.choices) + ")"
        rows.append({"param": p.name, "type": t, "default": p.describe_default(),
                     "role": ",".join(role), "doc": p.doc})
    return rows


def blur(pixels, radius: float, filter: str = "gauss", out=None):
    """Filter an (H, W, C) float array with one of the built-in post-filters (``box``, ``triangle``,
    ``gauss``, ``mitchell``, ``lanczos``; separable, border taps renormalised). A building block
    for shaders such as a glow; ``out`` may be ``pixels`` itself."""
    from .postfilters import PROFILES, kernel_weights, separable_filter

    if filter not in PROFILES:
        raise ShaderError(f"unknown filter {filter!r}; filters: {', '.join(PROFILES)}")
    if not radius > 0:
        raise ShaderError(f"filter radius must be positive, got {radius}")
    return separable_filter(pixels, kernel_weights(filter, radius), out)
