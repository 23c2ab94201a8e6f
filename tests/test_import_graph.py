"""The layers point down: core (``framebuf/``) never imports the built-in shaders (``shaders/``),
and the module-level imports of both packages form no cycle (a cycle works or fails depending on
which module is imported first). Read from the source with ``ast``, so it checks every module,
including function-local imports for the layering rule."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("framebuf", "shaders")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _imports(name: str, path: Path, top_level_only: bool) -> set[str]:
    """Modules of our packages that ``name`` imports (``from a import b`` counts a.b when that is
    a module, else a)."""
    mods = _modules()
    tree = ast.parse(path.read_text(), str(path))
    is_pkg = path.name == "__init__.py"
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
        else:
            continue
        found.update(t for t in targets if t.split(".")[0] in PACKAGES and t != name)
    return found


def test_core_never_imports_the_builtin_shaders():
    offenders = {n: sorted(i for i in _imports(n, p, top_level_only=False) if i.startswith("shaders"))
                 for n, p in _modules().items() if n.startswith("framebuf")}
    assert {n: i for n, i in offenders.items() if i} == {}


def test_module_level_imports_have_no_cycle():
    mods = _modules()
    graph = {n: {i for i in _imports(n, p, top_level_only=True) if i in mods} for n, p in mods.items()}
    # Importing a package runs its __init__, so a submodule also depends on its parent packages.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                pytest.fail("import cycle: " + " -> ".join(stack[stack.index(m):] + [m]))
            if m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    assert len(state) == len(mods) > 50


@pytest.mark.parametrize("first", ["shaders.filters", "framebuf.shading", "framebuf.postfilters"])
def test_each_filter_module_imports_first_in_a_fresh_interpreter(first):
    # The former cycle shading -> shaders.filters -> shading broke only in one import order.
    code = (f"import {first}, framebuf.shading as s, numpy as np\n"
            "print(float(s.blur(np.ones((3, 3, 1), np.float32), 2.0).sum()))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(Path.home()),
                              "PYTHONDONTWRITEBYTECODE": "1"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "9.0"
