"""The effective SiteSync settings of a project, as the server needs them."""
from __future__ import annotations

from sqlalchemy import Connection, select

from server_addon import settings_store
from server_addon.db.tables import addon_settings
from server_addon.sitesync.settings import SiteSyncSettings

ADDON_NAME = "sitesync"
STUDIO_SITE = "studio"  # the studio's storage: it holds the published files


def project_settings(conn: Connection, project: str) -> SiteSyncSettings:
    studio = settings_store.load(conn, addon=ADDON_NAME, scope="studio") or {}
    override = settings_store.load(conn, addon=ADDON_NAME, scope="project", project=project)
    return SiteSyncSettings.model_validate(settings_store.merge(studio, override or {}))


def retry_count(conn: Connection, project: str) -> int:
    return project_settings(conn, project).config.retry_cnt


def shared_site_names(conn: Connection) -> set[str]:
    """The studio and every site the studio's or a project's settings name: no machine's."""
    rows = conn.execute(select(addon_settings.c.data).where(
        addon_settings.c.addon == ADDON_NAME,
        addon_settings.c.scope.in_(("studio", "project")))).scalars()
    names = {STUDIO_SITE}
    for data in rows:
        sites = data.get("sites") if isinstance(data, dict) else None
        names.update(site["name"] for site in sites or ()
                     if isinstance(site, dict) and isinstance(site.get("name"), str))
    return names
