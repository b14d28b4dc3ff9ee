"""The sync-state store: per (representation, site) a priority and per-file states.

Every write locks the (representation, site) row first, so concurrent writers of different
files of one representation serialise there and never lose each other's update, and the
aggregated status on that row always matches its files.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (ColumnElement, Connection, and_, bindparam, delete, or_, select,
                        update)

from server_addon import catalog
from server_addon.db.engine import upsert_insert
from server_addon.db.tables import files, projects
from server_addon.errors import not_found
from server_addon.sitesync import events
from server_addon.sitesync.tables import file_states, site_states
from sitesync_addon.status import SiteSyncStatus, aggregate_status, effective_status

DEFAULT_PRIORITY = 50
STALE_PROGRESS_LEASE = 300.0  # seconds an unleased IN_PROGRESS file waits before it is requeued
_CHUNK = 500


@dataclass
class FileUpdate:
    """One file's change; ``None`` leaves a field as it is."""

    file_id: uuid.UUID
    status: int | None = None
    progress: float | None = None
    size: int | None = None
    error: str | None = None
    retry_after: float = 0.0
    paused: bool | None = None


@dataclass
class SiteChange:
    """What to do to one (representation, site)."""

    representation_id: uuid.UUID
    site: str
    status: int | None = None  # for every file of the representation
    reset: bool = False
    priority: int | None = None
    paused: bool | None = None
    files: list[FileUpdate] = field(default_factory=list)


@dataclass
class _Aggregate:
    """The stored status of one (representation, site) and its files' as they are now."""

    project_id: uuid.UUID
    stored: int
    statuses: list[int] = field(default_factory=list)
    progress: list[float] = field(default_factory=list)

    def mean_progress(self, status: int) -> float:
        if status == SiteSyncStatus.OK:
            return 1.0
        return sum(self.progress) / len(self.progress) if self.progress else 0.0


@dataclass(frozen=True)
class StateChange:
    """A representation's aggregated status on a site, as it is now."""

    project_id: uuid.UUID
    representation_id: uuid.UUID
    site: str
    status: int
    progress: float


def _chunks(items: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _pairs_in(table: Any, keys: Iterable[tuple[uuid.UUID, str]]) -> ColumnElement[bool]:
    """``(representation_id, site) IN keys``, spelled per site as ``representation_id IN``.

    Both backends turn a list of row values into one index probe per pair at best (PostgreSQL
    plans it as a long OR); a plain IN list per site is a single index scan.
    """
    by_site: dict[str, list[uuid.UUID]] = {}
    for rep_id, site in keys:
        by_site.setdefault(site, []).append(rep_id)
    return or_(*(and_(table.c.site == site, table.c.representation_id.in_(rep_ids))
                 for site, rep_ids in by_site.items()))


def file_values(status: int, size: int, now: float) -> dict:
    """Column values of a file freshly set to ``status`` (OK: all bytes there)."""
    done = status == SiteSyncStatus.OK
    return {"status": status, "size": size if done else 0, "progress": 1.0 if done else 0.0,
            "retries": 0, "message": None, "queued_at": now, "available_at": 0.0,
            "updated_at": now, "lease_owner": None, "lease_expires_at": None}


# -- writing ---------------------------------------------------------------------------------

def apply_changes(conn: Connection, *, project_id: uuid.UUID, changes: Sequence[SiteChange],
                  retry_cnt: int, now: float | None = None) -> None:
    """Create, reset and update site states in one transaction (the bulk path)."""
    now = now or time.time()
    rep_ids = list({change.representation_id for change in changes})
    catalog.require_representations(conn, project_id=project_id, representation_ids=rep_ids)
    file_map = catalog.files_of(conn, representation_ids=rep_ids)
    keys = [(c.representation_id, c.site) for c in changes]
    existing = lock_site_states(conn, keys)

    new_changes = [c for c in changes if (c.representation_id, c.site) not in existing]
    new_sites = [{"representation_id": c.representation_id, "site": c.site,
                  "project_id": project_id, "priority": c.priority or DEFAULT_PRIORITY,
                  "status": _new_site_status(c, file_map), "paused": bool(c.paused),
                  "created_at": now, "updated_at": now} for c in new_changes]
    _insert_rows(conn, upsert_insert(conn, site_states).on_conflict_do_nothing(), new_sites)
    # A new site stamped whole is not refreshed below: its first status is a change too.
    publish_state_changes(conn, [
        StateChange(project_id, row["representation_id"], row["site"], row["status"],
                    1.0 if row["status"] == SiteSyncStatus.OK else 0.0)
        for row, change in zip(new_sites, new_changes, strict=True)
        if not change.files and row["status"] != SiteSyncStatus.NA])

    _write_whole_site_files(conn, project_id, changes, existing, file_map, now)
    for change in changes:
        if change.files:
            _update_files(conn, change, {f["id"]: f for f in
                                         file_map.get(change.representation_id, [])},
                          retry_cnt, now)
        _set_site_flags(conn, change, now)
    # A new site stamped whole has its aggregate already; every other one is recomputed.
    refresh_aggregates(conn, [key for key, change in zip(keys, changes, strict=True)
                              if key in existing or change.files], now)


def _new_site_status(change: SiteChange, file_map: dict[uuid.UUID, list[dict]]) -> int:
    if change.files or not file_map.get(change.representation_id):
        return SiteSyncStatus.NA  # recomputed from its files below
    status = change.status if change.status is not None else (
        SiteSyncStatus.QUEUED if change.reset else SiteSyncStatus.NA)
    return int(effective_status(status, bool(change.paused)))


def _insert_rows(conn: Connection, statement: Any, rows: list[dict]) -> None:
    for chunk in _chunks(rows, 2000):
        conn.execute(statement, list(chunk))


def lock_site_states(conn: Connection, keys: Sequence[tuple[uuid.UUID, str]]) -> set:
    """Lock the existing rows of ``keys`` (PostgreSQL; SQLite holds the write lock already);
    the keys of those that exist."""
    found: set = set()
    for chunk in _chunks(sorted(set(keys), key=lambda k: (str(k[0]), k[1]))):
        query = select(site_states.c.representation_id, site_states.c.site).where(
            _pairs_in(site_states, chunk))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found.update((row.representation_id, row.site) for row in conn.execute(query))
    return found


def _write_whole_site_files(conn: Connection, project_id: uuid.UUID,
                            changes: Sequence[SiteChange], existing: set,
                            file_map: dict[uuid.UUID, list[dict]], now: float) -> None:
    """Give every file of a representation a row on a site that is new, reset or restamped."""
    rows = []
    for change in changes:
        key = (change.representation_id, change.site)
        is_new = key not in existing
        if not (is_new or change.reset or change.status is not None):
            continue
        status = change.status
        if status is None:
            status = SiteSyncStatus.QUEUED if change.reset else SiteSyncStatus.NA
        for item in file_map.get(change.representation_id, []):
            rows.append({"representation_id": change.representation_id, "site": change.site,
                         "file_id": item["id"], "project_id": project_id,
                         "file_size": item["size"],
                         "priority": change.priority or DEFAULT_PRIORITY,
                         "paused": bool(change.paused),
                         **file_values(status, item["size"], now)})
    if not rows:
        return
    statement = upsert_insert(conn, file_states)
    refreshed = {name: statement.excluded[name] for name in
                 ("status", "size", "file_size", "progress", "retries", "message",
                  "queued_at", "available_at", "updated_at", "lease_owner", "lease_expires_at")}
    _insert_rows(conn, statement.on_conflict_do_update(
        index_elements=["representation_id", "site", "file_id"], set_=refreshed), rows)


def _update_files(conn: Connection, change: SiteChange, known: dict[uuid.UUID, dict],
                  retry_cnt: int, now: float) -> None:
    unknown = [str(u.file_id) for u in change.files if u.file_id not in known]
    if unknown:
        raise not_found("File(s)", ", ".join(unknown[:5]),
                        f"in representation {change.representation_id}.")
    where = and_(file_states.c.representation_id == change.representation_id,
                 file_states.c.site == change.site)
    current = {row.file_id: row for row in conn.execute(select(file_states).where(where))}
    changed = []
    for upd in change.files:
        row = current.get(upd.file_id)
        if row is None:  # the site exists but never had this file: start it out NA
            conn.execute(upsert_insert(conn, file_states).values(
                representation_id=change.representation_id, site=change.site,
                file_id=upd.file_id, project_id=_project_of(conn, change),
                file_size=known[upd.file_id]["size"],
                priority=_priority_of(conn, change), paused=False,
                **file_values(SiteSyncStatus.NA, known[upd.file_id]["size"], now)))
            row = conn.execute(select(file_states).where(
                where, file_states.c.file_id == upd.file_id)).one()
        values = file_update_values(row, upd, known[upd.file_id]["size"], retry_cnt, now)
        if values:
            changed.append(((change.representation_id, change.site, upd.file_id), values))
    update_file_states(conn, changed)


def update_file_states(conn: Connection,
                       changes: Iterable[tuple[tuple[uuid.UUID, str, uuid.UUID], dict]]) -> None:
    """Set column values of file states by key, one executemany per set of columns changed,
    so a batch of reports compiles one statement instead of one per file."""
    by_columns: dict[tuple[str, ...], list[dict]] = {}
    for (rep_id, site, file_id), values in dict(changes).items():  # a later change wins
        columns = tuple(sorted(values))
        by_columns.setdefault(columns, []).append(
            {"k_rep": rep_id, "k_site": site, "k_file": file_id,
             **{f"v_{name}": value for name, value in values.items()}})
    for columns, params in by_columns.items():
        conn.execute(update(file_states).where(
            file_states.c.representation_id == bindparam("k_rep"),
            file_states.c.site == bindparam("k_site"),
            file_states.c.file_id == bindparam("k_file"))
            .values({name: bindparam(f"v_{name}") for name in columns}), params)


def file_update_values(row: Any, upd: FileUpdate, full_size: int, retry_cnt: int,
                       now: float) -> dict:
    """The new column values for one file from its current row and an update."""
    values: dict[str, Any] = {}
    if upd.status is not None:
        values.update(file_values(upd.status, full_size, now))
    if upd.progress is not None:
        values.update(status=SiteSyncStatus.IN_PROGRESS, progress=upd.progress, updated_at=now,
                      size=upd.size if upd.size is not None else int(full_size * upd.progress))
        if row.lease_expires_at is None:
            values["lease_expires_at"] = now + STALE_PROGRESS_LEASE
    elif upd.size is not None:
        values["size"] = upd.size
    if upd.error is not None:
        retries = row.retries + 1
        failed = retries >= retry_cnt
        values.update(retries=retries, message=upd.error[:4000], updated_at=now,
                      status=SiteSyncStatus.FAILED if failed else SiteSyncStatus.QUEUED,
                      progress=0.0, size=0, lease_owner=None, lease_expires_at=None,
                      available_at=now + max(0.0, upd.retry_after))
    if upd.paused is not None:
        values.update(paused=upd.paused, updated_at=now)
    return values


def _project_of(conn: Connection, change: SiteChange) -> uuid.UUID:
    return conn.execute(select(site_states.c.project_id).where(
        site_states.c.representation_id == change.representation_id,
        site_states.c.site == change.site)).scalar_one()


def _priority_of(conn: Connection, change: SiteChange) -> int:
    return conn.execute(select(site_states.c.priority).where(
        site_states.c.representation_id == change.representation_id,
        site_states.c.site == change.site)).scalar_one()


def _set_site_flags(conn: Connection, change: SiteChange, now: float) -> None:
    if change.priority is None and change.paused is None:
        return
    site_where = and_(site_states.c.representation_id == change.representation_id,
                      site_states.c.site == change.site)
    file_where = and_(file_states.c.representation_id == change.representation_id,
                      file_states.c.site == change.site)
    if change.priority is not None:
        conn.execute(update(site_states).where(site_where).values(priority=change.priority))
        conn.execute(update(file_states).where(file_where).values(priority=change.priority))
    if change.paused is not None:
        conn.execute(update(site_states).where(site_where).values(paused=change.paused))
        conn.execute(update(file_states).where(file_where).values(paused=change.paused,
                                                                  updated_at=now))


def refresh_aggregates(conn: Connection, keys: Iterable[tuple[uuid.UUID, str]],
                       now: float) -> None:
    """Recompute the aggregated status of (representation, site) rows from their files, and
    publish a ``state`` event for every row whose status changed."""
    keys = list(set(keys))
    # Lock the rows before reading their files: under READ COMMITTED two writers (two sync
    # services finishing the last files) would each miss the other's uncommitted files and
    # both store a stale status. Locked first, the second reads what the first committed.
    lock_site_states(conn, keys)
    found: dict[tuple, _Aggregate] = {}
    for chunk in _chunks(keys):
        # The stored status comes with the files, so a change is seen without another query.
        query = select(site_states.c.representation_id, site_states.c.site,
                       site_states.c.project_id, site_states.c.status.label("stored"),
                       file_states.c.status, file_states.c.paused, file_states.c.progress
                       ).select_from(site_states.outerjoin(file_states, and_(
                           file_states.c.representation_id == site_states.c.representation_id,
                           file_states.c.site == site_states.c.site))
                       ).where(_pairs_in(site_states, chunk))
        for row in conn.execute(query):
            key = (row.representation_id, row.site)
            agg = found.get(key)
            if agg is None:
                agg = found[key] = _Aggregate(row.project_id, row.stored)
            if row.status is not None:
                agg.statuses.append(effective_status(row.status, row.paused))
                agg.progress.append(row.progress)
    # One UPDATE per resulting status and batch, not one per row: a stamp is mostly alike.
    by_status: dict[int, list[tuple[uuid.UUID, str]]] = {}
    changed: list[StateChange] = []
    for key, agg in found.items():
        status = int(aggregate_status(agg.statuses))
        by_status.setdefault(status, []).append(key)
        if status != agg.stored:
            changed.append(StateChange(agg.project_id, key[0], key[1], status,
                                       agg.mean_progress(status)))
    for status, group in by_status.items():
        for chunk in _chunks(group):
            conn.execute(update(site_states).where(_pairs_in(site_states, chunk))
                         .values(status=status, updated_at=now))
    publish_state_changes(conn, changed)


def publish_state_changes(conn: Connection, changes: Sequence[StateChange]) -> None:
    """One ``state`` event per project (batched), naming each changed (representation, site)."""
    if not changes:
        return
    by_project: dict[uuid.UUID, list[dict]] = {}
    for change in changes:
        by_project.setdefault(change.project_id, []).append({
            "representationId": str(change.representation_id), "site": change.site,
            "status": change.status, "progress": change.progress})
    names = {row.id: row.name for row in conn.execute(
        select(projects.c.id, projects.c.name).where(projects.c.id.in_(list(by_project))))}
    for project_id, items in by_project.items():
        if project_id in names:
            events.publish_items(conn, kind="state", project=names[project_id], items=items)


def delete_site_state(conn: Connection, *, project_id: uuid.UUID, representation_id: uuid.UUID,
                      site: str) -> None:
    result = conn.execute(delete(site_states).where(
        site_states.c.project_id == project_id,
        site_states.c.representation_id == representation_id, site_states.c.site == site))
    if result.rowcount == 0:
        raise not_found("Sync state", f"of representation {representation_id} on site "
                                      f"'{site}'")
    # The site no longer holds the representation at all: NA, as the listing shows it.
    publish_state_changes(conn, [StateChange(project_id, representation_id, site,
                                             int(SiteSyncStatus.NA), 0.0)])


# -- reading ---------------------------------------------------------------------------------

def site_states_of(conn: Connection, *, project_id: uuid.UUID,
                   representation_ids: Sequence[uuid.UUID],
                   sites: Sequence[str] | None = None) -> dict[uuid.UUID, list[dict]]:
    """``{representation id: [site state with its files]}`` for the given sites (or all)."""
    where = [site_states.c.project_id == project_id,
             site_states.c.representation_id.in_(list(representation_ids))]
    file_where = [file_states.c.representation_id.in_(list(representation_ids))]
    if sites is not None:
        where.append(site_states.c.site.in_(list(sites)))
        file_where.append(file_states.c.site.in_(list(sites)))
    file_rows: dict[tuple, list[dict]] = {}
    for row in conn.execute(select(file_states).where(*file_where)).mappings():
        file_rows.setdefault((row["representation_id"], row["site"]), []).append(dict(row))
    result: dict[uuid.UUID, list[dict]] = {}
    for row in conn.execute(select(site_states).where(*where).order_by(
            site_states.c.site)).mappings():
        state = dict(row)
        state["files"] = file_rows.get((row["representation_id"], row["site"]), [])
        result.setdefault(row["representation_id"], []).append(state)
    return result


def full_sizes(conn: Connection, representation_ids: Sequence[uuid.UUID]) -> dict:
    query = select(files.c.representation_id, files.c.id, files.c.size).where(
        files.c.representation_id.in_(list(representation_ids)))
    return {(row.representation_id, row.id): row.size for row in conn.execute(query)}


def require_site_state(conn: Connection, *, project_id: uuid.UUID,
                       representation_id: uuid.UUID, site: str) -> None:
    found = conn.execute(select(site_states.c.site).where(
        site_states.c.project_id == project_id,
        site_states.c.representation_id == representation_id,
        site_states.c.site == site)).first()
    if found is None:
        raise not_found("Sync state", f"of representation {representation_id} on site "
                                      f"'{site}'", "Add the site first.")
