"""Running sync services: heartbeats in, the list of who is alive out."""
from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, cast

from sitesync_addon.client.http import Http
from sitesync_addon.client.types import ServiceInfo


class Services:
    def __init__(self, http: Http, prefix: str) -> None:
        self.http = http
        self.base = f"/api/{prefix}/services"

    def heartbeat(self, service_id: str, site: str, host: str, version: str, pid: int,
                  projects: Sequence[str], files_in_flight: int,
                  bytes_per_second: float) -> None:
        """Say this service is alive, what it serves and how busy it is."""
        self.http.post(f"{self.base}/heartbeat", json={
            "serviceId": service_id, "site": site, "host": host, "version": version,
            "pid": pid, "projects": list(projects), "filesInFlight": files_in_flight,
            "bytesPerSecond": bytes_per_second})

    def list(self, site: str | None = None) -> builtins.list[ServiceInfo]:
        """Services heard from in the last hour (``stale``: quiet for 30 s)."""
        params: dict[str, Any] = {"site": site} if site is not None else {}
        return cast("builtins.list[ServiceInfo]", self.http.get(self.base, params=params))
