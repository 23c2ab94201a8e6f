"""What a sample source is: the protocol every source implements and the spec it registers with.

A *sample source* produces renderer sub-pixel samples for a scene's camera. The embedded analytic
ray caster (:mod:`framebuf.sources.raycast`) is one; a bridge to a real renderer, or a reader of
recorded samples, can be another. Sources register through the ``framebuf_sample_sources`` hook::

    from framebuf import hookimpl
    from framebuf.sources.base import SampleSourceSpec

    @hookimpl
    def framebuf_sample_sources():
        return [SampleSourceSpec("mysource", "samples from my renderer", MySource)]

and are then available to ``render_scene(..., source="mysource")`` and
``framebuf render --source mysource``.

Protocol
    ``factory(**options)`` returns an object with one method::

        render(scene_or_camera, *, seed=0, progress=None) -> Iterator[SampleBatch]

    ``scene_or_camera`` is a :class:`framebuf.scene.model.Scene` (camera, options, primitives,
    lights) or a bare :class:`~framebuf.scene.model.Camera` (default options, nothing in view).
    The iterator yields :class:`framebuf.resolve.SampleBatch` objects in raster coordinates of the
    *whole* image (pixel ``i`` covers ``[i, i+1)``, y grows downwards, row 0 at the top) carrying
    any of ``rgba`` (N, 4) premultiplied, ``z`` (N,), ``n`` (N, 3), ``m`` (N, 3), ``tag`` (N,)
    uint32 and ``object`` (N,) uint32, 1 + the index in ``scene.primitives`` of the surface hit
    (0: nothing), which Cryptomatte framebuffers need (:mod:`framebuf.scene.cryptomatte`). Batches should be small (a band of rows or a tile) so the caller can show progress and
    memory stays bounded. The same ``seed`` must give the same samples.

    ``progress``, when given, is a callable ``progress(done, total)`` in units the source chooses
    (rows for the ray caster): the source calls it once with ``done=0`` before the first batch and
    after every batch with the cumulative count, so a caller can size a progress bar up front.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Protocol, runtime_checkable

from ..errors import FramebufError

#: ``progress(done, total)``; see the module docstring.
ProgressCallback = Callable[[int, int], None]


@runtime_checkable
class SampleSource(Protocol):
    """A producer of sample batches for a scene (see the module docstring)."""

    def render(self, scene_or_camera, *, seed: int = 0,
               progress: ProgressCallback | None = None) -> Iterator:
        ...


@dataclass(frozen=True)
class SampleSourceSpec:
    """One registered source: its ``name`` (``--source NAME``), a one-line ``description`` and the
    ``factory`` that builds a :class:`SampleSource` (called with keyword options, usually none)."""

    name: str
    description: str
    factory: Callable[..., SampleSource]


def sources() -> dict[str, SampleSourceSpec]:
    """Every registered sample source, by name."""
    from ..plugins import registry

    return registry().sources


def get_source(name: str, **options) -> SampleSource:
    """Build the registered source ``name``; an unknown name lists the valid ones."""
    table = sources()
    spec = table.get(name)
    if spec is None:
        raise FramebufError(
            f"unknown sample source {name!r}; sources: {', '.join(sorted(table)) or '(none)'}"
        )
    if options:
        import inspect

        try:
            params = inspect.signature(spec.factory).parameters.values()
        except (TypeError, ValueError):  # no signature to check: the factory decides
            params = None
        if params is not None and not any(p.kind is p.VAR_KEYWORD for p in params):
            accepted = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
            unknown = sorted(set(options) - set(accepted))
            if unknown:
                raise FramebufError(
                    f"sample source {name!r} has no option {', '.join(unknown)}; its options: "
                    f"{', '.join(accepted) or '(none)'}"
                )
    return spec.factory(**options)
