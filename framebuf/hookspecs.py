"""Every hook a framebuf plugin can implement.

A plugin is any module or object with functions marked ``@framebuf.hookimpl`` whose names match
the specifications below. Built-in formats, shaders and sample sources are plugins of exactly this
kind: ``framebuf.plugins`` registers them the same way it registers the modules named by the
``framebuf`` entry-point group of installed packages, e.g. in a plugin's ``pyproject.toml``::

    [project.entry-points.framebuf]
    my_glow = "my_package.glow"

Each hook returns a list of descriptions; the registry (``framebuf.plugins.registry()``) gathers
them into one table per kind and refuses two plugins that claim the same name.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("framebuf")
hookimpl = pluggy.HookimplMarker("framebuf")


@hookspec
def framebuf_formats():
    """Return a list of :class:`framebuf.formats.base.FormatSpec`, one per file-format keyword.

    A spec states the format's extensions, the data types it stores and its default one,
    compressions and the default one, accepted options, size limits, and its ``writer`` /
    ``reader`` callables (either may be ``None``). ``framebuf.write`` and ``framebuf.read`` dispatch
    through these specs; ``framebuf formats`` prints them.
    """


@hookspec
def framebuf_output_shaders():
    """Return a list of :class:`framebuf.shading.ShaderSpec`, one per output shader.

    A shader spec names the shader, declares its typed parameters with defaults and the buffers it
    reads and writes (or creates), and holds the function that runs once per frame with access to
    every buffer of the frame (normally a whole-buffer Numba kernel). Scenes call it by name with
    ``output "NAME" (params)``; ``framebuf apply --shader NAME:param=value`` runs it on files.
    """


@hookspec
def framebuf_sample_sources():
    """Return a list of :class:`framebuf.sources.base.SampleSourceSpec`.

    A sample source produces renderer sub-pixel samples (position plus rgba, z, n, m, tag values)
    for a scene's camera; the resolve step turns them into pixels. The embedded analytic ray caster
    is one; a real renderer or a file of samples can be another.
    """


@hookspec
def framebuf_channel_layouts():
    """Return a list of :class:`framebuf.post.layouts.ChannelLayout`.

    A layout maps the channel names of a renderer's multi-channel EXR (V-Ray/synthetic-human,
    Blender 4.x single-part, Blender 5.x multi-part, Arnold ...) to typed framebuffers: which
    channels form the beauty, depth, normals, points and segmentation masks.
    """


@hookspec
def framebuf_label_mappings():
    """Return a list of :class:`framebuf.labels.LabelMapping` (name -> table of label values).

    Segmentation-to-label shaders and ``framebuf extract`` choose a mapping by name (``face``,
    ``full_body``, ``clothing`` ship built in); a plugin can add its own tables.
    """
