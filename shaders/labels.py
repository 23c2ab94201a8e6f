"""Segmentation masks to one label buffer, and the built-in label mappings.

``segmentation_to_label`` gathers the mask buffers (every buffer named ``<prefix><class>``, by
default ``segmentation.<class>`` as V-Ray writes them, or an explicit ``masks`` list), orders the
classes alphabetically, and runs :func:`framebuf.labels.masks_to_labels`: coverage argmax against
the background term ``1 - sum(coverage)``, ties to background first, then to the alphabetically
first class; or the legacy ``threshold`` mode (last class above the threshold wins).

Label values come from ``mapping``:

* ``per_image`` (default): background 0, classes 1..N in alphabetical order, as the sample
  ``info.json`` files number them. ``present=channels`` numbers every class that has a mask buffer
  (what the sample files do, listing classes with empty masks too); ``present=pixels`` only those
  with some coverage.
* a table name (``face``, ``full_body``, ``clothing``, or a plugin's) or a ``.json`` file.

Decisions (reference "synthetic-human" 1.3, 5.1):

* **Duplicates**: a table giving two names one value (the seed's ``eyelid_left``/``eyelashes_left``
  = 92, ``eyebrows``/``foot_right`` = 89) is always listed in ``ctx.info["duplicates"]`` and, as
  soon as a mask uses one of those names, reported with a ShaderWarning (a reader of the label
  image cannot tell the names apart). When two classes that both have masks share a value the
  merge cannot be undone, so the shader **refuses** (ShaderError listing them) unless
  ``allow_merge=on``, which merges and warns.
* **Unknown classes** (a mask whose class the table does not list) are an error naming them,
  unless ``unknown=background``, which labels them background and warns. Never silently 0.
* The mapping used is returned in ``ctx.info["mapping"]``, stored as JSON in the set's attributes
  under ``"<dst>.mapping"``, and written to ``mapping_file`` when given. Values above 65535 are
  warned about: a 16-bit label PNG cannot hold them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from framebuf.errors import FramebufError, ShaderError
from framebuf.hookspecs import hookimpl
from framebuf.labels import (
    LabelMapping, describe_duplicates, load_mapping, mapping_from_file, masks_to_labels,
    per_image_mapping,
)
from framebuf.shading import Param, output_shader

DATA_DIR = Path(__file__).resolve().parent / "data"
MASK_KINDS = ("scalar", "coverage", "mask", "colour")


def builtin_mappings() -> list[LabelMapping]:
    """The tables in ``shaders/data`` (face, full_body, clothing), copied from the seed page."""
    return [mapping_from_file(p) for p in sorted(DATA_DIR.glob("*.json"))]


def _mask_buffers(ctx, prefix: str, masks: str):
    if masks.strip():
        names = [n.strip() for n in masks.split(",") if n.strip()]
        bufs = [ctx.buffers[n] if n in ctx.buffers else None for n in names]
        missing = [n for n, b in zip(names, bufs) if b is None]
        if missing:
            raise ShaderError(
                f"shader {ctx.shader!r}: mask buffers {', '.join(map(repr, missing))} do not exist; "
                f"buffers: {', '.join(ctx.buffers.names)}"
            )
    else:
        if not prefix:
            raise ShaderError(f"shader {ctx.shader!r}: give a mask prefix or a masks list")
        bufs = [b for b in ctx.buffers if b.name.startswith(prefix) and len(b.name) > len(prefix)]
        if not bufs:
            raise ShaderError(
                f"shader {ctx.shader!r}: no buffer is named {prefix}<class>; "
                f"buffers: {', '.join(ctx.buffers.names) or '(none)'}"
            )
    classes = []
    for b in bufs:
        if b.datatype.kind not in MASK_KINDS:
            raise ShaderError(
                f"shader {ctx.shader!r}: mask {b.name!r} is {b.datatype.name} ({b.datatype.kind}); "
                f"masks are scalar, coverage, bit or colour (red channel) buffers"
            )
        classes.append(b.name[len(prefix):] if prefix and b.name.startswith(prefix) else b.name)
    if len(set(classes)) != len(classes):
        raise ShaderError(f"shader {ctx.shader!r}: two masks name the same class: {classes}")
    order = sorted(range(len(classes)), key=lambda i: classes[i])  # the stable class order
    return [classes[i] for i in order], [bufs[i] for i in order]


@output_shader(
    "segmentation_to_label",
    params=[
        Param("dst", "buffer", "segments", doc="label (tag) buffer to write"),
        Param("prefix", "string", "segmentation.", doc="mask buffers are <prefix><class>"),
        Param("masks", "string", "", doc="or: comma-separated mask buffer names"),
        Param("mapping", "string", "per_image", doc="per_image, face, full_body, clothing or a .json"),
        Param("mode", "enum", "argmax", choices=("argmax", "threshold")),
        Param("threshold", "scalar", 0.48, doc="threshold mode: coverage above this counts"),
        Param("background", "integer", -1, doc="background label (default: the table's, 0)"),
        Param("allow_merge", "boolean", False, doc="allow two present classes to share a value"),
        Param("unknown", "enum", "error", choices=("error", "background"),
              doc="a class the table lacks: error, or label it background (with a warning)"),
        Param("present", "enum", "channels", choices=("channels", "pixels"),
              doc="per_image numbering: every mask buffer, or only masks with coverage"),
        Param("mapping_file", "string", "", doc="also write the mapping used as JSON here"),
    ],
    writes=["dst"], creates={"dst": "tag"},
)
def segmentation_to_label(ctx, dst, prefix, masks, mapping, mode, threshold, background,
                          allow_merge, unknown, present, mapping_file):
    """segmentation masks -> one label buffer (coverage argmax with a background term)"""
    if dst.datatype.kind != "label":
        raise ShaderError(f"shader {ctx.shader!r}: dst {dst.name!r} is {dst.datatype.name}, not a tag buffer")
    classes, bufs = _mask_buffers(ctx, prefix, masks)
    stack = np.empty((len(bufs), ctx.buffers.height, ctx.buffers.width), np.float32)
    for k, b in enumerate(bufs):
        stack[k] = b.data[:, :, 0]
    if mapping == "per_image":
        flags = None if present == "channels" else (stack > 0).reshape(len(bufs), -1).any(axis=1)
        table = per_image_mapping(classes, flags)
    else:
        try:
            table = load_mapping(ctx.path(mapping) if mapping.lower().endswith(".json") else mapping)
        except FramebufError as exc:
            raise ShaderError(f"shader {ctx.shader!r}: {exc}") from None
    dups = table.duplicates()
    ctx.info["duplicates"] = dups
    # a value shared in the table is ambiguous in the output as soon as one of its names is used
    ambiguous = {v: ns for v, ns in dups.items() if any(n in classes for n in ns)}
    if ambiguous:
        ctx.warn(f"label mapping {table.name!r} gives several names one value, so these labels are "
                 f"ambiguous: {describe_duplicates(ambiguous)}")
    values, missing = table.values_for(classes)
    if mapping == "per_image" and present == "pixels":
        missing = []  # empty masks are simply not numbered; they never win a pixel
    if missing:
        if unknown == "error":
            raise ShaderError(
                f"shader {ctx.shader!r}: mapping {table.name!r} has no value for "
                f"{', '.join(map(repr, missing))}; add them to the table or pass unknown=background"
            )
        ctx.warn(f"classes not in mapping {table.name!r} are labelled background: {', '.join(missing)}")
        ctx.info["unknown"] = missing
    merged = table.collisions(c for c in classes if c not in missing)
    if merged:
        if not allow_merge:
            raise ShaderError(
                f"shader {ctx.shader!r}: mapping {table.name!r} would merge classes that both have "
                f"masks ({describe_duplicates(merged)}); pass allow_merge=on to merge them"
            )
        ctx.warn(f"merging classes that share a value: {describe_duplicates(merged)}")
        ctx.info["merged"] = merged
    bg = table.background if background < 0 else background
    if int(values.max(initial=0)) > 0xFFFF:
        ctx.warn("label values above 65535 do not fit a 16-bit label image")
    out = masks_to_labels(stack, values, mode=mode, threshold=threshold, background=bg)
    dst.data = out[:, :, None]
    used = {"background": bg, **{c: int(v) for c, v in zip(classes, values) if c not in missing}}
    if mapping == "per_image":
        used = dict(table.table)
    ctx.info["mapping"] = LabelMapping(table.name, used, source=table.source)
    ctx.buffers.attributes[f"{dst.name}.mapping"] = json.dumps(used)
    if mapping_file:
        from framebuf.io import atomic_output

        path = ctx.path(mapping_file)
        with atomic_output(path) as tmp:
            Path(tmp).write_text(json.dumps(used, indent=1) + "\n", encoding="utf-8")


@hookimpl
def framebuf_output_shaders():
    return [segmentation_to_label.spec]


@hookimpl
def framebuf_label_mappings():
    return builtin_mappings()
