"""Post-filters: box, triangle, gauss, mitchell, lanczos, applied to a whole colour buffer.

Every filter is separable: a 1-D kernel along x, then the same kernel along y. The taps sit at
whole-pixel offsets ``d = -R .. R`` (``|d| <= radius`` for box, ``|d| < radius`` for the others,
whose profiles are 0 at the radius), weighted by the filter's profile at
``d`` (the same profiles as the pixel filters of ``framebuf.resolve``, ``u = |d| / radius``):

========== ============================================== ===============
filter     weight                                         default radius
========== ============================================== ===============
box        1 for ``|d| <= radius``                        1
triangle   ``1 - u``                                      2
gauss      ``exp(-4.5 u^2) - exp(-4.5)``                   2
mitchell   Mitchell-Netravali, B = C = 1/3, ``t = 2u``     2
lanczos    ``sinc(2u) sinc(u)`` (Lanczos-2 over the radius)   4
========== ============================================== ===============

box is symmetric here, unlike the half-open box of the pixel filter: a post-filter tap is a whole
pixel. The tapered filters are zero at ``|d| = radius``, so a radius of 1 or less is the identity
(box: below 1). Lanczos is stretched so its two lobes span the radius: a Lanczos kernel at its
natural scale is an *interpolating* kernel, zero at every whole-pixel offset, i.e. the identity on
pixels; radius 2 is therefore the identity too, and radius 4 a low-pass at half the pixel
frequency. The kernel is normalised to sum 1.

**Borders**: taps that fall outside the image are dropped and the remaining weights renormalised
to sum 1 (equivalently: the filtered image divided by the filtered all-ones image, with zero
padding). A constant image stays exactly constant up to the border, and nothing from outside the
picture (black, a mirror image) leaks in.

Only colour, scalar and coverage buffers are filtered; depth, normals, motion, labels, UV and bit
masks are refused with a ShaderError that says why (blending them invents values).
"""

from __future__ import annotations

from framebuf.errors import ShaderError
from framebuf.hookspecs import hookimpl
from framebuf.postfilters import PROFILES, kernel_weights, separable_filter
from framebuf.shading import PRIMARY, Param, output_shader

from ._common import COLOUR_KINDS, f32, require_kind, same_size, writable_f32

FILTERABLE = COLOUR_KINDS + ("scalar", "coverage")


def _make(name: str):
    _, default_radius = PROFILES[name]

    @output_shader(
        name,
        params=[
            Param("src", "buffer", PRIMARY, doc="colour, scalar or coverage buffer to filter"),
            Param("dst", "buffer", None, doc="output buffer (default: in place)"),
            Param("radius", "scalar", default_radius, doc="filter radius in pixels"),
        ],
        reads=["src"], writes=["dst"], creates={"dst": "src"},
        doc=f"{name} post-filter (separable; border taps renormalised)",
    )
    def shader(ctx, src, dst, radius):
        if not radius > 0:
            raise ShaderError(f"shader {ctx.shader!r}: radius must be positive, got {radius}")
        require_kind(ctx, src, FILTERABLE, "src", "a post-filter")
        require_kind(ctx, dst, FILTERABLE, "dst", "a post-filter")
        same_size(ctx, src, dst)
        out, direct = writable_f32(dst)
        separable_filter(f32(src), kernel_weights(name, radius), out)
        if not direct:
            dst.data = out

    return shader


#: one shader per row of framebuf.postfilters.PROFILES, so a new post-filter is one row there
SHADERS = {name: _make(name) for name in PROFILES}


@hookimpl
def framebuf_output_shaders():
    return [shader.spec for shader in SHADERS.values()]
