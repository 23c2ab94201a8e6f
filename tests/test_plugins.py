import types

import pytest

from framebuf import hookimpl
from framebuf.errors import PluginError
from framebuf.formats.base import FormatSpec
from framebuf.plugins import Registry, builtin_plugin_modules, make_plugin_manager


def _format_plugin(name, module_name=None):
    mod = types.ModuleType(module_name or f"plugin_{name}")

    @hookimpl
    def framebuf_formats():
        return [FormatSpec(name, "test format", ("tst",), ("rgba",), "rgba")]

    mod.framebuf_formats = framebuf_formats
    return mod


def test_builtins_are_registered_like_plugins():
    pm = make_plugin_manager(entry_points=False)
    names = {pm.get_name(p) for p in pm.get_plugins()}
    assert set(builtin_plugin_modules()) <= names


def test_unknown_hook_implementation_is_rejected():
    bad = types.ModuleType("bad_plugin")

    @hookimpl
    def framebuf_not_a_hook():
        return []

    bad.framebuf_not_a_hook = framebuf_not_a_hook
    with pytest.raises(PluginError, match="unknown hook"):
        make_plugin_manager(entry_points=False, extra_plugins=[bad])


def test_extra_plugin_contributes_to_registry():
    pm = make_plugin_manager(entry_points=False, extra_plugins=[_format_plugin("zzztest")])
    reg = Registry.from_plugin_manager(pm)
    assert "zzztest" in reg.formats


def test_two_plugins_claiming_one_name_are_refused():
    pm = make_plugin_manager(
        entry_points=False, extra_plugins=[_format_plugin("dupe", "first"), _format_plugin("dupe", "second")]
    )
    with pytest.raises(PluginError, match="registered twice.*first.*second|registered twice.*second.*first"):
        Registry.from_plugin_manager(pm)


def test_declarations_are_up_to_date():
    # the lazy registry trusts this generated file for the built-ins' names and extensions
    from pathlib import Path

    import framebuf
    from framebuf.plugins import declarations_source

    path = Path(framebuf.__file__).with_name("_declarations.py")
    assert path.read_text() == declarations_source(), "run: python -m framebuf.plugins"


def test_lazy_registry_imports_a_builtin_on_first_lookup():
    import subprocess
    import sys

    code = ("import sys; from framebuf.plugins import registry; r = registry(); "
            "before = 'framebuf.formats.sgi' in sys.modules; spec = r.formats['rgb']; "
            "print(before, 'framebuf.formats.sgi' in sys.modules, 'framebuf.formats.tiff' in sys.modules, spec.name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True", "False", "rgb"]


def test_lazy_registry_matches_the_eager_one():
    from framebuf.plugins import HOOKS, reset_registry

    eager = Registry.from_plugin_manager(make_plugin_manager(entry_points=False))
    lazy = reset_registry(entry_points=False)
    try:
        for kind in HOOKS:
            assert list(getattr(lazy, kind)) == list(getattr(eager, kind))
            assert {n: type(v).__name__ for n, v in getattr(lazy, kind).items()} == \
                {n: type(v).__name__ for n, v in getattr(eager, kind).items()}
        assert lazy.formats["exr"].extensions == eager.formats["exr"].extensions
    finally:
        reset_registry()


def test_lazy_registry_refuses_a_plugin_reusing_a_builtin_name():
    from framebuf.plugins import reset_registry

    try:
        with pytest.raises(PluginError, match="'png' is registered twice: by framebuf.formats.png and by"):
            reset_registry(extra_plugins=[_format_plugin("png", "my_png")], entry_points=False)
    finally:
        reset_registry()
