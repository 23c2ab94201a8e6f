"""The ``.mi`` scene front end: read a mental ray scene and extract its output setup.

Public API
----------
``load(path, include_path=(), strict_includes=False, defines=None) -> Scene``
    Parse a scene file and everything it ``$include``-s.
``loads(text, filename="<string>", include_path=(), strict_includes=False, defines=None, base_dir=None) -> Scene``
    The same for text in memory; ``filename`` appears in error messages and locations, includes are
    resolved against ``base_dir`` (default: the current directory).
``Scene.describe() -> str``
    The output setup in words (what ``framebuf render --dry-run`` prints).

The model (dataclasses, documented in :mod:`framebuf.scene.model`): ``Scene`` with ``options``
(:class:`Options`), ``camera`` (:class:`Camera`, or None), ``shader_decls``, ``shader_instances``,
``primitives``, ``lights``, ``warnings``, ``skipped``. A camera holds ``framebuffers``
(name -> :class:`FrameBufferDecl`) and ``outputs`` (:class:`ShaderOutput` | :class:`FileOutput` |
:class:`ClearOutputs`), each with a ``location`` (file, line, column) for runtime errors and a
``seq`` number giving the camera order. ``camera.mode`` is ``"named"`` when the camera has
framebuffer statements, else ``"legacy"``.

Errors
------
Bad input is always a :class:`framebuf.errors.SceneError` whose message starts with
``file:line:column:`` (1-based) and says what was expected and what was found; never a Python
traceback. Statements mental ray defines but framebuf does not execute (objects, instances, lights,
materials, phenomena, textures, ``link``, ``registry`` ...) are parsed past and counted in
``scene.skipped``; one warning in ``scene.warnings`` lists them with counts.

Includes
--------
``$include "file"`` looks in the including file's folder, then in ``include_path``;
``$include <file>`` in ``include_path`` first, then the including folder. **A missing include is a
warning, not an error** (unless ``strict_includes=True``): real scenes include shader libraries that
live in mental ray's installation (``base.mi``, ``mayabase.mi`` ...), and the output setup does not
depend on them. MetaSL and MDL includes (``.msl``, ``.xmsl``, ``.mdl``) are never read (warning).
``$ifdef``/``$ifndef "name"`` test variables set by ``set "name" "value"`` (or passed as
``defines``), so include guards work; ``$else``/``$endif`` as usual.

The framebuf primitives extension
---------------------------------
Not mental ray syntax (mental ray would stop at the word ``framebuf``), but made of the same tokens,
so a scene stays one file. It gives the renderer analytic sample sources and a minimal light::

    framebuf primitives
        sphere "ball"   center 0 0 -5 radius 1 color 1 0.2 0.2 1 opacity 1 label 3 velocity 0.5 0 0
        box    "crate"  min -1 -1 -8 max 1 1 -6 color 0.2 0.4 1 label 4
        plane  "ground" point 0 -1 0 normal 0 1 0 color 0.5 0.5 0.5 label 1
        light  "sun"    direction -1 -1 -1 color 1 1 1
    end framebuf

Any number of blocks may appear at top level; their entries are appended in order.

=========  =====================================================================================
kind       parameters (numbers; ``*`` = required)
=========  =====================================================================================
sphere     ``center`` x y z *, ``radius`` r * (> 0)
box        ``min`` x y z *, ``max`` x y z * (axis-aligned)
plane      ``point`` x y z *, ``normal`` x y z * (infinite)
all three  ``color`` r g b [a] (default 0.8 0.8 0.8 1; alpha 1 when omitted), ``opacity`` o
           (default 1), ``label`` non-negative integer for the ``tag`` buffer (default 0),
           ``velocity`` x y z in camera units per frame for the ``m`` buffer (default 0 0 0),
           ``material "NAME"`` for Cryptomatte's ``CryptoMaterial`` (default none)
light      ``light "name" direction x y z *`` (travel direction of the light), ``color`` r g b
           (default 1 1 1); directional only
=========  =====================================================================================

Each primitive becomes a :class:`Primitive` (``kind``, ``name``, ``params`` with defaults filled in,
``location``) in ``scene.primitives``; each light a :class:`Light` in ``scene.lights``. Coordinates
are camera space (the camera at the origin looking down -z), since the mental ray transforms of
instances are not interpreted.
"""

from __future__ import annotations

import os
from pathlib import Path

from .lexer import TokenStream, read_text
from .model import (
    Camera, ClearOutputs, FileOutput, FrameBufferDecl, InterfaceRef, Light, OptionStatement, Options,
    ParamDecl, Primitive, Scene, ShaderDecl, ShaderInstance, ShaderOutput, ShaderRef,
    effective_filtering, format_types,
)
from .parser import Parser

__all__ = [
    "load", "loads", "Scene", "Options", "OptionStatement", "Camera", "FrameBufferDecl",
    "ShaderOutput", "FileOutput", "ClearOutputs", "ShaderDecl", "ParamDecl", "ShaderInstance",
    "ShaderRef", "InterfaceRef", "Primitive", "Light", "effective_filtering", "format_types",
]


def _summarise_skipped(scene: Scene) -> None:
    if scene.skipped:
        parts = ", ".join(f"{k} ({n})" for k, n in sorted(scene.skipped.items()))
        total = sum(scene.skipped.values())
        scene.warnings.append(f"parsed past {total} statement(s) framebuf does not execute: {parts}")


def loads(text: str, filename: str = "<string>", include_path=(), strict_includes: bool = False,
          defines=None, base_dir=None) -> Scene:
    """Parse ``.mi`` text. See the module docstring."""
    scene = Scene(path=filename)
    stream = TokenStream(text, filename, include_path=include_path, strict_includes=strict_includes,
                         defines=defines, base_dir=base_dir, warnings=scene.warnings, skipped=scene.skipped)
    Parser(stream, scene).parse()
    scene.includes = list(stream.includes)
    _summarise_skipped(scene)
    return scene


def load(path, include_path=(), strict_includes: bool = False, defines=None) -> Scene:
    """Parse a ``.mi`` file and its includes. An unreadable file is a SceneError at 1:1."""
    from ..errors import SceneError

    p = Path(path)
    try:
        text = read_text(p)
    except OSError as exc:
        raise SceneError(str(p), 1, 1, f"cannot read scene: {exc.strerror or exc}") from None
    return loads(text, filename=os.path.normpath(str(p)), include_path=include_path,
                 strict_includes=strict_includes, defines=defines, base_dir=p.parent)
