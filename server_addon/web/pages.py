"""The dashboard's pages. Each renders from the store functions the REST API uses."""
from __future__ import annotations

import math
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server_addon.api.deps import DbDep
from server_addon.errors import ApiError
from server_addon.sitesync import listing, pauses
from server_addon.sitesync.config import project_settings
from server_addon.web import data, queue
from server_addon.web.routing import PageRoute
from server_addon.web.session import AdminPageDep, PageDep
from server_addon.web.templating import PAGE_LENGTHS_CHOICES, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _is_service(session) -> bool:  # type: ignore[no-untyped-def]
    return session.principal.role.value in ("admin", "service")


@router.get("/")
def projects_page(request: Request, session: PageDep, db: DbDep) -> Response:
    with db.read() as conn:
        overview = data.overview(conn, principal=session.principal)
    return render(request, "projects.html", title="Projects", data=overview,
                  principal=session.principal, csrf=session.csrf,
                  may_pause=_is_service(session))


@router.get("/projects/{name}")
def queue_page(request: Request, name: str, session: PageDep, db: DbDep) -> Response:
    with db.read() as conn:
        project = data.project_row(conn, principal=session.principal, name=name)
        settings = project_settings(conn, name)
        users = data.user_sites(conn, project=name)
        default_local, default_remote = data.default_sites(settings, users)
        view = queue.parse(request.query_params, default_local=default_local,
                           default_remote=default_remote)
        page = listing.list_state(conn, project_id=project["id"], flt=view.flt)
        names = data.representation_names(conn, project_id=project["id"])
        project_paused = pauses.is_project_paused(conn, project_id=project["id"])
        server_paused = pauses.is_server_paused(conn)
        sites = data.site_choices(settings, users)
        for extra in (view.flt.local_site, view.flt.remote_site):
            if extra not in sites:
                sites.append(extra)
        tasks = data.site_tasks(conn, principal=session.principal, project_id=project["id"],
                                sites=sites)
    pages = max(1, math.ceil(page["total"] / view.flt.page_length))
    result = {"project": name, "enabled": settings.enabled, "paused": project_paused,
              "serverPaused": server_paused, "localSite": view.flt.local_site,
              "remoteSite": view.flt.remote_site, "sites": sites,
              "representationNames": names, "query": view.query, "problems": view.problems,
              "state": page}
    return render(request, "queue.html", title=f"{name}: sync queue", data=result,
                  principal=session.principal, csrf=session.csrf, view=view,
                  pages=pages, page_lengths=PAGE_LENGTHS_CHOICES,
                  may_pause=_is_service(session), live=live_rows(result, tasks), tasks=tasks)


def live_rows(result: dict, tasks: dict) -> dict:
    """What the page's script needs to move rows along with progress events."""
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder({
        "project": result["project"], "localSite": result["localSite"],
        "deletable": tasks["deletable"], "liveSites": tasks["liveSites"],
        "remoteSite": result["remoteSite"],
        "rows": {str(item["representationId"]): row_progress(item)
                 for item in result["state"]["representations"]}})


def row_progress(item: dict) -> dict:
    """Per side of a listed row: status, progress and the progress of each moving file."""
    sides = {}
    for side in ("local", "remote"):
        summary = item[f"{side}Status"]
        sides[side] = {"status": summary["status"], "progress": summary["progress"],
                       "n": max(1, item["fileCount"]),
                       "files": {str(f["id"]): f[f"{side}Status"]["progress"]
                                 for f in item["files"]
                                 if f[f"{side}Status"]["status"] == 0}}
    return sides


@router.get("/projects/{name}/representations/{representation_id}")
def representation_page(request: Request, name: str, representation_id: str,
                        session: PageDep, db: DbDep) -> Response:
    try:
        rep_id = uuid.UUID(representation_id)
    except ValueError:
        raise ApiError(404, f"Representation '{representation_id}' not found in project "
                            f"'{name}'.") from None
    with db.read() as conn:
        project = data.project_row(conn, principal=session.principal, name=name)
        detail = data.representation_detail(conn, project=project, representation_id=rep_id)
        settings = project_settings(conn, name)
        sites = data.site_choices(settings, data.user_sites(conn, project=name))
    detail["project"] = name
    detail["siteChoices"] = sites
    rep = detail["representation"]
    return render(request, "representation.html",
                  title=f"{rep['folder']} / {rep['product']} / {rep['name']}",
                  data=detail, principal=session.principal, csrf=session.csrf)


@router.get("/projects/{name}/failures")
def failures_page(request: Request, name: str, session: PageDep, db: DbDep) -> Response:
    site = request.query_params.get("site") or None
    with db.read() as conn:
        project = data.project_row(conn, principal=session.principal, name=name)
        groups = data.failure_groups(conn, project=project, site=site)
    return render(request, "failures.html", title=f"{name}: failures",
                  data={"project": name, "site": site, "groups": groups},
                  principal=session.principal, csrf=session.csrf)


@router.get("/sites")
def sites_page(request: Request, session: PageDep, db: DbDep) -> Response:
    with db.read() as conn:
        projects = [{"name": row["name"], "sites": data.configured_sites(conn, project=row),
                     "userSites": data.user_sites(conn, project=row["name"])}
                    for row in data.visible_projects(conn, session.principal)]
        running = data.services(conn, principal=session.principal)
    return render(request, "sites.html", title="Sites and services",
                  data={"projects": projects, "services": running},
                  principal=session.principal, csrf=session.csrf)


@router.get("/settings")
def settings_page(request: Request, session: AdminPageDep, db: DbDep) -> Response:
    project = request.query_params.get("project") or None
    site_id = request.query_params.get("siteId") or None
    with db.read() as conn:
        scopes = data.settings_scopes(conn)
        projects = [row["name"] for row in data.visible_projects(conn, session.principal)]
        if project is not None:
            data.project_row(conn, principal=session.principal, name=project)
        if project and site_id:
            scope, values = "site", data.site_scope(conn, project=project, site_id=site_id)
        elif project:
            scope, values = "project", data.masked_project_overrides(conn, project=project)
        else:
            scope, values = "studio", scopes["studio"]
    return render(request, "settings.html", title="Settings",
                  data={"scope": scope, "project": project, "siteId": site_id,
                        "values": values, "projects": projects,
                        "siteScopes": scopes["siteScopes"]},
                  principal=session.principal, csrf=session.csrf)


@router.get("/keys")
def keys_page(request: Request, session: AdminPageDep, db: DbDep) -> Response:
    with db.read() as conn:
        keys = data.api_key_list(conn)
        projects = [row["name"] for row in data.visible_projects(conn, session.principal)]
    return render(request, "keys.html", title="API keys",
                  data={"keys": keys, "projects": projects, "me": session.principal.key_id},
                  principal=session.principal, csrf=session.csrf)
