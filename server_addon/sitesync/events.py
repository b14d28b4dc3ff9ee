"""Events that wake sync services and feed the dashboard.

Wake-ups: new work, reset, priority changed, paused, unpaused, reset_timer, settings. Live
data: ``progress`` (bytes of files moving, per report call) and ``state`` (a representation's
aggregated status on a site changed). Events are rows in the database, so every server
process sharing it sees them; waiters poll for rows newer than their cursor a few times a
second.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Sequence
from typing import Any, Literal, get_args

from sqlalchemy import Connection, and_, delete, func, insert, or_, select
from starlette.concurrency import run_in_threadpool

from server_addon.db.engine import Database
from server_addon.sitesync.tables import events

EventKind = Literal["new_work", "reset", "priority", "paused", "unpaused", "reset_timer",
                    "settings", "progress", "state"]
KINDS: tuple[str, ...] = get_args(EventKind)
POLL_SECONDS = 0.2
KEEP_SECONDS = 3600.0
# Progress is stale within seconds and comes every second from every moving service: keep a
# minute of it, pruned often, so it cannot grow the table by the hour.
PROGRESS_KEEP_SECONDS = 60.0
ITEMS_PER_EVENT = 1000  # a huge batch becomes several events, so no row grows unbounded
_PRUNE_EVERY = 500
_PRUNE_PROGRESS_EVERY = 100


def publish(conn: Connection, *, kind: EventKind, project: str | None,
            payload: dict[str, Any] | None = None) -> None:
    """Record an event in the caller's transaction; it is seen once that commits."""
    now = time.time()
    result = conn.execute(insert(events).values(project=project, kind=kind,
                                                payload=payload or {}, created_at=now))
    new_id = result.inserted_primary_key[0]
    if new_id % _PRUNE_PROGRESS_EVERY == 0:
        conn.execute(delete(events).where(events.c.kind == "progress",
                                          events.c.created_at < now - PROGRESS_KEEP_SECONDS))
    if new_id % _PRUNE_EVERY == 0:
        conn.execute(delete(events).where(events.c.created_at < now - KEEP_SECONDS))


def publish_items(conn: Connection, *, kind: EventKind, project: str | None,
                  items: Sequence[dict[str, Any]]) -> None:
    """``{"items": [...]}`` events, at most ``ITEMS_PER_EVENT`` items each; none if empty."""
    for start in range(0, len(items), ITEMS_PER_EVENT):
        publish(conn, kind=kind, project=project,
                payload={"items": list(items[start:start + ITEMS_PER_EVENT])})


def parse_kinds(text: str | None) -> tuple[str, ...] | None:
    """``"progress,state"`` -> the kinds; None for every kind. Unknown names: ValueError."""
    if text is None:
        return None
    names = [name.strip() for name in text.split(",")]
    unknown = [name for name in names if name not in KINDS]
    if unknown:
        raise ValueError(f"Unknown event kind(s) {', '.join(repr(n) for n in unknown)}; "
                         f"kinds is a comma list of {', '.join(KINDS)}.")
    return tuple(dict.fromkeys(names))


def last_id(conn: Connection) -> int:
    return conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one()


def since(conn: Connection, *, after: int, project: str | None,
          allowed: Collection[str] | None = None, kinds: Collection[str] | None = None,
          limit: int = 500) -> tuple[int, list[dict]]:
    """(the cursor to go on from, events after ``after`` that the caller may see).

    ``project`` narrows to one project (plus studio-wide events, project None); ``allowed``
    is every project the key may use (None: all), so a key never sees another project's
    events. The filter runs in SQL up to the newest id read first, so events that don't
    match still move the cursor on and are never read again.
    """
    newest = last_id(conn)
    where = [events.c.id > after, events.c.id <= newest]
    if project is not None:
        where.append(or_(events.c.project.is_(None), events.c.project == project))
    if allowed is not None:
        where.append(or_(events.c.project.is_(None), events.c.project.in_(list(allowed))))
    if kinds is not None:
        where.append(events.c.kind.in_(list(kinds)))
    rows = conn.execute(select(events).where(and_(*where)).order_by(events.c.id)
                        .limit(limit)).all()
    found = [{"id": row.id, "kind": row.kind, "project": row.project, "payload": row.payload,
              "createdAt": row.created_at} for row in rows]
    cursor = rows[-1].id if len(rows) == limit else max(after, newest)
    return cursor, found


async def wait_for_events(db: Database, *, after: int | None, project: str | None,
                          timeout: float, allowed: Collection[str] | None = None,
                          kinds: Collection[str] | None = None) -> tuple[int, list[dict]]:
    """Events after ``after`` (or from now, if None), waiting up to ``timeout`` for the first."""

    def read(cursor: int | None) -> tuple[int, list[dict]]:
        with db.read() as conn:
            if cursor is None:
                return last_id(conn), []
            return since(conn, after=cursor, project=project, allowed=allowed, kinds=kinds)

    cursor, found = await run_in_threadpool(read, after)
    deadline = time.monotonic() + timeout
    while not found and time.monotonic() < deadline:
        await asyncio.sleep(POLL_SECONDS)
        cursor, found = await run_in_threadpool(read, cursor)
    return cursor, found
