"""The work queue: claims hand out files under a lease; reports record what happened.

A file can be claimed for a site pair when its target side is QUEUED (or IN_PROGRESS with an
expired lease), not paused, past its retry backoff, and its source side is OK. PostgreSQL
claims with ``FOR UPDATE SKIP LOCKED`` so concurrent claimers never wait on or share a file;
SQLite serialises writers, which gives the same guarantee.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (Connection, and_, bindparam, false, literal_column, or_, select,
                        tuple_, update)
from sqlalchemy.orm import aliased

from server_addon.db.tables import files
from server_addon.sitesync import pauses
from server_addon.sitesync.state import (FileUpdate, file_update_values, file_values,
                                         refresh_aggregates, update_file_states)
from server_addon.sitesync.tables import file_states
from sitesync_addon.status import SiteSyncStatus


@dataclass(frozen=True)
class Report:
    representation_id: uuid.UUID
    file_id: uuid.UUID
    site: str
    outcome: Literal["progress", "done", "error", "release"]
    progress: float | None = None
    size: int | None = None
    error: str | None = None
    retry_after: float = 0.0


def lease_holder(key_id: uuid.UUID, worker_id: str) -> str:
    """Who holds a lease: the worker and the API key it claimed with, so another key can
    neither report for nor release it by sending the same worker id."""
    return f"{key_id}/{worker_id}"


def _candidates(conn: Connection, *, project_id: uuid.UUID, target: str, source: str,
                limit: int, now: float) -> list:
    target_row = file_states
    source_row = aliased(file_states)
    # A per-row lookup rather than a join: the planner misjudges the self-join on two columns
    # and would sort every queued file instead of walking the queue index and stopping early.
    source_status = select(source_row.c.status).where(
        source_row.c.representation_id == target_row.c.representation_id,
        source_row.c.site == source, source_row.c.file_id == target_row.c.file_id
    ).scalar_subquery()
    query = (
        select(target_row.c.representation_id, target_row.c.file_id, target_row.c.priority,
               target_row.c.queued_at, target_row.c.retries, files.c.path, files.c.size,
               files.c.hash)
        .join(files, and_(files.c.representation_id == target_row.c.representation_id,
                          files.c.id == target_row.c.file_id))
        .where(target_row.c.project_id == project_id, target_row.c.site == target,
               # Spelled as the queue index's partial predicate (literals, ``paused = false``)
               # so both backends use that index.
               target_row.c.status.in_([literal_column(str(int(SiteSyncStatus.IN_PROGRESS))),
                                        literal_column(str(int(SiteSyncStatus.QUEUED)))]),
               target_row.c.paused == false(),
               or_(target_row.c.lease_expires_at.is_(None),
                   target_row.c.lease_expires_at < now),
               target_row.c.available_at <= now,
               source_status == SiteSyncStatus.OK)
        .order_by(target_row.c.priority.desc(), target_row.c.queued_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=target_row, skip_locked=True)
    return list(conn.execute(query))


def claim(conn: Connection, *, project_id: uuid.UUID, local_site: str, remote_site: str,
          holder: str, limit: int, lease_seconds: float,
          claim_id: str | None = None) -> list[dict]:
    """Lease up to ``limit`` files to ``holder`` (see ``lease_holder``), most urgent first;
    ``claim_id`` names this call, for ``release_worker``."""
    if local_site == remote_site:
        return []
    if pauses.is_server_paused(conn) or pauses.is_project_paused(conn, project_id=project_id):
        return []
    now = time.time()
    found = []
    for target, source, direction in ((local_site, remote_site, "download"),
                                      (remote_site, local_site, "upload")):
        for row in _candidates(conn, project_id=project_id, target=target, source=source,
                               limit=limit, now=now):
            found.append((row, target, source, direction))
    found.sort(key=lambda item: (-item[0].priority, item[0].queued_at))
    found = found[:limit]
    if not found:
        return []
    expires = now + lease_seconds
    # One primary-key update per file: SQLite scans the table for a list of row values.
    conn.execute(update(file_states).where(
        file_states.c.representation_id == bindparam("rid"),
        file_states.c.site == bindparam("target"), file_states.c.file_id == bindparam("fid"))
        .values(status=SiteSyncStatus.IN_PROGRESS, lease_owner=holder,
                lease_expires_at=expires, lease_claim=claim_id, updated_at=now),
        [{"rid": row.representation_id, "target": target, "fid": row.file_id}
         for row, target, _, _ in found])
    refresh_aggregates(conn, {(item[0].representation_id, item[1]) for item in found}, now)
    return [{"representation_id": row.representation_id, "file_id": row.file_id,
             "path": row.path, "size": row.size, "hash": row.hash, "source_site": source,
             "target_site": target, "direction": direction, "priority": row.priority,
             "retries": row.retries, "lease_expires_at": expires}
            for row, target, source, direction in found]


@dataclass
class Reported:
    """One answer per report, and what the accepted ones did (for the ``progress`` event)."""

    results: list[dict]
    moved: list[dict]


def report(conn: Connection, *, project_id: uuid.UUID, holder: str,
           reports: list[Report], retry_cnt: int, lease_seconds: float) -> Reported:
    """Record progress, success, failure or release of claimed files; one result per report.

    Only the current lease holder (worker and key) may report: a worker whose lease expired
    and whose file went to another worker gets ``accepted: false`` and must drop its copy.
    """
    now = time.time()
    keys = {(r.representation_id, r.site, r.file_id) for r in reports}
    rows = {}
    if keys:
        query = select(file_states, files.c.size.label("full_size")).join(files, and_(
            files.c.representation_id == file_states.c.representation_id,
            files.c.id == file_states.c.file_id)).where(
            file_states.c.project_id == project_id,
            tuple_(file_states.c.representation_id, file_states.c.site,
                   file_states.c.file_id).in_(list(keys)))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(of=file_states)
        rows = {(r.representation_id, r.site, r.file_id): r for r in conn.execute(query)}
    stop_all = pauses.is_server_paused(conn) or pauses.is_project_paused(conn,
                                                                        project_id=project_id)
    results, touched, changes, moved = [], set(), [], []
    for item in reports:
        key = (item.representation_id, item.site, item.file_id)
        row = rows.get(key)
        if row is None:
            results.append({"accepted": False, "detail": "No such file state."})
            continue
        if row.lease_owner != holder:
            results.append({"accepted": False,
                            "detail": "The lease is not yours (it expired or was reset)."})
            continue
        values = _report_values(row, item, retry_cnt, lease_seconds, now)
        changes.append((key, values))
        touched.add((item.representation_id, item.site))
        moved.append(_moved_item(row, values, now))
        # A paused file keeps its lease until the worker stops it and releases it.
        results.append({"accepted": True, "detail": None,
                        "status": values.get("status", row.status),
                        "paused": stop_all or row.paused})
    update_file_states(conn, changes)
    refresh_aggregates(conn, touched, now)
    return Reported(results, moved)


def _moved_item(row: Any, values: dict, now: float) -> dict:
    """A file as the ``progress`` event shows it; the speed from its previous progress row."""
    size = values.get("size", row.size)
    status = values.get("status", row.status)
    elapsed = now - row.updated_at
    grown = size - row.size
    speed = (grown / elapsed if row.status == SiteSyncStatus.IN_PROGRESS and grown > 0
             and elapsed > 0 and status in (SiteSyncStatus.IN_PROGRESS, SiteSyncStatus.OK)
             else 0.0)
    return {"representationId": str(row.representation_id), "site": row.site,
            "fileId": str(row.file_id), "status": int(status),
            "progress": values.get("progress", row.progress), "size": size,
            "bytesPerSecond": speed}


def release_worker(conn: Connection, *, project_id: uuid.UUID, holder: str,
                   claim_id: str | None = None) -> int:
    """Return every file ``holder`` holds to the queue (its service died or stopped), or
    only those of the claim ``claim_id`` (its answer never reached the worker)."""
    mine = [file_states.c.project_id == project_id, file_states.c.lease_owner == holder]
    if claim_id is not None:
        mine.append(file_states.c.lease_claim == claim_id)
    held = [(row.representation_id, row.site) for row in conn.execute(
        select(file_states.c.representation_id, file_states.c.site).where(*mine))]
    if not held:
        return 0
    now = time.time()
    conn.execute(update(file_states).where(*mine)
                 .values(status=SiteSyncStatus.QUEUED, lease_owner=None,
                         lease_expires_at=None, lease_claim=None, updated_at=now))
    refresh_aggregates(conn, set(held), now)
    return len(held)


def _report_values(row, item: Report, retry_cnt: int, lease_seconds: float,
                   now: float) -> dict:
    if item.outcome == "done":
        return file_values(SiteSyncStatus.OK, row.full_size, now)
    if item.outcome == "release":
        # The worker deleted its partial copy: nothing of the file is on the target. A release
        # costs no retry; its message says why the file waits (a site that is down).
        values = {"status": SiteSyncStatus.QUEUED, "lease_owner": None,
                  "lease_expires_at": None, "progress": 0.0, "size": 0, "updated_at": now,
                  "available_at": now + max(0.0, item.retry_after)}
        if item.error is not None:
            values["message"] = item.error[:4000]
        return values
    if item.outcome == "error":
        update_ = FileUpdate(item.file_id, error=item.error or "transfer failed",
                             retry_after=item.retry_after)
        return file_update_values(row, update_, row.full_size, retry_cnt, now)
    progress = min(max(item.progress or 0.0, 0.0), 1.0)
    size = item.size if item.size is not None else int(row.full_size * progress)
    return {"status": SiteSyncStatus.IN_PROGRESS, "progress": progress, "size": size,
            "updated_at": now, "lease_expires_at": now + lease_seconds}
