"""The data-type table of mental ray's output system, and nothing else.

One row per type of the seed's data-type table (reference section 4). Everything that needs to know
about a type (buffers, converters, writers, the CLI's ``framebuf types``) reads it from here.

Vocabulary of the columns:

``components`` / ``bits``
    As in the manual: components per pixel and bits per component *in a file*.
``sample``
    The on-disk sample type: ``u8``, ``u16``, ``i16`` (signed UV), ``f16`` (half), ``f32``, ``u32``, ``bit`` (one bit) or
    ``rgbe`` (four bytes of shared-exponent colour).
``kind``
    The meaning: ``colour``, ``scalar``, ``shared-exponent colour``, ``depth``, ``vector``, ``label``,
    ``uv``, ``coverage`` or ``mask``.
``storage``
    Which full-precision frame buffer a *standard* (non-user) buffer of this type lives in.
    Types with the same storage share one array (an ``rgba`` and an ``rgba_16`` output are two views of
    one float32 colour buffer); ``view`` says which components of that storage the type sees.
``interpolated``
    The default of mental ray's interpolation (its ``+``/``-`` prefix, ``filtering on|off``): whether
    a pixel combines its samples (average; maximum for labels) or keeps one (last; minimum for
    depth). On for colour, alpha and intensity, off for every other type (the manual). Not to be
    confused with the pixel filter (box, gauss, ...; :mod:`framebuf.resolve.filters`), through which
    only colour and ranked coverage go. Coverage has no rule of its own: it is measured for the label
    the tag channel keeps, so its interpolation follows the tag buffer's.
``code``
    mental ray's ``miImg_type`` number, kept for the native file formats and for users of the C API.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import UnknownDataTypeError


@dataclass(frozen=True)
class DataType:
    name: str
    components: int
    bits: int
    sample: str
    kind: str
    storage: str
    view: tuple[int, ...]
    channels: tuple[str, ...]
    interpolated: bool
    code: int
    contents: str

    @property
    def dtype(self) -> np.dtype:
        """numpy dtype of the full-precision in-memory buffer (not of the file samples)."""
        return STORAGE_DTYPES[self.storage]

    @property
    def file_dtype(self) -> np.dtype:
        """numpy dtype of one component as written to a file."""
        return SAMPLE_DTYPES[self.sample]

    @property
    def is_float(self) -> bool:
        """True when the file keeps values outside [0, 1] (float and half types, depth, vectors)."""
        return self.sample in ("f16", "f32")

    @property
    def is_quantized(self) -> bool:
        """True for 8- and 16-bit integer colour/scalar types, which clamp and may be dithered."""
        return self.sample in ("u8", "u16", "i16") and self.kind in ("colour", "scalar", "uv")

    @property
    def has_alpha(self) -> bool:
        return "A" in self.channels and self.kind == "colour"


#: dtype of the full-precision frame buffer for each storage.
STORAGE_DTYPES = {
    "colour": np.dtype(np.float32),   # RGBA, 4 components
    "depth": np.dtype(np.float32),    # +inf where nothing was hit
    "normal": np.dtype(np.float32),
    "motion": np.dtype(np.float32),
    "label": np.dtype(np.uint32),
    "coverage": np.dtype(np.float32),
    "uv": np.dtype(np.float32),
    "mask": np.dtype(np.uint8),       # 0 or 1
}

#: components of each storage's full-precision buffer.
STORAGE_COMPONENTS = {
    "colour": 4, "depth": 1, "normal": 3, "motion": 3, "label": 1, "coverage": 1, "uv": 2, "mask": 1,
}

SAMPLE_DTYPES = {
    "u8": np.dtype(np.uint8),
    "u16": np.dtype(np.uint16),
    "f16": np.dtype(np.float16),
    "f32": np.dtype(np.float32),
    "u32": np.dtype(np.uint32),
    "i16": np.dtype(np.int16),       # UV vectors, clipped to [-1, 1]
    "bit": np.dtype(np.uint8),
    "rgbe": np.dtype(np.uint8),
}

RGBA, RGB, A = (0, 1, 2, 3), (0, 1, 2), (3,)

_ROWS = [
    # name      comp bits sample  kind                      storage     view  channels              interp code contents
    ("rgba",     4, 8,  "u8",  "colour",                 "colour",   RGBA, ("R", "G", "B", "A"), True, 0,  "RGBA color"),
    ("rgba_16",  4, 16, "u16", "colour",                 "colour",   RGBA, ("R", "G", "B", "A"), True, 1,  "RGBA color (16 bits per component)"),
    ("rgba_h",   4, 16, "f16", "colour",                 "colour",   RGBA, ("R", "G", "B", "A"), True, 21, "RGBA color (half float, OpenEXR only)"),
    ("rgba_fp",  4, 32, "f32", "colour",                 "colour",   RGBA, ("R", "G", "B", "A"), True, 13, "RGBA color (floating-point)"),
    ("rgb",      3, 8,  "u8",  "colour",                 "colour",   RGB,  ("R", "G", "B"),      True, 2,  "RGB color"),
    ("rgb_16",   3, 16, "u16", "colour",                 "colour",   RGB,  ("R", "G", "B"),      True, 3,  "RGB color (16 bits per component)"),
    ("rgb_h",    3, 16, "f16", "colour",                 "colour",   RGB,  ("R", "G", "B"),      True, 22, "RGB color (half float, OpenEXR only)"),
    ("rgb_fp",   3, 32, "f32", "colour",                 "colour",   RGB,  ("R", "G", "B"),      True, 16, "RGB color (floating-point)"),
    ("rgbe",     4, 8,  "rgbe", "shared-exponent colour", "colour",  RGB,  ("R", "G", "B", "E"), True, 18, "high dynamic range RGB color"),
    ("a",        1, 8,  "u8",  "scalar",                 "colour",   A,    ("A",),               True, 4,  "alpha channel"),
    ("a_16",     1, 16, "u16", "scalar",                 "colour",   A,    ("A",),               True, 5,  "alpha channel (16 bits per component)"),
    ("a_h",      1, 16, "f16", "scalar",                 "colour",   A,    ("A",),               True, 23, "alpha channel (half float, OpenEXR only)"),
    ("a_fp",     1, 32, "f32", "scalar",                 "colour",   A,    ("A",),               True, 19, "alpha channel (floating-point)"),
    ("s",        1, 8,  "u8",  "scalar",                 "colour",   A,    ("Y",),               True, 6,  "intensity, synonymous with a"),
    ("s_16",     1, 16, "u16", "scalar",                 "colour",   A,    ("Y",),               True, 7,  "intensity, synonymous with a_16"),
    ("s_h",      1, 16, "f16", "scalar",                 "colour",   A,    ("Y",),               True, 24, "intensity, synonymous with a_h"),
    ("s_fp",     1, 32, "f32", "scalar",                 "colour",   A,    ("Y",),               True, 20, "intensity, synonymous with a_fp"),
    ("vta",      2, 16, "i16", "uv",                     "uv",       (0, 1), ("U", "V"),         True, 8,  "UV vector texture (basis vectors from alpha)"),
    ("vts",      2, 16, "i16", "uv",                     "uv",       (0, 1), ("U", "V"),         True, 9,  "UV vector texture, synonymous with vta (from intensity)"),
    ("z",        1, 32, "f32", "depth",                  "depth",    (0,), ("Z",),               False, 10, "depth channel"),
    ("n",        3, 32, "f32", "vector",                 "normal",   (0, 1, 2), ("X", "Y", "Z"), False, 11, "normal vectors"),
    ("m",        3, 32, "f32", "vector",                 "motion",   (0, 1, 2), ("X", "Y", "Z"), False, 14, "motion vectors"),
    ("tag",      1, 32, "u32", "label",                  "label",    (0,), ("tag",),             False, 12, "label channel"),
    ("bit",      1, 1,  "bit", "mask",                   "mask",     (0,), ("mask",),            False, 15, "bitmask channel"),
    ("coverage", 1, 32, "f32", "coverage",               "coverage", (0,), ("coverage",),        False, 17, "coverage of most important object"),
]

#: name -> DataType, in the manual's order.
DATATYPES: dict[str, DataType] = {row[0]: DataType(*row) for row in _ROWS}


def datatype(name: str | DataType) -> DataType:
    """Look up a data type by name (case-insensitive); raise UnknownDataTypeError listing valid names."""
    if isinstance(name, DataType):
        return name
    key = str(name).strip().lower()
    try:
        return DATATYPES[key]
    except KeyError:
        raise UnknownDataTypeError(str(name), list(DATATYPES)) from None


def parse_type_spec(spec: str) -> tuple[DataType, bool | None]:
    """Split an output-statement type such as ``"+z"`` into (DataType, filtering).

    ``+`` turns interpolation on, ``-`` off; no prefix returns ``None`` (the type's default applies).
    """
    spec = spec.strip()
    filtering: bool | None = None
    if spec[:1] in "+-" and spec:
        filtering = spec[0] == "+"
        spec = spec[1:]
    return datatype(spec), filtering


def table_rows() -> list[dict]:
    """The table as plain dicts, for ``framebuf types`` and the docs."""
    return [
        {
            "type": t.name, "comp": t.components, "bits": t.bits, "sample": t.sample, "kind": t.kind,
            "storage": t.storage, "filtering": "on" if t.interpolated else "off", "code": t.code,
            "contents": t.contents,
        }
        for t in DATATYPES.values()
    ]
