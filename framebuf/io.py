"""The read/write dispatcher: one entry point over every registered format.

``write`` picks the format from ``filetype`` or the file extension, chooses the data type, converts
each buffer with :mod:`framebuf.convert`, names the channels, checks the size against the format,
and hands :class:`~framebuf.formats.base.Layer` objects to the format's writer inside
:func:`atomic_output`. ``read`` does the reverse and returns a :class:`FrameBufferSet`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from . import convert
from ._atomic import atomic_output  # noqa: F401 - part of this module's API
from .buffers import FrameBuffer, FrameBufferSet
from .datatypes import DataType, datatype
from .errors import (
    CorruptFileError,
    DroppedWarning,
    FormatUnavailableError,
    FramebufError,
    ImageSizeError,
    UnknownFormatError,
    UnsupportedDataTypeError,
    UnsupportedOptionError,
)
from .formats.base import FormatSpec, Image, Layer, parse_options
from .onoff import on_off
from .plugins import registry

# options every writer accepts besides its own
COMMON_WRITE_OPTIONS = ("compression", "attributes", "fit")


# -- format lookup -----------------------------------------------------------------------------

def formats() -> dict[str, FormatSpec]:
    return registry().formats


def find_format(filetype: str | None = None, path=None, for_reading: bool = False) -> FormatSpec:
    """The format named by ``filetype``, else by the extension of ``path``, else by its magic bytes."""
    table = formats()
    if filetype:
        # keywords are matched without regard to case ("zpic" finds "Zpic")
        spec = table.get(filetype) or {k.lower(): v for k, v in table.items()}.get(filetype.lower())
        if spec is None:
            raise UnknownFormatError(
                f"unknown file format {filetype!r}; formats: {', '.join(sorted(table, key=str.lower))}"
            )
        return _usable(spec, for_reading)
    if path is None:
        raise UnknownFormatError("no file format given and no file name to guess it from")
    p = Path(path)
    suffixes = [s.lower().lstrip(".") for s in p.suffixes]
    ext = suffixes[-1] if suffixes else ""
    # the formats of this extension only: the registry imports a format's module on first use
    by_ext = table.with_extension(ext) if ext and hasattr(table, "with_extension") else \
        [s for s in table.values() if ext and ext in s.extensions]
    if for_reading and p.exists():
        with open(p, "rb") as fh:
            head = fh.read(64)
        # a format of the extension that recognises the bytes wins (as below), and needs no
        # other format imported to sniff
        confirmed = [s for s in by_ext if s.sniff and s.can_read and _safe_sniff(s, head)]
        if confirmed:
            return confirmed[0]
        sniffed = [s for s in table.values() if s.sniff and s.can_read and _safe_sniff(s, head)]
        if by_ext and any(s in sniffed for s in by_ext):
            return next(s for s in by_ext if s in sniffed)
        if sniffed and not any(s.can_read and s.sniff is None for s in by_ext):
            return sniffed[0]
    if by_ext:
        usable = [s for s in by_ext if (s.can_read if for_reading else s.can_write)]
        return _usable(usable[0] if usable else by_ext[0], for_reading)
    raise UnknownFormatError(
        f"cannot tell the file format of {str(path)!r} from its extension; give a filetype "
        f"(one of {', '.join(sorted(table, key=str.lower))})"
    )


def _safe_sniff(spec: FormatSpec, head: bytes) -> bool:
    try:
        return bool(spec.sniff(head))
    except Exception:
        return False


def _usable(spec: FormatSpec, for_reading: bool) -> FormatSpec:
    if not spec.available:
        raise FormatUnavailableError(f"format {spec.name!r} is not available: {spec.unavailable_reason}")
    if for_reading and spec.reader is None:
        raise FormatUnavailableError(f"format {spec.name!r} can only be written, not read")
    if not for_reading and spec.writer is None:
        raise FormatUnavailableError(f"format {spec.name!r} can only be read, not written")
    return spec


# -- writing -----------------------------------------------------------------------------------

def _as_buffers(buffers, requested=None) -> list[FrameBuffer]:
    if isinstance(buffers, FrameBuffer):
        return [buffers]
    if isinstance(buffers, FrameBufferSet):
        return list(buffers)
    if isinstance(buffers, np.ndarray):
        arr = buffers if buffers.ndim == 3 else buffers[:, :, None]
        name = {1: "a_fp", 2: "vta", 3: "rgb_fp", 4: "rgba_fp"}.get(arr.shape[2])
        if requested is not None and len(datatype(requested).view) == arr.shape[2]:
            name = datatype(requested).name      # a bare array is taken to be of the asked type
        if name is None:
            raise FramebufError(f"cannot write an array with {arr.shape[2]} components")
        fbs = FrameBufferSet(arr.shape[1], arr.shape[0])
        return [fbs.add("", name, user=True, data=arr.astype(datatype(name).dtype))]
    out = list(buffers)
    if not all(isinstance(b, FrameBuffer) for b in out):
        raise FramebufError("write() takes a FrameBuffer, a FrameBufferSet, a list of them or an array")
    return out


def choose_datatype(spec: FormatSpec, buf: FrameBuffer, requested: str | DataType | None) -> DataType:
    """The data type a buffer is written as.

    An explicit request must be listed by the format. Without one, the buffer's own type is used
    when the format lists it, else the closest listed type it converts to: high-range (float,
    half, RGBE) data stays high-range, then the same components, the same bits, the default.
    """
    if requested is not None:
        dt = datatype(requested)
        if dt.name not in spec.datatypes:
            raise UnsupportedDataTypeError(spec.name, dt.name, list(spec.datatypes))
        if not convert.compatible(buf.datatype, dt):
            raise UnsupportedDataTypeError(
                spec.name, f"{dt.name} (from a {buf.datatype.name} buffer)",
                [t for t in spec.datatypes if convert.compatible(buf.datatype, datatype(t))],
            )
        return dt
    if buf.datatype.name in spec.datatypes:
        return buf.datatype
    src = buf.datatype
    usable = [datatype(t) for t in spec.datatypes if convert.compatible(src, datatype(t))]
    if not usable:
        raise UnsupportedDataTypeError(spec.name, src.name, list(spec.datatypes))

    def high_range(t: DataType) -> bool:        # keeps values above 1: float, half, RGBE
        return t.is_float or t.sample == "rgbe"

    def rank(t: DataType):
        # the closest listed type: high-range data stays high-range, then the same components,
        # then the same bits, then the format's default, then the table's order
        return (high_range(t) != high_range(src), t.view != src.view, t.bits != src.bits,
                t.name != spec.default_datatype, spec.datatypes.index(t.name))
    return min(usable, key=rank)


def channel_names(buf: FrameBuffer, dt: DataType, bare: bool) -> tuple[str, ...]:
    """File channel names: the buffer's explicit ``channels`` when set; else bare letters for the
    primary buffer (and a standard depth buffer), ``name.R`` ... for every other buffer of a
    multi-buffer file."""
    explicit = getattr(buf, "channels", None)
    if explicit and len(explicit) == len(dt.channels):
        return tuple(explicit)  # names given by the user or kept from the file it was read from
    kept = getattr(buf, "channels", None)       # names a reader found, kept through a copy
    if kept and len(kept) == len(dt.channels) and all(
            k.rpartition(".")[2] == c for k, c in zip(kept, dt.channels)):
        return tuple(kept)
    if bare or not buf.name:
        return dt.channels
    return tuple(f"{buf.name}.{c}" for c in dt.channels)


def _source_values(buf: FrameBuffer, dt: DataType) -> np.ndarray:
    """What the conversion starts from: a standard colour buffer written as another colour type
    uses its whole shared RGBA storage (an ``rgb`` buffer written as ``rgba`` keeps the rendered
    alpha, and ``colorclip`` sees alpha as mental ray does); anything else its own components."""
    if (not buf.user and buf.datatype.storage == "colour" and dt.storage == "colour"
            and buf.storage.ndim == 3 and buf.storage.shape[2] == 4):
        return buf.storage
    return buf.data


def prepare_layers(spec: FormatSpec, bufs: list[FrameBuffer], datatype_: str | DataType | None,
                   conv: convert.ConvertOptions) -> list[Layer]:
    if len(bufs) > 1 and not spec.multi_layer:
        raise FramebufError(
            f"format {spec.name!r} holds one buffer per file; got {len(bufs)} "
            f"({', '.join(b.name for b in bufs)})"
        )
    primary = next((b for b in bufs if b.primary), None) or next(
        (b for b in bufs if b.datatype.kind == "colour"), None)
    layers = []
    bare_depth_used = False
    for buf in bufs:
        dt = choose_datatype(spec, buf, datatype_ if len(bufs) == 1 else None)
        bare = buf is primary or len(bufs) == 1
        if dt.kind == "depth" and not buf.user and not bare_depth_used:
            bare, bare_depth_used = True, True  # the standard depth buffer is plain "Z"
        pixels = convert.to_file(_source_values(buf, dt), buf.datatype, dt, conv)
        layer = Layer(buf.name, dt, np.ascontiguousarray(pixels), channel_names(buf, dt, bare))
        if spec.multi_layer or len(bufs) == 1:
            _file_placement(buf, layer, dt)
        layers.append(layer)
    names = [(layer.part or 0, c) for layer in layers for c in layer.channels]
    if len(names) != len(set(names)):
        twice = sorted({c for (p, c) in names if names.count((p, c)) > 1})
        raise FramebufError(f"two buffers would write the same channel names: {', '.join(twice)}")
    return layers


#: where a buffer lived in the file it was read from; FrameBuffer and Layer both carry these
PLACEMENT = ("part", "view", "window", "sampling")


def _file_placement(buf: FrameBuffer, layer: Layer, dt: DataType) -> None:
    """Carry a buffer's :data:`PLACEMENT` to its layer and, when it is written as its own type,
    its channels' pixel types."""
    for name in PLACEMENT:
        setattr(layer, name, getattr(buf, name))
    if dt == buf.datatype and buf.pixel_types and len(buf.pixel_types) == len(dt.channels):
        layer.pixel_types = buf.pixel_types


def write(buffers, path, filetype: str | None = None, datatype: str | DataType | None = None,
          **options) -> Path:
    """Write one buffer (or several, for multi-buffer formats such as EXR) to ``path``.

    ``options`` are the conversion settings of :class:`framebuf.convert.ConvertOptions`
    (``colorclip``, ``desaturate``, ``premultiply``, ``gamma``, ``dither``), ``compression``,
    ``attributes`` (header metadata) and the format's own options (``quality``, ``field`` ...).
    Returns the path written. The file appears atomically or not at all.
    """
    spec = find_format(filetype, path)
    bufs = _as_buffers(buffers, datatype)
    if not bufs:
        raise FramebufError("nothing to write: no buffers given")
    conv_kwargs = {k: options.pop(k) for k in list(options) if k in convert.ConvertOptions.FIELDS}
    conv = convert.ConvertOptions(**conv_kwargs)
    unknown = [k for k in options if k not in spec.options and k not in COMMON_WRITE_OPTIONS]
    if unknown:
        allowed = sorted(set(spec.options) | {"compression"})
        raise UnsupportedOptionError(
            f"format {spec.name!r} has no option {', '.join(map(repr, unknown))}; "
            f"options: {', '.join(allowed)}"
        )
    # every format option typed through its row, once, before any work (a bad value makes no file)
    options = parse_options(spec, options)
    comp = options.get("compression")
    if isinstance(comp, str):
        comp = options["compression"] = comp.strip().lower()
    if comp is not None:
        if not spec.compressions:
            raise UnsupportedOptionError(f"format {spec.name!r} has no compression choice")
        if comp not in spec.compressions:
            raise UnsupportedOptionError(
                f"format {spec.name!r} has no compression {comp!r}; "
                f"compressions: {', '.join(spec.compressions)}"
            )
    elif spec.default_compression is not None:
        options["compression"] = spec.default_compression
    default_compression = comp is None
    width, height = bufs[0].width, bufs[0].height
    options["fit"] = as_bool(options.get("fit", False), "fit")
    check_size(spec, width, height, options["fit"])
    layers = prepare_layers(spec, bufs, datatype, conv)
    attributes = options.pop("attributes", None)
    source = buffers if isinstance(buffers, FrameBufferSet) else _set_of(bufs)
    if attributes is None and source is not None:
        attributes = source.attributes        # a copy keeps the header metadata it read
    image = Image(layers, attributes=dict(attributes or {}),
                  info={"premultiplied": conv.premultiplied_output,
                        # a file read keeps its own compression unless one is asked for
                        "default_compression": default_compression})
    if source is not None and not spec.keeps_windows and (
            source.origin != (0, 0) or source.display_window not in (None, source.data_window)):
        warnings.warn(DroppedWarning(
            f"{spec.name} stores no data/display windows: wrote the data window {source.data_window}"
            f"{f' of display window {source.display_window}' if source.display_window else ''} "
            f"as a plain {source.width}x{source.height} image (read with window=display to write the "
            f"display frame)"), stacklevel=2)
    if source is not None:
        image.origin, image.display_window = source.origin, source.display_window
        image.parts = source.parts
        image.info["attributes_part"] = source.attributes_part
        image.info["deep"] = source.deep          # deep samples a format may write as such
    try:
        if not spec.creates_file:
            # a writer that stores nothing (null): no temporary file to rename over the target
            spec.writer(str(path), image, options)
            return Path(path)
        with atomic_output(path) as tmp:
            try:
                spec.writer(tmp, image, options)
            except FramebufError as exc:
                if tmp not in str(exc):
                    raise
                # the user knows the file they asked for, not our temporary name
                raise FramebufError(str(exc).replace(tmp, str(path))) from None
    except FramebufError:
        raise
    except OSError as exc:
        raise FramebufError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return Path(path)


def _set_of(bufs: list[FrameBuffer]) -> FrameBufferSet | None:
    """The set the buffers were taken from, if they all belong to one (for windows and parts)."""
    owners = {id(b.owner): b.owner for b in bufs}
    return next(iter(owners.values())) if len(owners) == 1 else None


def as_bool(value, name: str) -> bool:
    """An option's truth value; text from the command line ("on", "false" ...) is understood."""
    return on_off(value, f"option {name!r}")


def check_size(spec: FormatSpec, width: int, height: int, fit: bool = False) -> None:
    if spec.fixed_size and (width, height) != spec.fixed_size and not fit:
        fw, fh = spec.fixed_size
        raise ImageSizeError(
            f"format {spec.name!r} stores exactly {fw}x{fh} pixels, the image is {width}x{height}; "
            f"pass fit=True to scale it"
        )
    if width > spec.max_width or height > spec.max_height:
        raise ImageSizeError(
            f"format {spec.name!r} holds at most {spec.max_width}x{spec.max_height} pixels, "
            f"the image is {width}x{height}"
        )


# -- reading -----------------------------------------------------------------------------------

def read_image(path, filetype: str | None = None, **options) -> Image:
    """Decode a file into an :class:`Image` of layers in their file sample types."""
    p = Path(path)
    if not p.exists():
        raise FramebufError(f"{p}: no such file")
    if p.is_dir():
        raise FramebufError(f"{p}: is a folder, not an image file")
    spec = find_format(filetype, p, for_reading=True)
    unknown = [k for k in options if k not in spec.read_options]
    if unknown:
        known = ", ".join(spec.read_options) or "none"
        raise UnsupportedOptionError(
            f"the {spec.name} reader has no option {', '.join(map(repr, unknown))}; "
            f"read options: {known}")
    options = parse_options(spec, options, read=True)    # typed through the rows, before reading
    try:
        image = spec.reader(str(p), options)
    except FramebufError:
        raise
    except MemoryError:
        raise CorruptFileError(p, f"the {spec.name} header asks for more memory than there is") from None
    except Exception as exc:  # noqa: BLE001 - decoders raise anything (SyntaxError, RuntimeError ...)
        # a reader should raise CorruptFileError itself; this is the safety net
        raise CorruptFileError(p, f"cannot decode as {spec.name}: {exc}") from None
    if not image.layers or any(layer.pixels.shape[:2] != image.layers[0].pixels.shape[:2]
                               for layer in image.layers):
        raise CorruptFileError(p, f"the {spec.name} reader found no consistent image layers")
    image.info.setdefault("format", spec.name)
    return image


def image_to_buffers(image: Image) -> FrameBufferSet:
    if not image.layers:
        raise FramebufError("the file holds no image layers")
    fbs = FrameBufferSet(image.width, image.height, origin=image.origin,
                         display_window=image.display_window)
    fbs.attributes = image.attributes      # the same dict as parts[attributes_part].attributes
    fbs.parts = list(image.parts)
    fbs.attributes_part = int(image.info.get("attributes_part", 0))
    fbs.deep = image.info.get("deep")
    for layer in image.layers:
        name = layer.name or ("rgba" if layer.datatype.kind == "colour" else layer.datatype.name)
        while name in fbs:
            name += "_"
        buf = fbs.add(name, layer.datatype, user=True,
                      data=convert.from_file(layer.pixels, layer.datatype))
        buf.channels = layer.channels  # the names the file used, for round trips and `info`
        for name in (*PLACEMENT, "pixel_types"):
            setattr(buf, name, getattr(layer, name))
    return fbs


def read(path, filetype: str | None = None, **options) -> FrameBufferSet:
    """Read a file into a FrameBufferSet of full-precision buffers keeping the file's data types."""
    image = read_image(path, filetype, **options)
    try:
        return image_to_buffers(image)
    except MemoryError:
        raise CorruptFileError(path, f"{image.width}x{image.height} pixels with {len(image.layers)} "
                                     f"buffers need more memory than there is") from None

