"""The sync queue page's filters: read leniently from the URL, as ``GET state`` takes them."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, get_args
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from server_addon.sitesync.listing import SortKey, StateFilter
from server_addon.sitesync.schemas import MAX_PAGE_LENGTH
from sitesync_addon.status import SiteSyncStatus

SITE_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")
SORT_KEYS: tuple[str, ...] = get_args(SortKey)
PAGE_LENGTHS = (25, 50, 100, 200, 500)
STATUSES = {int(s) for s in SiteSyncStatus}


@dataclass
class QueueView:
    """The listing's filter and the query string that names it (bookmarkable)."""

    flt: StateFilter
    query: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    def url(self, **changes: Any) -> str:
        """This view's query string with ``changes`` (None drops a parameter)."""
        query = {**self.query, **changes}
        return "?" + urlencode({k: v for k, v in query.items() if v not in (None, [], "")},
                               doseq=True)


def _text(params: QueryParams, name: str) -> str | None:
    value = params.get(name, "").strip()
    return value[:255] if value and "\x00" not in value else None


def _flag(params: QueryParams, name: str, default: bool) -> bool:
    value = params.get(name)
    return default if value is None else value.lower() in ("1", "true", "yes", "on")


def parse(params: QueryParams, *, default_local: str, default_remote: str) -> QueueView:
    problems: list[str] = []

    def site(name: str, default: str) -> str:
        value = params.get(name)
        if value is None or value == "":
            return default
        if not SITE_PATTERN.match(value):
            problems.append(f"{name} '{value}' is not a site name; showing '{default}'.")
            return default
        return value

    def number(name: str, default: int, low: int, high: int) -> int:
        value = params.get(name)
        if not value:
            return default
        try:
            parsed = int(value)
        except ValueError:
            problems.append(f"{name} '{value}' is not a number; using {default}.")
            return default
        return max(low, min(high, parsed))

    def statuses(name: str) -> list[int]:
        found = []
        for value in params.getlist(name):
            try:
                if int(value) in STATUSES:
                    found.append(int(value))
                    continue
            except ValueError:
                pass
            problems.append(f"{name} '{value}' is not a status number; ignored.")
        return list(dict.fromkeys(found))

    local, remote = site("localSite", default_local), site("remoteSite", default_remote)
    version = None
    if params.get("versionFilter"):
        try:
            version = max(-1_000_000, min(1_000_000, int(params["versionFilter"])))
        except ValueError:
            problems.append(f"versionFilter '{params['versionFilter']}' is not a number; "
                            "ignored.")
    sort_by = params.get("sortBy") or "priority"
    if sort_by not in SORT_KEYS:
        problems.append(f"sortBy '{sort_by}' is not one of {', '.join(SORT_KEYS)}; "
                        "sorted by priority.")
        sort_by = "priority"
    names = [n[:255] for n in params.getlist("repreNameFilter") if n and "\x00" not in n][:100]
    flt = StateFilter(
        local_site=local, remote_site=remote, repre_names=names or None,
        folder=_text(params, "folderFilter"), product=_text(params, "productFilter"),
        version=version, local_statuses=statuses("localStatusFilter"),
        remote_statuses=statuses("remoteStatusFilter"),
        both_only=_flag(params, "bothOnly", False), sort_by=sort_by,  # type: ignore[arg-type]
        sort_desc=_flag(params, "sortDesc", True),
        page=number("page", 1, 1, 1_000_000),
        page_length=number("pageLength", 50, 1, MAX_PAGE_LENGTH))
    query = {"localSite": local, "remoteSite": remote, "repreNameFilter": names,
             "folderFilter": flt.folder, "productFilter": flt.product,
             "versionFilter": version, "localStatusFilter": flt.local_statuses,
             "remoteStatusFilter": flt.remote_statuses,
             "bothOnly": "true" if flt.both_only else None, "sortBy": sort_by,
             "sortDesc": "true" if flt.sort_desc else "false",
             "page": flt.page if flt.page > 1 else None,
             "pageLength": flt.page_length if flt.page_length != 50 else None}
    return QueueView(flt, query, problems)
