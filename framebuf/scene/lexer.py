"""Tokens of the ``.mi`` language, and the preprocessor (``$include``, ``$ifdef`` ...) on top of them.

Lexical rules, as found in real files (see ``shared/corpus/mi/README.md``):

* ``#`` starts a comment to the end of the line; ``#:`` annotation comments are comments too.
* Line ends are LF, CRLF or (leniently) a lone CR, which is treated as blank space. Columns count
  characters from 1; a tab is one column.
* Strings are double-quoted and may span lines. ``\\"`` is a quote and ``\\\\`` one backslash; any other
  backslash stays as written, so Windows paths such as ``"C:\\Users\\x.tga"`` survive unchanged.
* Numbers: ``-2``, ``1.``, ``.5``, ``1e+30``. A number running into letters or a second dot
  (``1.2.3``, ``4x``) is an error, not two tokens.
* Names: letters, digits and ``_``, not starting with a digit. Punctuation: ``( ) [ ] { } , =``.
* ``$word`` is a preprocessor directive; ``<file>`` is only meaningful after ``$include``;
  ``'0a ff'`` is hex byte data.

Any other character, an unterminated string, or an unbalanced preprocessor conditional is a
:class:`~framebuf.errors.SceneError` with file, line and column.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_right
from pathlib import Path

from ..errors import SceneError

# Token kinds
STRING, INT, FLOAT, IDENT, PUNCT, DIRECTIVE, ANGLE, BYTES, EOF = (
    "string", "int", "float", "name", "punct", "directive", "angle", "bytes", "eof"
)


class Token:
    __slots__ = ("kind", "value", "file", "line", "col")

    def __init__(self, kind, value, file, line, col):
        self.kind = kind
        self.value = value
        self.file = file
        self.line = line
        self.col = col

    @property
    def location(self):
        return (self.file, self.line, self.col)

    def describe(self) -> str:
        """How error messages name this token: ``'end'``, ``string "x"``, ``number 3``, ``end of file``."""
        if self.kind == EOF:
            return "end of file"
        if self.kind == STRING:
            v = self.value if len(self.value) <= 40 else self.value[:37] + "..."
            return 'string "' + v.replace("\n", "\\n") + '"'
        if self.kind in (INT, FLOAT):
            return f"number {self.value}"
        if self.kind == BYTES:
            return "byte data"
        if self.kind == ANGLE:
            return f"<{self.value}>"
        return f"'{self.value}'"

    def __repr__(self):
        return f"Token({self.kind}, {self.value!r}, {self.line}:{self.col})"


# One match per token: blank space and comments before it are swallowed by the same match, which
# halves the Python-level work on the large mesh blocks of exported scenes.
# Every repetition is possessive (``*+``, ``++``): the blank-space prefix used to be
# ``(?:[ ...]+|#...)*``, a nested quantifier, so a run of n blanks before a character no
# alternative accepts was split 2**n ways before the match failed (26 blanks took over 10 s).
# Possessive groups never give characters back, so a failed match costs one pass over the run.
_TOKEN_RE = re.compile(
    r"""
    (?:[ \t\f\v\r\n]++|\#[^\n]*+)*+
    (?:
      (?P<string>"(?:[^"\\]++|\\.)*+")
    | (?P<number>[+-]?+(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][+-]?+\d++)?+)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<punct>[()\[\]{},=])
    | (?P<directive>\$[A-Za-z_]+)
    | (?P<angle><[^>\n]*+>)
    | (?P<bytes>'[0-9A-Fa-f \t\r\n]*+')
    | (?P<eof>\Z)
    )
    """,
    re.VERBOSE | re.DOTALL,
)
# Integers longer than this are refused: far beyond any count or size, and below the 4300 digits
# where Python's int() itself raises ValueError.
MAX_INT_DIGITS = 100
_NUMBER_TAIL = re.compile(r"[A-Za-z0-9_.]")
_JUNK = re.compile(r"[A-Za-z0-9_.+-]*+")
_ESCAPE = re.compile(r'\\([\\"])')
_SKIP = re.compile(r"(?:[ \t\f\v\r\n]++|\#[^\n]*+)*+")


def tokenize(text: str, file: str = "<string>") -> list[Token]:
    """Split ``text`` into tokens (comments and blank space dropped), ending with one EOF token."""
    newlines = [m.start() for m in re.finditer("\n", text)]

    def where(pos):
        i = bisect_right(newlines, pos - 1)  # newlines before pos
        return i + 1, pos - (newlines[i - 1] + 1 if i else 0) + 1

    tokens: list[Token] = []
    append = tokens.append
    match = _TOKEN_RE.match
    pos, n = 0, len(text)
    while True:
        m = match(text, pos)
        if m is None:
            bad = _SKIP.match(text, pos).end()
            line, col = where(bad)
            ch = text[bad]
            if ch == '"':
                raise SceneError(file, line, col, "unterminated string: expected a closing '\"', found end of file")
            if ch == "<":
                raise SceneError(file, line, col, "expected '>' to close '<' on the same line")
            if ch == "'":
                raise SceneError(file, line, col, "expected hex digits and a closing \"'\" in byte data")
            raise SceneError(file, line, col, f"unexpected character {ch!r}")
        kind = m.lastgroup
        start = m.start(kind)
        pos = m.end()
        if kind == "number":
            s = m.group(kind)
            if pos < n and _NUMBER_TAIL.match(text, pos):
                line, col = where(start)
                raise SceneError(file, line, col, f"bad number {s + _JUNK.match(text, pos).group()!r}")
            line, col = where(start)
            if "." in s or "e" in s or "E" in s:
                append(Token(FLOAT, float(s), file, line, col))
            elif len(s) > MAX_INT_DIGITS:
                # int() refuses over 4300 digits (ValueError); nothing in a scene needs 20
                raise SceneError(file, line, col, f"number {s[:20]}... has {len(s)} digits, "
                                 f"more than {MAX_INT_DIGITS}")
            else:
                append(Token(INT, int(s), file, line, col))
            continue
        line, col = where(start)
        if kind == "name":
            append(Token(IDENT, m.group(kind), file, line, col))
        elif kind == "punct":
            append(Token(PUNCT, m.group(kind), file, line, col))
        elif kind == "string":
            raw = m.group(kind)[1:-1]
            append(Token(STRING, _ESCAPE.sub(r"\1", raw) if "\\" in raw else raw, file, line, col))
        elif kind == "directive":
            append(Token(DIRECTIVE, m.group(kind), file, line, col))
        elif kind == "angle":
            append(Token(ANGLE, m.group(kind)[1:-1].strip(), file, line, col))
        elif kind == "bytes":
            hexdigits = re.sub(r"\s+", "", m.group(kind)[1:-1])
            if len(hexdigits) % 2:
                raise SceneError(file, line, col, "expected an even number of hex digits in byte data")
            append(Token(BYTES, bytes.fromhex(hexdigits), file, line, col))
        else:  # eof
            append(Token(EOF, None, file, line, col))
            return tokens


# --------------------------------------------------------------------------------------------------
# Preprocessor

#: Include files in other languages: mental ray hands them to its MetaSL / MDL compilers. We do not
#: read them (not even when present); the include is recorded and skipped.
FOREIGN_INCLUDE_SUFFIXES = (".msl", ".xmsl", ".mdl")

MAX_INCLUDE_DEPTH = 32


def _short(text: str, keep: int = 60) -> str:
    """A name cut for an error message (a 300-character include would fill the terminal)."""
    return text if len(text) <= keep else f"{text[:keep - 3]}... ({len(text)} characters)"


class _Frame:
    __slots__ = ("tokens", "pos", "file", "conds")

    def __init__(self, tokens, file):
        self.tokens = tokens
        self.pos = 0
        self.file = file
        self.conds: list[list] = []  # [active, seen_else, token]


def read_text(path) -> str:
    """Read a scene file as text. Scenes are ASCII in practice; bytes above 127 are kept as Latin-1
    so a stray accented comment never stops a load."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class TokenStream:
    """The parser's view of the input: tokens of the main file with includes spliced in and
    conditionals applied.

    ``defines`` holds the variables of ``set "name" "value"`` statements (the parser calls
    :meth:`define`) that ``$ifdef``/``$ifndef`` test. Tokens are pulled lazily, so a ``set`` takes
    effect for every directive after it.

    Missing includes are warnings (``warnings`` list) by default, because real scenes include shader
    libraries that live in mental ray's installation, not next to the scene; ``strict_includes=True``
    makes them a SceneError at the ``$include``. An ``<angle>`` include searches ``include_path``
    first, then the including file's folder; a ``"quoted"`` include the other way round.
    """

    def __init__(self, text, file, include_path=(), strict_includes=False, defines=None,
                 base_dir=None, warnings=None, skipped=None):
        self.include_path = [Path(p) for p in include_path]
        self.strict_includes = strict_includes
        self.defines: dict[str, str] = dict(defines or {})
        self.warnings = warnings if warnings is not None else []
        self.skipped = skipped
        self.includes: list[str] = []
        self._base_dir = Path(base_dir) if base_dir is not None else None
        self._stack = [_Frame(tokenize(text, file), file)]
        self._buf: list[Token] = []

    # -- public -------------------------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        buf = self._buf
        while len(buf) <= k:
            buf.append(self._pull())
        return buf[k]

    def next(self) -> Token:
        if self._buf:
            return self._buf.pop(0)
        return self._pull()

    def define(self, name: str, value: str = "") -> None:
        self.defines[name] = value

    # -- internals ----------------------------------------------------------------------------------
    def _active(self, frame) -> bool:
        return all(c[0] for c in frame.conds)

    def _raw(self, frame) -> Token:
        tok = frame.tokens[frame.pos]
        if tok.kind != EOF:
            frame.pos += 1
        return tok

    def _pull(self) -> Token:
        while True:
            frame = self._stack[-1]
            tok = self._raw(frame)
            if tok.kind == EOF:
                if frame.conds:
                    start = frame.conds[-1][2]
                    raise SceneError(tok.file, tok.line, tok.col,
                                     f"expected $endif for {start.value} at line {start.line}, found end of file")
                if len(self._stack) == 1:
                    return tok
                self._stack.pop()
                continue
            if tok.kind == DIRECTIVE:
                self._directive(frame, tok)
                continue
            if not self._active(frame):
                continue
            return tok

    def _directive_arg(self, frame, tok, kinds=(STRING,), what="a quoted name") -> Token:
        arg = self._raw(frame)
        if arg.kind not in kinds:
            raise SceneError(arg.file, arg.line, arg.col, f"expected {what} after {tok.value}, found {arg.describe()}")
        return arg

    def _directive(self, frame, tok) -> None:
        d = tok.value
        active = self._active(frame)
        if d in ("$ifdef", "$ifndef"):
            arg = self._directive_arg(frame, tok)
            cond = (arg.value in self.defines) == (d == "$ifdef")
            frame.conds.append([cond if active else False, False, tok, active])
        elif d == "$else":
            if not frame.conds:
                raise SceneError(tok.file, tok.line, tok.col, "found $else without $ifdef or $ifndef")
            c = frame.conds[-1]
            if c[1]:
                raise SceneError(tok.file, tok.line, tok.col, "expected $endif, found a second $else")
            c[1] = True
            c[0] = c[3] and not c[0]
        elif d == "$endif":
            if not frame.conds:
                raise SceneError(tok.file, tok.line, tok.col, "found $endif without $ifdef or $ifndef")
            frame.conds.pop()
        elif d == "$include":
            arg = self._directive_arg(frame, tok, (STRING, ANGLE), 'a file name ("file" or <file>)')
            if active:
                self._include(tok, arg)
        elif d == "$lookup":
            self._directive_arg(frame, tok)
            if active and self.skipped is not None:
                self.skipped["$lookup"] += 1
        else:
            raise SceneError(tok.file, tok.line, tok.col,
                             f"expected $include, $ifdef, $ifndef, $else, $endif or $lookup, found {tok.value}")

    def _include(self, tok, arg) -> None:
        name = arg.value
        where = f"{tok.file}:{tok.line}:{tok.col}"
        shown = f"<{name}>" if arg.kind == ANGLE else f'"{name}"'
        if name.lower().endswith(FOREIGN_INCLUDE_SUFFIXES):
            self.warnings.append(f"{where}: $include {shown}: MetaSL/MDL source, not read")
            if self.skipped is not None:
                self.skipped["$include (MetaSL/MDL)"] += 1
            return
        if len(self._stack) >= MAX_INCLUDE_DEPTH:
            raise SceneError(tok.file, tok.line, tok.col,
                             f"$include {shown}: includes nested more than {MAX_INCLUDE_DEPTH} deep (an include cycle?)")
        here = Path(tok.file).parent if not tok.file.startswith("<") else (self._base_dir or Path.cwd())
        local = [here]
        dirs = (self.include_path + local) if arg.kind == ANGLE else (local + self.include_path)
        found = None
        p = Path(name)
        # A name no file system can hold (too long, a NUL byte) is an error in the scene even when
        # missing includes are only warnings: no installation could supply it.
        try:
            if "\0" in name:  # pathlib answers "not a file" rather than refusing it
                raise ValueError("it holds a NUL character")
            if p.is_absolute():
                found = p if p.is_file() else None
            else:
                for d in dirs:
                    cand = d / name
                    if cand.is_file():
                        found = cand
                        break
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise SceneError(tok.file, tok.line, tok.col,
                             f"$include {_short(shown)}: not a possible file name ({reason})") from None
        if found is None:
            searched = ", ".join(str(d) for d in dirs)
            msg = f"$include {shown}: file not found (searched {searched})"
            if self.strict_includes:
                raise SceneError(tok.file, tok.line, tok.col, msg)
            self.warnings.append(f"{where}: {msg}; skipped")
            return
        fname = os.path.normpath(str(found))
        try:
            text = read_text(found)
        except OSError as exc:
            raise SceneError(tok.file, tok.line, tok.col, f"$include {shown}: cannot read {fname}: {exc.strerror}") from None
        self.includes.append(fname)
        self._stack.append(_Frame(tokenize(text, fname), fname))
