"""FAILED files grouped by site and message, and retrying one group at once."""
from __future__ import annotations

import time
import uuid

from sqlalchemy import Connection, distinct, func, literal_column, select, update

from server_addon.sitesync.state import file_values, lock_site_states, refresh_aggregates
from server_addon.sitesync.tables import file_states
from sitesync_addon.status import SiteSyncStatus

_CHUNK = 500
# A literal, as the failures index's partial predicate is spelled, so SQLite uses it too.
_FAILED = literal_column(str(int(SiteSyncStatus.FAILED)))
# Files set FAILED without a message group under "". A literal, not a parameter, so
# PostgreSQL sees the grouped and the selected expression as one.
_message_text = func.coalesce(file_states.c.message, literal_column("''"))


def failure_groups(conn: Connection, *, project_id: uuid.UUID, site: str | None = None,
                   limit: int = 1000) -> list[dict]:
    """``[{message, site, files, representations, lastUpdate}]``, most files first."""
    where = [file_states.c.project_id == project_id, file_states.c.status == _FAILED]
    if site is not None:
        where.append(file_states.c.site == site)
    message = _message_text.label("message")
    files = func.count().label("files")
    query = (select(file_states.c.site, message, files,
                    func.count(distinct(file_states.c.representation_id)).label("reps"),
                    func.max(file_states.c.updated_at).label("last_update"))
             .where(*where).group_by(file_states.c.site, _message_text)
             .order_by(files.desc(), file_states.c.site, message).limit(limit))
    return [{"message": row.message, "site": row.site, "files": row.files,
             "representations": row.reps, "lastUpdate": row.last_update}
            for row in conn.execute(query)]


def retry_failed(conn: Connection, *, project_id: uuid.UUID, site: str, message: str,
                 now: float | None = None) -> int:
    """Queue again every FAILED file of ``site`` whose message is ``message`` (retries 0,
    message cleared, claimable now); the number of files queued."""
    now = now or time.time()
    match = [file_states.c.project_id == project_id, file_states.c.site == site,
             file_states.c.status == _FAILED, _message_text == message]
    rep_ids = list(conn.execute(select(file_states.c.representation_id).where(*match)
                                .distinct()).scalars())
    # Site states first, as every writer locks them, so two writers never cross.
    locked = sorted(rep_id for rep_id, _ in lock_site_states(conn, [(r, site) for r in rep_ids]))
    requeued = 0
    for start in range(0, len(locked), _CHUNK):
        chunk = locked[start:start + _CHUNK]
        result = conn.execute(update(file_states).where(
            *match, file_states.c.representation_id.in_(chunk))
            .values(file_values(SiteSyncStatus.QUEUED, 0, now)))
        requeued += result.rowcount
    refresh_aggregates(conn, [(rep_id, site) for rep_id in locked], now)
    return requeued
