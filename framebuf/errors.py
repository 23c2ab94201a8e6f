"""Every exception framebuf raises on purpose.

All of them derive from :class:`FramebufError`, so the CLI can turn any of them into a one-line
message and a non-zero exit code instead of a traceback, and library users can catch one base class.
"""

from __future__ import annotations


class FramebufError(Exception):
    """Base class of every error framebuf raises deliberately."""


class UnknownDataTypeError(FramebufError, KeyError):
    """A data-type name that is not in the data-type table."""

    def __init__(self, name: str, valid: list[str]):
        self.name = name
        self.valid = valid
        super().__init__(f"unknown data type {name!r}; valid types: {', '.join(valid)}")

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return self.args[0]


class UnknownFormatError(FramebufError, KeyError):
    """A file format keyword or extension that no registered format handles."""

    def __str__(self) -> str:
        return self.args[0]


class FormatUnavailableError(FramebufError):
    """A format that mental ray lists but that cannot be written or read here (e.g. CATIA picture)."""


class UnsupportedDataTypeError(FramebufError):
    """A data type the chosen file format does not list."""

    def __init__(self, fmt: str, datatype: str, allowed: list[str]):
        self.format = fmt
        self.datatype = datatype
        self.allowed = allowed
        super().__init__(
            f"format {fmt!r} cannot store data type {datatype!r}; allowed: {', '.join(allowed)}"
        )


class UnsupportedOptionError(FramebufError):
    """An option (compression, quality, field ...) the chosen format does not accept."""


class ImageSizeError(FramebufError):
    """A resolution the format cannot hold (e.g. wider than 65535), refused before writing."""


class MemoryBudgetError(ImageSizeError):
    """A declared or planned size over the memory budget (`framebuf.limits`), refused before allocating."""


class CorruptFileError(FramebufError):
    """A file that is truncated, has a bad magic number, or otherwise does not decode."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class UnsupportedFeatureError(FramebufError):
    """A well-formed file that uses a feature of its format framebuf does not decode (e.g. TIFF
    SGI LogLuv compression, deep OpenEXR); the message names the feature."""

    def __init__(self, path, feature: str):
        self.path = str(path)
        self.feature = feature
        super().__init__(f"{self.path}: {feature} is not supported")


class DroppedWarning(UserWarning):
    """Something a file carried did not survive a read or write (a mip level, an attribute ...).
    The CLI prints each as one ``warning:`` line; Python callers can turn them into errors with
    ``warnings.simplefilter("error", DroppedWarning)``."""


class BufferMismatchError(FramebufError):
    """Misuse of a framebuffer: wrong shape, unknown buffer name, resolution mismatch."""


class SceneError(FramebufError):
    """An error in a .mi scene, located by file, line and column (1-based)."""

    def __init__(self, file, line: int, column: int, message: str):
        self.file = str(file)
        self.line = line
        self.column = column
        self.message = message
        super().__init__(f"{self.file}:{line}:{column}: {message}")


class ShaderError(FramebufError):
    """An output shader failed or was called wrongly."""


class ShaderParameterError(ShaderError):
    """An unknown or ill-typed output-shader parameter; names the shader and the parameter."""

    def __init__(self, shader: str, parameter: str, problem: str):
        self.shader = shader
        self.parameter = parameter
        super().__init__(f"shader {shader!r}, parameter {parameter!r}: {problem}")


class PluginError(FramebufError):
    """A plugin that does not fit the hook specifications, or two plugins claiming one name."""


class CryptomatteError(FramebufError):
    """A Cryptomatte layer that is missing or cannot be decoded; the message names the file and
    the layer (:mod:`framebuf.cryptomatte`)."""

    def __init__(self, path, layer: str | None, problem: str):
        self.path, self.layer, self.problem = str(path), layer, problem
        where = f"cryptomatte layer {layer!r}: " if layer else ""
        super().__init__(f"{self.path}: {where}{problem}")


class CryptomatteManifestError(CryptomatteError):
    """A manifest that is truncated or not JSON, a sidecar that is missing, or an entry whose hash
    is not MurmurHash3 of its name."""


class CryptomatteNameError(CryptomatteError):
    """A name or pattern that the layer's manifest does not list."""
