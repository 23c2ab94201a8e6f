"""Recursive-descent parser of the ``.mi`` subset that describes an output setup.

Structure: :class:`Parser` pulls tokens from a :class:`~framebuf.scene.lexer.TokenStream` (includes
and conditionals already applied) and fills a :class:`~framebuf.scene.model.Scene`.

What is interpreted: ``options``, ``camera``, ``declare shader``, top-level ``shader`` instances,
``set``, ``render``, and the ``framebuf primitives`` extension. Everything else mental ray defines
at top level is *parsed past*: blocks (``object``, ``instance``, ``light``, ``material``,
``declare phenomenon`` ...) up to their ``end KEYWORD``, simple statements (``link``, ``texture``,
``data``, ``verbose`` ...) up to the next top-level keyword, always with balanced brackets. They are
counted in ``scene.skipped`` and summarised in one warning. A word that starts no mental ray
statement is a SceneError ``expected ..., found ...``.

Inside ``options`` and ``camera`` the same idea applies one level down: statements that matter for
output are parsed exactly (and checked), other known statements are recorded (options) or passed
over (camera), unknown keywords are errors.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from ..datatypes import DATATYPES, datatype
from ..errors import SceneError, UnknownDataTypeError
from . import lexer
from .model import (
    DEFAULT_FILTER_SIZES, Camera, ClearOutputs, FileOutput, FrameBufferDecl, InterfaceRef, Light,
    OptionStatement, Options, ParamDecl, Primitive, Scene, ShaderDecl, ShaderInstance, ShaderOutput,
    ShaderRef,
)

#: How deep arrays and structs may nest, in values and in ``declare shader`` (see Parser._enter).
MAX_NESTING = 100

BOOL_WORDS = {"on": True, "off": False, "true": True, "false": False}

# Top-level keywords whose statement is a block closed by ``end KEYWORD``.
SKIP_BLOCKS = {
    "object", "light", "material", "instance", "instgroup", "registry", "lightprofile", "namespace",
    "userdata", "phenomenon", "scope", "spectrum", "assembly",
}
# Top-level keywords of simple statements, passed over up to the next top-level keyword.
SKIP_SIMPLE = {
    "link", "mi", "verbose", "render", "delete", "data", "code", "system", "debug", "echo", "min",
    "max", "texture", "transform", "version", "fetch", "touch",
}
TEXTURE_PREFIX = {"local", "filter", "writable", "color", "scalar", "vector"}
TOP_PARSED = {"options", "camera", "declare", "shader", "set", "incremental", "framebuf"}
TOP_HEADS = SKIP_BLOCKS | SKIP_SIMPLE | TEXTURE_PREFIX | TOP_PARSED | {"end"}

# Every statement keyword mental ray 3.x accepts inside ``options`` (first word only).
OPTION_HEADS = {
    "acceleration", "approximate", "autovolume", "bsp", "caustic", "colorclip", "contour", "contrast",
    "data", "desaturate", "diagnostic", "displace", "dither", "face", "field", "filter", "finalgather",
    "frame", "gamma", "geometry", "globillum", "grid", "hair", "hardware", "importon", "irradiance",
    "inheritance", "jitter", "lens", "lightmap", "luminance", "maxdisplace", "memory", "merge",
    "motion", "object", "camera", "world", "output", "pass", "photon", "photonmap", "photonvol",
    "premultiply", "progressive", "rast", "raytrace", "render", "samplelock", "samples", "scanline",
    "shading", "shadow", "shadowmap", "shutter", "state", "task", "time", "trace", "traversal",
    "volume", "userdata", "subdivision", "intersection", "ambient", "light", "fb", "mi", "scene",
    "lightprofile", "eye", "spectrum", "environment", "ray", "fg", "stereo",
}
# Options statements whose second keyword is itself a statement keyword (``finalgather filter 1``
# is not ``finalgather`` followed by ``filter 1``).
OPTION_COMPOUNDS = {
    ("finalgather", "filter"), ("finalgather", "trace"), ("finalgather", "contrast"),
    ("finalgather", "scale"), ("photon", "trace"), ("importon", "trace"), ("shadowmap", "motion"),
    ("shadowmap", "camera"), ("shadowmap", "trace"), ("caustic", "filter"), ("globillum", "filter"),
    ("samples", "motion"), ("time", "contrast"), ("shading", "samples"), ("diagnostic", "samples"),
    ("diagnostic", "photon"), ("diagnostic", "finalgather"), ("diagnostic", "grid"),
    ("diagnostic", "bsp"), ("rast", "motion"), ("contour", "contrast"), ("contour", "store"),
    ("lightmap", "output"), ("approximate", "displace"), ("shadow", "trace"),
}
FILTERS = tuple(DEFAULT_FILTER_SIZES)     # the pixel-filter table's names (resolve/filters.py)

# Statement keywords inside ``camera``.
CAMERA_HEADS = {
    "resolution", "aspect", "aperture", "focal", "clip", "window", "offset", "frame", "field",
    "framebuffer", "output", "lens", "environment", "volume", "pass", "data", "stereo", "userdata",
    "colorprofile", "orthographic", "time", "ambient",
}
FB_PROPS = {
    "datatype", "filename", "filetype", "filtering", "colorprofile", "compression", "quality", "dod",
    "dpi", "field", "primary", "useopacity", "user", "useprimary", "autofill", "premultiplied", "tiled",
    "deep",
    "cryptomatte", "ranks", "manifest",     # framebuf extension (README "Cryptomatte")
}
#: ``cryptomatte "KIND"``: what a Cryptomatte framebuffer names, and its ``manifest`` choices
CRYPTOMATTE_KINDS = ("object", "material")
CRYPTOMATTE_MANIFESTS = ("auto", "inline", "sidecar")
OUTPUT_OPTS = {"quality", "even", "odd", "dod", "dpi", "compress"}

# Parameter type keywords of ``declare shader``.
PARAM_TYPES = {
    "boolean", "integer", "scalar", "vector", "color", "transform", "string", "shader", "light",
    "material", "geometry", "data", "lightprofile", "texture", "struct", "array", "bsdf", "spectrum",
}
TEXTURE_TYPES = {"color", "scalar", "vector"}
DECL_ITEMS = {
    "version", "apply", "parallel", "gui", "end",
    # shader requirements mental ray reads from the declaration; recorded nowhere, passed over
    "scanline", "trace", "shadow", "face", "derivative", "object", "camera", "world", "volume",
    "hardware", "options", "scope", "contour", "lightmap", "photon", "instance",
}

_FB_USER = re.compile(r"fb(\d+)$")
_VALID_OUTPUT_TYPES = ", ".join(list(DATATYPES) + ["fbN", "contour"])

# ``framebuf primitives``: parameter -> number of values, and defaults.
PRIMITIVE_SCHEMA = {
    "sphere": {"center": 3, "radius": 1},
    "box": {"min": 3, "max": 3},
    "plane": {"point": 3, "normal": 3},
}
PRIMITIVE_COMMON = {"color": (3, 4), "opacity": 1, "label": 1, "velocity": 3, "material": "string"}
PRIMITIVE_DEFAULTS = {"color": (0.8, 0.8, 0.8, 1.0), "opacity": 1.0, "label": 0, "velocity": (0.0, 0.0, 0.0)}


def parse_types(tok, allow_special=True):
    """Split an output type string such as ``"rgba,+z"`` into a list of TypeRequest; SceneError on
    an unknown name (the message lists the valid ones)."""
    text = tok.value
    out = []
    for part in text.split(","):
        spec = part.strip()
        filt = None
        if spec[:1] in ("+", "-") and spec:
            filt = spec[0] == "+"
            spec = spec[1:].strip()
        low = spec.lower()
        if allow_special and (low == "contour" or _FB_USER.match(low)):
            out.append((low, filt))
            continue
        try:
            out.append((datatype(spec), filt))
        except UnknownDataTypeError:
            raise SceneError(tok.file, tok.line, tok.col,
                             f"unknown data type {spec!r} in output statement; valid types: {_VALID_OUTPUT_TYPES}") from None
    return out


def looks_like_types(text: str) -> bool:
    """True when every comma-separated part of ``text`` is a data type, ``fbN`` or ``contour``."""
    for part in text.split(","):
        spec = part.strip().lstrip("+-").strip().lower()
        if not (spec in DATATYPES or spec == "contour" or _FB_USER.match(spec)):
            return False
    return True


class Parser:
    def __init__(self, stream: lexer.TokenStream, scene: Scene):
        self.s = stream
        self.scene = scene
        self.skipped: Counter = scene.skipped
        self._incremental = False
        self._instances: dict[str, str] = {}  # instance name -> item name (cameras are found this way)
        self._depth = 0  # open nested values / struct declarations (see _enter)

    # -- token helpers ------------------------------------------------------------------------------
    def peek(self, k=0):
        return self.s.peek(k)

    def next(self):
        return self.s.next()

    def error(self, tok, expected):
        raise SceneError(tok.file, tok.line, tok.col, f"expected {expected}, found {tok.describe()}")

    def is_word(self, tok, *words):
        return tok.kind == lexer.IDENT and (not words or tok.value in words)

    def is_punct(self, tok, p):
        return tok.kind == lexer.PUNCT and tok.value == p

    def expect_word(self, *words):
        tok = self.next()
        if not self.is_word(tok, *words):
            self.error(tok, " or ".join(f"'{w}'" for w in words))
        return tok

    def expect_punct(self, p, context=""):
        tok = self.next()
        if not self.is_punct(tok, p):
            self.error(tok, f"'{p}'" + (f" {context}" if context else ""))
        return tok

    def expect_string(self, what="a quoted string"):
        tok = self.next()
        if tok.kind != lexer.STRING:
            self.error(tok, what)
        return tok.value

    def expect_number(self, what="a number"):
        tok = self.next()
        if tok.kind not in (lexer.INT, lexer.FLOAT):
            self.error(tok, what)
        return tok.value

    def expect_float(self, what="a number"):
        return float(self.expect_number(what))

    def expect_int(self, what="an integer"):
        tok = self.next()
        if tok.kind == lexer.FLOAT and float(tok.value).is_integer():
            return int(tok.value)
        if tok.kind != lexer.INT:
            self.error(tok, what)
        return tok.value

    def expect_bool(self, what="on or off"):
        tok = self.next()
        if tok.kind == lexer.IDENT and tok.value in BOOL_WORDS:
            return BOOL_WORDS[tok.value]
        if tok.kind == lexer.INT and tok.value in (0, 1):
            return bool(tok.value)
        self.error(tok, what)

    def at_number(self, k=0):
        return self.peek(k).kind in (lexer.INT, lexer.FLOAT)

    def skip_group(self):
        """Consume one balanced ``( ... )``, ``[ ... ]`` or ``{ ... }`` group starting at the next token."""
        open_tok = self.next()
        closers = {"(": ")", "[": "]", "{": "}"}
        stack = [open_tok]
        while stack:
            tok = self.next()
            if tok.kind == lexer.EOF:
                o = stack[-1]
                self.error(tok, f"'{closers[o.value]}' to close '{o.value}' at line {o.line}, column {o.col}")
            if tok.kind == lexer.PUNCT:
                if tok.value in closers:
                    stack.append(tok)
                elif tok.value in (")", "]", "}"):
                    o = stack[-1]
                    if closers[o.value] != tok.value:
                        self.error(tok, f"'{closers[o.value]}' to close '{o.value}' at line {o.line}, column {o.col}")
                    stack.pop()

    def skip_to_end(self, start_tok, keyword):
        """Consume tokens up to and including ``end KEYWORD`` (brackets balanced)."""
        while True:
            tok = self.peek()
            if tok.kind == lexer.EOF:
                self.error(tok, f"'end {keyword}' to close '{start_tok.value}' at line {start_tok.line}, column {start_tok.col}")
            if tok.kind == lexer.PUNCT and tok.value in "([{":
                self.skip_group()
                continue
            if tok.kind == lexer.PUNCT and tok.value in ")]}":
                self.error(tok, f"'end {keyword}' to close '{start_tok.value}' at line {start_tok.line}, column {start_tok.col}")
            self.next()
            if self.is_word(tok, "end") and self.is_word(self.peek(), keyword):
                self.next()
                return

    def skip_tail(self, heads, max_strings=None, string_first_only=False, names=True):
        """Consume the arguments of a statement up to the next keyword in ``heads`` (or EOF).

        Values, names that are not heads, ``=`` and balanced groups are consumed; with
        ``max_strings`` the statement ends after that many strings; with ``string_first_only`` a
        string is a value only in first position (options: ``"name" "value"``, ``data "x"``, but
        ``trace on`` followed by ``"gi" on`` is two statements); with ``names=False`` only on/off
        words are values and any other name ends the statement (top level). Returns the consumed values,
        with ``"[...]"`` standing for a group.
        """
        values = []
        strings = 0
        while True:
            tok = self.peek()
            if tok.kind == lexer.EOF or (tok.kind == lexer.IDENT and tok.value in heads) or tok.kind == lexer.DIRECTIVE:
                return values
            if not names and tok.kind == lexer.IDENT and tok.value not in BOOL_WORDS:
                return values
            if tok.kind == lexer.PUNCT:
                if tok.value in "([{":
                    self.skip_group()
                    values.append("[...]" if tok.value == "[" else "(...)" if tok.value == "(" else "{...}")
                    continue
                if tok.value in ")]}":
                    self.error(tok, "a statement")
                self.next()
                continue
            if tok.kind == lexer.STRING:
                if max_strings is not None and strings >= max_strings:
                    return values
                if string_first_only and values:
                    return values  # a string after other values starts the next statement
                strings += 1
            self.next()
            if tok.kind == lexer.IDENT and tok.value in BOOL_WORDS:
                values.append(BOOL_WORDS[tok.value])
            else:
                values.append(tok.value)

    # -- parameter values ---------------------------------------------------------------------------
    def parse_value(self):
        """One parameter value (see model.ParamValue)."""
        tok = self.peek()
        if tok.kind in (lexer.INT, lexer.FLOAT):
            nums = []
            while self.at_number():
                nums.append(self.next().value)
            return nums[0] if len(nums) == 1 else tuple(nums)
        if tok.kind == lexer.STRING:
            return self.next().value
        if tok.kind == lexer.BYTES:
            return self.next().value
        if tok.kind == lexer.IDENT and tok.value in BOOL_WORDS:
            self.next()
            return BOOL_WORDS[tok.value]
        if self.is_punct(tok, "="):
            self.next()
            if self.is_word(self.peek(), "interface"):
                self.next()
                return InterfaceRef(self.expect_string("an interface parameter name"))
            return ShaderRef(self.expect_string("a shader name after '='"))
        if self.is_punct(tok, "["):
            open_tok = self.next()
            items = []
            self._enter(open_tok)
            while True:
                t = self.peek()
                if self.is_punct(t, "]"):
                    self.next()
                    self._depth -= 1
                    return items
                if self.is_punct(t, ","):
                    self.next()
                    continue
                if t.kind == lexer.EOF:
                    self.error(t, f"']' to close '[' at line {open_tok.line}, column {open_tok.col}")
                items.append(self.parse_value())
        if self.is_punct(tok, "{"):
            self._enter(self.next())
            params = self.parse_param_list("}")
            self._depth -= 1
            return params
        self.error(tok, "a parameter value")

    def _enter(self, open_tok):
        """Count one more open array, struct value or struct declaration. The parser descends
        recursively into each, so without a limit 3000 nested '[' ended in RecursionError; real
        scenes nest a handful deep. (An error leaves the count high: the parse is over anyway.)"""
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise SceneError(open_tok.file, open_tok.line, open_tok.col,
                             f"'{open_tok.value}' nested more than {MAX_NESTING} deep")

    def parse_param_list(self, closer=")"):
        """``"name" value, ...`` up to ``closer`` (the opener already consumed); a trailing comma is fine."""
        params = {}
        while True:
            tok = self.peek()
            if self.is_punct(tok, closer):
                self.next()
                return params
            if tok.kind != lexer.STRING:
                self.error(tok, f"a quoted parameter name or '{closer}'")
            name = self.next().value
            if self.is_punct(self.peek(), ",") or self.is_punct(self.peek(), closer):
                params[name] = None  # a parameter named without a value keeps its default
            else:
                params[name] = self.parse_value()
            t = self.peek()
            if self.is_punct(t, ","):
                self.next()
            elif not self.is_punct(t, closer):
                self.error(t, f"',' or '{closer}' after the value of parameter \"{name}\"")

    def parse_call_params(self):
        self.expect_punct("(", "to open the parameter list")
        return self.parse_param_list(")")

    # -- top level ----------------------------------------------------------------------------------
    def parse(self):
        while True:
            tok = self.peek()
            if tok.kind == lexer.EOF:
                break
            self.statement()
        self._finish()

    def statement(self):
        tok = self.peek()
        if tok.kind != lexer.IDENT:
            self.error(tok, "a top-level statement (options, camera, declare, shader, ...)")
        kw = tok.value
        incremental = self._incremental
        self._incremental = False
        if kw == "options":
            self.parse_options(incremental)
        elif kw == "camera":
            self.parse_camera(incremental)
        elif kw == "declare":
            self.parse_declare()
        elif kw == "shader":
            self.parse_shader_instance()
        elif kw == "set":
            self.next()
            name = self.expect_string("a variable name after 'set'")
            value = self.expect_string("a value after the variable name")
            self.s.define(name, value)
        elif kw == "incremental":
            self.next()
            self.skipped["incremental"] += 1
            self._incremental = True
            if self.peek().kind != lexer.IDENT:
                self.error(self.peek(), "a statement after 'incremental'")
        elif kw == "framebuf":
            self.parse_framebuf()
        elif kw in SKIP_BLOCKS:
            self.next()
            if kw == "instance":
                self._record_instance()
            self.skip_to_end(tok, kw)
            self.skipped[kw] += 1
        elif kw in TEXTURE_PREFIX:
            self.parse_texture_statement()
        elif kw in ("min", "max"):
            self.next()
            self.expect_word("version")
            self.expect_string(f"a version string after '{kw} version'")
            self.skipped[f"{kw} version"] += 1
        elif kw == "render":
            self.next()
            names = self.skip_tail(TOP_HEADS, max_strings=3, names=False)
            strs = [v for v in names if isinstance(v, str)]
            if len(strs) == 3:
                self.scene.render = tuple(strs)
            self.skipped["render"] += 1
        elif kw in SKIP_SIMPLE:
            self.next()
            self.skip_tail(TOP_HEADS, names=False)
            self.skipped[kw] += 1
        elif kw == "end":
            nxt = self.peek(1)
            raise SceneError(tok.file, tok.line, tok.col,
                             f"expected a top-level statement, found 'end {nxt.value if nxt.kind == lexer.IDENT else ''}'".rstrip()
                             + " without a matching block")
        else:
            self.error(tok, "a top-level statement (options, camera, declare, shader, ...)")

    def _record_instance(self):
        if self.peek().kind == lexer.STRING and self.peek(1).kind == lexer.STRING:
            self._instances[self.peek().value] = self.peek(1).value

    def parse_texture_statement(self):
        """``[local] [filter [S]] [writable] color|scalar|vector texture "name" ...`` (skipped)."""
        start = self.peek()
        while self.is_word(self.peek(), "local", "filter", "writable"):
            w = self.next().value
            if w == "filter" and self.at_number():
                self.next()
        t = self.expect_word("color", "scalar", "vector")
        self.expect_word("texture")
        self.skip_tail(TOP_HEADS, names=False)
        self.skipped[f"{t.value} texture"] += 1
        del start

    # -- options ------------------------------------------------------------------------------------
    def parse_options(self, incremental=False):
        start = self.next()
        name = self.expect_string("the options name")
        o = self.scene.all_options.get(name) if incremental else None
        if o is None:
            o = self.scene_options_for(name, start)
        self.scene.options = o
        while True:
            tok = self.peek()
            if self.is_word(tok, "end"):
                self.next()
                self.expect_word("options")
                return
            if tok.kind == lexer.EOF:
                self.error(tok, f"'end options' to close 'options' at line {start.line}, column {start.col}")
            if tok.kind == lexer.STRING:
                self.next()
                vals = self.option_values(max_strings=1)
                o.string_options[tok.value] = tuple(vals)
                continue
            if tok.kind != lexer.IDENT or tok.value not in OPTION_HEADS:
                self.error(tok, "an options statement or 'end options'")
            self.option_statement(o)

    def scene_options_for(self, name, tok):
        o = Options(name=name, location=tok.location)
        self.scene.all_options[name] = o
        self.scene.options = o
        return o

    def option_values(self, max_strings=1):
        vals = self.skip_tail(OPTION_HEADS | {"end"}, max_strings=max_strings, string_first_only=True)
        return vals

    def option_statement(self, o: Options):
        tok = self.next()
        kw = tok.value
        nxt = self.peek()
        if kw == "samples" and (self.at_number() ):
            nums = []
            while self.at_number():
                nums.append(self.expect_int("an integer sample limit"))
            if len(nums) == 1:
                o.samples_min, o.samples_max = nums[0] - 2, nums[0]
            elif len(nums) == 2:
                o.samples_min, o.samples_max = nums
            elif len(nums) == 4:
                o.samples_min, o.samples_max = nums[:2]
                o.samples_defaults = (nums[2], nums[3])
            else:
                raise SceneError(tok.file, tok.line, tok.col,
                                 f"expected 1, 2 or 4 numbers after 'samples', found {len(nums)}")
        elif kw == "filter":
            clip = False
            if self.is_word(self.peek(), "clip"):
                self.next()
                clip = True
            ftok = self.next()
            allowed = ("mitchell", "lanczos") if clip else FILTERS
            if not self.is_word(ftok, *allowed):
                self.error(ftok, ("a filter name after 'filter clip' (" if clip else "a filter name (") + ", ".join(allowed) + ")")
            w = DEFAULT_FILTER_SIZES[ftok.value]
            h = None
            if self.at_number():
                w = self.expect_float()
                if self.at_number():
                    h = self.expect_float()
            o.filter, o.filter_clip = ftok.value, clip
            o.filter_width, o.filter_height = w, (w if h is None else h)
        elif kw == "colorclip":
            m = self.next()
            if not self.is_word(m, "rgb", "alpha", "raw"):
                self.error(m, "rgb, alpha or raw after 'colorclip'")
            o.colorclip = m.value
        elif kw in ("desaturate", "premultiply", "dither"):
            setattr(o, kw, self.expect_bool(f"on or off after '{kw}'"))
        elif kw == "gamma":
            o.gamma = self.expect_float("a gamma factor")
        elif kw == "output" and self.is_word(nxt) and nxt.value in BOOL_WORDS:
            o.output_shaders_enabled = self.expect_bool()
        elif kw == "frame" and self.is_word(nxt, "buffer"):
            self.next()
            n = self.expect_int("a user frame buffer number after 'frame buffer'")
            if n < 0:
                raise SceneError(tok.file, tok.line, tok.col, "expected a frame buffer number >= 0")
            typ, filt = None, False
            if self.peek().kind == lexer.STRING:
                ttok = self.next()
                if ttok.value.strip():
                    kinds = parse_types(ttok, allow_special=False)
                    if len(kinds) != 1:
                        self.error(ttok, "one data type for a user frame buffer")
                    typ, f = kinds[0]
                    filt = bool(f) if f is not None else False
            o.user_buffers[n] = (typ, filt)
        else:
            words = [kw]
            if self.is_word(nxt) and (kw, nxt.value) in OPTION_COMPOUNDS:
                words.append(self.next().value)
            while self.is_word(self.peek()) and self.peek().value not in OPTION_HEADS \
                    and self.peek().value not in BOOL_WORDS and self.peek().value != "end":
                words.append(self.next().value)
            # only statements that take a file or object name take a string; otherwise a string
            # starts the next (quoted) option: ``traversal adskTraversal`` then ``"gi" on``
            takes_string = words[-1] in ("file", "data", "userdata", "store", "contrast", "lightmap", "state")
            vals = self.option_values(max_strings=1 if takes_string else 0)
            o.extra.append(OptionStatement(" ".join(words), tuple(vals), tok.location))

    # -- camera -------------------------------------------------------------------------------------
    def parse_camera(self, incremental=False):
        start = self.next()
        name = self.expect_string("the camera name")
        cam = self.scene.cameras.get(name) if incremental else None
        if cam is None:
            cam = Camera(name=name, location=start.location)
            self.scene.cameras[name] = cam
        self._seq = max([s.seq for s in cam.statements()], default=-1) + 1
        self._first_output_replaces = incremental
        current_fb = None
        while True:
            tok = self.peek()
            if tok.kind == lexer.EOF:
                self.error(tok, f"'end camera' to close 'camera' at line {start.line}, column {start.col}")
            if self.is_word(tok, "end"):
                self.next()
                self.expect_word("camera")
                self.scene.camera = cam
                return
            if current_fb is not None and tok.kind == lexer.IDENT and tok.value in FB_PROPS:
                # ``field`` is both a framebuffer property (a string) and a camera statement (a number)
                if not (tok.value == "field" and self.peek(1).kind != lexer.STRING):
                    self.fb_property(current_fb)
                    continue
            if tok.kind != lexer.IDENT or tok.value not in CAMERA_HEADS:
                self.error(tok, "a camera statement or 'end camera'")
            current_fb = None
            self.next()
            kw = tok.value
            if kw == "resolution":
                cam.resolution = (self.expect_int("the x resolution"), self.expect_int("the y resolution"))
            elif kw == "aspect":
                cam.aspect = self.expect_float("the aspect ratio")
            elif kw == "aperture":
                cam.aperture = self.expect_float("the aperture")
            elif kw == "focal":
                if self.is_word(self.peek(), "infinity"):
                    self.next()
                    cam.focal = math.inf
                else:
                    cam.focal = self.expect_float("a focal distance or 'infinity'")
            elif kw == "clip":
                cam.clip = (self.expect_float("the near clip distance"), self.expect_float("the far clip distance"))
            elif kw == "window":
                cam.window = tuple(self.expect_int("a window corner (integer)") for _ in range(4))
            elif kw == "offset":
                cam.offset = (self.expect_float("the x offset"), self.expect_float("the y offset"))
            elif kw == "frame":
                n = self.expect_int("a frame number")
                t = self.expect_float() if self.at_number() else None
                cam.frame = (n, t)
            elif kw == "field":
                cam.field = self.expect_int("a field number (0, 1 or 2)")
            elif kw == "framebuffer":
                current_fb = self.framebuffer(cam, tok)
            elif kw == "output":
                self.output_statement(cam, tok)
            else:
                # lens/environment/volume/pass shader lists, data, stereo ...: passed over
                self.skip_tail(CAMERA_HEADS | FB_PROPS | {"end"})

    def framebuffer(self, cam, tok):
        name = self.expect_string("a framebuffer name")
        fb = cam.framebuffers.get(name)
        if fb is None:
            fb = FrameBufferDecl(name=name, datatype=datatype("rgba"), location=tok.location, seq=self._seq)
            self._seq += 1
            cam.framebuffers[name] = fb
        return fb

    def fb_property(self, fb):
        tok = self.next()
        p = tok.value
        if p == "datatype":
            ttok = self.next()
            if ttok.kind != lexer.STRING:
                self.error(ttok, "a quoted data type after 'datatype'")
            try:
                fb.datatype = datatype(ttok.value)
            except UnknownDataTypeError:
                raise SceneError(ttok.file, ttok.line, ttok.col,
                                 f"unknown data type {ttok.value!r} in framebuffer {fb.name!r}; valid types: {', '.join(DATATYPES)}") from None
        elif p in ("filename", "filetype", "colorprofile", "compression", "field"):
            setattr(fb, p, self.expect_string(f"a quoted string after '{p}'"))
        elif p == "quality":
            fb.quality = self.expect_int("an integer quality (0-100)")
        elif p == "dpi":
            fb.dpi = self.expect_float("a dpi value")
        elif p in ("cryptomatte", "manifest"):
            stok = self.peek()
            value = self.expect_string(f"a quoted word after '{p}'").lower()
            allowed = CRYPTOMATTE_KINDS if p == "cryptomatte" else CRYPTOMATTE_MANIFESTS
            if value not in allowed:
                raise SceneError(stok.file, stok.line, stok.col,
                                 f"{p} {value!r} in framebuffer {fb.name!r}: expected one of "
                                 f"{', '.join(allowed)}")
            setattr(fb, p, value)
        elif p == "ranks":
            stok = self.peek()
            fb.ranks = self.expect_int("the number of Cryptomatte ranks")
            if fb.ranks < 1:
                raise SceneError(stok.file, stok.line, stok.col,
                                 f"ranks in framebuffer {fb.name!r} must be at least 1")
        elif p in ("useprimary", "autofill"):
            fb.user = not self.expect_bool(f"on or off after '{p}'")
        else:  # filtering, dod, primary, useopacity, user, premultiplied, tiled, deep
            setattr(fb, p, self.expect_bool(f"on or off after '{p}'"))

    def _add_output(self, cam, out):
        if self._first_output_replaces:
            # an incremental camera change: its first output statement replaces the old list
            cam.outputs = []
            self._first_output_replaces = False
        out.seq = self._seq
        self._seq += 1
        cam.outputs.append(out)

    def output_statement(self, cam, tok):
        loc = tok.location
        nxt = self.peek()
        if self.is_punct(nxt, "="):
            self.next()
            inst = self.expect_string("a shader instance name after 'output ='")
            self._add_output(cam, ShaderOutput(shader=None, instance=inst, location=loc))
            return
        colorprofile = None
        if self.is_word(nxt, "colorprofile"):
            self.next()
            colorprofile = self.expect_string("a colour profile name after 'colorprofile'")
            nxt = self.peek()
            if nxt.kind != lexer.STRING:
                self.error(nxt, "a quoted file format or data type")
        if nxt.kind != lexer.STRING:
            # bare ``output``: clears every output and named buffer so far
            cam.outputs.clear()
            cam.framebuffers.clear()
            self._first_output_replaces = False
            self._add_output(cam, ClearOutputs(location=loc))
            return
        s1 = self.next()
        if self.is_punct(self.peek(), "("):
            if colorprofile is not None:
                self.error(self.peek(), "a file name (colorprofile only applies to file outputs)")
            params = self.parse_call_params()
            self._add_output(cam, ShaderOutput(shader=s1.value, params=params, location=loc))
            return
        t = self.peek()
        if self.is_word(t) and t.value in OUTPUT_OPTS:
            # "FORMAT" OPT "FILE"
            opt = self.output_option()
            fname = self.expect_string("a quoted file name")
            self._add_output(cam, FileOutput([], s1.value, fname, opt, colorprofile, loc))
            return
        if t.kind != lexer.STRING:
            self.error(t, "a quoted file name, file format or shader name after " + s1.describe())
        s2 = self.next()
        t = self.peek()
        if self.is_punct(t, "("):
            if colorprofile is not None:
                self.error(t, "a file name (colorprofile only applies to file outputs)")
            types = parse_types(s1)
            params = self.parse_call_params()
            self._add_output(cam, ShaderOutput(shader=s2.value, params=params, types=types, location=loc))
            return
        opt = None
        if self.is_word(t) and t.value in OUTPUT_OPTS:
            opt = self.output_option()
            t = self.peek()
            if t.kind != lexer.STRING:
                self.error(t, "a quoted file name after the format option")
        if t.kind == lexer.STRING:
            # "TYPE" "FORMAT" [OPT] "FILE"
            s3 = self.next()
            types = parse_types(s1)
            self._add_output(cam, FileOutput(types, s2.value, s3.value, opt, colorprofile, loc))
            return
        # "FORMAT" "FILE"
        if looks_like_types(s1.value) and s1.value.strip().lower() not in _FORMAT_ALSO_TYPE:
            raise SceneError(s1.file, s1.line, s1.col,
                             f"expected a file format, found data type \"{s1.value}\" "
                             f"(a typed file output is output \"TYPE\" \"FORMAT\" \"FILE\")")
        self._add_output(cam, FileOutput([], s1.value, s2.value, None, colorprofile, loc))

    def output_option(self):
        tok = self.next()
        w = tok.value
        if w == "quality":
            return ("quality", self.expect_int("an integer quality after 'quality'"))
        if w == "dpi":
            return ("dpi", self.expect_float("a dpi value after 'dpi'"))
        if w == "compress":
            return ("compress", self.expect_string("a quoted compression mode after 'compress'"))
        return (w, True)  # even, odd, dod

    # -- declarations -------------------------------------------------------------------------------
    def parse_declare(self):
        start = self.next()
        what = self.next()
        if self.is_word(what, "phenomenon", "data"):
            self.skip_to_end(start, "declare")
            self.skipped[f"declare {what.value}"] += 1
            return
        if not self.is_word(what, "shader"):
            self.error(what, "'shader', 'phenomenon' or 'data' after 'declare'")
        ret = None
        if self.peek().kind != lexer.STRING:
            ret = self.param_type(named=False)
        name_tok = self.next()
        if name_tok.kind != lexer.STRING:
            self.error(name_tok, "a quoted shader name")
        self.expect_punct("(", "to open the parameter declarations")
        params = self.param_decls(")")
        decl = ShaderDecl(name=name_tok.value, params=params, return_type=ret, location=start.location)
        while True:
            tok = self.peek()
            if tok.kind == lexer.EOF:
                self.error(tok, f"'end declare' to close 'declare' at line {start.line}, column {start.col}")
            if not self.is_word(tok) or tok.value not in DECL_ITEMS:
                self.error(tok, "version, apply, parallel, gui or 'end declare'")
            self.next()
            kw = tok.value
            if kw == "end":
                self.expect_word("declare")
                break
            if kw == "version":
                decl.version = self.expect_int("a version number")
            elif kw == "apply":
                decl.apply.append(self.expect_word_any("a shader type after 'apply'"))
                while self.is_punct(self.peek(), ","):
                    self.next()
                    decl.apply.append(self.expect_word_any("a shader type after ','"))
            elif kw == "parallel":
                decl.parallel = True
            elif kw == "gui":
                if self.peek().kind == lexer.STRING:
                    self.next()
                if not self.is_punct(self.peek(), "{"):
                    self.error(self.peek(), "'{' to open the gui block")
                self.skip_group()
            else:  # scanline off, derivative 1 ...: passed over
                self.skip_tail(DECL_ITEMS)
        self.scene.shader_decls[decl.name] = decl

    def expect_word_any(self, what):
        tok = self.next()
        if tok.kind != lexer.IDENT:
            self.error(tok, what)
        return tok.value

    def param_type(self, named=True):
        """A parameter type (and, when ``named``, its name and ``default``)."""
        tok = self.next()
        if not self.is_word(tok) or tok.value not in PARAM_TYPES:
            self.error(tok, "a parameter type (boolean, integer, scalar, color, vector, string, shader, struct, array, ...)")
        is_array = False
        if tok.value == "array":
            is_array = True
            tok = self.next()
            if not self.is_word(tok) or tok.value not in PARAM_TYPES - {"array"}:
                self.error(tok, "a parameter type after 'array'")
        typ = tok.value
        if typ in TEXTURE_TYPES and self.is_word(self.peek(), "texture"):
            self.next()
            typ += " texture"
        name = ""
        if named:
            nt = self.next()
            if nt.kind != lexer.STRING:
                self.error(nt, f"a quoted parameter name after '{typ}'")
            name = nt.value
        p = ParamDecl(name=name, type=typ, array=is_array)
        if typ == "struct":
            if not named and self.peek().kind == lexer.STRING:
                self.next()  # struct "name" { } as return type: name ignored
            self._enter(self.expect_punct("{", "to open the struct members"))
            p.fields = self.param_decls("}")
            self._depth -= 1
        if named and self.is_word(self.peek(), "default"):
            self.next()
            p.default = self.parse_value()
        return p

    def param_decls(self, closer):
        params = []
        while True:
            tok = self.peek()
            if self.is_punct(tok, closer):
                self.next()
                return params
            if self.is_punct(tok, ","):
                self.next()
                continue
            if tok.kind == lexer.EOF:
                self.error(tok, f"'{closer}' to close the parameter declarations")
            params.append(self.param_type(named=True))

    def parse_shader_instance(self):
        start = self.next()
        name = self.expect_string("a shader instance name")
        decl = self.expect_string("the declared shader name")
        params = self.parse_call_params()
        self.scene.shader_instances[name] = ShaderInstance(name, decl, params, start.location)

    # -- framebuf extension -------------------------------------------------------------------------
    def parse_framebuf(self):
        start = self.next()
        self.expect_word("primitives")
        while True:
            tok = self.next()
            if tok.kind == lexer.EOF:
                self.error(tok, f"'end framebuf' to close 'framebuf' at line {start.line}, column {start.col}")
            if self.is_word(tok, "end"):
                self.expect_word("framebuf")
                return
            if self.is_word(tok, "light"):
                name = self.expect_string("a light name")
                vals = {"direction": None, "color": (1.0, 1.0, 1.0)}
                while self.is_word(self.peek(), "direction", "color"):
                    k = self.next().value
                    vals[k] = tuple(self.expect_float(f"a number ({k} takes 3)") for _ in range(3))
                if vals["direction"] is None:
                    self.error(self.peek(), f"'direction' for light {name!r}")
                self.scene.lights.append(Light(name, vals["direction"], vals["color"], tok.location))
                continue
            if not self.is_word(tok) or tok.value not in PRIMITIVE_SCHEMA:
                self.error(tok, "sphere, box, plane, light or 'end framebuf'")
            kind = tok.value
            name = self.expect_string(f"a {kind} name")
            schema = dict(PRIMITIVE_SCHEMA[kind])
            schema.update(PRIMITIVE_COMMON)
            params = {}
            while self.is_word(self.peek()) and self.peek().value in schema:
                ptok = self.next()
                arity = schema[ptok.value]
                if arity == "string":
                    params[ptok.value] = self.expect_string(f"a quoted name after '{ptok.value}'")
                    continue
                lo, hi = arity if isinstance(arity, tuple) else (arity, arity)
                nums = []
                while self.at_number() and len(nums) < hi:
                    nums.append(self.next().value)
                if len(nums) < lo:
                    self.error(self.peek(), f"{lo} numbers after '{ptok.value}'")
                if ptok.value == "label":
                    if not isinstance(nums[0], int) or nums[0] < 0:
                        raise SceneError(ptok.file, ptok.line, ptok.col, "expected a non-negative integer label")
                    params["label"] = nums[0]
                elif ptok.value == "color":
                    c = tuple(float(x) for x in nums)
                    params["color"] = c if len(c) == 4 else c + (1.0,)
                elif hi == 1:
                    params[ptok.value] = float(nums[0])
                else:
                    params[ptok.value] = tuple(float(x) for x in nums)
            t = self.peek()
            if self.is_word(t) and t.value not in PRIMITIVE_SCHEMA and t.value not in ("light", "end"):
                self.error(t, f"a {kind} parameter ({', '.join(schema)})")
            for req in PRIMITIVE_SCHEMA[kind]:
                if req not in params:
                    raise SceneError(tok.file, tok.line, tok.col, f"expected '{req}' for {kind} {name!r}")
            for k, v in PRIMITIVE_DEFAULTS.items():
                params.setdefault(k, v)
            if kind == "sphere" and params["radius"] <= 0:
                raise SceneError(tok.file, tok.line, tok.col, f"expected a positive radius for sphere {name!r}")
            self.scene.primitives.append(Primitive(kind, name, params, tok.location))

    # -- end ----------------------------------------------------------------------------------------
    def _finish(self):
        sc = self.scene
        # the camera and options named by the last render statement, when it resolves
        if sc.render:
            _, cam_inst, opt_name = sc.render
            cam_name = self._instances.get(cam_inst, cam_inst)
            if cam_name in sc.cameras:
                sc.camera = sc.cameras[cam_name]
            if opt_name in sc.all_options:
                sc.options = sc.all_options[opt_name]
        for cam in sc.cameras.values():
            for out in cam.outputs:
                if isinstance(out, ShaderOutput) and out.instance is not None:
                    inst = sc.shader_instances.get(out.instance)
                    if inst is None:
                        f, line, col = out.location
                        sc.warnings.append(f"{f}:{line}:{col}: output = \"{out.instance}\": no shader instance of that name in the scene")
                    else:
                        out.shader = inst.shader
                        out.params = dict(inst.params)
                if isinstance(out, ShaderOutput) and out.shader and out.shader not in sc.shader_decls \
                        and not any(isinstance(k, str) and k == "contour" for k, _ in out.types):
                    f, line, col = out.location
                    message = (f"{f}:{line}:{col}: output shader \"{out.shader}\" is not declared "
                               f"in the scene or its includes")
                    sc.warnings.append(message)
                    sc.undeclared_shaders.setdefault(out.shader, []).append(message)


# formats that are also data-type names: ``output "rgb" "x.rgb"`` is a valid format-only statement
_FORMAT_ALSO_TYPE = {"rgb", "bit"}
