"""Heartbeats of running sync services, and the list of them."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import Connection

from server_addon import auth
from server_addon.api.deps import DbDep, PrincipalDep
from server_addon.errors import conflict, forbidden
from server_addon.sitesync import services
from server_addon.sitesync.config import shared_site_names
from server_addon.sitesync.schemas import HeartbeatIn, ServiceInfo, SiteName
from server_addon.api.routing import TransactionRoute

router = APIRouter(tags=["sitesync services"], route_class=TransactionRoute)


@router.post("/services/heartbeat", status_code=204)
def heartbeat(body: HeartbeatIn, principal: PrincipalDep, db: DbDep) -> Response:
    """A running service says it is alive, what it serves and how busy it is (every 10 s)."""
    refused = [p for p in body.projects if not principal.may_use_project(p)]
    if refused:
        raise forbidden(f"This key may not use project(s) {', '.join(refused[:5])}.")
    beat = services.Heartbeat(
        service_id=body.service_id, site=body.site, host=body.host, version=body.version,
        pid=body.pid, projects=body.projects, files_in_flight=body.files_in_flight,
        bytes_per_second=body.bytes_per_second)
    with db.write() as conn:
        if principal.role is auth.Role.ARTIST:
            check_artist_service_site(conn, principal, body.site)
        if not services.record_heartbeat(conn, beat=beat, key_id=principal.key_id):
            raise conflict(f"Service id '{body.service_id}' is used by another key's service; "
                           "every service process needs an id of its own.")
    return Response(status_code=204)


@router.get("/services", response_model=list[ServiceInfo])
def list_services(principal: PrincipalDep, db: DbDep,
                  site: Annotated[SiteName | None, Query()] = None) -> list[dict]:
    """Services heard from in the last hour; ``stale`` after 30 s without a heartbeat.
    Artist keys see the services serving at least one of their projects."""
    with db.read() as conn:
        return services.list_services(conn, site=site, allowed=principal.projects)


def check_artist_service_site(conn: Connection, principal: auth.Principal, site: str) -> None:
    """Where a service runs decides where its key may have files deleted, so an artist key's
    service runs as its own machine only: a site id the key holds (the first key to use a
    free one gets it), never a shared site."""
    if site in shared_site_names(conn):
        raise forbidden(f"Site '{site}' is a shared site of the settings; an artist key's sync "
                        "service runs as its machine's local site id only.")
    if not auth.holds_site(conn, principal.key_id, site):
        raise forbidden(f"Site '{site}' is registered to another key, so this key's service "
                        f"may not run as it; if it is this machine, ask an admin to register "
                        f"'{site}' to this key (id {principal.key_id}).")
