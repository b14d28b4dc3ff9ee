"""The server's event stream, long-polled."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sitesync_addon.client.http import Http
from sitesync_addon.client.types import EventBatch


class Events:
    def __init__(self, http: Http, prefix: str) -> None:
        self.http = http
        self.url = f"/api/{prefix}/events"

    def poll(self, after: int | None = None, timeout: float = 0,
             project: str | None = None, kinds: Sequence[str] | None = None) -> EventBatch:
        """Events after ``after``, waiting up to ``timeout`` seconds for the first; only
        ``kinds`` if given."""
        params: dict[str, Any] = {"timeout": timeout}
        if kinds is not None:
            params["kinds"] = ",".join(kinds)
        if after is not None:
            params["after"] = after
        if project is not None:
            params["project"] = project
        return cast(EventBatch, self.http.get(self.url, params=params, timeout=timeout + 10))
