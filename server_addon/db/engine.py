"""Database engines: embedded SQLite (WAL) by default, PostgreSQL for scale."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

DATABASE_URL_ENV = "SITESYNC_DATABASE_URL"


def default_database_url() -> str:
    """The URL from ``SITESYNC_DATABASE_URL``, else SQLite in the user data dir."""
    url = os.environ.get(DATABASE_URL_ENV)
    if url:
        return url
    data_dir = Path(platformdirs.user_data_dir("sitesync"))
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir / 'sitesync.db'}"


def create_db_engine(url: str) -> Engine:
    """An engine tuned for the backend behind ``url``."""
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    # Plan every statement for its values: psycopg prepares repeated statements, and a generic
    # plan ignores how skewed statuses, sites and filters are. No JIT: compiling costs more
    # than our short queries take. Index reads cost about what sequential ones do on SSDs and
    # cached data, which PostgreSQL's default of 4 assumes otherwise (spinning disks).
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True,
                         connect_args={"options": "-c plan_cache_mode=force_custom_plan "
                                                  "-c jit=off -c random_page_cost=1.1"})


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, emit BEGIN, so writers can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                       "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer that starts deferred can fail with SQLITE_BUSY when it upgrades its lock;
        # an immediate transaction waits for the lock instead.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def upsert_insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ``on_conflict_do_*`` for the connection's backend (both support it)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class Database:
    """An engine with read and write transactions that behave alike on both backends."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        self.is_postgres = self.engine.dialect.name == "postgresql"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        self.engine.dispose()
