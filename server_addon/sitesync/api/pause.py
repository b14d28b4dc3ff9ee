"""Pause and unpause the whole server, a project, or a representation on a site."""
from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from server_addon.api.deps import DbDep, PrincipalDep, ProjectDep, ServiceDep
from server_addon.sitesync import events, pauses, state
from server_addon.sitesync.config import retry_count
from server_addon.sitesync.schemas import PauseState, SiteName
from server_addon.api.routing import TransactionRoute

router = APIRouter(tags=["sitesync pause"], route_class=TransactionRoute)


@router.get("/pause", response_model=PauseState)
def get_server_pause(_principal: PrincipalDep, db: DbDep) -> dict:
    with db.read() as conn:
        return {"paused": pauses.is_server_paused(conn)}


@router.put("/pause", response_model=PauseState)
def set_server_pause(body: PauseState, _service: ServiceDep, db: DbDep) -> dict:
    """Stop (or resume) every transfer of every project."""
    with db.write() as conn:
        pauses.set_server_paused(conn, paused=body.paused)
        events.publish(conn, kind="paused" if body.paused else "unpaused", project=None)
    return {"paused": body.paused}


@router.get("/{project}/pause", response_model=PauseState)
def get_project_pause(project: ProjectDep, db: DbDep) -> dict:
    with db.read() as conn:
        return {"paused": pauses.is_project_paused(conn, project_id=project.id)}


@router.put("/{project}/pause", response_model=PauseState)
def set_project_pause(body: PauseState, project: ProjectDep, _service: ServiceDep,
                      db: DbDep) -> dict:
    with db.write() as conn:
        pauses.set_project_paused(conn, project_id=project.id, paused=body.paused)
        events.publish(conn, kind="paused" if body.paused else "unpaused",
                       project=project.name)
    return {"paused": body.paused}


@router.put("/{project}/state/{representation_id}/{site_name}/pause",
            response_model=PauseState)
def set_representation_pause(body: PauseState, project: ProjectDep, db: DbDep,
                             representation_id: UUID, site_name: SiteName) -> dict:
    """Pause every file of a representation on a site (the site must have state)."""
    change = state.SiteChange(representation_id=representation_id, site=site_name,
                              paused=body.paused)
    with db.write() as conn:
        state.require_site_state(conn, project_id=project.id,
                                 representation_id=representation_id, site=site_name)
        state.apply_changes(conn, project_id=project.id, changes=[change],
                            retry_cnt=retry_count(conn, project.name))
        events.publish(conn, kind="paused" if body.paused else "unpaused",
                       project=project.name)
    return {"paused": body.paused}
