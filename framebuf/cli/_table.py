"""Plain-text tables for CLI listings."""

from __future__ import annotations

import textwrap


def format_table(rows: list[dict], columns: list[str] | None = None,
                 width: int | None = None) -> str:
    """Rows as aligned columns. With ``width`` (a terminal's), the widest columns are narrowed
    and their cells wrapped onto continuation lines until the table fits (no column narrower
    than its heading or 6 characters; a table that cannot fit then is as narrow as it gets)."""
    if not rows:
        return "(none)"
    columns = columns or list(rows[0])
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    if width is not None:
        floors = [max(len(c), 6) for c in columns]
        gaps = 2 * (len(columns) - 1)
        while sum(widths) + gaps > width:
            i = max(range(len(widths)), key=lambda k: widths[k] - floors[k])
            if widths[i] <= floors[i]:
                break
            widths[i] -= 1   # one at a time, always the widest: wide columns share the cut
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()
    out = [line(columns), line(["-" * w for w in widths])]
    for row in cells:
        if all(len(v) <= w for v, w in zip(row, widths)):
            out.append(line(row))
            continue
        wrapped = [textwrap.wrap(v, w) or [""] for v, w in zip(row, widths)]
        for k in range(max(map(len, wrapped))):
            out.append(line([part[k] if k < len(part) else "" for part in wrapped]))
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
