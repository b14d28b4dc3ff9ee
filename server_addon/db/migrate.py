"""Alembic migrations, run at start for the host and for every addon with tables."""
from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text

from server_addon.db.engine import Database

_PG_MIGRATION_LOCK = 7_311_204  # any constant: serialises servers migrating one database


def alembic_config(script_location: Path, version_table: str, metadata: MetaData) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["version_table"] = version_table
    config.attributes["target_metadata"] = metadata
    return config


def upgrade(db: Database, script_location: Path, version_table: str, metadata: MetaData) -> None:
    """Bring one migration history to its head; a database already there is left alone."""
    config = alembic_config(script_location, version_table, metadata)
    with db.engine.connect() as conn:
        conn = conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            if db.is_postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            config.attributes["connection"] = conn
            command.upgrade(config, "head")


def run_env() -> None:
    """The body of every migrations folder's env.py."""
    attributes = context.config.attributes
    metadata: MetaData = attributes["target_metadata"]

    def own_tables_only(name: str | None, type_: str, _parent: object) -> bool:
        # Addons share one database; each history looks at its own tables only.
        return type_ != "table" or name in metadata.tables

    context.configure(
        connection=attributes["connection"],
        target_metadata=metadata,
        version_table=attributes["version_table"],
        include_name=own_tables_only,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
