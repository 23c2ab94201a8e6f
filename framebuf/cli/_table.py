"""Plain-text tables for CLI listings."""

from __future__ import annotations


def format_table(rows: list[dict], columns: list[str] | None = None) -> str:
    if not rows:
        return "(none)"
    columns = columns or list(rows[0])
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()
    out = [line(columns), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    return "\n".join(out)


def key_value_options(pairs, flag: str) -> dict:
    """``["width=720", "pyramid=on"]`` from a repeatable KEY=VALUE flag, as a dict of strings."""
    from ..errors import FramebufError

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise FramebufError(f"{flag} wants KEY=VALUE, got {pair!r}")
        out[key.strip()] = value.strip()
    return out
