"""The text summary of a scene's output setup (``Scene.describe()``, what ``framebuf render
--dry-run`` prints). Kept apart from :mod:`framebuf.scene.model`: the model holds the facts, this
module only words them, one line per statement."""

from __future__ import annotations

from .model import (
    ClearOutputs, FileOutput, FrameBufferDecl, InterfaceRef, Scene, ShaderOutput, ShaderRef,
    format_types,
)


def describe(scene: Scene) -> str:
    lines = [f"scene {scene.path}"]
    lines += _options_lines(scene.options)
    cam = scene.camera
    if cam is None:
        lines.append("no camera: nothing is rendered or written")
    else:
        lines += _camera_lines(cam)
    if scene.primitives or scene.lights:
        lines.append(f"framebuf primitives: {len(scene.primitives)} primitive(s), {len(scene.lights)} light(s)")
        for p in scene.primitives:
            lines.append(f"  {p.kind} {p.name!r}")
    outs = scene.output_shader_decls()
    if outs:
        lines.append("output shaders declared: " + ", ".join(outs))
    for w in scene.warnings:
        lines.append(f"warning: {w}")
    return "\n".join(lines)


def _options_lines(o) -> list[str]:
    lines = [
        f"options {o.name or '(defaults)'}: samples {o.samples_min} {o.samples_max}, "
        f"filter {'clip ' if o.filter_clip else ''}{o.filter} {o.filter_width:g} {o.filter_height:g}, "
        f"colorclip {o.colorclip}, premultiply {_fmt_value(o.premultiply)}, "
        f"desaturate {_fmt_value(o.desaturate)}, dither {_fmt_value(o.dither)}, gamma {o.gamma:g}, "
        f"output shaders {_fmt_value(o.output_shaders_enabled)}"
    ]
    for n, (t, filt) in sorted(o.user_buffers.items()):
        lines.append(f"  user buffer fb{n}: {('+' if filt else '-') + t.name if t else '(any type)'}")
    return lines


def _camera_lines(cam) -> list[str]:
    """The camera, then its statements in the order they run."""
    res = f"{cam.resolution[0]}x{cam.resolution[1]}" if cam.resolution else "(not given)"
    lines = [
        f"camera {cam.name}: resolution {res}, aspect {cam.effective_aspect:g}"
        + (f", window {' '.join(map(str, cam.window))}" if cam.window else "")
        + f", frame {cam.frame[0]}"
    ]
    if cam.mode == "named":
        lines.append("mode: named frame buffers (output shaders run in camera order, then files are written)")
    else:
        lines.append("mode: legacy output statements (executed strictly in sequence)")
    primary = cam.primary_buffer()
    for st in cam.statements():
        if isinstance(st, FrameBufferDecl):
            lines.append(_framebuffer_line(st, primary))
        elif isinstance(st, ShaderOutput):
            lines.append(_shader_output_line(st))
        elif isinstance(st, FileOutput):
            lines.append(_file_output_line(st))
        elif isinstance(st, ClearOutputs):
            lines.append(f"  output (cleared everything before)  [{_fmt_loc(st.location)}]")
    if not cam.framebuffers and not cam.outputs:
        lines.append("  no outputs: nothing is written")
    return lines


def _framebuffer_line(st: FrameBufferDecl, primary) -> str:
    flags = []
    if st is primary:
        flags.append("primary" if st.primary else "primary (implicit)")
    if st.user:
        flags.append("user")
    filt = "on" if st.effective_filtering else "off"
    desc = f"  framebuffer {st.name!r}: {st.datatype.name}, filtering {filt}"
    if st.cryptomatte:
        desc = (f"  framebuffer {st.name!r}: cryptomatte {st.cryptomatte} names, "
                f"{st.ranks or 6} ranks, manifest {st.manifest or 'auto'}")
    if flags:
        desc += ", " + ", ".join(flags)
    if st.filename:
        desc += f' -> file "{st.filename}" format ' + (st.filetype or "(from extension)")
        if st.compression:
            desc += f" compression {st.compression}"
        if st.quality is not None:
            desc += f" quality {st.quality}"
    else:
        desc += " (not written)"
    return desc


def _shader_output_line(st: ShaderOutput) -> str:
    who = st.shader or "(undefined)"
    head = f"  output shader {who}"
    if st.instance:
        head += f" (instance {st.instance!r})"
    if st.types:
        head += f" on {format_types(st.types)}"
    if st.params:
        # the first four parameters: enough to recognise the statement, short enough for a line
        shown = [f'"{k}" {_fmt_value(v)}' for k, v in list(st.params.items())[:4]]
        if len(st.params) > 4:
            shown.append(f"... {len(st.params)} parameters")
        head += " (" + ", ".join(shown) + ")"
    return head + f"  [{_fmt_loc(st.location)}]"


def _file_output_line(st: FileOutput) -> str:
    t = format_types(st.types) if st.types else "(format default type)"
    desc = f'  output file "{st.filename}": format {st.format}, type {t}'
    if st.option:
        desc += f", {st.option[0]} {_fmt_value(st.option[1])}" if st.option[1] is not True else f", {st.option[0]}"
    if st.colorprofile:
        desc += f", colorprofile {st.colorprofile!r}"
    return desc + f"  [{_fmt_loc(st.location)}]"


def _fmt_value(v) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, ShaderRef):
        return f'= "{v.name}"'
    if isinstance(v, InterfaceRef):
        return f'= interface "{v.name}"'
    if isinstance(v, str):
        s = v if len(v) <= 60 else v[:57] + "..."
        return '"' + s.replace("\n", "\\n") + '"'
    if isinstance(v, tuple):
        return " ".join(_fmt_value(x) for x in v)
    if isinstance(v, list):
        return "[" + ", ".join(_fmt_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f'"{k}" {_fmt_value(x)}' for k, x in v.items()) + "}"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _fmt_loc(loc) -> str:
    return f"{loc[0]}:{loc[1]}" if loc else "?"
