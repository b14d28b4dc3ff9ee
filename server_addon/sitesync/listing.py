"""The filtered, sorted, paged state listing of a project for a site pair."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Connection, and_, func, literal, select
from sqlalchemy.orm import aliased

from server_addon.db.tables import files, folders, products, representations, versions
from server_addon.sitesync.state import DEFAULT_PRIORITY, site_states_of
from server_addon.sitesync.tables import site_states
from sitesync_addon.status import SiteSyncStatus, effective_status

SortKey = Literal["folder", "product", "version", "representation", "localStatus",
                  "remoteStatus", "priority", "updatedAt"]


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
    extra: dict = field(default_factory=dict)


def _status_column(side):  # type: ignore[no-untyped-def]
    return func.coalesce(side.c.status, literal(int(SiteSyncStatus.NA)))


def list_state(conn: Connection, *, project_id: uuid.UUID, flt: StateFilter) -> dict:
    local = aliased(site_states, name="local_state")
    remote = aliased(site_states, name="remote_state")
    base = (
        select(representations.c.id)
        .join(versions, versions.c.id == representations.c.version_id)
        .join(products, products.c.id == versions.c.product_id)
        .join(folders, folders.c.id == products.c.folder_id)
        .outerjoin(local, and_(local.c.representation_id == representations.c.id,
                               local.c.site == flt.local_site))
        .outerjoin(remote, and_(remote.c.representation_id == representations.c.id,
                                remote.c.site == flt.remote_site))
        .where(representations.c.project_id == project_id)
    )
    conditions = []
    if flt.representation_ids is not None:
        conditions.append(representations.c.id.in_(list(flt.representation_ids)))
    if flt.repre_names:
        conditions.append(representations.c.name.in_(list(flt.repre_names)))
    if flt.folder:
        conditions.append(folders.c.path.icontains(flt.folder, autoescape=True))
    if flt.product:
        conditions.append(products.c.name.icontains(flt.product, autoescape=True))
    if flt.version is not None:
        conditions.append(versions.c.version == flt.version)
    if flt.version_ids is not None:
        conditions.append(versions.c.id.in_(list(flt.version_ids)))
    if flt.local_statuses:
        conditions.append(_status_column(local).in_(list(flt.local_statuses)))
    if flt.remote_statuses:
        conditions.append(_status_column(remote).in_(list(flt.remote_statuses)))
    if flt.both_only:
        conditions.extend([local.c.site.is_not(None), remote.c.site.is_not(None)])
    base = base.where(*conditions)

    total = conn.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    sort_columns = {
        "folder": folders.c.path, "product": products.c.name, "version": versions.c.version,
        "representation": representations.c.name, "localStatus": _status_column(local),
        "remoteStatus": _status_column(remote),
        "priority": func.coalesce(local.c.priority, literal(DEFAULT_PRIORITY)),
        "updatedAt": func.coalesce(local.c.updated_at, representations.c.created_at),
    }
    order = sort_columns[flt.sort_by]
    order = order.desc() if flt.sort_desc else order.asc()
    page_query = (base.add_columns(versions.c.id.label("version_id"))
                  .order_by(order, representations.c.id)
                  .limit(flt.page_length).offset((flt.page - 1) * flt.page_length))
    rep_ids = [row.id for row in conn.execute(page_query)]
    return {"total": total, "page": flt.page, "pageLength": flt.page_length,
            "representations": _items(conn, project_id, rep_ids, flt)}


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


def _file_item(file_row, local: dict | None, remote: dict | None) -> dict:  # type: ignore[no-untyped-def]
    def on(state: dict | None) -> dict | None:
        if state is None:
            return None
        return next((f for f in state["files"] if f["file_id"] == file_row["id"]), None)

    return {"id": file_row["id"], "path": file_row["path"], "size": file_row["size"],
            "hash": file_row["hash"], "localStatus": file_summary(on(local), file_row["size"]),
            "remoteStatus": file_summary(on(remote), file_row["size"])}
