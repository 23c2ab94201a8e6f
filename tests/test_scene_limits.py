"""Scene input that used to hang or escape as a non-framebuf exception (issue 15): each is now a
SceneError with file:line:column, found in bounded time."""

import time

import pytest

from framebuf import scene
from framebuf.errors import SceneError
from framebuf.scene import lexer, parser


def _refused(text, budget_s=1.0):
    t0 = time.perf_counter()
    with pytest.raises(SceneError) as info:
        scene.loads(text, filename="s.mi")
    elapsed = time.perf_counter() - t0
    assert elapsed < budget_s, f"took {elapsed:.2f} s"
    return info.value


@pytest.mark.parametrize("blanks", [26, 40, 10_000])
def test_blank_run_before_bad_character_is_linear(blanks):
    # 26 blanks then '@' took over 10 s with the nested quantifier; now a single pass
    err = _refused("options \"o\"\n" + " " * blanks + "@", budget_s=0.5)
    assert (err.line, err.column) == (2, blanks + 1)
    assert "unexpected character '@'" in err.message


def test_comment_and_blank_mix_before_bad_character():
    err = _refused(" \n# c\n" * 20_000 + "  @", budget_s=2.0)
    assert (err.line, err.column) == (40_001, 3)


def test_tokenize_time_grows_linearly():
    # doubling the run doubles the time (within noise), instead of squaring or worse
    def cost(n):
        text = " \t" * n + "@"
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            with pytest.raises(SceneError):
                lexer.tokenize(text)
            best = min(best, time.perf_counter() - t0)
        return best
    small, large = cost(200_000), cost(800_000)
    assert large < small * 12  # 4x the input; quadratic would be 16x


def test_unterminated_string_of_a_megabyte():
    err = _refused('"' + "a\\" * 500_000, budget_s=1.0)
    assert (err.line, err.column) == (1, 1)
    assert "unterminated string" in err.message


def test_number_tokens_unchanged():
    toks = lexer.tokenize("1. .5 -2 1e+30 4")
    assert [t.value for t in toks[:-1]] == [1.0, 0.5, -2, 1e30, 4]
    assert [t.kind for t in toks[:3]] == [lexer.FLOAT, lexer.FLOAT, lexer.INT]
    with pytest.raises(SceneError, match="bad number '1e'"):
        lexer.tokenize("1e")


def test_integer_with_thousands_of_digits():
    # int() itself raises ValueError above 4300 digits
    err = _refused("options \"o\" samples " + "9" * 5000 + " end options")
    assert (err.line, err.column) == (1, 21)
    assert "5000 digits" in err.message


@pytest.mark.parametrize("opener, closer", [("[", "]"), ("{", "}")])
def test_deep_nesting_is_a_scene_error(opener, closer):
    depth = 3000  # RecursionError before
    inner = '"x" 1' if opener == "{" else "1"
    body = (opener + ('"p" ' if opener == "{" else "")) * depth + inner + closer * depth
    err = _refused('shader "s" "d" ("p" ' + body + ")\n")
    assert err.line == 1
    assert f"nested more than {parser.MAX_NESTING} deep" in err.message
    # the column is that of the opener one past the limit
    first = len('shader "s" "d" ("p" ') + 1
    step = 1 if opener == "[" else 5
    assert err.column == first + parser.MAX_NESTING * step


def test_nesting_at_the_limit_parses():
    depth = parser.MAX_NESTING
    sc = scene.loads('shader "s" "d" ("p" ' + "[" * depth + "1" + "]" * depth + ")\n")
    value = sc.shader_instances["s"].params["p"]
    for _ in range(depth - 1):
        assert len(value) == 1
        value = value[0]
    assert value == [1]


def test_deep_struct_declaration_is_a_scene_error():
    depth = 3000
    text = 'declare shader "d" (' + 'struct "s" {' * depth + "}" * depth + ") end declare\n"
    err = _refused(text)
    assert "nested more than" in err.message


@pytest.mark.parametrize("name, reason", [
    ("a" * 300, "File name too long"),
    ("d/" * 2100 + "x.mi", "File name too long"),  # past PATH_MAX
    ("a\0b.mi", "NUL"),
])
def test_impossible_include_name(name, reason, tmp_path):
    # OSError: File name too long before; an error even though missing includes only warn
    with pytest.raises(SceneError) as info:
        scene.loads('\n  $include "' + name + '"\n', filename="s.mi", base_dir=tmp_path)
    err = info.value
    assert (err.file, err.line, err.column) == ("s.mi", 2, 3)
    assert "not a possible file name" in err.message and reason in err.message
    assert len(str(err)) < 200


def test_missing_include_still_only_warns(tmp_path):
    sc = scene.loads('$include "nothere.mi"\n', filename="s.mi", base_dir=tmp_path)
    assert any("file not found" in w for w in sc.warnings)


# -- sizes: planned without allocating, refused before rendering -----------------------------------

import subprocess  # noqa: E402
import sys  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

from framebuf.errors import ImageSizeError, MemoryBudgetError  # noqa: E402
from framebuf.scene.execute import plan_render, plan_scene, render_scene  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _scene(width, height, fmt="exr", name="out.exr"):
    return scene.loads(
        f'options "o" end options\ncamera "c"\n  output "rgba" "{fmt}" "{name}"\n'
        f'  resolution {width} {height}\nend camera\nrender "r" "c" "o"\n', filename="big.mi")


class _NoRender:
    """A sample source that fails the test if rendering is reached."""

    def render(self, scene, seed=0, progress=None):
        raise AssertionError("rendering started")


def test_plan_of_a_huge_resolution_allocates_nothing(tmp_path):
    sc = _scene(100_000, 100_000)
    plan_render(_scene(4, 4), tmp_path)   # imports done before measuring
    tracemalloc.start()
    t0 = time.perf_counter()
    plan = plan_render(sc, tmp_path)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 1.0 and peak < 2 << 20  # the buffers alone: 160 GB
    assert plan.resolution == (100_000, 100_000)
    # rgba float32 (16 B) + resolver accumulators 16 * (4 + 2) B, per pixel
    assert plan.nbytes == 112 * 100_000 * 100_000
    assert [f.path.name for f in plan.files] == ["out.exr"]
    assert not any(tmp_path.iterdir())


def test_render_over_budget_is_refused_before_rendering(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMEBUF_MEMORY_BUDGET", "1M")
    with pytest.raises(MemoryBudgetError, match=r"rendering 200x100 .* over the memory budget"):
        render_scene(_scene(200, 100), tmp_path, source=_NoRender())
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("FRAMEBUF_MEMORY_BUDGET", "4M")  # 200*100*112 = 2.1 MiB fits
    assert plan_render(_scene(200, 100), tmp_path).nbytes == 200 * 100 * 112


def test_size_the_format_cannot_hold_is_refused_by_the_plan(tmp_path):
    sc = _scene(70_000, 10, fmt="ct", name="out.ct")
    with pytest.raises(SceneError) as info:
        plan_scene(sc, tmp_path)
    assert (info.value.line, info.value.column) == (3, 3)
    assert "holds at most 65535x65535 pixels, the image is 70000x10" in info.value.message
    with pytest.raises(SceneError, match="65535x65535"):
        render_scene(sc, tmp_path, source=_NoRender())
    assert list(tmp_path.iterdir()) == []


def test_writer_uses_the_same_size_fact(tmp_path):
    # the plan's refusal and the writer's come from FormatSpec.max_width via io.check_size
    from framebuf import io as fbio

    spec = fbio.find_format("ct", None)
    with pytest.raises(ImageSizeError, match="at most 65535x65535"):
        fbio.check_size(spec, spec.max_width + 1, 1)
    fbio.check_size(spec, spec.max_width, 1)


def _cli(*args, env=None):
    import os

    e = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "framebuf", *args], capture_output=True,
                          text=True, env=e, timeout=60)


def _write(tmp_path, w, h, fmt="exr", name="out.exr"):
    p = tmp_path / "big.mi"
    p.write_text(f'options "o" end options\ncamera "c"\n  output "rgba" "{fmt}" "{name}"\n'
                 f'  resolution {w} {h}\nend camera\nrender "r" "c" "o"\n')
    return p


def test_cli_dry_run_prints_the_plan_of_a_huge_resolution(tmp_path):
    r = _cli("render", "--dry-run", "-o", str(tmp_path / "out"), str(_write(tmp_path, 100_000, 100_000)))
    assert r.returncode == 0, r.stderr
    assert "memory: 100000x100000 needs about 1.0 TiB, over the budget" in r.stdout
    assert "the render would be refused" in r.stdout
    assert "out.exr" in r.stdout and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_cli_dry_run_refuses_a_size_the_format_cannot_hold(tmp_path):
    r = _cli("render", "--dry-run", "-o", str(tmp_path), str(_write(tmp_path, 70_000, 10, "ct", "x.ct")))
    assert r.returncode == 2
    err = [ln for ln in r.stderr.splitlines() if "error" in ln]
    assert len(err) == 1 and "big.mi:3:3: x.ct: format 'ct' holds at most 65535x65535" in err[0]


@pytest.mark.parametrize("filename, words", [
    ("a\0b.exr", "holds a NUL character"),
    ("x" * 300 + ".exr", "file systems hold at most 255 bytes a name"),
    ("sub/" + "y" * 256 + "/z.exr", "at most 255 bytes"),
])
def test_impossible_output_name_is_refused_by_the_plan(filename, words, tmp_path):
    # found by the scene fuzz: a NUL in a framebuffer filename escaped as ValueError
    sc = scene.loads('camera "c"\n  resolution 8 8\n  framebuffer "b" datatype "rgba" filename "'
                     + filename + '"\nend camera\n', filename="n.mi")
    with pytest.raises(SceneError) as info:
        plan_scene(sc, tmp_path)
    assert (info.value.file, info.value.line) == ("n.mi", 3)
    assert words in info.value.message


# -- the scene fuzz: seeded mutants of every scene we have -----------------------------------------

CORPUS_MI = REPO.parent / "shared" / "corpus" / "mi"


def test_scene_fuzz_every_mutant_parses_or_is_refused_in_time():
    from collections import Counter

    from framebuf.testing import scene_fuzz as F

    files = F.sources(CORPUS_MI, REPO / "scenes")
    assert len(files) >= 10
    count = 6 * len(files) * 5            # every mutation of every file, 5 times: 900 mutants, ~6 s
    t0 = time.perf_counter()
    outcomes = list(F.campaign(files, count, seed=15, cap=5.0))
    elapsed = time.perf_counter() - t0
    findings = [o for o in outcomes if o.result not in ("parsed", "refused")]
    assert findings == []
    assert max(o.seconds for o in outcomes) < 2.0
    assert elapsed < 30
    by_kind = Counter((o.kind, o.result) for o in outcomes)
    for kind in F.MUTATIONS:  # each mutation reaches the error paths, most also parse
        assert by_kind[kind, "refused"] > 0, kind
    assert by_kind["truncate", "parsed"] > 0 and by_kind["huge", "parsed"] > 0


def test_scene_fuzz_mutants_are_reproducible():
    from framebuf.testing import scene_fuzz as F

    files = F.sources(CORPUS_MI, REPO / "scenes")
    a = [F.mutant(files, i, seed=3)[2] for i in range(0, 180, 7)]
    b = [F.mutant(files, i, seed=3)[2] for i in range(0, 180, 7)]
    assert a == b
    assert a != [F.mutant(files, i, seed=4)[2] for i in range(0, 180, 7)]
    # a nest mutant really nests past the parser's limit or right around it
    nest = [F.mutant(files, i, 0)[2] for i in range(len(files) * 4, len(files) * 5)]
    assert all(t.count("[") + t.count("{") >= 99 for t in nest)
