"""Seeded mutants of ``.mi`` scenes, and what the scene front end does with each (issue 15).

Used by ``tests/test_scene_limits.py`` (a few hundred mutants, bounded in time) and by
``bench/fuzz_scenes.py N`` (as many as asked, with a report). A mutant must either parse (and
plan, as ``framebuf render --dry-run`` does) or raise a :class:`~framebuf.errors.FramebufError`,
within a time cap; anything else is a finding.

Mutations (``MUTATIONS``), each applied once to a copy of a source scene:

==========  ========================================================================================
truncate    cut at a random character
flip        1-8 random bits flipped in the Latin-1 bytes
insert      a hostile token at a random place: stray punctuation, directives, a bad character
            after a run of blanks, a 300-character include, NUL, an unterminated string ...
huge        a number token replaced by a huge or extreme one (5000 digits, 1e999, 2**32, -2**31-1)
nest        3000 (or just over / under the limit) nested ``[``, ``{`` or struct declarations
resolution  the camera's resolution made huge, zero or negative (the planner's sizes)
==========  ========================================================================================
"""

from __future__ import annotations

import random
import re
import signal
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import FramebufError

MUTATIONS = ("truncate", "flip", "insert", "huge", "nest", "resolution")

INSERTS = (
    "@", "[", "]", "{", "}", "(", ")", ",", "=", '"', "'", "<", ">", "'0a f'", "$include",
    '$include "nothere.mi"', '$include "' + "n" * 300 + '"', '$include "a\0b"', "$ifdef", '$ifdef "x"',
    "$endif", "$else", "$bogus", "end", "end camera", "camera", 'camera "c2"', "options",
    'framebuffer "fb" datatype "rgba" filename "x.ct"', "resolution 100000 100000",
    'output "rgba" "ct" "x.ct"', 'output "nosuch" ()', "1e999", "-0", "1.2.3", "4x", "nan",
    "\0", " " * 30 + "@", "\t" * 40 + "\x7f", "#", '"' + "s" * 2000, "9" * 5000, "\\", "\r",
)
HUGE_NUMBERS = ("9" * 5000, "9" * 101, "1e999", "-1e999", "4294967296", "-2147483649",
                "100000", "0", "-1", "1e-999", "2147483647")
RESOLUTIONS = ((100000, 100000), (70000, 10), (65536, 1), (0, 10), (-5, 10), (1, 10 ** 9),
               (20000, 20000))
_NUMBER = re.compile(r"(?<![\w.])[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?(?![\w.])")
_RESOLUTION = re.compile(r"resolution\s+\S+\s+\S+")


def sources(*folders) -> list[Path]:
    """The ``.mi`` files of ``folders``, sorted (the mutants of a seed do not depend on listing
    order)."""
    out = []
    for folder in folders:
        out += sorted(Path(folder).glob("*.mi"))
    return out


def mutate(text: str, kind: str, rng: random.Random) -> str:
    """One mutant of ``text`` by mutation ``kind`` (see the module table)."""
    n = len(text)
    at = rng.randrange(n + 1)
    if kind == "truncate":
        return text[:at]
    if kind == "flip":
        data = bytearray(text.encode("latin-1", "replace"))
        for _ in range(rng.randint(1, 8)):
            if data:
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return data.decode("latin-1")
    if kind == "insert":
        return text[:at] + " " + rng.choice(INSERTS) + " " + text[at:]
    if kind == "huge":
        numbers = list(_NUMBER.finditer(text))
        if not numbers:
            return text[:at] + " " + rng.choice(HUGE_NUMBERS) + " " + text[at:]
        m = rng.choice(numbers)
        return text[:m.start()] + rng.choice(HUGE_NUMBERS) + text[m.end():]
    if kind == "nest":
        depth = rng.choice((99, 100, 101, 3000))
        opener = rng.choice(("[", "{", 'struct "s" {'))
        inner = {"[": "1", "{": '"p" 1'}.get(opener, "")
        closer = {"[": "]", "{": "}"}.get(opener, "}")
        nested = (opener + (' "p" ' if opener == "{" else "")) * depth + inner + closer * depth
        if opener == "[" and rng.random() < 0.5:
            nested = 'shader "fz" "d" ("p" ' + nested + ")"
        return text[:at] + "\n" + nested + "\n" + text[at:]
    if kind == "resolution":
        w, h = rng.choice(RESOLUTIONS)
        if _RESOLUTION.search(text):
            return _RESOLUTION.sub(f"resolution {w} {h}", text, count=1)
        return text + f'\ncamera "fz" resolution {w} {h} output "rgba" "ct" "fz.ct" end camera\n'
    raise ValueError(f"unknown mutation {kind!r}")


@dataclass
class Outcome:
    """What one mutant did: ``result`` is ``parsed``, ``refused`` (a FramebufError),
    ``other`` (any other exception: a finding) or ``timeout`` (over the cap: a finding)."""

    source: str
    kind: str
    index: int
    result: str
    seconds: float
    error: str = ""


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so no ``except Exception`` in the code under test
    swallows it."""


@contextmanager
def _alarm(seconds: float):
    def fire(signum, frame):
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_one(text: str, filename: str, base_dir, cap: float = 5.0) -> tuple[str, float, str]:
    """Parse ``text`` and plan it as ``--dry-run`` does; returns (result, seconds, error)."""
    from ..scene import loads
    from ..scene.execute import plan_render

    t0 = time.perf_counter()
    try:
        with _alarm(cap):
            sc = loads(text, filename=filename, base_dir=base_dir)
            if sc.camera is not None:
                plan_render(sc, Path("/nonexistent/framebuf-fuzz"))   # a dry plan touches no disk
        result, error = "parsed", ""
    except _Timeout:
        result, error = "timeout", f"over {cap} s"
    except FramebufError as exc:
        result, error = "refused", str(exc)[:200]
    except Exception as exc:  # noqa: BLE001 - exactly what the fuzz looks for
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        result = "other"
        error = f"{type(exc).__name__}: {str(exc)[:160]} ({Path(frame.filename).name}:{frame.lineno})"
    return result, time.perf_counter() - t0, error


def campaign(files, count: int, seed: int = 0, cap: float = 5.0):
    """Yield an :class:`Outcome` for each of ``count`` mutants: the mutations and source files in
    turn, each mutant drawn from ``random.Random((seed, index))`` so any one can be rebuilt alone
    (:func:`mutant`)."""
    texts = {}
    for index in range(count):
        path, kind, text = mutant(files, index, seed, texts)
        result, seconds, error = run_one(text, str(path), path.parent, cap)
        yield Outcome(path.name, kind, index, result, seconds, error)


def mutant(files, index: int, seed: int = 0, cache=None) -> tuple[Path, str, str]:
    """Mutant number ``index`` of a campaign: (source path, mutation, text)."""
    from ..scene.lexer import read_text

    path = files[index % len(files)]
    kind = MUTATIONS[(index // len(files)) % len(MUTATIONS)]
    cache = {} if cache is None else cache
    if path not in cache:
        cache[path] = read_text(path)
    rng = random.Random(f"{seed}:{index}")
    return path, kind, mutate(cache[path], kind, rng)
