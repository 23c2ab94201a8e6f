"""The one reading of an on/off value: Python truth for non-text, and for text (command line,
scene files) these words, case and surrounding space ignored. An empty text is off (``-o flag=``)."""

from __future__ import annotations

from .errors import UnsupportedOptionError

ON_WORDS = frozenset({"1", "on", "true", "yes"})
OFF_WORDS = frozenset({"0", "off", "false", "no", ""})


def on_off(value, what: str) -> bool:
    """``value`` as a bool; ``what`` names the option in the error ("option 'dither'")."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ON_WORDS:
            return True
        if word in OFF_WORDS:
            return False
        raise UnsupportedOptionError(f"{what} takes on/off, not {value!r}")
    return bool(value)
