"""Pause flags on the whole server and on projects (representation pauses live in the state)."""
from __future__ import annotations

import time
import uuid

from sqlalchemy import Connection, delete, select

from server_addon.db.engine import upsert_insert
from server_addon.sitesync.tables import flags, paused_projects

_SERVER_PAUSED = "server_paused"


def set_server_paused(conn: Connection, *, paused: bool) -> None:
    if paused:
        conn.execute(upsert_insert(conn, flags).values(name=_SERVER_PAUSED, value="1")
                     .on_conflict_do_nothing())
    else:
        conn.execute(delete(flags).where(flags.c.name == _SERVER_PAUSED))


def is_server_paused(conn: Connection) -> bool:
    return conn.execute(select(flags.c.value).where(flags.c.name == _SERVER_PAUSED)).first() \
        is not None


def set_project_paused(conn: Connection, *, project_id: uuid.UUID, paused: bool) -> None:
    if paused:
        conn.execute(upsert_insert(conn, paused_projects).values(project_id=project_id,
                                                           paused_at=time.time())
                     .on_conflict_do_nothing())
    else:
        conn.execute(delete(paused_projects).where(paused_projects.c.project_id == project_id))


def is_project_paused(conn: Connection, *, project_id: uuid.UUID) -> bool:
    query = select(paused_projects.c.project_id).where(paused_projects.c.project_id == project_id)
    return conn.execute(query).first() is not None
