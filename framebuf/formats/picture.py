"""Dassault Systèmes CATIA ``picture``: listed by mental ray, but with no public byte layout.

mental ray's format table names it ("RGB, 8-bit, RLE", reference 6.9) and nothing else: no manual,
header file, open-source reader or sample file describes its bytes. A writer built on guesses would
produce files CATIA might not read while looking like success, so the format is registered only to
be listed by ``framebuf formats`` and to answer ``filetype="picture"`` or a ``.picture`` file with a
clear :class:`~framebuf.errors.FormatUnavailableError` from the dispatcher. It has no reader and no
writer on purpose.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from .base import FormatSpec

REASON = (
    "the CATIA PICTURE byte layout is not publicly documented (mental ray's manual only says "
    "'RGB, 8-bit, RLE') and no reader or sample file is available to check a guess against; "
    "write rgb to another format (e.g. tif or png) instead"
)


@hookimpl
def framebuf_formats():
    return [FormatSpec(
        name="picture",
        description="Dassault Systèmes CATIA PICTURE (not available: undocumented layout)",
        extensions=("picture",),
        datatypes=("rgb",),
        default_datatype="rgb",
        compressions=("rle",),
        available=False,
        unavailable_reason=REASON,
        notes="Registered for the format table only; " + REASON + ".",
    )]
