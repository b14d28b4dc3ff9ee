"""The effective SiteSync settings of a project, as the server needs them."""
from __future__ import annotations

from sqlalchemy import Connection

from server_addon import settings_store
from server_addon.sitesync.settings import SiteSyncSettings

ADDON_NAME = "sitesync"
STUDIO_SITE = "studio"  # the studio's storage: it holds the published files


def project_settings(conn: Connection, project: str) -> SiteSyncSettings:
    studio = settings_store.load(conn, addon=ADDON_NAME, scope="studio") or {}
    override = settings_store.load(conn, addon=ADDON_NAME, scope="project", project=project)
    return SiteSyncSettings.model_validate(settings_store.merge(studio, override or {}))


def retry_count(conn: Connection, project: str) -> int:
    return project_settings(conn, project).config.retry_cnt
