"""Sync state of a project: the listing, one site of a representation, bulk stamps, the
summary per site and the failures grouped by message."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, cast, overload

from sitesync_addon.client.http import Http
from sitesync_addon.client.types import (FailureGroup, ProjectSummary, SiteState, StateItem,
                                         StatePage)

PAGE = 1000
IDS_PER_REQUEST = 200  # keeps query strings short enough for any proxy


def chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


class State:
    def __init__(self, http: Http, prefix: str) -> None:
        self.http = http
        self.prefix = prefix

    def _url(self, project: str, *parts: str) -> str:
        return "/".join([f"/api/{self.prefix}/{project}", *parts])

    def page(self, project: str, local_site: str, remote_site: str,
             **filters: Any) -> StatePage:
        """One page of the listing; ``filters`` are the endpoint's query names."""
        return cast(StatePage, self.http.get(self._url(project, "state"), params={
            "localSite": local_site, "remoteSite": remote_site, **filters}))

    def count(self, project: str, local_site: str, remote_site: str, **filters: Any) -> int:
        return self.page(project, local_site, remote_site, pageLength=1, **filters)["total"]

    def listing(self, project: str, local_site: str, remote_site: str,
                **filters: Any) -> Iterator[StateItem]:
        """Every item of the listing, page by page."""
        page = 1
        while True:
            found = self.page(project, local_site, remote_site, page=page,
                              pageLength=filters.pop("pageLength", PAGE), **filters)
            yield from found["representations"]
            if page * found["pageLength"] >= found["total"]:
                return
            page += 1

    def sites(self, project: str, representation_ids: Sequence[str],
              site_names: Sequence[str] | None = None) -> dict[str, dict[str, SiteState]]:
        """``{representation id: {site name: state, files by id}}``."""
        result: dict[str, dict[str, SiteState]] = {}
        for chunk in chunks(representation_ids, IDS_PER_REQUEST):
            params: dict[str, Any] = {"representationIds": chunk}
            if site_names:
                params["siteNames"] = list(site_names)
            for item in self.http.get(self._url(project, "state", "representations"),
                                      params=params):
                result[item["representationId"]] = {
                    site["name"]: cast(SiteState, {
                        **site, "files": {f["id"]: f for f in site["files"]}})
                    for site in item["sites"]}
        return result

    def change(self, project: str, representation_id: str, site: str, body: dict[str, Any],
               reset: bool = False) -> None:
        """Create or change a site of a representation (``reset`` queues it afresh)."""
        self.http.post(self._url(project, "state", representation_id, site), json=body,
                       params={"reset": "true"} if reset else None)

    def remove(self, project: str, representation_id: str, site: str) -> None:
        self.http.delete(self._url(project, "state", representation_id, site))

    def stamp(self, project: str, items: Sequence[dict[str, Any]]) -> None:
        """Stamp many (representation, site) pairs in one call."""
        self.http.post(self._url(project, "state", "bulk"), json={"items": list(items)})

    def params(self, project: str) -> dict[str, Any]:
        return cast("dict[str, Any]", self.http.get(self._url(project, "params")))

    def user_sites(self, project: str) -> list[str]:
        """Local site ids that have site-scope settings in the project."""
        return cast("list[str]", self.http.get(self._url(project, "get_user_sites")))

    @overload
    def summary(self, project: None = None) -> list[ProjectSummary]: ...

    @overload
    def summary(self, project: str) -> ProjectSummary: ...

    def summary(self, project: str | None = None) -> list[ProjectSummary] | ProjectSummary:
        """Representations per status and bytes queued on each site: of every project the
        key may use, or of one project."""
        if project is None:
            return cast("list[ProjectSummary]", self.http.get(f"/api/{self.prefix}/summary"))
        return cast(ProjectSummary, self.http.get(self._url(project, "summary")))

    def failures(self, project: str, site: str | None = None) -> list[FailureGroup]:
        """FAILED files grouped by (site, message), most files first."""
        params = {"site": site} if site is not None else None
        return cast("list[FailureGroup]", self.http.get(self._url(project, "failures"),
                                                        params=params))

    def retry_failures(self, project: str, message: str, site: str) -> int:
        """Queue again every FAILED file of ``site`` with ``message``; how many were."""
        answer = self.http.post(self._url(project, "failures", "retry"),
                                json={"message": message, "site": site})
        return int(answer["requeued"])
