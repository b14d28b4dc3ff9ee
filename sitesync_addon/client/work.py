"""The work queue: claim files under a lease, report outcomes, release what is held."""
from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sitesync_addon.client.http import Http
from sitesync_addon.client.types import Report, ReportResult, WorkItem


class Work:
    def __init__(self, http: Http, prefix: str) -> None:
        self.http = http
        self.base = f"/api/{prefix}"

    def claim(self, project: str, local_site: str, remote_site: str, worker_id: str,
              limit: int, lease_seconds: float, claim_id: str | None = None
              ) -> list[WorkItem]:
        """Lease up to ``limit`` files; ``claim_id`` names the call, so that files it leased
        can be released (``release(..., claim_id=...)``) if its answer is lost."""
        return cast("list[WorkItem]", self.http.post(f"{self.base}/{project}/work/claim", json={
            "localSite": local_site, "remoteSite": remote_site, "workerId": worker_id,
            "limit": limit, "leaseSeconds": lease_seconds, "claimId": claim_id}))

    def report(self, project: str, worker_id: str, lease_seconds: float,
               reports: Sequence[Report]) -> list[ReportResult]:
        """Send outcomes and progress; one answer per report, in order.

        Sending the same reports twice is harmless (a file already done is not redone), so
        the caller may repeat a report the server did not answer."""
        return cast("list[ReportResult]", self.http.post(
            f"{self.base}/{project}/work/report", json={
                "workerId": worker_id, "leaseSeconds": lease_seconds,
                "reports": list(reports)}))

    def release(self, project: str, worker_id: str, claim_id: str | None = None) -> int:
        """Give back every lease ``worker_id`` holds in the project, or only those of the
        claim ``claim_id``."""
        answer = self.http.post(f"{self.base}/{project}/work/release",
                                json={"workerId": worker_id, "claimId": claim_id})
        return int(answer["released"])

    def reset_timer(self, project: str) -> None:
        """Wake every sync service of the project."""
        self.http.post(f"{self.base}/{project}/reset_timer")
