"""Site commands: asked for by people, taken and finished by the site's sync service."""
from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sitesync_addon.client.http import Http
from sitesync_addon.client.types import SiteCommand


class Commands:
    def __init__(self, http: Http, prefix: str) -> None:
        self.http = http
        self.prefix = f"/api/{prefix}"

    def request(self, project: str, site: str, action: str, reset_missing: bool = False,
                representation_ids: Sequence[str] = ()) -> SiteCommand:
        """Ask the sync service of ``site`` to validate, clear or remove files there."""
        return cast(SiteCommand, self.http.post(
            f"{self.prefix}/{project}/sites/{site}/commands",
            json={"action": action, "resetMissing": reset_missing,
                  "representationIds": list(representation_ids)}))

    def of_project(self, project: str, site: str | None = None) -> list[SiteCommand]:
        params = {"site": site} if site is not None else {}
        return cast("list[SiteCommand]",
                    self.http.get(f"{self.prefix}/{project}/commands", params=params))

    def claimable(self, sites: Sequence[str]) -> list[SiteCommand]:
        """Commands on these sites that a service may take now, oldest first."""
        return cast("list[SiteCommand]",
                    self.http.get(f"{self.prefix}/commands", params={"site": list(sites)}))

    def claim(self, command_id: str, service_id: str) -> SiteCommand:
        return cast(SiteCommand, self.http.post(f"{self.prefix}/commands/{command_id}/claim",
                                                json={"serviceId": service_id}))

    def finish(self, command_id: str, service_id: str, ok: bool,
               result: dict[str, int] | None = None, message: str | None = None) -> None:
        self.http.post(f"{self.prefix}/commands/{command_id}/finish",
                       json={"serviceId": service_id, "ok": ok, "result": result or {},
                             "message": message})
