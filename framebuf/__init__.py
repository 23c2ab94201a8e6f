"""framebuf: typed framebuffers, sample resolve, output shaders and image-file writers.

The public face::

    import framebuf
    fbs = framebuf.FrameBufferSet(640, 480)
    beauty = fbs.add("beauty", "rgba_fp")
    framebuf.write(beauty, "beauty.exr", compression="piz")
    again = framebuf.read("beauty.exr")
"""

from .buffers import FileProperties, FrameBuffer, FrameBufferSet
from .datatypes import DATATYPES, DataType, datatype, parse_type_spec
from .errors import FramebufError
from .hookspecs import hookimpl
from .io import find_format, read, read_image, write
from .plugins import registry

__all__ = [
    "DATATYPES", "DataType", "FileProperties", "FrameBuffer", "FrameBufferSet", "FramebufError",
    "datatype", "find_format", "hookimpl", "parse_type_spec", "read", "read_image", "registry",
    "write",
]

__version__ = "0.1.0"
