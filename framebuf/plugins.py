"""The plugin manager and the registry built from it.

Built-in plugins are registered exactly as external ones: every public module of the packages in
``BUILTIN_PACKAGES`` is registered with the plugin manager (a module without hook implementations
simply contributes nothing), then the ``framebuf`` entry-point group of installed distributions is
loaded, then ``check_pending`` rejects any hook implementation that matches no specification.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from dataclasses import dataclass, field

import pluggy

from . import hookspecs
from .errors import PluginError

#: packages whose public modules are built-in plugins.
BUILTIN_PACKAGES = ("framebuf.formats", "framebuf.sources", "framebuf.post", "shaders")

ENTRY_POINT_GROUP = "framebuf"


def builtin_plugin_modules() -> list[str]:
    names = []
    for package_name in BUILTIN_PACKAGES:
        try:
            package = importlib.import_module(package_name)
        except ImportError:  # pragma: no cover - every built-in package ships with framebuf
            continue
        for info in pkgutil.iter_modules(package.__path__):
            if not info.name.startswith("_"):
                names.append(f"{package_name}.{info.name}")
    return sorted(names)


def make_plugin_manager(entry_points: bool = True, extra_plugins=()) -> pluggy.PluginManager:
    """A plugin manager with the hook specifications, the built-ins, entry points and ``extra``."""
    pm = pluggy.PluginManager("framebuf")
    pm.add_hookspecs(hookspecs)
    for module_name in builtin_plugin_modules():
        pm.register(importlib.import_module(module_name), name=module_name)
    if entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra_plugins:
        pm.register(plugin)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {exc.plugin!r} implements an unknown hook: {exc}") from None
    return pm


@dataclass
class Registry:
    """Everything the plugins contributed, one name-keyed table per kind."""

    formats: dict = field(default_factory=dict)
    shaders: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    layouts: dict = field(default_factory=dict)
    mappings: dict = field(default_factory=dict)
    origin: dict = field(default_factory=dict)  # (kind, name) -> plugin name

    @classmethod
    def from_plugin_manager(cls, pm: pluggy.PluginManager) -> "Registry":
        reg = cls()
        tables = [
            ("formats", pm.hook.framebuf_formats),
            ("shaders", pm.hook.framebuf_output_shaders),
            ("sources", pm.hook.framebuf_sample_sources),
            ("layouts", pm.hook.framebuf_channel_layouts),
            ("mappings", pm.hook.framebuf_label_mappings),
        ]
        for kind, hook in tables:
            table = getattr(reg, kind)
            # call each implementation separately so a duplicate can name both plugins
            for impl in reversed(hook.get_hookimpls()):
                items = impl.function() or []
                for item in items:
                    name = item.name
                    if name in table:
                        raise PluginError(
                            f"{kind[:-1]} {name!r} is registered twice: by "
                            f"{reg.origin[(kind, name)]} and by {impl.plugin_name}"
                        )
                    table[name] = item
                    reg.origin[(kind, name)] = impl.plugin_name
        return reg


_lock = threading.Lock()
_registry: Registry | None = None


def registry() -> Registry:
    """The process-wide registry (built on first use)."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = Registry.from_plugin_manager(make_plugin_manager())
        return _registry


def reset_registry(extra_plugins=(), entry_points: bool = True) -> Registry:
    """Rebuild the registry, e.g. after installing a plugin or in tests."""
    global _registry
    with _lock:
        _registry = Registry.from_plugin_manager(
            make_plugin_manager(entry_points=entry_points, extra_plugins=extra_plugins)
        )
        return _registry
