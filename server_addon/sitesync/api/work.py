"""The work queue: claim files to move, report what happened, wake the services."""
from __future__ import annotations

from fastapi import APIRouter, Response

from server_addon.api.routing import TransactionRoute
from server_addon.api.deps import DbDep, PrincipalDep, ProjectDep
from server_addon.sitesync import events, queue
from server_addon.sitesync.config import retry_count
from server_addon.sitesync.schemas import (ClaimRequest, ReleaseRequest, ReleaseResult,
                                           ReportRequest, ReportResult, WorkItem)

router = APIRouter(tags=["sitesync work queue"], route_class=TransactionRoute)


@router.post("/{project}/work/claim", response_model=list[WorkItem])
def claim_work(project: ProjectDep, principal: PrincipalDep, db: DbDep,
               body: ClaimRequest) -> list[dict]:
    """Lease files to move between ``localSite`` and ``remoteSite``, most urgent first.

    Downloads go to the local site, uploads to the remote one. A lease that is not renewed by a
    progress report within ``leaseSeconds`` returns the file to the queue.
    """
    with db.write() as conn:
        return queue.claim(conn, project_id=project.id, local_site=body.local_site,
                           remote_site=body.remote_site,
                           holder=queue.lease_holder(principal.key_id, body.worker_id),
                           limit=body.limit, lease_seconds=body.lease_seconds,
                           claim_id=body.claim_id)


@router.post("/{project}/work/report", response_model=list[ReportResult])
def report_work(project: ProjectDep, principal: PrincipalDep, db: DbDep,
                body: ReportRequest) -> list[dict]:
    """Progress, done, error or release for claimed files; one result per report, in order.
    Only the worker that holds a file's lease, with the key it claimed with, may report it."""
    reports = [queue.Report(representation_id=r.representation_id, file_id=r.file_id,
                            site=r.site, outcome=r.outcome, progress=r.progress, size=r.size,
                            error=r.error, retry_after=r.retry_after) for r in body.reports]
    with db.write() as conn:
        reported = queue.report(conn, project_id=project.id,
                                holder=queue.lease_holder(principal.key_id, body.worker_id),
                                reports=reports, retry_cnt=retry_count(conn, project.name),
                                lease_seconds=body.lease_seconds)
        if any(r.outcome in ("error", "release") for r in reports):
            events.publish(conn, kind="new_work", project=project.name)
        # One event per call (split only when huge), so a dashboard moves with every report.
        events.publish_items(conn, kind="progress", project=project.name,
                             items=reported.moved)
    return reported.results


@router.post("/{project}/work/release", response_model=ReleaseResult)
def release_work(project: ProjectDep, principal: PrincipalDep, db: DbDep,
                 body: ReleaseRequest) -> dict:
    """Return every file leased to ``workerId`` (claimed with this key) to the queue, e.g.
    when its service died; with ``claimId``, only the files of that claim."""
    with db.write() as conn:
        released = queue.release_worker(
            conn, project_id=project.id,
            holder=queue.lease_holder(principal.key_id, body.worker_id),
            claim_id=body.claim_id)
        if released:
            events.publish(conn, kind="new_work", project=project.name)
    return {"released": released}


@router.post("/{project}/reset_timer", status_code=204)
def reset_timer(project: ProjectDep, db: DbDep) -> Response:
    """Wake every sync service of the project now instead of at its next loop."""
    with db.write() as conn:
        events.publish(conn, kind="reset_timer", project=project.name)
    return Response(status_code=204)
