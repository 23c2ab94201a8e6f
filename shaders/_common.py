"""Helpers the built-in shaders share (private: not a plugin module)."""

from __future__ import annotations

import numpy as np

from framebuf.buffers import FrameBuffer
from framebuf.errors import ShaderError

COLOUR_KINDS = ("colour", "shared-exponent colour")

# why a buffer kind cannot go through a colour operation, for the error message
WHY_NOT = {
    "depth": "depth is a distance per pixel (+inf where nothing was hit); blending it invents "
             "surfaces between foreground and background",
    "vector": "normals and motion vectors are directions; averaging them gives vectors of the "
              "wrong length that point nowhere in the scene",
    "label": "labels are identifiers; a weighted sum of two labels is a third, unrelated label",
    "uv": "UV vectors are texture coordinates; blending across an object edge mixes unrelated ones",
    "mask": "a bit mask is 0 or 1; filtering gives fractions a bit buffer cannot hold",
    "coverage": "coverage is not a colour",
    "scalar": "a scalar buffer has no colour channels",
}


def require_kind(ctx, buf: FrameBuffer, kinds, param: str, what: str) -> None:
    kind = buf.datatype.kind
    if kind not in kinds:
        why = WHY_NOT.get(kind, f"a {kind} buffer is not one of: {', '.join(kinds)}")
        raise ShaderError(
            f"shader {ctx.shader!r}: {param} buffer {buf.name!r} is {buf.datatype.name} ({kind}); "
            f"{what} only takes {', '.join(kinds)} buffers: {why}"
        )


def same_size(ctx, a: FrameBuffer, b: FrameBuffer) -> None:
    if a.data.shape[2] != b.data.shape[2]:
        raise ShaderError(
            f"shader {ctx.shader!r}: buffer {b.name!r} has {b.data.shape[2]} components, "
            f"{a.name!r} has {a.data.shape[2]}"
        )


def f32(buf: FrameBuffer) -> np.ndarray:
    """The buffer's pixels as a C-contiguous float32 (H, W, C) array (no copy when already so)."""
    return np.ascontiguousarray(buf.data, dtype=np.float32)


def writable_f32(buf: FrameBuffer):
    """(array, direct): the buffer's own array when a kernel can write into it directly, else a
    scratch array the caller must assign back with ``buf.data = array``."""
    d = buf.data
    if d.dtype == np.float32 and d.flags.c_contiguous:
        return d, True
    return np.empty(d.shape, np.float32), False


def find_kind(ctx, storage: str, param: str, required: bool) -> FrameBuffer | None:
    """The frame's first buffer of ``storage`` (depth, normal, label, coverage ...), for a buffer
    parameter left unset; None, or with ``required`` a ShaderError naming the parameter."""
    for buf in ctx.buffers:
        if buf.datatype.storage == storage and buf.datatype.kind != "colour":
            return buf
    if required:
        raise ShaderError(
            f"shader {ctx.shader!r}: no {storage} buffer in the set and no {param!r} parameter; "
            f"buffers: {', '.join(ctx.buffers.names)}"
        )
    return None
