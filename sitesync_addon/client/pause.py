"""Pauses of the whole server, a project, or one site of a representation."""
from __future__ import annotations

from sitesync_addon.client.http import Http


class Pause:
    def __init__(self, http: Http, prefix: str) -> None:
        self.http = http
        self.base = f"/api/{prefix}"

    def server(self) -> bool:
        return bool(self.http.get(f"{self.base}/pause")["paused"])

    def set_server(self, paused: bool) -> None:
        self.http.put(f"{self.base}/pause", json={"paused": paused})

    def project(self, project: str) -> bool:
        return bool(self.http.get(f"{self.base}/{project}/pause")["paused"])

    def set_project(self, project: str, paused: bool) -> None:
        self.http.put(f"{self.base}/{project}/pause", json={"paused": paused})

    def set_representation(self, project: str, representation_id: str, site: str,
                           paused: bool) -> None:
        self.http.put(f"{self.base}/{project}/state/{representation_id}/{site}/pause",
                      json={"paused": paused})
