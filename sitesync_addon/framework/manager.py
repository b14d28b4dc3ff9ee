"""The addon manager: discovers addons, gives them settings, and runs their shared parts.

Addons are classes named by entry points in group ``sitesync.addons``. One that fails to load,
to initialize or to answer a call is reported by name and skipped; the others go on.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import click

from sitesync_addon.framework.interfaces import (Addon, CliAddon, LaunchHookPathsAddon,
                                                 PluginPathsAddon, TrayAddon)
from sitesync_addon.client import ServerClient
from sitesync_addon.errors import ServerNotFound

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "sitesync.addons"
HOST_NAME = "sitesync"  # the addon whose commands are the top level of the host's CLI


@dataclass(frozen=True)
class BrokenAddon:
    name: str
    stage: str  # "load", "initialize", "tray_start", ...
    error: str


class AddonManager:
    def __init__(self, client: ServerClient | None = None,
                 addon_classes: Iterable[type[Addon]] | None = None) -> None:
        self.client = client or ServerClient()
        self.addons: dict[str, Addon] = {}
        self.broken: list[BrokenAddon] = []
        loaders = ([(cls.__name__, lambda cls=cls: cls) for cls in addon_classes]
                   if addon_classes is not None else
                   [(ep.name, ep.load) for ep in entry_points(group=ENTRY_POINT_GROUP)])
        for name, load in loaders:
            self._load(name, load)

    def _load(self, name: str, load: Callable[[], Any]) -> None:
        try:
            cls = load()
            if not (isinstance(cls, type) and issubclass(cls, Addon)):
                raise TypeError(f"{cls!r} is not a subclass of sitesync_addon.framework.Addon")
            addon = cls()
            if addon.name in self.addons:
                raise ValueError(f"an addon named '{addon.name}' is loaded already")
        except Exception as exc:  # noqa: BLE001 - one broken addon must not stop the others
            self._broken(name, "load", exc)
            return
        # The host's own addon first: its commands and menu entries lead.
        if addon.name == HOST_NAME:
            self.addons = {addon.name: addon, **self.addons}
        else:
            self.addons[addon.name] = addon

    def _broken(self, name: str, stage: str, exc: BaseException) -> None:
        log.warning("addon '%s' failed at %s and is skipped: %s", name, stage, exc)
        self.broken.append(BrokenAddon(name, stage, f"{type(exc).__name__}: {exc}"))

    def _each(self, interface: type, stage: str, call: Callable[[Any], Any]) -> list[Any]:
        """``call(addon)`` for every enabled addon offering ``interface``; failures reported."""
        results = []
        for name, addon in list(self.addons.items()):
            if not (isinstance(addon, interface) and addon.enabled):
                continue
            try:
                results.append(call(addon))
            except Exception as exc:  # noqa: BLE001 - reported by name, the others go on
                self._broken(name, stage, exc)
                if stage == "initialize":
                    del self.addons[name]
        return results

    # -- lifecycle ----------------------------------------------------------------------------

    def initialize(self) -> None:
        """Give every addon its studio settings from the server (none when it has no server
        part) and call ``initialize``."""
        self._each(Addon, "initialize", lambda addon: addon.initialize(self._settings(addon)))

    def _settings(self, addon: Addon) -> dict[str, Any]:
        try:
            return self.client.addon_settings(addon.name, addon.version)
        except ServerNotFound:
            return {}

    def tray_init(self) -> None:
        self._each(TrayAddon, "tray_init", lambda addon: addon.tray_init())

    def tray_menu(self, menu: Any) -> None:
        self._each(TrayAddon, "tray_menu", lambda addon: addon.tray_menu(menu))

    def tray_start(self) -> None:
        self._each(TrayAddon, "tray_start", lambda addon: addon.tray_start())

    def tray_exit(self) -> None:
        self._each(TrayAddon, "tray_exit", lambda addon: addon.tray_exit())

    # -- what addons contribute ---------------------------------------------------------------

    def plugin_paths(self) -> dict[str, list[str]]:
        """Every addon's plugin folders, merged by kind."""
        merged: dict[str, list[str]] = {}
        for paths in self._each(PluginPathsAddon, "get_plugin_paths",
                                lambda addon: addon.get_plugin_paths()):
            for kind, folders in paths.items():
                merged.setdefault(kind, []).extend(f for f in folders
                                                   if f not in merged.get(kind, []))
        return merged

    def launch_hook_paths(self) -> list[str]:
        found: list[str] = []
        for paths in self._each(LaunchHookPathsAddon, "get_launch_hook_paths",
                                lambda addon: addon.get_launch_hook_paths()):
            found.extend(p for p in ([paths] if isinstance(paths, str) else paths)
                         if p not in found)
        return found

    def build_cli(self) -> click.Group:
        """The host's command line: the host addon's commands at the top level, every other
        addon's groups next to them."""
        registered: dict[str, click.Group] = {}
        for name, addon in self.addons.items():
            if isinstance(addon, CliAddon):
                registered[name] = click.Group(name)
                try:
                    addon.cli(registered[name])
                except Exception as exc:  # noqa: BLE001 - reported by name
                    del registered[name]
                    self._broken(name, "cli", exc)
        own = registered.get(HOST_NAME, click.Group(HOST_NAME)).commands.get(HOST_NAME)
        root = click.Group(HOST_NAME, commands=dict(getattr(own, "commands", {})),
                           params=own.params if own else [],
                           callback=own.callback if own else None,
                           help=own.help if own else "SiteSync and its addons.")
        for name, group in registered.items():
            for command_name, command in group.commands.items():
                if (name, command_name) != (HOST_NAME, HOST_NAME):
                    root.add_command(command, command_name)
        return root
