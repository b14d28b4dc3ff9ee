"""SiteSyncAddon: the public contract of SiteSync (see SEED_API.md)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from sitesync_addon.contract.files import FilesMixin
from sitesync_addon.contract.pause import PauseMixin
from sitesync_addon.contract.settings import SettingsMixin
from sitesync_addon.contract.state import StateMixin
from sitesync_addon.framework.interfaces import (Addon, CliAddon, LaunchHookPathsAddon,
                                                 PluginPathsAddon, TrayAddon)
from sitesync_addon.local_site import get_local_site_id
from sitesync_addon.providers.base import AbstractProvider
from sitesync_addon.providers.registry import create_provider, registry
from sitesync_addon.server_api import ServerApi
from sitesync_addon.version import __version__

log = logging.getLogger(__name__)
PACKAGE_DIR = Path(__file__).parent


class SiteSyncAddon(SettingsMixin, StateMixin, PauseMixin, FilesMixin, Addon, TrayAddon,
                    PluginPathsAddon, LaunchHookPathsAddon, CliAddon):
    """Keeps published files available on every site that needs them.

    ``SiteSyncAddon()`` reads ``SITESYNC_SERVER_URL``, ``SITESYNC_API_KEY`` and
    ``SITESYNC_SITE_ID``; arguments override them.
    """

    name = "sitesync"
    version = __version__
    DEFAULT_SITE = "studio"
    LOCAL_SITE = "local"
    LOG_PROGRESS_SEC = 5
    DEFAULT_PRIORITY = 50
    REPRESENTATION_LIMIT = 100

    def __init__(self, server_url: str | None = None, api_key: str | None = None,
                 site_id: str | None = None) -> None:
        self.api = ServerApi(server_url, api_key)
        self.local_site_id = site_id or get_local_site_id()
        self.enabled = True
        self.addon_settings: dict[str, Any] = {}
        self.retry_backoff_base = 2.0  # seconds; doubles with every retry
        self.sync_thread: Any = None
        self._service_site: str | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def initialize(self, addon_settings: dict[str, Any]) -> None:
        """Take the addon's settings from the addon manager; starts nothing."""
        self.addon_settings = addon_settings or {}
        self.enabled = bool(self.addon_settings.get("enabled", True))

    @property
    def acting_sites(self) -> set[str]:
        """Sites this process moves files for: this machine's, and a service's own."""
        return {self.local_site_id} | ({self._service_site} if self._service_site else set())

    def _build_thread(self, active_site: str | None) -> None:
        from sitesync_addon.engine.service import SiteSyncThread

        self.sync_thread = SiteSyncThread(self, active_site=active_site)

    def tray_init(self) -> None:
        self._build_thread(None)

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
        self._service_site = active_site
        self._build_thread(active_site)

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
        return {"publish": [str(PACKAGE_DIR / "plugins" / "publish")]}

    def get_launch_hook_paths(self) -> str:
        return str(PACKAGE_DIR / "launch_hooks")

    def get_site_icons(self) -> dict[str, dict[str, str]]:
        """Icons of the installed providers by provider code."""
        return {code: {"type": "path", "path": str(info.provider.icon)}
                for code, info in sorted(registry().providers.items()) if info.provider.icon}

    @property
    def endpoint_prefix(self) -> str:
        return f"addons/{self.name}/{self.version}"

    # -- helpers the engine and the contract share --------------------------------------------

    def provider_for(self, project_name: str, site_name: str) -> AbstractProvider:
        """A provider bound to a site of a project, with its roots on this platform."""
        return create_provider(site_name, self.get_site_settings(project_name, site_name))

    def clear_caches(self) -> None:
        """Forget cached settings (they changed on the server)."""
        self.__dict__.pop("sync_studio_settings", None)
        self._project_settings = None
        self.__dict__.pop("_anatomy_cache", None)
