"""framebuf: typed framebuffers, sample resolve, output shaders and image-file writers.

The public face::

    import framebuf
    fbs = framebuf.FrameBufferSet(640, 480)
    beauty = fbs.add("beauty", "rgba_fp")
    framebuf.write(beauty, "beauty.exr", compression="piz")
    again = framebuf.read("beauty.exr")
"""

from importlib import import_module as _import_module

#: public name -> the module defining it, imported on first use (PEP 562): ``import framebuf``
#: or a light submodule (``framebuf extract``, ``framebuf.labels``) does not pay for Numba and the
#: format plugins before something needs them.
_LAZY = {
    "FileProperties": "buffers", "FrameBuffer": "buffers", "FrameBufferSet": "buffers",
    "DATATYPES": "datatypes", "DataType": "datatypes", "datatype": "datatypes",
    "parse_type_spec": "datatypes", "FramebufError": "errors", "hookimpl": "hookspecs",
    "find_format": "io", "read": "io", "read_image": "io", "write": "io", "registry": "plugins",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'framebuf' has no attribute {name!r}")
    value = getattr(_import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DATATYPES", "DataType", "FileProperties", "FrameBuffer", "FrameBufferSet", "FramebufError",
    "datatype", "find_format", "hookimpl", "parse_type_spec", "read", "read_image", "registry",
    "write",
]

__version__ = "0.1.0"
