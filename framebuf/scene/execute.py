"""Execution of a loaded scene: render samples, resolve them into frame buffers, run the output
shaders and write the files, in mental ray's order (reference section 1).

``render_scene(scene, outdir, *, seed=0, source="raycast", progress=None) -> RenderResult``

Order of work
    1. **Plan.** The frame-buffer set is built from the camera's ``framebuffer`` declarations
       (named-buffer mode) and from the buffers that legacy ``output`` statements request
       (``"rgba,+z"``; ``fbN`` is the options block's ``frame buffer N``, created only when some
       output names it). Standard buffers share one storage per kind and filtering flag (``rgba``
       and ``rgba_16`` are one float colour array; ``-z`` and ``+z`` in one scene are two depth
       arrays, minimum and average); user buffers own theirs and are never filled by rendering. In
       legacy mode a standard ``rgba`` buffer always exists and is primary. Every output's format,
       data type and shader is checked now, so a bad statement fails before any work and before
       any file is written, with the statement's ``file:line:column``. A ``cryptomatte``
       framebuffer becomes its rank and preview buffers (:mod:`framebuf.scene.cryptomatte`).
    2. **Render.** The sample source (``"raycast"`` by default) yields sample batches; one
       :class:`~framebuf.resolve.Resolver` channel per sampled storage and filtering flag
       (``+``/``-`` or ``filtering on|off``) turns them into pixels. Only colour goes through the
       options' pixel filter; as in mental ray a non-box filter needs
       ``samples`` min >= -1 and max >= 0 and is otherwise ignored with a warning. Outside the
       camera ``window`` every buffer keeps its nothing-hit value.
    3. **Outputs, in camera order.** ``output "SHADER" (params)`` runs the registered output
       shader on the whole set (skipped, with a warning, when the options say ``output off``;
       mental ray's contour output shaders are skipped with a warning unless one is registered).
       A legacy file statement writes *at its position*, so a file before a shader gets the
       unprocessed image.
    4. **Named-buffer files.** Every ``framebuffer`` with a ``filename`` is written after all
       shaders. Buffers naming one file share it (EXR channels ``name.R`` ..., the primary buffer
       bare ``R G B A``; IFF/RLA colour + depth), in declaration order.
    5. ``null`` outputs: the stub file exists from step 2 until the end (also on failure), then
       vanishes; it is reported in ``RenderResult.removed``, not in ``files``.

Files
    Relative names go under ``outdir`` (folders are created). Absolute names, Windows paths
    (``C:\\...``, backslashes) and names climbing out with ``..`` come from other machines: the
    base name is written under ``outdir`` and a warning says so. Writes get the options' colorclip,
    desaturate, premultiply (a buffer's ``premultiplied`` overrides it), gamma and dither (seeded
    with the render seed). ``compression``, ``quality`` and ``field``/``even``/``odd`` go to formats
    that accept them; a property the format cannot store (``quality`` on a PNG, ``dpi``, ``dod``,
    ``colorprofile``) is dropped with a warning.

Errors
    Everything raised is a :class:`~framebuf.errors.FramebufError`; problems that belong to one
    statement are :class:`~framebuf.errors.SceneError` starting with its ``file:line:column``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import NamedTuple

import numpy as np

from .. import io as framebuf_io
from . import _deep_output
from ..buffers import EMPTY_VALUE, FileProperties, FrameBuffer, FrameBufferSet, empty_storage
from ..datatypes import STORAGE_COMPONENTS, DataType, datatype
from ..errors import FramebufError, SceneError
from ..limits import check_allocation, format_bytes
from ..resolve import Filter, Resolver
from ..resolve.resolver import KIND_BY_NAME
from .model import (
    CONTOUR_OUTPUT_SHADERS, ClearOutputs, FileOutput, FrameBufferDecl, Scene, ShaderOutput,
    effective_filtering,
)

#: the resolver channel that fills each standard storage.
STORAGE_CHANNELS = {"colour": "rgba", "depth": "z", "normal": "n", "motion": "m", "label": "tag",
                    "coverage": "coverage"}

#: bytes in one file or folder name on Linux, macOS and Windows file systems
NAME_MAX = 255

#: legacy ``output`` option -> write option.
_LEGACY_OPTIONS = {"quality": "quality", "compress": "compression", "dpi": "dpi", "dod": "dod"}


class WrittenFile(NamedTuple):
    """One file a render wrote: ``datatype`` lists the data types stored, comma-separated."""

    path: Path
    format: str
    datatype: str
    bytes: int


@dataclass
class RenderResult:
    """What :func:`render_scene` did.

    ``files`` in the order written; ``buffers`` the final frame-buffer set (after every shader);
    ``removed`` the ``null`` stubs that existed during the render; ``samples`` the number of
    samples rendered; ``timings`` seconds per phase (``render`` = sampling, ``resolve``,
    ``shaders``, ``write``, ``total``); ``shaders`` the output shaders that ran, in order.
    """

    files: list[WrittenFile]
    buffers: FrameBufferSet
    outdir: Path
    scene: Scene
    warnings: list[str] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    samples: int = 0
    timings: dict = field(default_factory=dict)
    shaders: list[str] = field(default_factory=list)

    def table(self) -> list[dict]:
        """One row per written file, for ``framebuf render``'s closing table."""
        rows = []
        for f in self.files:
            try:
                shown = f.path.relative_to(self.outdir)
            except ValueError:
                shown = f.path
            rows.append({"file": str(shown), "format": f.format, "type": f.datatype,
                         "size": format_bytes(f.bytes)})
        return rows


def _loc_error(location, message: str, scene: Scene) -> FramebufError:
    if location:
        return SceneError(location[0], location[1], location[2], message)
    return SceneError(scene.path, 1, 1, message)


@dataclass
class _FileJob:
    """One file to write: buffers (by name) in order, format, requested type, options."""

    buffer_names: list[str]
    spec: object                 # FormatSpec
    path: Path
    datatype: DataType | None
    options: dict
    location: tuple | None
    null: object | None = None   # NullOutput for the null format
    deep: bool = False           # a deep OpenEXR of every sample (framebuffer ... deep on)


class _Execution:
    def __init__(self, scene: Scene, outdir: Path, seed: int, progress, dry: bool = False):
        self.dry = dry
        self.scene = scene
        self.camera = scene.camera
        self.options = scene.options
        self.outdir = outdir
        self.seed = int(seed)
        self.progress = progress
        self.warnings: list[str] = []
        self.files: list[WrittenFile] = []
        self.removed: list[Path] = []
        self.shaders_run: list[str] = []
        self.timings: dict[str, float] = {}
        self.first_flag: dict[str, bool] = {}        # storage -> filtering of its shared array
        self.alt_storage: dict[str, np.ndarray] = {}  # storage -> array for the other flag
        self.sampled: list[tuple[str, bool]] = []     # (storage, filtering) pairs to resolve
        self.nulls: list = []
        self.crypto: dict = {}                        # layer name -> _CryptoLayer

    def warn(self, message: str, location=None) -> None:
        if location:
            message = f"{location[0]}:{location[1]}:{location[2]}: {message}"
        if message not in self.warnings:  # planning looks at some statements twice
            self.warnings.append(message)

    # ---------------------------------------------------------------------------------- planning
    def _add_standard(self, name: str, dt, filtering: bool | None, **kw) -> FrameBuffer:
        """A standard buffer: joins the shared array of its storage and filtering flag."""
        dt = datatype(dt)
        flag = dt.interpolated if filtering is None else bool(filtering)
        if dt.kind == "coverage" and flag != dt.interpolated:
            # "+coverage" would otherwise get a second array holding the same pixels
            self.warn("coverage has no interpolation rule of its own (it is measured for the label "
                      "the tag buffer keeps, whose +/- decides); its + is ignored")
            flag = dt.interpolated
        storage = dt.storage
        first = self.first_flag.setdefault(storage, flag)
        if flag == first:
            buf = self.fbs.add(name, dt, filtering=flag, **kw)
        else:
            # the other interpolation rule needs its own pixels: "-z" and "+z" differ
            arr = self.alt_storage.get(storage)
            if arr is None:
                arr = self.alt_storage[storage] = empty_storage(storage, self.fbs.height,
                                                                self.fbs.width)
            buf = self.fbs.add_buffer(FrameBuffer(name, dt, arr, view=dt.view, filtering=flag,
                                                  user=False, **kw))
        if (storage, flag) not in self.sampled:
            self.sampled.append((storage, flag))
        return buf

    def resolver_channels(self) -> dict[str, tuple[dict, np.ndarray]]:
        """Resolver channel name -> (channel options, array it fills), one per sampled storage and
        filtering flag (uv and mask buffers are not rendered, as in mental ray)."""
        out = {}
        for storage, flag in self.sampled:
            base = STORAGE_CHANNELS.get(storage)
            if base is None:
                continue
            first = flag == self.first_flag[storage]
            name = base if first else base + ("+" if flag else "-")
            opts = {"filtering": flag, "kind": KIND_BY_NAME[base], "source": base}
            if storage == "colour" and flag:
                opts["filter"] = self._colour_filter()
            target = self.fbs.storage(storage) if first else self.alt_storage[storage]
            out[name] = (opts, target)
        return out

    def _request(self, kind, filtering, location) -> str | None:
        """The buffer a legacy type request names (created if needed); None for ``contour``."""
        fbs = self.fbs
        if isinstance(kind, str):
            if kind == "contour":
                self.warn("contour rendering is not modelled; the contour type is ignored", location)
                return None
            m = re.fullmatch(r"fb(\d+)", kind)
            if not m:
                raise _loc_error(location, f"unknown buffer type {kind!r}", self.scene)
            number = int(m.group(1))
            if number not in self.options.user_buffers:
                raise _loc_error(
                    location, f"{kind} names user frame buffer {number}, which the options block does "
                              f"not define (frame buffer {number} \"TYPE\")", self.scene)
            name = kind
            if name not in fbs:
                dt, filt = self.options.user_buffers[number]
                fbs.add(name, dt or "rgba_fp", user=True, filtering=filt)
            return name
        dt: DataType = kind
        flag = effective_filtering(dt, filtering)
        for name in (dt.name, ("+" if flag else "-") + dt.name):
            if name in fbs:
                b = fbs[name]
                if b.datatype is dt and not b.user and b.filtering == flag:
                    return name
            else:
                self._add_standard(name, dt, flag)
                return name
        name = dt.name
        while name in fbs:
            name += "_"
        self._add_standard(name, dt, flag)
        return name

    def _target(self, filename: str, location) -> Path:
        name = str(filename)
        # refused in the plan, not by the OS after rendering (a NUL made pathlib raise ValueError)
        if "\0" in name:
            raise _loc_error(location, f"file name {name[:40]!r} holds a NUL character", self.scene)
        long = [part for part in re.split(r"[\\/]", name) if len(part.encode("utf-8", "replace")) > NAME_MAX]
        if long:
            raise _loc_error(location, f"file name {long[0][:40]!r}... is {len(long[0])} characters; "
                                       f"file systems hold at most {NAME_MAX} bytes a name", self.scene)
        foreign = "\\" in name or re.match(r"^[A-Za-z]:", name) is not None
        p = Path(name)
        if foreign or p.is_absolute() or ".." in p.parts:
            base = PureWindowsPath(name).name if foreign else p.name
            if not base:
                raise _loc_error(location, f"file name {filename!r} has no base name", self.scene)
            self.warn(f'file name "{filename}" is not relative to the output folder; writing '
                      f'"{base}" there instead', location)
            p = Path(base)
        target = self.outdir / p
        if not self.dry:
            target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def _spec(self, filetype, path, location):
        try:
            return framebuf_io.find_format(filetype or None, path)
        except FramebufError as exc:
            raise _loc_error(location, str(exc), self.scene) from None

    def _write_options(self, spec, props: dict, location) -> dict:
        """Keep the properties the format accepts; warn about the rest."""
        opts = {}
        for key, value in props.items():
            if value is None or value is False and key in ("dod", "tiled"):
                continue
            if key == "compression":
                value = str(value).lower()
                if not spec.compressions:
                    self.warn(f"format {spec.name!r} has no compression choice; "
                              f"compression {value!r} ignored", location)
                    continue
                if value not in spec.compressions:
                    raise _loc_error(
                        location, f"format {spec.name!r} has no compression {value!r}; "
                                  f"compressions: {', '.join(spec.compressions)}", self.scene)
                opts[key] = value
            elif key == "quality":
                if int(value) == 0:
                    continue  # 0 means the format's default
                if key in spec.options:
                    opts[key] = int(value)
                else:
                    self.warn(f"format {spec.name!r} has no quality setting; quality {value} "
                              f"ignored", location)
            elif key == "colorprofile":
                self.warn(f"colour profiles are not applied; colorprofile {value!r} ignored",
                          location)
            elif key in spec.options:
                opts[key] = value
            else:
                self.warn(f"format {spec.name!r} cannot store {key}; ignored", location)
        return opts

    def _check_job(self, job: _FileJob) -> None:
        """Type/format check before rendering, so a bad pair fails before any file is written."""
        if job.null is not None:
            return
        bufs = [self.fbs[n] for n in job.buffer_names]
        if len(bufs) > 1 and not job.spec.multi_layer:
            raise _loc_error(
                job.location, f"format {job.spec.name!r} holds one buffer per file; "
                              f"{len(bufs)} buffers name {job.path.name!r} "
                              f"({', '.join(job.buffer_names)})", self.scene)
        for buf in bufs:
            try:
                framebuf_io.choose_datatype(job.spec, buf, job.datatype if len(bufs) == 1 else None)
            except FramebufError as exc:
                raise _loc_error(job.location, f"buffer {buf.name!r}: {exc}", self.scene) from None

    def _file_job(self, names, filetype, filename, requested, props, location) -> _FileJob:
        path = self._target(filename, location)
        spec = self._spec(filetype, path, location)
        job = _FileJob(list(names), spec, path, requested, {}, location)
        if not spec.creates_file:
            from ..formats.null import NullOutput

            job.null = NullOutput(path)
            self.nulls.append(job.null)
            return job
        job.options = self._write_options(spec, props, location)
        return job

    def _check_shader(self, st: ShaderOutput):
        from ..shading import shaders

        if st.shader is None:
            raise _loc_error(st.location, f"output shader instance {st.instance!r} is not defined "
                                          f"in the scene", self.scene)
        if st.shader in shaders():
            return
        if st.shader in CONTOUR_OUTPUT_SHADERS:
            return  # warned about when it is reached
        table = shaders()
        raise _loc_error(st.location, f"unknown output shader {st.shader!r}; shaders: "
                                      f"{', '.join(sorted(table)) or '(none)'}", self.scene)

    def plan(self) -> None:
        self._plan_resolution()
        # A dry plan builds every buffer at 1x1: the same statements, checks and buffer layout at
        # no cost (20000x20000 took 16 s and 6 GB just to print a plan); the full-size bytes are
        # computed from it by planned_bytes().
        self.fbs = FrameBufferSet(1, 1) if self.dry else FrameBufferSet(*self.resolution)
        self.steps: list = []          # ("shader", ShaderOutput) | ("file", _FileJob)
        self.deferred: list[_FileJob] = []
        self._plan_buffers()
        self._plan_outputs()
        self._plan_buffer_files()
        self._check_sizes()

    def _plan_resolution(self) -> None:
        cam = self.camera
        from .camera import DEFAULT_RESOLUTION

        geo_res = cam.resolution or DEFAULT_RESOLUTION  # mental ray's default, as the ray caster
        self.resolution = (int(geo_res[0]), int(geo_res[1]))
        if self.resolution[0] <= 0 or self.resolution[1] <= 0:
            raise _loc_error(cam.location, f"resolution {self.resolution[0]} "
                                           f"{self.resolution[1]} is not positive", self.scene)

    def _plan_buffers(self) -> None:
        """The legacy rgba buffer, then the named buffers in declaration order."""
        cam = self.camera
        if cam.mode == "legacy":
            self._add_standard("rgba", "rgba", None, primary=True)
        primary = cam.primary_buffer()
        for decl in cam.framebuffers.values():
            props = {"dod": decl.dod, "dpi": decl.dpi, "field": decl.field, "tiled": decl.tiled}
            fprops = FileProperties(decl.filename, decl.filetype, decl.compression, decl.quality,
                                    props)
            if decl.cryptomatte or decl.ranks is not None or decl.manifest is not None:
                self._plan_cryptomatte(decl, fprops)
            elif decl.user:
                self.fbs.add(decl.name, decl.datatype, user=True, filtering=decl.effective_filtering,
                             primary=decl is primary, file=fprops)
            else:
                self._add_standard(decl.name, decl.datatype, decl.effective_filtering,
                                   primary=decl is primary, file=fprops)

    def _plan_outputs(self) -> None:
        """The camera's output statements, in camera order, as steps."""
        for st in self.camera.outputs:
            if isinstance(st, ClearOutputs):
                continue
            if isinstance(st, ShaderOutput):
                for kind, filt in st.types:
                    self._request(kind, filt, st.location)
                self._check_shader(st)
                self.steps.append(("shader", st))
            elif isinstance(st, FileOutput):
                job = self._file_output_job(st)
                if job is not None:
                    self._check_job(job)
                    self.steps.append(("file", job))

    def _file_output_job(self, st: FileOutput) -> _FileJob | None:
        """The job of one file output statement; None when none of its types names a buffer."""
        path = self._target(st.filename, st.location)
        spec = self._spec(st.format, path, st.location)
        types = list(st.types) or [(datatype(spec.default_datatype), None)]
        names = [n for n in (self._request(k, f, st.location) for k, f in types) if n]
        if not names:
            return None
        requested = None
        if len(types) == 1 and isinstance(types[0][0], DataType):
            requested = types[0][0]
            if requested.name not in spec.datatypes:
                # as for a framebuffer's datatype: a compatible conversion is attempted
                self.warn(f"format {spec.name!r} does not list data type "
                          f"{requested.name!r}; a compatible type is written instead",
                          st.location)
                requested = None
        props = {"colorprofile": st.colorprofile}
        if st.option:
            key, value = st.option
            if key in ("even", "odd"):
                props["field"] = key
            else:
                props[_LEGACY_OPTIONS.get(key, key)] = value
        return self._file_job(names, st.format, st.filename, requested, props, st.location)

    def _plan_buffer_files(self) -> None:
        """Named buffers with files: grouped by target file, written after every shader."""
        groups: dict[Path, list[FrameBufferDecl]] = {}
        for decl in self.camera.framebuffers.values():
            if decl.filename:
                path = self._target(decl.filename, decl.location)
                groups.setdefault(path.resolve(), []).append(decl)
        for decls in groups.values():
            job = self._buffer_file_job(decls)
            if any(d.deep for d in decls):
                _deep_output.plan_job(self, job, decls)
            self._check_cryptomatte_job(job, decls)
            self._check_job(job)
            self.deferred.append(job)

    def _buffer_file_job(self, decls: list[FrameBufferDecl]) -> _FileJob:
        """One file several buffer declarations name: one format, the first value each file
        property is given."""
        first = decls[0]
        filetype = first.filetype
        for d in decls[1:]:
            if d.filetype and filetype and d.filetype.lower() != filetype.lower():
                raise _loc_error(d.location, f"buffer {d.name!r} names file {d.filename!r} with "
                                             f"format {d.filetype!r}, but buffer {first.name!r} "
                                             f"gave it format {filetype!r}", self.scene)
            filetype = filetype or d.filetype
        props = {}
        for key in ("compression", "quality", "field", "dpi", "dod", "tiled", "colorprofile"):
            props[key] = next((getattr(d, key) for d in decls if getattr(d, key) is not None),
                              None)
        names = [n for d in decls for n in (self.crypto[d.name].buffer_names if d.name in
                                            self.crypto else [d.name])]
        job = self._file_job(names, filetype, first.filename, None, props, first.location)
        if len(decls) == 1 and first.premultiplied is not None:
            job.options["premultiply"] = bool(first.premultiplied)
        elif any(d.premultiplied is not None for d in decls):
            self.warn("premultiplied applies to single-buffer files only; ignored",
                      first.location)
        if len(decls) > 1:
            job.location = decls[1].location if not job.spec.multi_layer else first.location
        return job

    def _check_sizes(self) -> None:
        """Refuse a resolution a planned file's format cannot hold, before any rendering, with
        the check the writer applies (``framebuf.io.check_size``, the spec's ``max_width`` and
        ``max_height``): one fact, found 23 s and 10 GB earlier than the writer would."""
        w, h = self.resolution
        for job in [j for kind, j in self.steps if kind == "file"] + self.deferred:
            if job.null is not None:
                continue
            try:
                framebuf_io.check_size(job.spec, w, h)
            except FramebufError as exc:
                raise _loc_error(job.location, f"{job.path.name}: {exc}", self.scene) from None

    def planned_bytes(self) -> int:
        """Bytes the render will hold at full resolution: every distinct buffer array, plus the
        resolver's accumulators (float64 sums, weights and the box-filter pass: about
        16 * (components + 2) bytes a pixel per rendered channel - an estimate, the exact
        figure depends on the filter)."""
        arrays = {id(a): a for a in list(self.fbs._storages.values()) + list(self.alt_storage.values())}
        for buf in self.fbs:
            arrays.setdefault(id(buf.storage), buf.storage)
        w, h = self.resolution
        per_pixel = sum(a.nbytes // max(a.shape[0] * a.shape[1], 1) for a in arrays.values())
        for storage, _flag in self.sampled:
            if storage in STORAGE_CHANNELS:
                per_pixel += 16 * (STORAGE_COMPONENTS[storage] + 2)
        per_pixel += 16 * len(self.crypto)   # id/weight pairs per Cryptomatte layer
        return per_pixel * w * h

    def check_budget(self) -> int:
        """Refuse a plan whose buffers exceed the memory budget (``framebuf.limits``)."""
        nbytes = self.planned_bytes()
        w, h = self.resolution
        check_allocation(nbytes, f"rendering {w}x{h} ({len(self.fbs)} buffers)")
        return nbytes

    def _plan_cryptomatte(self, decl: FrameBufferDecl, fprops: FileProperties) -> None:
        from .cryptomatte import plan_layer

        layer = plan_layer(self, decl, fprops)
        self.crypto[decl.name] = layer
        for buf in layer.encoded.buffers:
            self.fbs.add_buffer(buf)

    def _check_cryptomatte_job(self, job: _FileJob, decls) -> None:
        from .cryptomatte import check_job

        check_job(self, job, [d for d in decls if d.name in self.crypto])

    # ---------------------------------------------------------------------------------- render
    def _colour_filter(self) -> Filter:
        o = self.options
        name = o.filter or "box"
        if o.filter_clip:
            name = "clip_" + name
        try:
            filt = Filter.make(name, o.filter_width, o.filter_height)
        except FramebufError as exc:
            raise _loc_error(o.location, str(exc), self.scene) from None
        if filt.name != "box" and (o.samples_min < -1 or o.samples_max < 0):
            self.warn(f"filter {filt.name} needs samples min >= -1 and max >= 0 (scene has "
                      f"{o.samples_min} {o.samples_max}); the box filter is used", o.location)
            filt = Filter.box()
        return filt

    def sample(self, source) -> int:
        channels = self.resolver_channels()
        crypto = {layer.channel: layer for layer in self.crypto.values()}
        if not channels and not crypto:
            return 0
        fbs = self.fbs
        resolver = Resolver(fbs.width, fbs.height, {**{k: v[0] for k, v in channels.items()},
                                                    **{k: v.options for k, v in crypto.items()}})
        extra = len(self.steps) + len(self.deferred) + 1
        state = {"total": None}

        def on_progress(done, total):
            state["total"] = total
            if self.progress is not None:
                self.progress(done, total + extra)

        t0 = time.perf_counter()
        t_resolve = 0.0
        count = 0
        collector = _deep_output.collector(self)
        for batch in source.render(self.scene, seed=self.seed, progress=on_progress):
            t1 = time.perf_counter()
            for layer in crypto.values():
                layer.add_ids(batch)
            resolver.add(batch)
            if collector is not None:
                collector.add(batch)
            t_resolve += time.perf_counter() - t1
            count += len(batch)
        t1 = time.perf_counter()
        pixels = resolver.resolve()
        if collector is not None:
            self.fbs.deep = [collector.resolve(**_deep_output.channels(self))]
        t_resolve += time.perf_counter() - t1
        self.timings["render"] = time.perf_counter() - t0 - t_resolve
        self.timings["resolve"] = t_resolve
        self.base_units = state["total"] or 0
        self.units_done = self.base_units
        self.units_total = self.base_units + extra
        self._step()
        window = self._window()
        for channel, (opts, target) in channels.items():
            arr = pixels[channel]
            storage = next(k for k, v in STORAGE_CHANNELS.items() if v == opts["source"])
            if window is not None:
                x0, y0, x1, y1 = window
                inside = np.zeros((fbs.height, fbs.width), bool)
                inside[y0:y1, x0:x1] = True
                arr = np.where(inside[:, :, None], arr, np.asarray(EMPTY_VALUE[storage], arr.dtype))
            target[...] = arr
        for name, layer in crypto.items():
            layer.fill(pixels[name], window)
        return count

    def _window(self):
        if not self.camera.window:
            return None
        from .camera import CameraGeometry

        return CameraGeometry.from_camera(self.camera).window

    def _step(self) -> None:
        if self.progress is not None and getattr(self, "units_total", None):
            self.units_done = min(self.units_done + 1, self.units_total)
            self.progress(self.units_done, self.units_total)

    # ---------------------------------------------------------------------------------- outputs
    def run_shader(self, st: ShaderOutput) -> None:
        from ..shading import apply_shader, shaders

        if not self.options.output_shaders_enabled:
            self.warn(f"output shader {st.shader!r} skipped: the options say output off",
                      st.location)
            return
        if st.shader in CONTOUR_OUTPUT_SHADERS and st.shader not in shaders():
            self.warn(f"contour output shader {st.shader!r} skipped: contour rendering is not "
                      f"modelled", st.location)
            return
        o = self.options
        context = {
            "options": {"colorclip": o.colorclip, "desaturate": o.desaturate,
                        "premultiply": o.premultiply, "dither": o.dither, "gamma": o.gamma,
                        "samples": (o.samples_min, o.samples_max)},
            "scene_dir": str(Path(self.scene.path).parent),
        }
        try:
            apply_shader(st.shader, self.fbs, dict(st.params), context=context)
        except SceneError:
            raise
        except FramebufError as exc:
            raise _loc_error(st.location, str(exc), self.scene) from None
        self.shaders_run.append(st.shader)

    def write(self, job: _FileJob) -> None:
        if job.null is not None:
            return  # the stub exists until the end of the render; nothing is stored
        if job.deep:
            return _deep_output.write_job(self, job)
        o = self.options
        bufs = [self.fbs[n] for n in job.buffer_names]
        kwargs = {"colorclip": o.colorclip, "desaturate": o.desaturate,
                  "premultiply": o.premultiply, "gamma": o.gamma, "dither": o.dither,
                  "dither_seed": self.seed}
        kwargs.update(job.options)
        if self.fbs.deep and "deep" in job.spec.options:
            kwargs["deep"] = "off"          # the set's samples belong to the deep jobs only
        if self.fbs.attributes and job.spec.stores_attributes:
            # header attributes a shader left for the file (e.g. zmin/zmax)
            kwargs["attributes"] = dict(self.fbs.attributes)
        layers = [c.encoded for c in self.crypto.values() if c.name in job.buffer_names]
        for layer in layers:
            kwargs["attributes"] = {**kwargs.get("attributes", {}), **layer.attributes}
        requested = job.datatype if len(bufs) == 1 else None
        try:
            for layer in layers:          # the sidecar first: the EXR never names a missing one
                sidecar = layer.write_sidecar(job.path)
                if sidecar is not None:
                    self.files.append(WrittenFile(sidecar, "json", "cryptomatte manifest",
                                                  sidecar.stat().st_size))
            types = [framebuf_io.choose_datatype(job.spec, b, requested).name for b in bufs]
            framebuf_io.write(bufs if len(bufs) > 1 else bufs[0], job.path, filetype=job.spec.name,
                       datatype=requested, **kwargs)
        except SceneError:
            raise
        except FramebufError as exc:
            raise _loc_error(job.location, str(exc), self.scene) from None
        self.files.append(WrittenFile(job.path, job.spec.name, ",".join(types),
                                      job.path.stat().st_size))

    def _adopt_shader_buffers(self) -> None:
        """Buffers an output shader created with file properties (e.g. segmentation masks marked
        for the beauty's EXR) are written like declared named buffers: into the job that already
        writes that file, else into a file of their own, after every shader has run."""
        claimed = {n for job in self.deferred for n in job.buffer_names}
        claimed |= {n for kind, job in self.steps if kind == "file" for n in job.buffer_names}
        by_path = {job.path.resolve(): job for job in self.deferred}
        for buf in self.fbs:
            if buf.name in claimed or not buf.file.filename:
                continue
            path = self._target(buf.file.filename, None).resolve()
            job = by_path.get(path)
            if job is None:
                job = self._file_job([buf.name], buf.file.filetype, buf.file.filename, None,
                                     {"compression": buf.file.compression}, None)
                self.deferred.append(job)
                by_path[path] = job
            elif not job.spec.multi_layer:
                raise _loc_error(job.location, f"output shader made buffer {buf.name!r} for file "
                                               f"{job.path.name!r}, but format {job.spec.name!r} "
                                               f"holds one buffer per file", self.scene)
            else:
                job.buffer_names.append(buf.name)
            self._check_job(job)

    def run(self, source) -> RenderResult:
        t_start = time.perf_counter()
        # plan at 1x1 first: every check and the memory budget before a full-size array exists
        probe = _Execution(self.scene, self.outdir, self.seed, None, dry=True)
        probe.plan()
        probe.check_budget()
        self.plan()
        try:
            for stub in self.nulls:
                stub.open()
            samples = self.sample(source)
            t0 = time.perf_counter()
            t_shaders = 0.0
            for kind, item in self.steps:
                t1 = time.perf_counter()
                if kind == "shader":
                    self.run_shader(item)
                    t_shaders += time.perf_counter() - t1
                else:
                    self.write(item)
                self._step()
            self._adopt_shader_buffers()
            for job in self.deferred:
                self.write(job)
                self._step()
            self.timings["shaders"] = t_shaders
            self.timings["write"] = time.perf_counter() - t0 - t_shaders
        finally:
            for stub in self.nulls:
                if not stub.closed:
                    stub.close()
                    self.removed.append(stub.path)
        self.timings["total"] = time.perf_counter() - t_start
        return RenderResult(self.files, self.fbs, self.outdir, self.scene, self.warnings,
                            self.removed, samples, self.timings, self.shaders_run)


class Plan(NamedTuple):
    """What :func:`plan_scene` found: the files, the execution warnings, the resolution and the
    estimated bytes the render would hold (``planned_bytes``) against the memory budget."""

    files: list
    warnings: list[str]
    resolution: tuple[int, int]
    nbytes: int
    budget: int


class PlannedFile(NamedTuple):
    """A file a render would write: ``when`` is ``"in sequence"`` (a legacy file statement, at
    its camera position) or ``"after shaders"`` (a named buffer)."""

    path: Path
    format: str
    buffers: tuple[str, ...]
    when: str


def plan_scene(scene: Scene, outdir) -> tuple[list[PlannedFile], list[str]]:
    """Check a scene's output setup without rendering or touching the disk.

    Runs the planning step of :func:`render_scene` (buffers, formats, data types, shader names;
    errors are the same located SceneErrors) and returns the files it would write, in order,
    plus the execution warnings.
    """
    plan = plan_render(scene, outdir)
    return plan.files, plan.warnings


def plan_render(scene: Scene, outdir) -> Plan:
    """:func:`plan_scene` with the resolution and memory estimate; allocates no frame buffer
    and refuses nothing for size beyond the formats' limits (the caller compares ``nbytes``
    with ``budget``, so a dry run can show an over-budget plan)."""
    from ..limits import memory_budget

    if scene.camera is None:
        raise SceneError(scene.path, 1, 1, "the scene has no camera: nothing to render")
    ex = _Execution(scene, Path(outdir), 0, None, dry=True)
    ex.plan()
    planned = [PlannedFile(job.path, job.spec.name, tuple(job.buffer_names), "in sequence")
               for kind, job in ex.steps if kind == "file"]
    planned += [PlannedFile(job.path, job.spec.name, tuple(job.buffer_names), "after shaders")
                for job in ex.deferred]
    return Plan(planned, ex.warnings, ex.resolution, ex.planned_bytes(), memory_budget())


def render_scene(scene, outdir, *, seed: int = 0, source="raycast", progress=None) -> RenderResult:
    """Render ``scene`` (a :class:`Scene` or a ``.mi`` path) and execute its output setup.

    ``outdir`` receives every file (created if missing). ``seed`` fixes the samples (and the
    dither noise). ``source`` is a registered sample-source name or a
    :class:`~framebuf.sources.base.SampleSource` object. ``progress``, if given, is called as
    ``progress(done, total)``: rows rendered plus one unit per resolve, shader and file.
    Returns a :class:`RenderResult`; scene warnings are in ``result.scene.warnings``, execution
    warnings in ``result.warnings``.
    """
    if not isinstance(scene, Scene):
        from . import load

        scene = load(scene)
    if scene.camera is None:
        raise SceneError(scene.path, 1, 1, "the scene has no camera: nothing to render")
    if isinstance(source, str):
        from ..sources.base import get_source

        source = get_source(source)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    return _Execution(scene, outdir, seed, progress).run(source)
