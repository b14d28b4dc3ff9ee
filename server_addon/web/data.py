"""What the pages show, read with the store functions the REST API uses.

Keyword-only functions of a connection, like the stores they call; the pages add nothing a
REST client could not read itself.
"""
from __future__ import annotations

import uuid
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy import Connection, select

from server_addon import auth, catalog, settings_store
from server_addon.db.tables import addon_settings, api_keys
from server_addon.sitesync import commands, pauses, state
from server_addon.sitesync.config import ADDON_NAME, STUDIO_SITE, project_settings
from server_addon.sitesync.listing import side_summary
from server_addon.sitesync.settings import SiteSyncSettings


def visible_projects(conn: Connection, principal: auth.Principal) -> list[dict]:
    return [row for row in catalog.list_projects(conn) if principal.may_use_project(row["name"])]


def project_row(conn: Connection, *, principal: auth.Principal, name: str) -> dict:
    """The project, if it exists (404) and the key may use it (403), as ``ProjectDep`` does."""
    from server_addon.errors import forbidden

    if not principal.may_use_project(name):
        raise forbidden(f"This key may not use project '{name}'.")
    return catalog.get_project(conn, name=name)


# -- the projects page --------------------------------------------------------------------------

def overview(conn: Connection, *, principal: auth.Principal) -> dict:
    """The server's pause and, per project, the counts of ``GET summary``."""
    from server_addon.sitesync import summary

    return {"serverPaused": pauses.is_server_paused(conn),
            "projects": summary.project_summaries(
                conn, projects=visible_projects(conn, principal))}


# -- the sync queue -----------------------------------------------------------------------------

def user_sites(conn: Connection, *, project: str) -> list[str]:
    """Local site ids with site-scope settings in the project (``GET get_user_sites``)."""
    return sorted(conn.execute(select(addon_settings.c.site_id).where(
        addon_settings.c.addon == ADDON_NAME, addon_settings.c.scope == "site",
        addon_settings.c.project == project)).scalars())


def site_choices(settings: SiteSyncSettings, users: list[str]) -> list[str]:
    """Sites a listing can show: studio, the configured sites and machines' local site ids."""
    names = [STUDIO_SITE, *(site.name for site in settings.sites), *users]
    return list(dict.fromkeys(names))


def default_sites(settings: SiteSyncSettings, users: list[str]) -> tuple[str, str]:
    """The project config's active and remote site; when both are the same site, the local
    side shows the first machine that has site-scope settings."""
    local, remote = settings.config.active_site, settings.config.remote_site
    if local == remote and users:
        local = users[0]
    return local, remote


TASKS_SHOWN = 10


def site_tasks(conn: Connection, *, principal: auth.Principal, project_id: uuid.UUID,
               sites: list[str]) -> dict:
    """What the page's site tasks need: recent commands, the sites whose files this key may
    have deleted, and the sites a sync service serves now."""
    recent = commands.list_for_project(conn, project_id=project_id, limit=TASKS_SHOWN)
    return {"commands": jsonable_encoder(recent),
            "deletable": [site for site in sites
                          if commands.may_delete_on(conn, principal=principal, site=site)],
            "liveSites": sorted(commands.live_sites(conn))}


def representation_names(conn: Connection, *, project_id: uuid.UUID) -> list[str]:
    return catalog.representation_names(conn, project_id=project_id)


# -- a representation ---------------------------------------------------------------------------

def representation_detail(conn: Connection, *, project: dict,
                          representation_id: uuid.UUID) -> dict:
    rep = catalog.get_representation(conn, project_id=project["id"],
                                     representation_id=representation_id)
    found = state.site_states_of(conn, project_id=project["id"],
                                 representation_ids=[representation_id])
    total = sum(f["size"] for f in rep["files"])
    sites = []
    for site in found.get(representation_id, []):
        by_file = {f["file_id"]: f for f in site["files"]}
        summary = side_summary(site, total)
        sites.append({"name": site["site"], "priority": site["priority"],
                      "status": site["status"], "paused": site["paused"],
                      "progress": summary["progress"], "size": summary["size"],
                      "updatedAt": site["updated_at"],
                      "files": {str(f["id"]): _file_state(by_file.get(f["id"]))
                                for f in rep["files"]}})
    siblings = [{"id": r["id"], "name": r["name"], "fileCount": len(r["files"])}
                for r in catalog.list_representations(conn, project_id=project["id"],
                                                      version_ids=[rep["version_id"]])
                if r["id"] != representation_id]
    version = catalog.get_version(conn, project_id=project["id"], version_id=rep["version_id"])
    linked = []
    links = version["links"]
    if links:
        linked_reps = catalog.list_representations(
            conn, project_id=project["id"], version_ids=[link["version_id"] for link in links])
        kinds = {link["version_id"]: link["type"] for link in links}
        linked = [{"id": r["id"], "name": r["name"], "folder": r["folder"],
                   "product": r["product"], "version": r["version"],
                   "type": kinds.get(r["version_id"], "")} for r in linked_reps]
    return {"representation": {
                "id": rep["id"], "name": rep["name"], "folder": rep["folder"],
                "product": rep["product"], "version": rep["version"],
                "versionId": rep["version_id"], "task": rep.get("task"),
                "size": total,
                "files": [{"id": f["id"], "path": f["path"], "size": f["size"],
                           "hash": f["hash"]} for f in rep["files"]]},
            "sites": sites, "otherRepresentations": siblings, "linked": linked}


def _file_state(row: dict | None) -> dict | None:
    if row is None:
        return None
    from sitesync_addon.status import effective_status

    return {"status": int(effective_status(row["status"], row["paused"])),
            "progress": row["progress"], "size": row["size"], "retries": row["retries"],
            "updatedAt": row["updated_at"], "message": row["message"],
            "paused": row["paused"]}


# -- failures, sites, services, settings, keys ----------------------------------------------------

def failure_groups(conn: Connection, *, project: dict, site: str | None = None) -> list[dict]:
    """FAILED files grouped by site and message, as ``GET {project}/failures`` has them."""
    from server_addon.sitesync import failures

    return failures.failure_groups(conn, project_id=project["id"], site=site)


def services(conn: Connection, *, principal: auth.Principal) -> list[dict]:
    """The sync services heard from lately, as ``GET services`` lists them for this key."""
    from server_addon.sitesync import services as service_store

    return service_store.list_services(conn, allowed=principal.projects)


def configured_sites(conn: Connection, *, project: dict) -> list[dict]:
    """The project's sites: the studio (its roots), then each configured site."""
    settings = project_settings(conn, project["name"])
    sites = [{"name": STUDIO_SITE, "provider": "local_drive", "enabled": True,
              "alternativeSites": [], "roots": project["roots"], "implicit": True}]
    for site in settings.sites:
        sites.append({"name": site.name, "provider": site.provider, "enabled": site.enabled,
                      "alternativeSites": list(site.alternative_sites),
                      "roots": {name: paths.model_dump(exclude_none=True)
                                if hasattr(paths, "model_dump") else paths
                                for name, paths in site.root.items()},
                      "implicit": False})
    return sites


def settings_scopes(conn: Connection) -> dict:
    """Every stored settings scope of SiteSync, masked (secrets never leave the server)."""
    studio = settings_store.load(conn, addon=ADDON_NAME, scope="studio")
    model = SiteSyncSettings.model_validate(studio or {})
    rows = conn.execute(select(addon_settings.c.scope, addon_settings.c.project,
                               addon_settings.c.site_id).where(
        addon_settings.c.addon == ADDON_NAME, addon_settings.c.scope != "studio")
        .order_by(addon_settings.c.project, addon_settings.c.site_id)).all()
    return {"studio": settings_store.masked(model),
            "projectOverrides": sorted({r.project for r in rows if r.scope == "project"}),
            "siteScopes": [{"project": r.project, "siteId": r.site_id}
                           for r in rows if r.scope == "site"]}


def masked_project_overrides(conn: Connection, *, project: str) -> dict:
    stored = settings_store.load(conn, addon=ADDON_NAME, scope="project", project=project)
    if not stored:
        return {}
    studio = settings_store.load(conn, addon=ADDON_NAME, scope="studio") or {}
    full = SiteSyncSettings.model_validate(settings_store.merge(studio, stored))
    return _only_keys(settings_store.masked(full), stored)


def _only_keys(full: Any, keys_from: Any) -> Any:
    from server_addon.api.addon_settings import _only_keys as only_keys

    return only_keys(full, keys_from)


def site_scope(conn: Connection, *, project: str, site_id: str) -> dict:
    from server_addon.sitesync.settings import LocalSetting

    stored = settings_store.load(conn, addon=ADDON_NAME, scope="site", project=project,
                                 site_id=site_id)
    return LocalSetting.model_validate(stored or {}).model_dump(mode="json")


def api_key_list(conn: Connection) -> list[dict]:
    rows = conn.execute(select(api_keys.c.id, api_keys.c.name, api_keys.c.role,
                               api_keys.c.projects, api_keys.c.created_at,
                               api_keys.c.revoked_at).order_by(api_keys.c.created_at))
    return [{"id": r.id, "name": r.name, "role": r.role, "projects": r.projects,
             "createdAt": r.created_at, "revokedAt": r.revoked_at} for r in rows]
