"""Deep frame buffers of a render (``framebuffer "NAME" ... deep on``), for :mod:`.execute`.

A file whose buffers include one marked ``deep on`` is written as a deep OpenEXR of every
sample (:class:`framebuf.resolve.deep.DeepCollector`), not as resolved pixels: channels R G B A
(half for ``*_h`` and 8/16-bit colour types, float for ``*_fp``), Z (float) and, when one of the
file's buffers is a ``tag`` buffer, a uint channel named after it. The flat buffers of the same
render are resolved as usual; ``FrameBufferSet.deep`` holds the samples for output shaders.
"""

from __future__ import annotations

from ..errors import SceneError


def plan_job(ex, job, decls) -> None:
    """Mark a file job deep and record its channels; deep needs an OpenEXR file."""
    first = next(d for d in decls if d.deep)
    if job.spec.name != "exr":
        loc = first.location
        raise SceneError(loc[0] if loc else ex.scene.path, loc[1] if loc else 1,
                         loc[2] if loc else 1,
                         f"framebuffer {first.name!r}: deep output needs an OpenEXR file, not "
                         f"format {job.spec.name!r}")
    colour = next((d for d in decls if d.datatype.kind == "colour"), None)
    label = next((d for d in decls if d.datatype.kind == "label"), None)
    colour_type = "float" if colour is not None and colour.datatype.sample == "f32" else "half"
    job.deep = {"label_channel": label.name if label is not None else None,
                "colour_type": colour_type}


def _deep_jobs(ex):
    return [job for job in ex.deferred if job.deep]


def collector(ex):
    """A sample collector when some file is deep, else None."""
    jobs = _deep_jobs(ex)
    if not jobs:
        return None
    from ..resolve.deep import DeepCollector

    filt = ex._colour_filter()
    if filt.name != "box":
        ex.warn(f"deep framebuffers keep unfiltered samples (box); the {filt.name} filter "
                f"applies to the flat buffers only", ex.options.location)
    return DeepCollector(ex.fbs.width, ex.fbs.height, window=ex._window())


def channels(ex) -> dict:
    """The channels the (first) deep file asks for: the collector's ``resolve`` arguments."""
    return dict(_deep_jobs(ex)[0].deep)


def write_job(ex, job) -> None:
    """Write the render's samples as the job's deep OpenEXR, atomically."""
    from ..errors import FramebufError
    from ..formats import _exrdeep
    from ..io import atomic_output
    from .execute import WrittenFile, _loc_error

    img = ex.fbs.deep[0]
    options = {k: job.options[k] for k in ("compression", "tiled", "tile_size") if k in job.options}
    try:
        with atomic_output(job.path) as tmp:
            _exrdeep.write(tmp, [img], options)
    except FramebufError as exc:
        raise _loc_error(job.location, str(exc).replace(str(tmp), str(job.path)), ex.scene) from None
    # the data types the channels are stored as: colour R G B A, depth Z, labels
    types = ["rgba_fp" if job.deep["colour_type"] == "float" else "rgba_h", "z"]
    if job.deep["label_channel"]:
        types.append("tag")
    ex.files.append(WrittenFile(job.path, "exr", ",".join(types), job.path.stat().st_size))
