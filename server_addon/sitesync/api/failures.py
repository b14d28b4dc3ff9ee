"""FAILED files of a project grouped by site and message, and retrying a group."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server_addon.api.deps import DbDep, ProjectDep
from server_addon.sitesync import events, failures
from server_addon.sitesync.schemas import FailureGroup, RetryFailures, RetryResult, SiteName
from server_addon.api.routing import TransactionRoute

router = APIRouter(tags=["sitesync failures"], route_class=TransactionRoute)


@router.get("/{project}/failures", response_model=list[FailureGroup])
def get_failures(project: ProjectDep, db: DbDep, site: Annotated[SiteName | None, Query()] = None,
                 limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[dict]:
    """FAILED files grouped by (site, message), most files first (at most ``limit`` groups)."""
    with db.read() as conn:
        return failures.failure_groups(conn, project_id=project.id, site=site, limit=limit)


@router.post("/{project}/failures/retry", response_model=RetryResult)
def retry_failures(project: ProjectDep, db: DbDep, body: RetryFailures) -> dict:
    """Queue again every FAILED file of ``site`` with ``message`` (retries start over)."""
    with db.write() as conn:
        requeued = failures.retry_failed(conn, project_id=project.id, site=body.site,
                                         message=body.message)
        if requeued:
            events.publish(conn, kind="reset", project=project.name)
    return {"requeued": requeued}
