"""SiteSync as a server addon."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from sqlalchemy import Connection, select

from server_addon.addon import ServerAddon
from server_addon.settings_store import merge
from server_addon.sitesync import tables
from server_addon.sitesync.api import (commands, events, failures, pause, services, state,
                                       summary, work)
from server_addon.sitesync.config import ADDON_NAME
from server_addon.sitesync.settings import LocalSetting, SiteSyncSettings
from server_addon.sitesync.state import refresh_aggregates
from sitesync_addon.version import __version__


class SiteSyncServerAddon(ServerAddon):
    name = ADDON_NAME
    version = __version__
    settings_model = SiteSyncSettings
    site_settings_model = LocalSetting
    metadata = tables.metadata
    migrations = Path(__file__).parent / "migrations"

    def routers(self) -> list[APIRouter]:
        # Fixed paths first, so "/events" never reads as a project called "events".
        return [events.router, services.router, commands.router, pause.router, summary.router,
                state.router, work.router, failures.router]

    def resolve_settings(self, studio: dict, project: dict | None, site: dict | None) -> dict:
        resolved = SiteSyncSettings.model_validate(merge(studio, project or {}))
        local = LocalSetting.model_validate(site or {})
        return resolved.model_dump(mode="json") | {"local_setting": local.model_dump(mode="json")}

    def on_representation_files_replaced(self, conn: Connection, *,
                                         representation_id: UUID) -> None:
        """The old files' states went by cascade: every site of the representation now holds
        none of its files (NA) until a publisher stamps or resets it."""
        sites = conn.execute(select(tables.site_states.c.site).where(
            tables.site_states.c.representation_id == representation_id)).scalars()
        refresh_aggregates(conn, [(representation_id, site) for site in sites], time.time())

    def on_settings_saved(self, app_state: Any, project: str | None) -> None:
        from server_addon.sitesync import events as event_store

        with app_state.db.write() as conn:
            event_store.publish(conn, kind="settings", project=project)
