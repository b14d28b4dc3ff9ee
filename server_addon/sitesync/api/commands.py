"""Site commands: asked for by people (validate, clear, remove files), carried out by the
sync service of the site."""
from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from sqlalchemy import Connection, select

from server_addon import auth
from server_addon.api.routing import TransactionRoute
from server_addon.api.deps import DbDep, PrincipalDep, ProjectDep
from server_addon.db.tables import representations
from server_addon.errors import bad_request, conflict, forbidden, not_found
from server_addon.sitesync import commands, events
from server_addon.sitesync.config import STUDIO_SITE
from server_addon.sitesync.schemas import (CommandClaim, CommandFinish, CommandIn, CommandInfo,
                                           SiteName)

router = APIRouter(tags=["sitesync commands"], route_class=TransactionRoute)


def _publish(conn: Connection, command: dict) -> None:
    events.publish(conn, kind="command", project=command["project"], payload={
        "id": str(command["id"]), "site": command["site"], "action": command["action"],
        "status": command["status"]})


@router.get("/commands", response_model=list[CommandInfo])
def claimable_commands(principal: PrincipalDep, db: DbDep,
                       site: Annotated[list[SiteName], Query(max_length=100)]) -> list[dict]:
    """Commands on these sites a sync service may take now (queued, or orphaned by a
    service that stopped answering), oldest first."""
    with db.read() as conn:
        return commands.claimable(conn, sites=site, allowed=principal.projects)


@router.post("/commands/{command_id}/claim", response_model=CommandInfo)
def claim_command(command_id: UUID, body: CommandClaim, principal: PrincipalDep,
                  db: DbDep) -> dict:
    """A sync service takes a command. It must have sent a heartbeat with this key, and an
    artist key's service takes only commands on its own site."""
    with db.write() as conn:
        command = _visible(conn, principal, command_id)
        serving = commands.service_site(conn, service_id=body.service_id,
                                        key_id=principal.key_id)
        if serving is None:
            raise conflict(f"Service '{body.service_id}' has sent no heartbeat with this key "
                           "lately; a service sends one before it takes commands.")
        if principal.role is auth.Role.ARTIST and serving != command["site"]:
            raise forbidden(f"Service '{body.service_id}' runs as site '{serving}'; an artist "
                            f"key's service takes no commands on site '{command['site']}'.")
        taken = commands.claim(conn, command_id=command_id, service_id=body.service_id)
        if taken is None:
            raise conflict(f"Command {command_id} is {command['status']} already; another "
                           "service has it or it is over.")
        _publish(conn, taken)
    return taken


@router.post("/commands/{command_id}/finish", response_model=CommandInfo)
def finish_command(command_id: UUID, body: CommandFinish, principal: PrincipalDep,
                   db: DbDep) -> dict:
    """The service that took a command reports how it ended."""
    with db.write() as conn:
        _visible(conn, principal, command_id)
        if commands.service_site(conn, service_id=body.service_id,
                                 key_id=principal.key_id) is None:
            raise forbidden(f"Service '{body.service_id}' does not run with this key.")
        done = commands.finish(conn, command_id=command_id, service_id=body.service_id,
                               ok=body.ok, result=body.result, message=body.message)
        if done is None:
            raise conflict(f"Command {command_id} is not running on service "
                           f"'{body.service_id}'; it was taken again or cancelled.")
        _publish(conn, done)
    return done


@router.post("/{project}/sites/{site_name}/commands", response_model=CommandInfo,
             status_code=201)
def request_command(project: ProjectDep, site_name: SiteName, body: CommandIn,
                    principal: PrincipalDep, db: DbDep) -> dict:
    """Ask the sync service of ``site_name`` to validate it, clear it from the project, or
    remove some representations' files from it. The command waits until a service of that
    site takes it; follow it with ``GET {project}/commands``."""
    deletes = body.action in commands.DELETES_FILES
    if deletes and site_name == STUDIO_SITE:
        raise bad_request(f"Site '{STUDIO_SITE}' holds the published files; its files are "
                          "never deleted by a command.")
    if body.action == "remove" and not body.representation_ids:
        raise bad_request("A 'remove' command needs representationIds: whose files to delete.")
    if body.action != "remove" and body.representation_ids:
        raise bad_request(f"representationIds are for 'remove' only, not '{body.action}'.")
    with db.write() as conn:
        if deletes and not commands.may_delete_on(conn, principal=principal, site=site_name):
            raise forbidden(f"This key may not delete files on site '{site_name}': only admin "
                            "and service keys, or the key the site's own sync service runs "
                            "with, may.")
        wanted = set(body.representation_ids)
        known = set(conn.execute(select(representations.c.id).where(
            representations.c.project_id == project.id,
            representations.c.id.in_(list(wanted)))).scalars()) if wanted else set()
        if wanted - known:
            unknown = ", ".join(sorted(str(r) for r in wanted - known)[:5])
            raise bad_request(f"Representation(s) {unknown} are not in project "
                              f"'{project.name}'.")
        command = commands.request(conn, project_id=project.id, site=site_name,
                                   action=body.action, key_id=principal.key_id,
                                   reset_missing=body.reset_missing,
                                   representation_ids=body.representation_ids)
        _publish(conn, command)
    return command


@router.get("/{project}/commands", response_model=list[CommandInfo])
def list_commands(project: ProjectDep, db: DbDep,
                  site: Annotated[SiteName | None, Query()] = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict]:
    """The project's commands, newest first (finished ones are kept a week)."""
    with db.read() as conn:
        return commands.list_for_project(conn, project_id=project.id, site=site, limit=limit)


@router.delete("/{project}/commands/{command_id}", status_code=204)
def cancel_command(project: ProjectDep, command_id: UUID, principal: PrincipalDep,
                   db: DbDep) -> Response:
    """Cancel a command no service has taken yet."""
    with db.write() as conn:
        command = _visible(conn, principal, command_id)
        if command["project"] != project.name:
            raise not_found("command", command_id)
        if not commands.cancel(conn, command_id=command_id):
            raise conflict(f"Command {command_id} is {command['status']}; only a queued "
                           "command can be cancelled.")
        _publish(conn, commands.get(conn, command_id=command_id))
    return Response(status_code=204)


def _visible(conn: Connection, principal: auth.Principal, command_id: UUID) -> dict:
    command = commands.find(conn, command_id=command_id)
    if command is None or not principal.may_use_project(command["project"]):
        raise not_found("command", command_id)
    return command
