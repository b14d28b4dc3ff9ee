"""The host app: shared auth, catalog and settings, and every installed server addon."""
from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib.metadata import entry_points
from pathlib import Path

from fastapi import FastAPI

from server_addon import auth
from server_addon.addon import ServerAddon
from server_addon.api import addon_settings, catalog, health, keys, projects
from server_addon.db import Database, default_database_url
from server_addon.db import migrate
from server_addon.db.tables import metadata as host_metadata
from server_addon.errors import install_error_handlers
from sitesync_addon.version import __version__

log = logging.getLogger(__name__)

ADDON_ENTRY_POINT_GROUP = "sitesync.server_addons"
ADMIN_KEY_ENV = "SITESYNC_ADMIN_API_KEY"
HOST_MIGRATIONS = Path(__file__).parent / "db" / "migrations"
DASHBOARD_ADDON = "sitesync"  # the web dashboard shows this addon's sync state


def installed_addons() -> list[ServerAddon]:
    """One instance of every server addon registered by entry point; broken ones are skipped."""
    found = []
    for entry in entry_points(group=ADDON_ENTRY_POINT_GROUP):
        try:
            found.append(entry.load()())
        except Exception:  # a broken addon must not take the others down
            log.exception("server addon %r failed to load; skipped", entry.name)
    return found


def migrate_database(db: Database, addons: Sequence[ServerAddon]) -> None:
    migrate.upgrade(db, HOST_MIGRATIONS, "alembic_version", host_metadata)
    for addon in addons:
        if addon.migrations is not None and addon.metadata is not None:
            migrate.upgrade(db, addon.migrations, f"alembic_version_{addon.name}",
                            addon.metadata)


def ensure_admin_key(db: Database, admin_api_key: str | None) -> str | None:
    """Store the configured admin key, or make one when there is none; return a new key."""
    key = admin_api_key or os.environ.get(ADMIN_KEY_ENV)
    with db.write() as conn:
        if key:
            if not auth.key_is_stored(conn, key):
                auth.create_key(conn, name="admin", role=auth.Role.ADMIN, projects=None, key=key)
            return None
        if auth.has_admin_key(conn):
            return None
        generated, _ = auth.create_key(conn, name="admin", role=auth.Role.ADMIN, projects=None)
        return generated


def create_app(database_url: str | None = None, *, admin_api_key: str | None = None,
               addons: Sequence[ServerAddon] | None = None) -> FastAPI:
    """Build the server: migrate the database, make sure an admin key exists, mount addons.

    A generated admin key is left in ``app.state.generated_admin_key`` for the caller to show.
    """
    db = Database(database_url or default_database_url())
    addons = list(installed_addons() if addons is None else addons)
    migrate_database(db, addons)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        db.dispose()

    app = FastAPI(title="SiteSync server", version=__version__, lifespan=lifespan,
                  description="Catalog, settings and sync state of every file on every site.")
    app.state.db = db
    app.state.addons = {addon.name: addon for addon in addons}
    app.state.generated_admin_key = ensure_admin_key(db, admin_api_key)
    with db.write() as conn:  # signs dashboard sessions; shared by every server process
        app.state.session_secret = auth.session_secret(conn)
    install_error_handlers(app)
    for router in (health.router, keys.router, projects.router, catalog.router):
        app.include_router(router)
    for addon in addons:
        app.include_router(addon_settings.settings_router(addon))
        for router in addon.routers():
            app.include_router(router, prefix=addon.prefix())
    if DASHBOARD_ADDON in app.state.addons:
        from server_addon import web

        web.install(app)
    return app

