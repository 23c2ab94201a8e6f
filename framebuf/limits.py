"""How much memory one read, plan or render may ask for, checked before anything is allocated.

Every reader compares what a file *declares* (width x height x channels, sample counts, chunk
lengths) with two things before it allocates: the bytes the file can actually supply
(`check_declared`), and the memory budget (`check_allocation`). A hostile or corrupt header
therefore costs a comparison, never a 149 GiB `numpy.empty`.

The budget is `FRAMEBUF_MEMORY_BUDGET` (bytes, or a number with a K/M/G/T suffix, or a
percentage of physical memory such as `50%`); unset, it is 75% of physical memory.
"""

from __future__ import annotations

import os

from framebuf.errors import CorruptFileError, MemoryBudgetError

BUDGET_VARIABLE = "FRAMEBUF_MEMORY_BUDGET"
DEFAULT_FRACTION = 0.75
# When the machine's memory cannot be read (not Linux/macOS), assume this much.
FALLBACK_PHYSICAL = 8 << 30
_SUFFIXES = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def physical_memory() -> int:
    """Bytes of physical memory, or `FALLBACK_PHYSICAL` where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return FALLBACK_PHYSICAL


def parse_budget(text: str) -> int:
    """`"2G"` -> 2147483648, `"50%"` -> half of physical memory, `"1000"` -> 1000."""
    value = text.strip().upper().removesuffix("B")
    try:
        if value.endswith("%"):
            return int(physical_memory() * float(value[:-1]) / 100)
        suffix = value[-1:] if value[-1:] in _SUFFIXES and not value[-1:].isdigit() else ""
        number = float(value[: len(value) - len(suffix)])
    except ValueError:
        raise MemoryBudgetError(
            f"{BUDGET_VARIABLE}={text!r} is not a size (bytes, 512M, 4G or 50%)") from None
    if number <= 0:
        raise MemoryBudgetError(f"{BUDGET_VARIABLE}={text!r} must be positive")
    return int(number * _SUFFIXES[suffix])


def memory_budget() -> int:
    """The most bytes one allocation of pixel or sample data may take."""
    text = os.environ.get(BUDGET_VARIABLE)
    if text:
        return parse_budget(text)
    return int(physical_memory() * DEFAULT_FRACTION)


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def check_allocation(nbytes: int, what: str) -> None:
    """Refuse, before allocating, `nbytes` for `what` (e.g. "a 100000x100000 RGBA half image")
    when it exceeds the memory budget."""
    budget = memory_budget()
    if nbytes > budget:
        raise MemoryBudgetError(
            f"{what} needs {format_bytes(nbytes)}, over the memory budget of {format_bytes(budget)} "
            f"(set {BUDGET_VARIABLE} to change it)")


def check_declared(path, declared: int, available: int, what: str = "pixel data") -> None:
    """Refuse a file whose header declares more bytes of `what` than the file can hold.

    `declared` is the smallest number of bytes the declared content can take on disk (for a
    compressed format, the format's best compression ratio applied), `available` what follows
    the header."""
    if declared > available:
        raise CorruptFileError(
            path, f"the header declares at least {format_bytes(declared)} of {what} but the file "
            f"holds only {format_bytes(available)} after it (truncated or corrupt)")
