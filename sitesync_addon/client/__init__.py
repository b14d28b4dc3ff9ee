"""The typed client of the SiteSync server: one module per resource, the only place a URL
is written."""
from __future__ import annotations

from typing import Any, cast

from sitesync_addon.client.catalog import Catalog
from sitesync_addon.client.commands import Commands
from sitesync_addon.client.events import Events
from sitesync_addon.client.http import API_KEY_ENV, SERVER_URL_ENV, Http
from sitesync_addon.client.keys import Keys
from sitesync_addon.client.pause import Pause
from sitesync_addon.client.projects import Projects
from sitesync_addon.client.services import Services
from sitesync_addon.client.settings import Settings
from sitesync_addon.client.state import State
from sitesync_addon.client.work import Work
from sitesync_addon.version import __version__

ADDON_PREFIX = f"addons/sitesync/{__version__}"


class ServerClient:
    """Every resource of the server behind one connection."""

    def __init__(self, url: str | None = None, api_key: str | None = None,
                 timeout: float = 30.0) -> None:
        self.http = Http(url, api_key, timeout)
        self.keys = Keys(self.http)
        self.projects = Projects(self.http)
        self.catalog = Catalog(self.http)
        self.settings = Settings(self.http, ADDON_PREFIX)
        self.state = State(self.http, ADDON_PREFIX)
        self.pause = Pause(self.http, ADDON_PREFIX)
        self.work = Work(self.http, ADDON_PREFIX)
        self.events = Events(self.http, ADDON_PREFIX)
        self.services = Services(self.http, ADDON_PREFIX)
        self.commands = Commands(self.http, ADDON_PREFIX)

    @property
    def url(self) -> str:
        return self.http.url

    def addon_settings(self, name: str, version: str) -> dict[str, Any]:
        """Studio settings of any addon (the addon manager hands them out)."""
        return cast("dict[str, Any]", self.http.get(f"/api/addons/{name}/{version}/settings"))


__all__ = ["API_KEY_ENV", "ADDON_PREFIX", "SERVER_URL_ENV", "Http", "ServerClient"]
