"""Finding plugins: a pluggy manager over the entry-point group ``hal``, and typed access to it.

:func:`get_plugin_manager` builds a fresh manager (tests use one without entry
points); :class:`Plugins` wraps it with typed calls: the registrations of each
kind, and the observer hooks. The module-level default (:func:`default_plugins`)
is the only global state in hal; :func:`hal.get_backend` and friends use it.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Iterable
from typing import Any

import pluggy

from hal.extension import hookspecs
from hal.extension.registry import KINDS, Registration, Registry
from hal.errors import UnknownPluginError
from hal.logging import get_logger

__all__ = [
    "Plugins",
    "get_plugin_manager",
    "default_plugins",
    "reset_default_plugins",
]

log = get_logger(__name__)

def get_plugin_manager(load_entrypoints: bool = True, blocked: Iterable[str] = ()) -> pluggy.PluginManager:
    """A fresh plugin manager with hal's hook specifications.

    ``blocked`` plugin names (entry-point names) are never loaded; the
    environment variable ``HAL_DISABLE_PLUGINS=a,b`` adds to them.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    env = [n.strip() for n in os.environ.get("HAL_DISABLE_PLUGINS", "").split(",") if n.strip()]
    for name in (*blocked, *env):
        pm.set_blocked(name)
    if load_entrypoints:
        _load_entry_points(pm)
    pm.check_pending()
    return pm


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    """Load every entry point of the group one by one: one that fails is skipped with a warning
    naming it, and the others still load."""
    for name in sorted({ep.name for ep in importlib.metadata.entry_points(group=hookspecs.PROJECT)}):
        if pm.is_blocked(name):
            continue
        try:
            pm.load_setuptools_entrypoints(hookspecs.PROJECT, name=name)
        except Exception as exc:  # noqa: BLE001 -- any error in a third party's import must not take hal down
            values = [ep.value for ep in importlib.metadata.entry_points(group=hookspecs.PROJECT, name=name)]
            log.warning("plugin_skipped", entry_point=name, target=",".join(values), error=f"{type(exc).__name__}: {exc}")


class Plugins:
    """Typed access to a plugin manager: registrations per kind and the observer hooks."""

    def __init__(self, pm: pluggy.PluginManager):
        self.pm = pm
        self._registrations: dict[str, dict[str, Registration]] = {}

    def _distribution(self, plugin: object) -> tuple[str, str]:
        """(distribution name, version) a plugin was loaded from."""
        for p, dist in self.pm.list_plugin_distinfo():
            if p is plugin:
                return dist.project_name, dist.version
        return f"{self.pm.get_name(plugin)} (registered directly)", ""

    def registrations(self, kind: str) -> dict[str, Registration]:
        """Everything registered of ``kind`` (``backend``, ``trainer``, ``calibration``, ``command``), by name."""
        if kind not in KINDS:
            raise UnknownPluginError("plugin kind", kind, KINDS)
        cached = self._registrations.get(kind)
        if cached is None:
            cached = {}
            caller = getattr(self.pm.hook, KINDS[kind])
            for impl in caller.get_hookimpls():
                distribution, version = self._distribution(impl.plugin)
                impl.function(registry=Registry(kind, distribution, cached, version))
            self._registrations[kind] = cached
        return cached

    def invalidate(self) -> None:
        """Forget cached registrations (after registering or unregistering a plugin)."""
        self._registrations.clear()

    def create(self, kind: str, name: str, **options: Any) -> Any:
        found = self.registrations(kind)
        if name not in found:
            raise UnknownPluginError(kind, name, found)
        return found[name].factory(**options)

    def names(self, kind: str) -> list[str]:
        return sorted(self.registrations(kind))

    def before_run(self, *, backend, request) -> None:
        self.pm.hook.hal_before_run(backend=backend, request=request)

    def after_run(self, *, backend, request, result) -> None:
        self.pm.hook.hal_after_run(backend=backend, request=request, result=result)


_default: Plugins | None = None


def default_plugins() -> Plugins:
    """The process-wide plugins (entry points loaded once, on first use)."""
    global _default
    if _default is None:
        _default = Plugins(get_plugin_manager())
    return _default


def reset_default_plugins(plugins: Plugins | None = None) -> None:
    """Replace (or drop, with ``None``) the process-wide plugins; for tests and embedding."""
    global _default
    _default = plugins
