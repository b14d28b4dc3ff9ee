"""The installed providers: built-ins and every package with a ``sitesync`` entry point.

Built-ins register through the same hook as third-party plugins. A plugin that fails to
import or to answer the hook is recorded with its error and skipped; the others still load.
"""
from __future__ import annotations

import functools
import importlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy

from sitesync_addon.errors import ProviderNotInstalled
from sitesync_addon.providers import hookspecs
from sitesync_addon.providers.base import AbstractProvider, ProviderSettings
from sitesync_addon.version import __version__

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "sitesync"
BUILTIN_MODULES = ("local_drive", "s3", "sftp", "gdrive", "rclone")
CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class ProviderInfo:
    code: str
    title: str
    provider: type[AbstractProvider]
    origin: str  # "builtin" or the distribution that installed it
    version: str


@dataclass(frozen=True)
class BrokenPlugin:
    name: str
    origin: str
    error: str


class ProviderRegistry:
    """Loads plugins on demand; answers which provider class serves a code.

    A built-in is imported only when its code is asked for, so a sync service moving files
    between local drives never imports an SDK it does not use. Listing every provider, or
    asking for any other code, loads all built-ins first and then the entry points, so a
    plugin cannot take a built-in's code.
    """

    def __init__(self, load_entry_points: bool = True) -> None:
        self.plugins = pluggy.PluginManager(hookspecs.PROJECT)
        self.plugins.add_hookspecs(hookspecs)
        self._found: dict[str, ProviderInfo] = {}
        self._broken: list[BrokenPlugin] = []
        self._loaded_builtins: set[str] = set()
        self._entry_points_pending = load_entry_points
        self._lock = threading.RLock()  # transfer threads create providers at once

    @property
    def providers(self) -> dict[str, ProviderInfo]:
        """Every installed provider by code."""
        self._load_all()
        return self._found

    @property
    def broken(self) -> list[BrokenPlugin]:
        """Plugins that failed to load, with why."""
        self._load_all()
        return self._broken

    def _load_builtin(self, name: str) -> None:
        with self._lock:
            if name not in self._loaded_builtins:
                self._loaded_builtins.add(name)
                self._load(f"builtin:{name}", "builtin", __version__,
                           lambda: importlib.import_module(f"sitesync_addon.providers.{name}"))

    def _load_all(self) -> None:
        with self._lock:
            for name in BUILTIN_MODULES:
                self._load_builtin(name)
            if self._entry_points_pending:
                self._entry_points_pending = False
                for entry_point in entry_points(group=ENTRY_POINT_GROUP):
                    dist = entry_point.dist
                    self._load(entry_point.name, dist.name if dist else entry_point.value,
                               dist.version if dist else "", entry_point.load)

    def _load(self, name: str, origin: str, version: str, load: Callable[[], Any]) -> None:
        plugin = None
        try:
            plugin = load()
            self.plugins.register(plugin, name=name)
            found: dict[str, ProviderInfo] = {}
            for impl in self.plugins.hook.sitesync_providers.get_hookimpls():
                if impl.plugin is plugin:
                    contributed: Any = impl.function()
                    for cls in contributed or []:
                        info = self._checked(cls, origin, version)
                        found[info.code] = info
            if not found:
                raise ValueError("it contributes no provider: implement the hook "
                                 "sitesync_providers() with @hookimpl")
            self._found.update(found)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the others
            if plugin is not None and self.plugins.is_registered(plugin):
                self.plugins.unregister(plugin)
            log.warning("provider plugin '%s' (%s) is broken and skipped: %s", name, origin, exc)
            self._broken.append(BrokenPlugin(name, origin, f"{type(exc).__name__}: {exc}"))

    def _checked(self, cls: Any, origin: str, version: str) -> ProviderInfo:
        if not (isinstance(cls, type) and issubclass(cls, AbstractProvider)):
            raise TypeError(f"{cls!r} is not an AbstractProvider subclass")
        if not issubclass(cls.settings_model, ProviderSettings):
            raise TypeError(f"{cls.__name__}.settings_model must subclass ProviderSettings")
        code = getattr(cls, "code", "")
        if not CODE_PATTERN.fullmatch(code):
            raise ValueError(f"{cls.__name__}.code '{code}' must match {CODE_PATTERN.pattern}")
        if code in self._found:
            raise ValueError(f"provider code '{code}' is already taken by "
                             f"{self._found[code].origin}")
        features = cls.features
        if not (features.rename or features.atomic_write):  # partial files under final names
            raise TypeError(f"{cls.__name__} ('{code}') neither implements rename() nor "
                            "declares atomic_write=True, so a cut transfer could leave a "
                            "partial file under its final name")
        if cls.write is AbstractProvider.write and not features.streaming_writes:
            raise TypeError(f"{cls.__name__} ('{code}') implements neither write() nor "
                            "open_write()")
        return ProviderInfo(code, cls.title or code, cls, origin, version)

    def provider_class(self, code: str) -> type[AbstractProvider]:
        if code in BUILTIN_MODULES:
            self._load_builtin(code)
        if code not in self._found:
            self._load_all()
        try:
            return self._found[code].provider
        except KeyError:
            raise ProviderNotInstalled(f"no provider '{code}' is installed "
                                       f"{self.install_hint()}") from None

    def install_hint(self) -> str:
        known = ", ".join(sorted(self.providers)) or "none"
        return f"(installed: {known}); install the package that provides it"

    def settings_models(self) -> dict[str, type[ProviderSettings]]:
        return {code: info.provider.settings_model for code, info in self.providers.items()}


@functools.cache
def registry() -> ProviderRegistry:
    return ProviderRegistry()


def provider_class(code: str) -> type[AbstractProvider]:
    return registry().provider_class(code)


def create_provider(site_name: str, site: dict[str, Any]) -> AbstractProvider:
    """A provider for one resolved site (``provider``, its settings block, ``root``).

    ``ProviderNotInstalled`` when no installed package provides its code, or the provider's
    SDK (its extra) is missing."""
    code = site.get("provider", "local_drive")
    try:
        cls = provider_class(code)
    except ProviderNotInstalled:
        raise ProviderNotInstalled(f"site '{site_name}' uses provider '{code}', which is not "
                                   f"installed {registry().install_hint()}") from None
    return cls(site_name, site.get(code) or {}, site.get("root") or {})
