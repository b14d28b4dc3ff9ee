"""The filtered, sorted, paged state listing of a project for a site pair."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    and_,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from server_addon.db.tables import files, folders, products, representations, versions
from server_addon.sitesync.state import DEFAULT_PRIORITY, site_states_of
from server_addon.sitesync.tables import site_states
from sitesync_addon.status import SiteSyncStatus, effective_status

SortKey = Literal["folder", "product", "version", "representation", "localStatus",
                  "remoteStatus", "priority", "updatedAt"]
_NA = int(SiteSyncStatus.NA)
# Counting every match costs as much as reading them all; count this many past a page's start.
COUNT_CAP = 10_000


@dataclass
class StateFilter:
    local_site: str
    remote_site: str
    representation_ids: Sequence[uuid.UUID] | None = None
    repre_names: Sequence[str] | None = None
    folder: str | None = None
    product: str | None = None
    version: int | None = None
    version_ids: Sequence[uuid.UUID] | None = None
    local_statuses: Sequence[int] | None = None
    remote_statuses: Sequence[int] | None = None
    both_only: bool = False
    sort_by: SortKey = "priority"
    sort_desc: bool = True
    page: int = 1
    page_length: int = 50


class _Side:
    """One site's state row of a representation; absent (all NULL) when it has none there."""

    def __init__(self, name: str, site: str, statuses: Sequence[int] | None,
                 both_only: bool) -> None:
        self.table = aliased(site_states, name=name)
        self.site = site
        self.statuses = list(statuses or [])
        # Only rows with a state can match: join it inner, and the planner may start there.
        self.required = both_only or bool(self.statuses) and _NA not in self.statuses

    def column(self, name: str, default: Any) -> ColumnElement:
        column = self.table.c[name]
        return column if self.required else func.coalesce(column, literal(default))

    def condition(self) -> ColumnElement:
        # Written without COALESCE so an index on status serves it.
        matches = self.table.c.status.in_(self.statuses)
        return matches if _NA not in self.statuses else or_(self.table.c.site.is_(None), matches)


class _Query:
    """The filtered matches of a listing, as SQL parts to count, sort and page them."""

    def __init__(self, project_id: uuid.UUID, flt: StateFilter, local_required: bool = False
                 ) -> None:
        self.local = _Side("local_state", flt.local_site, flt.local_statuses,
                           flt.both_only or local_required)
        self.remote = _Side("remote_state", flt.remote_site, flt.remote_statuses, flt.both_only)
        local, remote = self.local, self.remote
        self.project_id = project_id
        # A required side has project_id itself, so the representations table can often be
        # left out; every other table is joined only when a filter or the sort reads it.
        self.driver = local if local.required else remote if remote.required else None
        driver = self.driver
        self.rep_id = rep_id = driver.table.c.representation_id if driver else representations.c.id
        if driver is None:
            self.conditions: list[ColumnElement] = [representations.c.project_id == project_id]
        else:
            self.conditions = [driver.table.c.project_id == project_id,
                               driver.table.c.site == driver.site]
        conditions = self.conditions
        self.needed: set[Any] = set()
        needed = self.needed
        if flt.representation_ids is not None:
            conditions.append(rep_id.in_(list(flt.representation_ids)))
        if flt.repre_names:
            conditions.append(representations.c.name.in_(list(flt.repre_names)))
            needed.add(representations)
        if flt.version_ids is not None:
            conditions.append(representations.c.version_id.in_(list(flt.version_ids)))
            needed.add(representations)
        if flt.folder:  # each representation knows its folder: no walk up the catalog
            conditions.append(representations.c.folder_id.in_(
                select(folders.c.id).where(folders.c.project_id == project_id,
                                           folders.c.path.icontains(flt.folder,
                                                                    autoescape=True))))
            needed.add(representations)
        # Product and version filters as one set of version ids, so the planner can start from
        # the few matching versions rather than test every representation's parents.
        catalog: list[ColumnElement] = []
        if flt.product:
            catalog.append(products.c.name.icontains(flt.product, autoescape=True))
        if flt.version is not None:
            catalog.append(versions.c.version == flt.version)
        if catalog:
            matching_versions = (select(versions.c.id)
                                 .join(products, products.c.id == versions.c.product_id)
                                 .where(versions.c.project_id == project_id, *catalog))
            conditions.append(representations.c.version_id.in_(matching_versions))
            needed.add(representations)
        for side in (local, remote):
            if side.statuses:
                conditions.append(side.condition())
            if side.required or side.statuses:
                needed.add(side)

        sort_by: dict[str, tuple[ColumnElement, Any]] = {
            "folder": (folders.c.path, folders), "product": (products.c.name, products),
            "version": (versions.c.version, versions),
            "representation": (representations.c.name, representations),
            "localStatus": (local.column("status", _NA), local),
            "remoteStatus": (remote.column("status", _NA), remote),
            "priority": (local.column("priority", DEFAULT_PRIORITY), local),
            "updatedAt": (func.coalesce(local.table.c.updated_at, representations.c.created_at),
                          local),
        }
        self.order, sort_table = sort_by[flt.sort_by]
        self.sort_tables = ({sort_table, representations} if flt.sort_by == "updatedAt"
                            else {sort_table})

    def matching(self, *columns: Any, with_sort: bool = True) -> Any:
        tables = self.needed | self.sort_tables if with_sort else self.needed
        return select(*columns).select_from(_joined(self, tables)).where(*self.conditions)


def list_state(conn: Connection, *, project_id: uuid.UUID, flt: StateFilter) -> dict:
    query = _Query(project_id, flt)
    offset = (flt.page - 1) * flt.page_length

    def page_of(select_: Any, key: ColumnElement, tiebreak: ColumnElement) -> Any:
        return (select_.order_by(key.desc() if flt.sort_desc else key.asc(), tiebreak)
                .limit(flt.page_length).offset(offset))

    # The cap counts from the page's start, so a client paging until `total` reaches the end.
    cap = offset + COUNT_CAP

    def capped_count() -> int:
        limited = query.matching(query.rep_id, with_sort=False).limit(cap + 1).subquery()
        return conn.execute(select(func.count()).select_from(limited)).scalar_one()

    def sorted_page() -> list[uuid.UUID]:  # sorted from every match
        return list(conn.execute(page_of(query.matching(query.rep_id), query.order,
                                         query.rep_id)).scalars())

    rep_ids = _page_ahead_of_default(conn, project_id, flt, offset, query)
    if rep_ids is not None:
        total = capped_count()
    elif flt.sort_by == "folder" and (total := capped_count()) > cap:
        # Many match: PostgreSQL walks folders in path order until the page is full, rather
        # than read cap + 1 matches with their paths first (below) and then sort them all.
        rep_ids = sorted_page()
    else:
        # One pass reads at most cap + 1 matches with their sort key: it gives the count and,
        # when that is all of them, the page too, so the filters are evaluated once.
        found = (query.matching(query.rep_id.label("id"), query.order.label("key"))
                 .limit(cap + 1).cte("found"))
        found_count = select(func.count()).select_from(found).scalar_subquery()
        rows = conn.execute(page_of(select(found.c.id, found_count), found.c.key,
                                    found.c.id)).all()
        rep_ids = [row[0] for row in rows]
        total = rows[0][1] if rows else conn.execute(select(found_count)).scalar_one()
        if total > cap:  # more match than were read: the page is sorted from all of them
            rep_ids = sorted_page()
    return {"total": min(total, cap), "totalExact": total <= cap, "page": flt.page,
            "pageLength": flt.page_length,
            "representations": _items(conn, project_id, rep_ids, flt)}


def _page_ahead_of_default(conn: Connection, project_id: uuid.UUID, flt: StateFilter,
                           offset: int, query: _Query) -> list[uuid.UUID] | None:
    """The page by priority, when it holds only local states that sort ahead of the default.

    Representations without a local state sort at the default priority, so no index returns
    all matches in order. States above it (below, ascending) can be read in index order, and
    when enough of them match they are the whole page: no need to sort every match.
    """
    if flt.sort_by != "priority" or query.local.required:
        return None
    ahead = _Query(project_id, flt, local_required=True)
    priority = ahead.local.table.c.priority
    beyond = priority > DEFAULT_PRIORITY if flt.sort_desc else priority < DEFAULT_PRIORITY
    wanted = offset + flt.page_length
    rows = list(conn.execute(
        ahead.matching(ahead.rep_id).where(beyond)
        .order_by(priority.desc() if flt.sort_desc else priority.asc(), ahead.rep_id)
        .limit(wanted)).scalars())
    return rows[offset:] if len(rows) == wanted else None


def _joined(query: _Query, tables: set[Any]) -> FromClause:
    """The driving table joined with ``tables`` and the catalog tables they hang from."""
    driver, rep_id = query.driver, query.rep_id
    # Folders by the representation's own folder_id, not up through products; with their
    # project_id, PostgreSQL can read them in path order from the (project_id, path) index.
    chain = [(representations, representations.c.id == rep_id),
             (folders, and_(folders.c.id == representations.c.folder_id,
                            folders.c.project_id == query.project_id)),
             (versions, versions.c.id == representations.c.version_id),
             (products, products.c.id == versions.c.product_id)]
    wanted = set(tables) | ({versions} if products in tables else set())
    if wanted & {folders, versions}:
        wanted.add(representations)
    base = representations if driver is None else driver.table
    source: Any = base
    for table, on in chain:
        if table in wanted and table is not base:
            source = source.join(table, on)
    for side in (query.local, query.remote):
        if side in tables and side is not driver:
            on = and_(side.table.c.representation_id == rep_id, side.table.c.site == side.site)
            source = source.join(side.table, on, isouter=not side.required)
    return source


def _items(conn: Connection, project_id: uuid.UUID, rep_ids: list[uuid.UUID],
           flt: StateFilter) -> list[dict]:
    if not rep_ids:
        return []
    from server_addon.catalog import representation_query

    reps = {row["id"]: row for row in conn.execute(
        representation_query(project_id).where(representations.c.id.in_(rep_ids))).mappings()}
    file_rows: dict[uuid.UUID, list] = {}
    for row in conn.execute(select(files).where(files.c.representation_id.in_(rep_ids))
                            .order_by(files.c.position)).mappings():
        file_rows.setdefault(row["representation_id"], []).append(row)
    states = site_states_of(conn, project_id=project_id, representation_ids=rep_ids,
                            sites=[flt.local_site, flt.remote_site])
    items = []
    for rep_id in rep_ids:
        rep, rep_files = reps[rep_id], file_rows.get(rep_id, [])
        by_site = {state["site"]: state for state in states.get(rep_id, [])}
        local, remote = by_site.get(flt.local_site), by_site.get(flt.remote_site)
        total_size = sum(f["size"] for f in rep_files)
        items.append({
            "folder": rep["folder"], "product": rep["product"], "version": rep["version"],
            "versionId": rep["version_id"], "representation": rep["name"],
            "representationId": rep_id, "fileCount": len(rep_files), "size": total_size,
            "priority": (local or remote or {}).get("priority", DEFAULT_PRIORITY),
            "localStatus": side_summary(local, total_size),
            "remoteStatus": side_summary(remote, total_size),
            "files": [_file_item(f, local, remote) for f in rep_files],
        })
    return items


def side_summary(state: dict | None, total_size: int) -> dict:
    """``{status, size, totalSize, progress, timestamp, message, retries, paused}`` of a side."""
    if state is None:
        return {"status": int(SiteSyncStatus.NA), "size": 0, "totalSize": total_size,
                "progress": 0.0, "timestamp": None, "message": None, "retries": 0,
                "paused": False}
    file_list = state["files"]
    messages = [f["message"] for f in file_list if f["message"]]
    return {"status": state["status"], "size": sum(f["size"] for f in file_list),
            "totalSize": total_size,
            "progress": (sum(f["progress"] for f in file_list) / len(file_list)
                         if file_list else 0.0),
            "timestamp": state["updated_at"], "message": messages[0] if messages else None,
            "retries": max((f["retries"] for f in file_list), default=0),
            "paused": state["paused"]}


def file_summary(row: dict | None, file_size: int) -> dict:
    if row is None:
        return {"status": int(SiteSyncStatus.NA), "size": 0, "totalSize": file_size,
                "progress": 0.0, "timestamp": None, "message": None, "retries": 0,
                "paused": False}
    return {"status": int(effective_status(row["status"], row["paused"])), "size": row["size"],
            "totalSize": file_size, "progress": row["progress"],
            "timestamp": row["updated_at"], "message": row["message"],
            "retries": row["retries"], "paused": row["paused"]}


def _file_item(file_row, local: dict | None, remote: dict | None) -> dict:
    def on(state: dict | None) -> dict | None:
        if state is None:
            return None
        return next((f for f in state["files"] if f["file_id"] == file_row["id"]), None)

    return {"id": file_row["id"], "path": file_row["path"], "size": file_row["size"],
            "hash": file_row["hash"], "localStatus": file_summary(on(local), file_row["size"]),
            "remoteStatus": file_summary(on(remote), file_row["size"])}
