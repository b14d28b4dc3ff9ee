"""Heartbeats of running sync services: who moves files where, and how fast."""
from __future__ import annotations

import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from server_addon.db.engine import upsert_insert
from server_addon.sitesync.tables import services

STALE_SECONDS = 30.0  # no heartbeat for this long: the service is shown as stale
GONE_SECONDS = 3600.0  # no heartbeat for this long: the service is forgotten


@dataclass(frozen=True)
class Heartbeat:
    service_id: str
    site: str
    host: str
    version: str
    pid: int
    projects: list[str]
    files_in_flight: int
    bytes_per_second: float


def record_heartbeat(conn: Connection, *, beat: Heartbeat, key_id: uuid.UUID,
                     now: float | None = None) -> bool:
    """Insert or refresh a service's row; False when its id belongs to another key's
    service (nothing is written then)."""
    now = now or time.time()
    values = {"service_id": beat.service_id, "site": beat.site, "host": beat.host,
              "version": beat.version, "pid": beat.pid,
              "projects": list(dict.fromkeys(beat.projects)),
              "files_in_flight": beat.files_in_flight,
              "bytes_per_second": beat.bytes_per_second, "started_at": now, "last_seen": now,
              "key_id": key_id}
    statement = upsert_insert(conn, services).values(values)
    refreshed = {name: statement.excluded[name] for name in values
                 if name not in ("service_id", "started_at", "key_id")}
    # Only the key that started a service may speak for it: another key's beat changes nothing.
    written = conn.execute(statement.on_conflict_do_update(
        index_elements=["service_id"], set_=refreshed,
        where=services.c.key_id == statement.excluded.key_id)
        .returning(services.c.service_id)).first() is not None
    conn.execute(delete(services).where(services.c.last_seen < now - GONE_SECONDS))
    return written


def list_services(conn: Connection, *, site: str | None = None,
                  allowed: Collection[str] | None = None, now: float | None = None
                  ) -> list[dict]:
    """Services heard from within ``GONE_SECONDS``, by site and id; with ``allowed`` (the
    projects a key may use) only those serving at least one of them."""
    now = now or time.time()
    query = select(services).where(services.c.last_seen >= now - GONE_SECONDS)
    if site is not None:
        query = query.where(services.c.site == site)
    found = []
    for row in conn.execute(query.order_by(services.c.site, services.c.service_id)):
        if allowed is not None and not set(row.projects) & set(allowed):
            continue
        found.append({"serviceId": row.service_id, "site": row.site, "host": row.host,
                      "version": row.version, "pid": row.pid, "projects": row.projects,
                      "filesInFlight": row.files_in_flight,
                      "bytesPerSecond": row.bytes_per_second, "startedAt": row.started_at,
                      "lastSeen": row.last_seen,
                      "stale": now - row.last_seen > STALE_SECONDS})
    return found
