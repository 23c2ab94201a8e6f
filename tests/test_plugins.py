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
