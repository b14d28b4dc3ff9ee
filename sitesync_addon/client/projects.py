"""Projects: ``/api/projects``."""
from __future__ import annotations

from typing import Any, cast

from sitesync_addon.client.http import Http
from sitesync_addon.client.types import Project

BASE = "/api/projects"


class Projects:
    def __init__(self, http: Http) -> None:
        self.http = http

    def list(self) -> list[Project]:
        """The projects this key may use, with their roots."""
        return cast("list[Project]", self.http.get(BASE))

    def get(self, project: str) -> Project:
        return cast(Project, self.http.get(f"{BASE}/{project}"))

    def create(self, name: str, roots: dict[str, Any]) -> Project:
        return cast(Project, self.http.post(BASE, json={"name": name, "roots": roots}))

    def site_roots(self, project: str, platform: str) -> dict[str, str]:
        """``{root name: path}`` of the project's roots on one platform."""
        return cast("dict[str, str]", self.http.get(f"{BASE}/{project}/siteRoots",
                                                    params={"platform": platform}))
