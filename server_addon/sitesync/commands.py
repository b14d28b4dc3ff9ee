"""Site commands: work on a site's files that only a sync service of that site can do.

The server cannot reach a site's storage, so validating a site (record what is there),
clearing it from a project (delete its copies and forget it) or removing some
representations' files is asked for here and carried out by a running sync service of that
site, which claims the command, does it and reports the result. A command whose service
stopped answering while it ran can be claimed again: every action is safe to repeat.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Collection, Sequence
from typing import Any, Literal, get_args

from sqlalchemy import Connection, and_, delete, exists, insert, or_, select, update

from server_addon.auth import Principal, Role
from server_addon.db.tables import projects
from server_addon.sitesync.config import STUDIO_SITE, shared_site_names
from server_addon.sitesync.services import STALE_SECONDS
from server_addon.sitesync.tables import services, site_commands

Action = Literal["validate", "clear", "remove"]
ACTIONS: tuple[str, ...] = get_args(Action)
DELETES_FILES = frozenset({"clear", "remove"})
OPEN = ("queued", "running")
KEEP_SECONDS = 7 * 24 * 3600.0  # finished commands are shown for a week
# A running command is orphaned when its service has been quiet for this long.
ORPHANED_AFTER = 2 * STALE_SECONDS


def request(conn: Connection, *, project_id: uuid.UUID, site: str, action: Action,
            key_id: uuid.UUID, reset_missing: bool = False,
            representation_ids: Sequence[uuid.UUID] = ()) -> dict:
    """Queue a command; it runs once a service of ``site`` claims it."""
    now = time.time()
    conn.execute(delete(site_commands).where(site_commands.c.status.not_in(OPEN),
                                             site_commands.c.finished_at < now - KEEP_SECONDS))
    command_id = uuid.uuid4()
    conn.execute(insert(site_commands).values(
        id=command_id, project_id=project_id, site=site, action=action,
        reset_missing=reset_missing, representation_ids=[str(r) for r in representation_ids],
        status="queued", requested_by=key_id, requested_at=now))
    return get(conn, command_id=command_id)


def get(conn: Connection, *, command_id: uuid.UUID) -> dict:
    row = conn.execute(_with_project().where(site_commands.c.id == command_id)).one()
    return _info(row)


def find(conn: Connection, *, command_id: uuid.UUID) -> dict | None:
    row = conn.execute(_with_project().where(site_commands.c.id == command_id)).first()
    return _info(row) if row else None


def list_for_project(conn: Connection, *, project_id: uuid.UUID, site: str | None = None,
                     limit: int = 50) -> list[dict]:
    """The project's newest commands first."""
    query = _with_project().where(site_commands.c.project_id == project_id)
    if site is not None:
        query = query.where(site_commands.c.site == site)
    rows = conn.execute(query.order_by(site_commands.c.requested_at.desc()).limit(limit))
    return [_info(row) for row in rows]


def claimable(conn: Connection, *, sites: Collection[str],
              allowed: Collection[str] | None, now: float | None = None) -> list[dict]:
    """Commands on ``sites`` a service may take now: queued ones and orphaned ones, oldest
    first; with ``allowed`` (a key's projects) only theirs."""
    query = _with_project().where(site_commands.c.site.in_(list(sites)),
                                  _claimable(now or time.time()))
    if allowed is not None:
        query = query.where(projects.c.name.in_(list(allowed)))
    rows = conn.execute(query.order_by(site_commands.c.requested_at).limit(100))
    return [_info(row) for row in rows]


def claim(conn: Connection, *, command_id: uuid.UUID, service_id: str) -> dict | None:
    """Take a command for ``service_id``; None when it is not (or no longer) claimable."""
    now = time.time()
    taken = conn.execute(
        update(site_commands).where(site_commands.c.id == command_id, _claimable(now))
        .values(status="running", service_id=service_id, started_at=now)
        .returning(site_commands.c.id)).first()
    return get(conn, command_id=command_id) if taken else None


def finish(conn: Connection, *, command_id: uuid.UUID, service_id: str, ok: bool,
           result: dict[str, int], message: str | None) -> dict | None:
    """Record the outcome; None unless ``service_id`` holds the running command."""
    done = conn.execute(
        update(site_commands).where(site_commands.c.id == command_id,
                                    site_commands.c.status == "running",
                                    site_commands.c.service_id == service_id)
        .values(status="done" if ok else "failed", finished_at=time.time(), result=result,
                message=message)
        .returning(site_commands.c.id)).first()
    return get(conn, command_id=command_id) if done else None


def cancel(conn: Connection, *, command_id: uuid.UUID) -> bool:
    """Cancel a command no service has taken yet; False when it is running or over."""
    return conn.execute(
        update(site_commands).where(site_commands.c.id == command_id,
                                    site_commands.c.status == "queued")
        .values(status="cancelled", finished_at=time.time())
        .returning(site_commands.c.id)).first() is not None


def served_sites(conn: Connection, *, key_id: uuid.UUID) -> set[str]:
    """The sites that sync services running with this key serve now."""
    recent = time.time() - ORPHANED_AFTER
    return set(conn.execute(select(services.c.site).where(
        services.c.key_id == key_id, services.c.last_seen >= recent)).scalars())


def live_sites(conn: Connection) -> set[str]:
    """The sites some sync service serves now."""
    return set(conn.execute(select(services.c.site).where(
        services.c.last_seen >= time.time() - ORPHANED_AFTER)).scalars())


def may_delete_on(conn: Connection, *, principal: Principal, site: str) -> bool:
    """Admin and service keys may have files deleted on any site (but the studio's); an
    artist key on a site whose sync service runs with that key: its own machine, never a
    shared site (even one an artist's service ran as before the settings named it)."""
    if site == STUDIO_SITE:
        return False
    if principal.role is not Role.ARTIST:
        return True
    return (site in served_sites(conn, key_id=principal.key_id)
            and site not in shared_site_names(conn))


def _claimable(now: float) -> Any:
    service_alive = exists().where(services.c.service_id == site_commands.c.service_id,
                                   services.c.last_seen >= now - ORPHANED_AFTER)
    return or_(site_commands.c.status == "queued",
               and_(site_commands.c.status == "running", ~service_alive))


def _with_project() -> Any:
    return (select(site_commands, projects.c.name.label("project"))
            .join(projects, projects.c.id == site_commands.c.project_id))


def _info(row: Any) -> dict:
    return {"id": row.id, "project": row.project, "site": row.site, "action": row.action,
            "resetMissing": row.reset_missing, "representationIds": row.representation_ids,
            "status": row.status, "requestedAt": row.requested_at,
            "serviceId": row.service_id, "startedAt": row.started_at,
            "finishedAt": row.finished_at, "result": row.result, "message": row.message}


def service_site(conn: Connection, *, service_id: str, key_id: uuid.UUID) -> str | None:
    """The site of a live service that runs with this key; None if there is none."""
    return conn.execute(select(services.c.site).where(
        services.c.service_id == service_id, services.c.key_id == key_id,
        services.c.last_seen >= time.time() - ORPHANED_AFTER)).scalar_one_or_none()
