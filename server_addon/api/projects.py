from typing import Literal

from fastapi import APIRouter, Response

from server_addon import catalog
from server_addon.api.deps import AdminDep, DbDep, PrincipalDep, ProjectDep
from server_addon.api.schemas import ProjectCreate, ProjectPublic
from server_addon.api.routing import TransactionRoute

router = APIRouter(prefix="/api/projects", tags=["projects"], route_class=TransactionRoute)


@router.post("", response_model=ProjectPublic, status_code=201)
def create_project(body: ProjectCreate, _admin: AdminDep, db: DbDep) -> dict:
    with db.write() as conn:
        return catalog.create_project(conn, name=body.name, roots=body.roots)


@router.get("", response_model=list[ProjectPublic])
def list_projects(principal: PrincipalDep, db: DbDep) -> list[dict]:
    """The projects this key may use."""
    with db.read() as conn:
        rows = catalog.list_projects(conn)
    return [row for row in rows if principal.may_use_project(row["name"])]


@router.get("/{project}", response_model=ProjectPublic)
def get_project(project: ProjectDep) -> dict:
    return project.__dict__


@router.delete("/{project}", status_code=204)
def delete_project(project: ProjectDep, _admin: AdminDep, db: DbDep) -> Response:
    """Delete a project with its catalog, settings and sync state."""
    from server_addon.settings_store import delete_project_settings

    with db.write() as conn:
        catalog.delete_project(conn, project_id=project.id)
        delete_project_settings(conn, project=project.name)
    return Response(status_code=204)


@router.get("/{project}/siteRoots")
def site_roots(project: ProjectDep,
               platform: Literal["linux", "windows", "darwin"] = "linux") -> dict[str, str]:
    """``{root name: path}`` of the project's roots on one platform."""
    return catalog.site_roots(project.roots, platform)
