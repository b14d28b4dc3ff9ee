"""What an addon is, and the optional parts it may offer the host.

An addon subclasses ``Addon`` and, for each part it offers, the matching interface; the
manager asks ``isinstance`` which parts an addon has.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import click


class Addon(ABC):
    """Constructed with no arguments; ``initialize`` gives it its settings from the server."""

    name: ClassVar[str]  # also its path on the server: /api/addons/{name}/{version}/
    version: ClassVar[str]
    enabled: bool = True

    @abstractmethod
    def initialize(self, addon_settings: dict[str, Any]) -> None:
        """Take the addon's studio settings; set up state only (no threads)."""


class TrayAddon(ABC):
    """Lives in the tray: built, started and stopped with it, with entries in its menu."""

    @abstractmethod
    def tray_init(self) -> None: ...

    @abstractmethod
    def tray_start(self) -> None: ...

    @abstractmethod
    def tray_exit(self) -> None: ...

    @abstractmethod
    def tray_menu(self, parent_menu: Any) -> None:
        """Add entries to the tray's menu (a QMenu)."""


class PluginPathsAddon(ABC):
    @abstractmethod
    def get_plugin_paths(self) -> dict[str, list[str]]:
        """Folders of pipeline plugins by kind, e.g. ``{"publish": [...]}``."""


class LaunchHookPathsAddon(ABC):
    @abstractmethod
    def get_launch_hook_paths(self) -> str | list[str]:
        """Folder(s) of launch hooks run before an application starts."""


class CliAddon(ABC):
    @abstractmethod
    def cli(self, click_group: click.Group) -> None:
        """Register the addon's command group on the host's ``click_group``."""
