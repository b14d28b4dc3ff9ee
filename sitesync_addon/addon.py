"""SiteSyncAddon: the addon shell around SiteSyncApi (lifecycle, CLI, plugin and hook paths)."""
from __future__ import annotations

import logging
from typing import Any

import click

from sitesync_addon.api import PACKAGE_DIR, SiteSyncApi
from sitesync_addon.publish import PLUGIN_PATH
from sitesync_addon.framework.interfaces import (Addon, CliAddon, LaunchHookPathsAddon,
                                                 PluginPathsAddon, TrayAddon)

log = logging.getLogger(__name__)


class SiteSyncAddon(SiteSyncApi, Addon, TrayAddon, PluginPathsAddon, LaunchHookPathsAddon,
                    CliAddon):
    """The SiteSync contract as an addon: ``SiteSyncApi`` plus its lifecycle.

    ``SiteSyncAddon()`` reads ``SITESYNC_SERVER_URL``, ``SITESYNC_API_KEY`` and
    ``SITESYNC_SITE_ID``; arguments override them.
    """

    def __init__(self, server_url: str | None = None, api_key: str | None = None,
                 site_id: str | None = None) -> None:
        super().__init__(server_url, api_key, site_id)
        self.addon_settings: dict[str, Any] = {}
        self.sync_thread: Any = None
        self.wake_callbacks.append(self._wake_local_thread)

    # -- lifecycle ----------------------------------------------------------------------------

    def initialize(self, addon_settings: dict[str, Any]) -> None:
        """Take the addon's settings from the addon manager; starts nothing."""
        self.addon_settings = addon_settings or {}
        self.enabled = bool(self.addon_settings.get("enabled", True))

    def tray_init(self) -> None:
        self.sync_thread = self.create_service()

    def tray_start(self) -> None:
        if self.sync_thread is not None and self.enabled:
            self.sync_thread.start()

    def tray_exit(self) -> None:
        if self.sync_thread is not None:
            self.sync_thread.stop()

    def tray_menu(self, parent_menu: Any) -> None:
        """Add SiteSync's entries to the tray menu (a QMenu)."""
        menu = parent_menu.addMenu("SiteSync")
        menu.addAction("Pause all transfers").triggered.connect(self.pause_server)
        menu.addAction("Resume all transfers").triggered.connect(self.unpause_server)
        menu.addAction("Sync now").triggered.connect(self.reset_timer)

    def server_init(self, active_site: str | None = None) -> None:
        self.service_site = self.sites.as_local_id(active_site) if active_site else None
        self.sync_thread = self.create_service(active_site)

    def server_start(self) -> None:
        self.tray_start()

    def server_exit(self) -> None:
        self.tray_exit()

    @property
    def is_running(self) -> bool:
        return bool(self.sync_thread is not None and self.sync_thread.is_alive())

    def _wake_local_thread(self) -> None:
        if self.sync_thread is not None:
            self.sync_thread.wake()

    def cli(self, click_group: click.Group) -> None:
        """Register the ``sitesync`` command group on ``click_group``."""
        from sitesync_addon.cli import main

        click_group.add_command(main, "sitesync")

    def get_plugin_paths(self) -> dict[str, list[str]]:
        return {"publish": [PLUGIN_PATH]}

    def get_launch_hook_paths(self) -> str:
        return str(PACKAGE_DIR / "launch_hooks")
