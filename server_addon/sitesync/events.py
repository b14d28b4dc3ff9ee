"""Events that wake sync services: new work, reset, priority changed, paused, reset_timer.

Events are rows in the database, so every server process sharing it sees them; waiters poll
for rows newer than their cursor a few times a second.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

from sqlalchemy import Connection, delete, func, insert, select
from starlette.concurrency import run_in_threadpool

from server_addon.db.engine import Database
from server_addon.sitesync.tables import events

EventKind = Literal["new_work", "reset", "priority", "paused", "unpaused", "reset_timer",
                    "settings"]
POLL_SECONDS = 0.2
KEEP_SECONDS = 3600.0
_PRUNE_EVERY = 500


def publish(conn: Connection, *, kind: EventKind, project: str | None,
            payload: dict[str, Any] | None = None) -> None:
    """Record an event in the caller's transaction; it is seen once that commits."""
    now = time.time()
    result = conn.execute(insert(events).values(project=project, kind=kind,
                                                payload=payload or {}, created_at=now))
    new_id = result.inserted_primary_key[0]
    if new_id % _PRUNE_EVERY == 0:
        conn.execute(delete(events).where(events.c.created_at < now - KEEP_SECONDS))


def last_id(conn: Connection) -> int:
    return conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one()


def since(conn: Connection, *, after: int, project: str | None,
          limit: int = 500) -> tuple[int, list[dict]]:
    """(the last id read, events after ``after`` for ``project`` or for everyone)."""
    rows = conn.execute(select(events).where(events.c.id > after).order_by(events.c.id)
                        .limit(limit)).all()
    found = [{"id": row.id, "kind": row.kind, "project": row.project, "payload": row.payload,
              "createdAt": row.created_at}
             for row in rows if project is None or row.project in (None, project)]
    return (rows[-1].id if rows else after), found


async def wait_for_events(db: Database, *, after: int | None, project: str | None,
                          timeout: float) -> tuple[int, list[dict]]:
    """Events after ``after`` (or from now, if None), waiting up to ``timeout`` for the first."""

    def read(cursor: int | None) -> tuple[int, list[dict]]:
        with db.read() as conn:
            if cursor is None:
                return last_id(conn), []
            return since(conn, after=cursor, project=project)

    cursor, found = await run_in_threadpool(read, after)
    deadline = time.monotonic() + timeout
    while not found and time.monotonic() < deadline:
        await asyncio.sleep(POLL_SECONDS)
        cursor, found = await run_in_threadpool(read, cursor)
    return cursor, found
