"""Addon settings: studio, project, and one machine's (site-scope) settings."""
from __future__ import annotations

from typing import Any, cast

from sitesync_addon.client.http import Http


class Settings:
    def __init__(self, http: Http, prefix: str) -> None:
        self.http = http
        self.base = f"/api/{prefix}/settings"

    def studio(self) -> dict[str, Any]:
        return cast("dict[str, Any]", self.http.get(self.base))

    def put_studio(self, data: dict[str, Any]) -> dict[str, Any]:
        return cast("dict[str, Any]", self.http.put(self.base, json=data))

    def project(self, project: str) -> dict[str, Any]:
        """The project's own overrides (secrets masked for keys that may not read them)."""
        return cast("dict[str, Any]", self.http.get(f"{self.base}/{project}"))

    def put_project(self, project: str, data: dict[str, Any]) -> dict[str, Any]:
        return cast("dict[str, Any]", self.http.put(f"{self.base}/{project}", json=data))

    def resolved(self, project: str, site_id: str | None = None) -> dict[str, Any]:
        """Studio, project and (with ``site_id``) that machine's settings, merged."""
        params = {"siteId": site_id} if site_id else None
        return cast("dict[str, Any]", self.http.get(f"{self.base}/{project}/resolved",
                                                    params=params))

    def site(self, project: str, site_id: str) -> dict[str, Any]:
        return cast("dict[str, Any]", self.http.get(f"{self.base}/{project}/site/{site_id}"))

    def put_site(self, project: str, site_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return cast("dict[str, Any]", self.http.put(f"{self.base}/{project}/site/{site_id}",
                                                    json=data))
