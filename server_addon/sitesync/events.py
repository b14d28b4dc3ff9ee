"""Events that wake sync services and feed the dashboard.

Wake-ups: new work, reset, priority changed, paused, unpaused, reset_timer, settings, and
``command`` (a site command asked for or changed). Live data: ``progress`` (bytes of files
moving, per report call) and ``state`` (a representation's aggregated status on a site
changed). Events are rows in the database, so every server
process sharing it sees them; one ``EventHub`` per process reads new rows a few times a
second and wakes every waiter.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections import deque
from collections.abc import Collection, Sequence
from typing import Any, Literal, get_args

from sqlalchemy import Connection, and_, delete, func, insert, or_, select
from starlette.concurrency import run_in_threadpool

from server_addon.db.engine import Database
from server_addon.sitesync.tables import events

EventKind = Literal["new_work", "reset", "priority", "paused", "unpaused", "reset_timer",
                    "settings", "progress", "state", "command"]
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


def _visible(event: dict[str, Any], project: str | None, allowed: Collection[str] | None,
             kinds: Collection[str] | None) -> bool:
    """The same rules as ``since``'s SQL, for events already read."""
    owner = event["project"]
    return ((project is None or owner in (None, project))
            and (allowed is None or owner is None or owner in allowed)
            and (kinds is None or event["kind"] in kinds))


class EventHub:
    """One reader of new events per server process (and database) for every waiter.

    It reads the events table every ``POLL_SECONDS`` while anyone waits, keeps the recent
    events in memory and wakes all waiters, which filter what they may see. So twenty open
    dashboard pages and a few sync services cost one small query per poll, not one each. A
    waiter asking for events older than the hub holds reads them from the database.
    """

    RECENT = 2_000  # events kept in memory, at most ...
    RECENT_SECONDS = 120.0  # ... and for at most this long (a batch may hold 1,000 items)

    def __init__(self, db: Database) -> None:
        self.db = db
        self.recent: deque[dict[str, Any]] = deque(maxlen=self.RECENT)
        self.base: int | None = None  # every event after this id is in ``recent``
        self.newest = 0
        self.waiters = 0
        self.changed: asyncio.Condition | None = None
        self.reading: asyncio.Lock | None = None
        self.read_at = 0.0  # monotonic time of the last read
        self.poller: asyncio.Task[None] | None = None

    async def wait(self, *, after: int | None, project: str | None, timeout: float,
                   allowed: Collection[str] | None,
                   kinds: Collection[str] | None) -> tuple[int, list[dict[str, Any]]]:
        if self.changed is None or self.reading is None:
            self.changed, self.reading = asyncio.Condition(), asyncio.Lock()
        if self.base is None:
            self.newest = await run_in_threadpool(self._last_id)
            self.base = self.newest
            self.read_at = time.monotonic()
        if after is None:
            return self.newest, []
        if after < self.base:  # older than the hub holds
            return await run_in_threadpool(self._since, after, project, allowed, kinds)
        polling = self.poller is not None and not self.poller.done()
        if timeout == 0 or not polling or time.monotonic() - self.read_at >= POLL_SECONDS:
            await self._read()  # a one-shot look, or nobody read lately: read now
        self.waiters += 1
        if self.poller is None or self.poller.done():
            self.poller = asyncio.create_task(self._poll())
        deadline = time.monotonic() + timeout
        try:
            async with self.changed:
                while True:
                    found = [e for e in self.recent if e["id"] > after
                             and _visible(e, project, allowed, kinds)]
                    remaining = deadline - time.monotonic()
                    if found or remaining <= 0:
                        return max(after, self.newest), found
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.changed.wait(), remaining)
        finally:
            self.waiters -= 1

    def _last_id(self) -> int:
        with self.db.read() as conn:
            return last_id(conn)

    def _since(self, after: int, project: str | None, allowed: Collection[str] | None,
               kinds: Collection[str] | None) -> tuple[int, list[dict[str, Any]]]:
        with self.db.read() as conn:
            return since(conn, after=after, project=project, allowed=allowed, kinds=kinds)

    async def _poll(self) -> None:
        while self.waiters:
            if await self._read() < 500:  # a full batch: read on at once
                await asyncio.sleep(POLL_SECONDS)

    async def _read(self) -> int:
        """Read the events after the newest one held, wake the waiters; how many came."""
        assert self.changed is not None and self.reading is not None
        async with self.reading:
            cursor, found = await run_in_threadpool(self._since, self.newest, None, None, None)
            self.read_at = time.monotonic()
            if cursor == self.newest:
                return 0
            for event in found:
                if len(self.recent) == self.recent.maxlen:
                    self.base = self.recent[0]["id"]
                self.recent.append(event)
            old = time.time() - self.RECENT_SECONDS
            while self.recent and self.recent[0]["createdAt"] < old:
                self.base = self.recent.popleft()["id"]
            self.newest = cursor
        async with self.changed:
            self.changed.notify_all()
        return len(found)


_hubs: weakref.WeakKeyDictionary[Database, EventHub] = weakref.WeakKeyDictionary()


async def wait_for_events(db: Database, *, after: int | None, project: str | None,
                          timeout: float, allowed: Collection[str] | None = None,
                          kinds: Collection[str] | None = None) -> tuple[int, list[dict]]:
    """Events after ``after`` (or from now, if None), waiting up to ``timeout`` for the first."""
    hub = _hubs.get(db)
    if hub is None:
        hub = _hubs[db] = EventHub(db)
    return await hub.wait(after=after, project=project, timeout=timeout, allowed=allowed,
                          kinds=kinds)
