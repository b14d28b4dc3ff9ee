"""The settings endpoints the host serves for every addon, typed by the addon's models."""
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, ValidationError

from server_addon import settings_store
from server_addon.addon import ServerAddon
from server_addon.api.deps import AdminDep, DbDep, PrincipalDep, ProjectDep
from server_addon.api.schemas import SITE_ID_PATTERN, ErrorBody
from server_addon.auth import Principal, Role, holds_site
from server_addon.errors import ApiError, forbidden
from server_addon.api.routing import TransactionRoute

SiteId = Annotated[str | None, Query(alias="siteId", pattern=SITE_ID_PATTERN, max_length=255)]
SitePath = Annotated[str, Path(pattern=SITE_ID_PATTERN, max_length=255)]
# Invalid settings answer 422 with a sentence; a malformed request, with FastAPI's list.
INVALID = {422: {"model": ErrorBody, "description": "Invalid settings or request."}}


def _validated(model: type[BaseModel], data: Any, what: str) -> BaseModel:
    # Settings are stored and served as JSON text: refuse what it cannot carry.
    try:
        json.dumps(data, allow_nan=False, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise ApiError(422, f"Invalid {what}: text must be valid Unicode; "
                            "lone surrogate escapes such as \\ud800 are not.") from None
    except ValueError:
        raise ApiError(422, f"Invalid {what}: numbers must be finite; "
                            "NaN and Infinity are not JSON.") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                             for e in errors)
        raise ApiError(422, f"Invalid {what}: {problems}",
                       errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in errors]
                       ) from None


def settings_router(addon: ServerAddon) -> APIRouter:
    model = addon.settings_model
    site_model = addon.site_settings_model
    name = addon.name
    router = APIRouter(prefix=f"{addon.prefix()}/settings", tags=[f"{name} settings"],
                       route_class=TransactionRoute)

    def show(value: BaseModel, principal: Principal) -> dict:
        if principal.sees_secrets:
            return value.model_dump(mode="json")
        return settings_store.masked(value)

    def studio_data(conn: Any) -> dict:
        stored = settings_store.load(conn, addon=name, scope="studio")
        return stored if stored is not None else model().model_dump(mode="json")

    @router.get("", response_model=model)
    def get_studio_settings(principal: PrincipalDep, db: DbDep) -> dict:
        with db.read() as conn:
            return show(model.model_validate(studio_data(conn)), principal)

    @router.put("", response_model=model, responses=INVALID)
    def put_studio_settings(body: Annotated[dict[str, Any], Body()], _admin: AdminDep,
                            db: DbDep, request: Request) -> dict:
        with db.write() as conn:
            data = settings_store.restore_masked(body, studio_data(conn))
            value = _validated(model, data, "studio settings")
            settings_store.save(conn, addon=name, scope="studio",
                                data=value.model_dump(mode="json", exclude_unset=False))
        addon.on_settings_saved(request.app.state, None)
        return value.model_dump(mode="json")

    @router.get("/{project}")
    def get_project_overrides(project: ProjectDep, principal: PrincipalDep,
                              db: DbDep) -> dict[str, Any]:
        """The project's overrides only (a partial document merged onto studio settings)."""
        with db.read() as conn:
            stored = settings_store.load(conn, addon=name, scope="project", project=project.name)
            if stored is None:
                return {}
            if principal.sees_secrets:
                return stored
            full = model.model_validate(settings_store.merge(studio_data(conn), stored))
            return _only_keys(settings_store.masked(full), stored)

    @router.put("/{project}", responses=INVALID)
    def put_project_overrides(body: Annotated[dict[str, Any], Body()], project: ProjectDep,
                              _admin: AdminDep, db: DbDep, request: Request) -> dict[str, Any]:
        """Replace the project's overrides; the merged result must be valid settings."""
        with db.write() as conn:
            old = settings_store.load(conn, addon=name, scope="project", project=project.name)
            # A masked view shows whole merged sites, studio secrets too: restore from that.
            seen = settings_store.merge(studio_data(conn), old or {})
            data = settings_store.restore_masked(body, seen)
            _validated(model, settings_store.merge(studio_data(conn), data),
                       f"settings for project '{project.name}'")
            settings_store.save(conn, addon=name, scope="project", project=project.name,
                                data=data)
        addon.on_settings_saved(request.app.state, project.name)
        return data

    @router.get("/{project}/resolved")
    def get_resolved_settings(project: ProjectDep, principal: PrincipalDep, db: DbDep,
                              site_id: SiteId = None) -> dict[str, Any]:
        """The effective settings of a project, with the site-scope settings of ``siteId``."""
        with db.read() as conn:
            stored = settings_store.load(conn, addon=name, scope="project", project=project.name)
            site = None
            if site_id:
                site = settings_store.load(conn, addon=name, scope="site",
                                           project=project.name, site_id=site_id)
            resolved = addon.resolve_settings(studio_data(conn), stored, site)
        if principal.sees_secrets:
            return resolved
        own = {key: value for key, value in resolved.items() if key in model.model_fields}
        return resolved | settings_store.masked(model.model_validate(own))

    if site_model is None:
        return router

    @router.get("/{project}/site/{site_id}", response_model=site_model)
    def get_site_settings(site_id: SitePath, project: ProjectDep,
                          db: DbDep) -> dict:
        with db.read() as conn:
            stored = settings_store.load(conn, addon=name, scope="site", project=project.name,
                                         site_id=site_id)
        return site_model.model_validate(stored or {}).model_dump(mode="json")

    @router.put("/{project}/site/{site_id}", response_model=site_model, responses=INVALID)
    def put_site_settings(body: Annotated[dict[str, Any], Body()],
                          site_id: SitePath, project: ProjectDep, principal: PrincipalDep,
                          db: DbDep, request: Request) -> dict:
        """Settings of one machine (local site id) in this project. Artist keys set those of
        their own machines only: the first artist key to write a site id no key holds gets it
        (an admin may register it beforehand, with PUT /api/keys/{key_id}/sites/{site_id})."""
        value = _validated(site_model, body, f"site settings of '{site_id}'")
        with db.write() as conn:
            _check_site_writer(conn, principal, site_id)
            settings_store.save(conn, addon=name, scope="site", project=project.name,
                                site_id=site_id, data=value.model_dump(mode="json"))
        addon.on_settings_saved(request.app.state, project.name)
        return value.model_dump(mode="json")

    return router


def _check_site_writer(conn: Any, principal: Principal, site_id: str) -> None:
    # A machine's roots say where its sync service writes files: another artist's key must
    # not point them elsewhere. Admin and service keys look after every machine.
    if principal.role is Role.ARTIST and not holds_site(conn, principal.key_id, site_id):
        raise forbidden(f"Site '{site_id}' is registered to another key, so this key may not "
                        f"change its settings; if it is this machine, ask an admin to register "
                        f"'{site_id}' to this key (id {principal.key_id}).")


def _only_keys(full: dict, keys_from: dict) -> dict:
    """The parts of ``full`` that ``keys_from`` sets (masked overrides keep their shape)."""
    result = {}
    for key, value in keys_from.items():
        if isinstance(value, dict) and isinstance(full.get(key), dict):
            result[key] = _only_keys(full[key], value)
        elif isinstance(value, list) and isinstance(full.get(key), list):
            names = {item.get("name") for item in value if isinstance(item, dict)}
            result[key] = [item for item in full[key]
                           if not isinstance(item, dict) or item.get("name") in names]
        else:
            result[key] = full.get(key, value)
    return result
