"""Per project and site: how many representations are in each status, bytes still to move.

Counts come from one grouped query over site states (their aggregated status, pause
applied), bytes from one over the file states the queue can hand out (the queue index; each
keeps its file's full size, so no join), whatever the number of representations.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, Select, case, false, func, literal_column, select

from server_addon.db.tables import addon_settings
from server_addon.settings_store import merge
from server_addon.sitesync.config import ADDON_NAME
from server_addon.sitesync.settings import SiteSyncSettings
from server_addon.sitesync.tables import file_states, paused_projects, site_states
from sitesync_addon.status import SiteSyncStatus

_COUNTED = {SiteSyncStatus.OK: "ok", SiteSyncStatus.QUEUED: "queued",
            SiteSyncStatus.IN_PROGRESS: "inProgress", SiteSyncStatus.FAILED: "failed",
            SiteSyncStatus.PAUSED: "paused"}


def project_summaries(conn: Connection, *, projects: Sequence[dict]) -> list[dict]:
    """``[{name, enabled, paused, sites: [{site, ok, queued, ..., bytesQueued}]}]`` of
    ``projects`` (rows with ``id`` and ``name``), sorted by name, sites by name."""
    if not projects:
        return []
    ids = [p["id"] for p in projects]
    sites: dict[tuple[uuid.UUID, str], dict] = {}

    def site_of(project_id: uuid.UUID, site: str) -> dict:
        return sites.setdefault((project_id, site), {
            "site": site, **{name: 0 for name in _COUNTED.values()}, "bytesQueued": 0})

    counts = select(site_states.c.project_id, site_states.c.site, site_states.c.status,
                    func.count().label("n")).where(site_states.c.project_id.in_(ids)
                    ).group_by(site_states.c.project_id, site_states.c.site,
                               site_states.c.status)
    for row in conn.execute(counts):
        entry = site_of(row.project_id, row.site)
        name = _COUNTED.get(row.status)  # NA is not counted
        if name is not None:
            entry[name] += row.n
    for row in conn.execute(_bytes_queued(ids)):
        site_of(row.project_id, row.site)["bytesQueued"] = int(row.missing or 0)
    paused = set(conn.execute(select(paused_projects.c.project_id).where(
        paused_projects.c.project_id.in_(ids))).scalars())
    enabled = enabled_by_project(conn, [p["name"] for p in projects])
    return [{"name": p["name"], "enabled": enabled[p["name"]], "paused": p["id"] in paused,
             "sites": sorted((entry for (pid, _), entry in sites.items() if pid == p["id"]),
                             key=lambda entry: entry["site"])}
            for p in sorted(projects, key=lambda p: p["name"])]


def _bytes_queued(project_ids: list[uuid.UUID]) -> Select:
    """Bytes not yet on the target of every file queued or moving, per project and site."""
    missing = case((file_states.c.file_size > file_states.c.size,
                    file_states.c.file_size - file_states.c.size), else_=0)
    return (select(file_states.c.project_id, file_states.c.site,
                   func.sum(missing).label("missing"))
            # Spelled as the queue index's partial predicate, so both backends use it.
            .where(file_states.c.project_id.in_(project_ids),
                   file_states.c.status.in_([
                       literal_column(str(int(SiteSyncStatus.IN_PROGRESS))),
                       literal_column(str(int(SiteSyncStatus.QUEUED)))]),
                   file_states.c.paused == false())
            .group_by(file_states.c.project_id, file_states.c.site))


def enabled_by_project(conn: Connection, names: Sequence[str]) -> dict[str, bool]:
    """``{project: SiteSync enabled}`` from studio settings and project overrides, read in
    one query however many projects there are."""
    stored = {(row.scope, row.project): row.data for row in conn.execute(
        select(addon_settings.c.scope, addon_settings.c.project, addon_settings.c.data).where(
            addon_settings.c.addon == ADDON_NAME, addon_settings.c.site_id == "",
            ((addon_settings.c.scope == "studio") & (addon_settings.c.project == ""))
            | ((addon_settings.c.scope == "project")
               & addon_settings.c.project.in_(list(names)))))}
    studio = stored.get(("studio", ""), {})
    default = SiteSyncSettings.model_fields["enabled"].default
    return {name: bool(merge(studio, stored.get(("project", name), {})).get("enabled", default))
            for name in names}
