"""What a server addon is: a name, a version, settings models, routers and tables."""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import Connection, MetaData

from server_addon.settings_store import merge


class ServerAddon:
    """Subclass this and register it in the ``sitesync.server_addons`` entry point group.

    The host mounts ``routers()`` under ``/api/addons/{name}/{version}/``, serves the settings
    models there, and runs the addon's Alembic migrations (``migrations`` folder, own version
    table) before the app answers.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    settings_model: ClassVar[type[BaseModel]]
    site_settings_model: ClassVar[type[BaseModel] | None] = None
    metadata: ClassVar[MetaData | None] = None
    migrations: ClassVar[Path | None] = None

    @classmethod
    def prefix(cls) -> str:
        return f"/api/addons/{cls.name}/{cls.version}"

    def routers(self) -> list[APIRouter]:
        return []

    def resolve_settings(self, studio: dict, project: dict | None, site: dict | None) -> dict:
        """The effective settings of one project (and site id) from the stored scopes."""
        resolved = merge(studio, project or {})
        return self.settings_model.model_validate(resolved).model_dump(mode="json")

    def on_settings_saved(self, app_state: Any, project: str | None) -> None:
        """Called after any settings scope changed; ``project`` is None for studio scope."""

    def on_representation_files_replaced(self, conn: Connection, *,
                                         representation_id: UUID) -> None:
        """Called in the transaction that replaced a representation's files (old file rows
        are gone, their cascades done), so the addon can keep its own records consistent."""
