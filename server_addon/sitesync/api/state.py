"""Sync state of a project: the listing, per-site changes, bulk stamps and lookups."""
from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from server_addon import catalog
from server_addon.api.deps import DbDep, ProjectDep
from server_addon.api.schemas import NO_NUL
from server_addon.db.tables import addon_settings
from server_addon.errors import ApiError
from server_addon.sitesync import events, listing, state
from server_addon.sitesync.config import ADDON_NAME, retry_count
from server_addon.sitesync.schemas import (MAX_PAGE_LENGTH, BulkStamp, Params,
                                           RepresentationSites, SiteName, SiteStateChange,
                                           StatePage)
from server_addon.sitesync.tables import site_states
from server_addon.api.routing import TransactionRoute
from sitesync_addon.status import SiteSyncStatus

router = APIRouter(tags=["sitesync state"], route_class=TransactionRoute)

Ids = Annotated[list[UUID] | None, Query(max_length=1000)]
Names = Annotated[list[Annotated[str, Query(max_length=255, pattern=NO_NUL)]] | None,
                  Query(max_length=100)]
Statuses = Annotated[list[SiteSyncStatus] | None, Query(max_length=10)]
Text = Annotated[str | None, Query(max_length=255, pattern=NO_NUL)]


@router.get("/{project}/state", response_model=StatePage)
def get_state(
    project: ProjectDep, db: DbDep,
    local_site: Annotated[SiteName, Query(alias="localSite")],
    remote_site: Annotated[SiteName, Query(alias="remoteSite")],
    representation_ids: Annotated[Ids, Query(alias="representationIds")] = None,
    repre_name_filter: Annotated[Names, Query(alias="repreNameFilter")] = None,
    folder_filter: Annotated[Text, Query(alias="folderFilter")] = None,
    product_filter: Annotated[Text, Query(alias="productFilter")] = None,
    version_filter: Annotated[int | None, Query(alias="versionFilter", ge=-1_000_000,
                                                le=1_000_000)] = None,
    version_ids_filter: Annotated[Ids, Query(alias="versionIdsFilter")] = None,
    local_status_filter: Annotated[Statuses, Query(alias="localStatusFilter")] = None,
    remote_status_filter: Annotated[Statuses, Query(alias="remoteStatusFilter")] = None,
    sort_by: Annotated[listing.SortKey, Query(alias="sortBy")] = "priority",
    sort_desc: Annotated[bool, Query(alias="sortDesc")] = True,
    both_only: Annotated[bool, Query(alias="bothOnly")] = False,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_length: Annotated[int, Query(alias="pageLength", ge=1, le=MAX_PAGE_LENGTH)] = 50,
) -> dict:
    """Representations of the project with their state on a local and a remote site."""
    flt = listing.StateFilter(
        local_site=local_site, remote_site=remote_site, representation_ids=representation_ids,
        repre_names=repre_name_filter, folder=folder_filter, product=product_filter,
        version=version_filter, version_ids=version_ids_filter,
        local_statuses=[int(s) for s in local_status_filter or []],
        remote_statuses=[int(s) for s in remote_status_filter or []], both_only=both_only,
        sort_by=sort_by, sort_desc=sort_desc, page=page, page_length=page_length)
    with db.read() as conn:
        return listing.list_state(conn, project_id=project.id, flt=flt)


@router.post("/{project}/state/{representation_id}/{site_name}", status_code=204)
def set_site_state(project: ProjectDep, db: DbDep, representation_id: UUID,
                   site_name: SiteName, body: SiteStateChange,
                   reset: bool = False) -> Response:
    """Create or change the state of a representation on a site.

    A site that has no state yet gets every file of the representation (with ``status``,
    else NA). ``reset=true`` rebuilds the file map and queues every file again. ``files``
    updates single files; other files are untouched, even by concurrent writers.
    """
    change = state.SiteChange(
        representation_id=representation_id, site=site_name, status=body.status, reset=reset,
        priority=body.priority, paused=body.paused,
        files=[state.FileUpdate(file_id=f.id, status=f.status, progress=f.progress,
                                size=f.size, error=f.error, retry_after=f.retry_after,
                                paused=f.paused) for f in body.files])
    with db.write() as conn:
        state.apply_changes(conn, project_id=project.id, changes=[change],
                            retry_cnt=retry_count(conn, project.name))
        _publish_for(conn, project.name, [change], reset=reset)
    return Response(status_code=204)


def _publish_for(conn, project: str, changes: list[state.SiteChange],
                 reset: bool) -> None:
    queued = any(c.status == SiteSyncStatus.QUEUED
                 or any(f.status == SiteSyncStatus.QUEUED for f in c.files) for c in changes)
    if reset:
        events.publish(conn, kind="reset", project=project)
    elif queued:
        events.publish(conn, kind="new_work", project=project)
    if any(c.priority is not None for c in changes):
        events.publish(conn, kind="priority", project=project)
    if any(c.paused is not None for c in changes):
        kind = "paused" if any(c.paused for c in changes) else "unpaused"
        events.publish(conn, kind=kind, project=project)


@router.delete("/{project}/state/{representation_id}/{site_name}", status_code=204)
def delete_site_state(project: ProjectDep, db: DbDep, representation_id: UUID,
                      site_name: SiteName) -> Response:
    """Forget a site's state of a representation (the files themselves are not touched)."""
    with db.write() as conn:
        state.delete_site_state(conn, project_id=project.id,
                                representation_id=representation_id, site=site_name)
    return Response(status_code=204)


@router.post("/{project}/state/bulk", status_code=204)
def bulk_stamp(project: ProjectDep, db: DbDep, body: BulkStamp) -> Response:
    """Stamp many (representation, site, status) in one transaction, e.g. after a publish."""
    keys = [(i.representation_id, i.site_name) for i in body.items]
    if len(set(keys)) != len(keys):
        raise ApiError(400, "Each (representationId, siteName) may appear once per stamp.")
    changes = [state.SiteChange(representation_id=i.representation_id, site=i.site_name,
                                status=i.status, priority=i.priority, reset=i.reset)
               for i in body.items]
    with db.write() as conn:
        state.apply_changes(conn, project_id=project.id, changes=changes,
                            retry_cnt=retry_count(conn, project.name))
        _publish_for(conn, project.name, changes, reset=False)
    return Response(status_code=204)


@router.get("/{project}/state/representations", response_model=list[RepresentationSites])
def get_representation_sites(
    project: ProjectDep, db: DbDep,
    representation_ids: Annotated[list[UUID], Query(alias="representationIds", min_length=1,
                                                    max_length=1000)],
    site_names: Annotated[list[SiteName] | None, Query(alias="siteNames",
                                                       max_length=100)] = None,
) -> list[dict]:
    """Every requested representation with its state on the named sites (or on all)."""
    with db.read() as conn:
        found = state.site_states_of(conn, project_id=project.id,
                                     representation_ids=representation_ids, sites=site_names)
    return [{"representation_id": rep_id,
             "sites": [{**s, "name": s["site"],
                        "files": [{**f, "id": f["file_id"], "timestamp": f["updated_at"]}
                                  for f in s["files"]]}
                       for s in found.get(rep_id, [])]}
            for rep_id in representation_ids]


@router.get("/{project}/params", response_model=Params)
def get_params(project: ProjectDep, db: DbDep) -> dict:
    """What the state listing can be filtered and sorted by in this project."""
    with db.read() as conn:
        sites = conn.execute(select(site_states.c.site).where(
            site_states.c.project_id == project.id).distinct()).scalars().all()
        names = catalog.representation_names(conn, project_id=project.id)
    return {"sites": sorted(sites), "representation_names": sorted(names),
            "statuses": {s.name: int(s) for s in SiteSyncStatus},
            "sort_by": list(listing.SortKey.__args__), "page_length_max": MAX_PAGE_LENGTH}


@router.get("/{project}/get_user_sites")
def get_user_sites(project: ProjectDep, db: DbDep) -> list[str]:
    """Local site ids that have site-scope settings in this project."""
    with db.read() as conn:
        return sorted(conn.execute(select(addon_settings.c.site_id).where(
            addon_settings.c.addon == ADDON_NAME, addon_settings.c.scope == "site",
            addon_settings.c.project == project.name)).scalars())
