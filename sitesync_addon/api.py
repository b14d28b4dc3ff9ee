"""SiteSyncApi: every public member of the SiteSync contract (see SEED_API.md).

It is built from the typed server client and the site resolver, and it is what the edges
(CLI, tray, launch hooks, publish plugins, demo) use. ``SiteSyncAddon`` adds the addon
lifecycle on top of it.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitesync_addon.client import ADDON_PREFIX, ServerClient
from sitesync_addon.contract.files import FilesMixin
from sitesync_addon.contract.pause import PauseMixin
from sitesync_addon.contract.settings import SettingsMixin
from sitesync_addon.contract.state import StateMixin
from sitesync_addon.local_site import get_local_site_id
from sitesync_addon.providers.base import AbstractProvider
from sitesync_addon.providers.registry import registry
from sitesync_addon.sites import SiteResolver
from sitesync_addon.version import __version__

if TYPE_CHECKING:
    from sitesync_addon.engine.service import SyncService


class SiteSyncApi(SettingsMixin, StateMixin, PauseMixin, FilesMixin):
    """Keeps published files available on every site that needs them.

    ``SiteSyncApi()`` reads ``SITESYNC_SERVER_URL``, ``SITESYNC_API_KEY`` and
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
        self.client = ServerClient(server_url, api_key)
        self.local_site_id = site_id or get_local_site_id()
        self.sites = SiteResolver(self.client, self.local_site_id)
        self.service_site: str | None = None  # the site a headless service runs as
        self.wake_callbacks: list[Callable[[], None]] = []
        self.retry_backoff_base = 2.0  # seconds a failed file waits; doubles per retry

    @property
    def enabled(self) -> bool:
        return self.sites.enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self.sites.enabled = value

    @property
    def acting_sites(self) -> set[str]:
        """Sites this process moves files for: this machine's, and a service's own."""
        return {self.local_site_id} | ({self.service_site} if self.service_site else set())

    @property
    def endpoint_prefix(self) -> str:
        return ADDON_PREFIX

    def get_site_icons(self) -> dict[str, dict[str, str]]:
        """Icons of the installed providers by provider code."""
        return {code: {"type": "path", "path": str(info.provider.icon)}
                for code, info in sorted(registry().providers.items()) if info.provider.icon}

    def provider_for(self, project_name: str, site_name: str) -> AbstractProvider:
        """The provider of a site of a project, with its roots on this platform."""
        return self.sites.provider(project_name, site_name)

    def clear_caches(self) -> None:
        """Forget cached settings (they changed on the server)."""
        self.sites.invalidate()
        self.__dict__.pop("_anatomy_cache", None)

    def create_service(self, active_site: str | None = None, **options: Any) -> SyncService:
        """A sync service moving files for ``active_site`` (default: this machine's site);
        ``options`` are fields of ``EngineConfig``."""
        from sitesync_addon.engine.config import EngineConfig
        from sitesync_addon.engine.service import SyncService

        site = self.sites.as_local_id(active_site or self.local_site_id)
        options.setdefault("retry_backoff_base", self.retry_backoff_base)
        options.setdefault("log_progress_sec", self.LOG_PROGRESS_SEC)
        return SyncService(self.client, self.sites, EngineConfig(site=site, **options))


PACKAGE_DIR = Path(__file__).parent
