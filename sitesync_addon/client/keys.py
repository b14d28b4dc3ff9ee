"""API keys: ``/api/keys``."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sitesync_addon.client.http import Http

BASE = "/api/keys"


class Keys:
    def __init__(self, http: Http) -> None:
        self.http = http

    def list(self) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", self.http.get(BASE))

    def create(self, name: str, role: str,
               projects: Sequence[str] | None = None) -> dict[str, Any]:
        """A new key (for every project without ``projects``); its secret is in the answer
        only, once."""
        return cast("dict[str, Any]", self.http.post(BASE, json={
            "name": name, "role": role,
            "projects": list(projects) if projects is not None else None}))

    def revoke(self, key_id: str) -> None:
        self.http.delete(f"{BASE}/{key_id}")

    def me(self) -> dict[str, Any]:
        return cast("dict[str, Any]", self.http.get(f"{BASE}/me"))
