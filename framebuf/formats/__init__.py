"""File formats, one module per format family.

Each module implements the ``framebuf_formats`` hook and returns :class:`base.FormatSpec` objects.
Shared pieces (run-length coders, byte helpers) live in modules whose names start with ``_`` so the
plugin manager does not register them.
"""
