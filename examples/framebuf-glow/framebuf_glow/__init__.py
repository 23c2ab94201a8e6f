"""A glow output shader: bright parts of the image, blurred, added back on top."""

import numpy as np

from framebuf import hookimpl
from framebuf.shading import PRIMARY, Param, blur, output_shader


@output_shader("glow", params=[
    Param("src", "buffer", PRIMARY), Param("dst", "buffer", None, doc="default: in place"),
    Param("threshold", "scalar", 1.0), Param("radius", "scalar", 4.0),
    Param("intensity", "scalar", 1.0)], reads=["src"], writes=["dst"], creates={"dst": "src"})
def glow(ctx, src, dst, threshold, radius, intensity):
    """add a blurred copy of everything brighter than the threshold"""
    px = np.ascontiguousarray(src.data, dtype=np.float32)
    if px.shape[2] != 4:
        raise ctx.error(f"src {src.name!r} must be an RGBA buffer")
    from ._kernels import bright_pass   # Numba only when the shader runs (see _kernels)

    bright = np.empty_like(px)
    bright_pass(px, np.float32(threshold), bright)
    dst.data = px + np.float32(intensity) * blur(bright, radius, "gauss", out=bright)


@hookimpl
def framebuf_output_shaders():
    return [glow.spec]
