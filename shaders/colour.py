"""Colour transfer functions: ``gamma``, ``srgb_encode``, ``srgb_decode``, ``exposure``.

They change R, G and B of a colour buffer and leave alpha alone. Colour buffers are premultiplied
(mental ray's default), and a non-linear curve applied to premultiplied values darkens edges, so
with ``premultiplied=on`` (the default) each pixel with ``0 < alpha`` is un-premultiplied, mapped,
and premultiplied again; pixels with alpha 0 or 1 are mapped directly. Negative values are mapped
through the curve's mirror image (``-f(-x)``), so nothing turns into NaN. Exposure is linear, so
premultiplication does not matter to it.

sRGB is the piecewise IEC 61966-2-1 curve of :mod:`framebuf.srgb` (its scalar forms, compiled
here).
"""

from __future__ import annotations

import math

from numba import njit

from framebuf import srgb
from framebuf.errors import ShaderError
from framebuf.hookspecs import hookimpl
from framebuf.shading import PRIMARY, Param, output_shader

from ._common import COLOUR_KINDS, f32, require_kind, same_size, writable_f32

# the curve's one definition, compiled into the kernel (editing framebuf/srgb.py: touch this file,
# Numba's cache checks only the caller's source)
_srgb_encode = njit(cache=True, inline="always")(srgb.encode_scalar)
_srgb_decode = njit(cache=True, inline="always")(srgb.decode_scalar)

# variant codes of the one kernel (HACKING: select variants with an integer, not a function)
GAMMA, SRGB_ENCODE, SRGB_DECODE, EXPOSURE = 0, 1, 2, 3


@njit(cache=True, inline="always")
def _curve(code, x, p):
    if code == EXPOSURE:
        return x * p
    neg = x < 0.0
    a = -x if neg else x
    if code == GAMMA:
        y = a ** p
    elif code == SRGB_ENCODE:
        y = _srgb_encode(a)
    else:
        y = _srgb_decode(a)
    return -y if neg else y


@njit(cache=True)
def _transfer(px, code, p, alpha_index, premultiplied, out):
    """px, out: (N, C) pixels; channels 0..2 are mapped, the alpha channel (if any) copied."""
    n, comps = px.shape
    rgb = min(comps, 3)
    for i in range(n):
        a = px[i, alpha_index] if alpha_index >= 0 else 1.0
        undo = premultiplied and alpha_index >= 0 and a > 0.0 and a != 1.0 and code != EXPOSURE
        for c in range(rgb):
            x = px[i, c]
            if undo:
                out[i, c] = _curve(code, x / a, p) * a
            else:
                out[i, c] = _curve(code, x, p)
        if alpha_index >= 0:
            out[i, alpha_index] = a


def _make(name: str, code: int, extra: list, doc: str, param_of):
    @output_shader(
        name,
        params=[Param("src", "buffer", PRIMARY), Param("dst", "buffer", None, doc="default: in place"),
                *extra,
                Param("premultiplied", "boolean", True, doc="un-premultiply around the curve")],
        reads=["src"], writes=["dst"], creates={"dst": "src"}, doc=doc,
    )
    def shader(ctx, src, dst, premultiplied, **kw):
        require_kind(ctx, src, COLOUR_KINDS, "src", name)
        require_kind(ctx, dst, COLOUR_KINDS, "dst", name)
        same_size(ctx, src, dst)
        p = param_of(ctx, **kw)
        a = f32(src)
        comps = a.shape[2]
        out, direct = writable_f32(dst)
        _transfer(a.reshape(-1, comps), code, float(p), 3 if comps == 4 else -1, premultiplied,
                  out.reshape(-1, comps))
        if not direct:
            dst.data = out

    return shader


def _gamma_exponent(ctx, gamma, inverse):
    if not gamma > 0:
        raise ShaderError(f"shader {ctx.shader!r}: gamma must be positive, got {gamma}")
    return gamma if inverse else 1.0 / gamma


gamma = _make("gamma", GAMMA,
              [Param("gamma", "scalar", 2.2), Param("inverse", "boolean", False, doc="x^gamma instead")],
              "RGB -> RGB^(1/gamma) (or ^gamma with inverse=on)", _gamma_exponent)
srgb_encode = _make("srgb_encode", SRGB_ENCODE, [], "linear RGB -> sRGB (piecewise curve)",
                    lambda ctx: 0.0)
srgb_decode = _make("srgb_decode", SRGB_DECODE, [], "sRGB -> linear RGB (piecewise curve)",
                    lambda ctx: 0.0)
exposure = _make("exposure", EXPOSURE, [Param("stops", "scalar", 0.0)],
                 "RGB *= 2^stops", lambda ctx, stops: math.pow(2.0, stops))


@hookimpl
def framebuf_output_shaders():
    return [gamma.spec, srgb_encode.spec, srgb_decode.spec, exposure.spec]
