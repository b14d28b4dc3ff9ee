"""The dashboard's overview: per project and site, representations by status and bytes left."""
from __future__ import annotations

from fastapi import APIRouter

from server_addon import catalog
from server_addon.api.deps import DbDep, PrincipalDep, ProjectDep
from server_addon.sitesync import summary
from server_addon.sitesync.schemas import ProjectSummary
from server_addon.api.routing import TransactionRoute

router = APIRouter(tags=["sitesync summary"], route_class=TransactionRoute)


@router.get("/summary", response_model=list[ProjectSummary])
def get_summaries(principal: PrincipalDep, db: DbDep) -> list[dict]:
    """Every project the key may use, by name, with its sites by name."""
    with db.read() as conn:
        projects = [p for p in catalog.list_projects(conn)
                    if principal.may_use_project(p["name"])]
        return summary.project_summaries(conn, projects=projects)


@router.get("/{project}/summary", response_model=ProjectSummary)
def get_summary(project: ProjectDep, db: DbDep) -> dict:
    with db.read() as conn:
        return summary.project_summaries(
            conn, projects=[{"id": project.id, "name": project.name}])[0]
