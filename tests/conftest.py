"""Fixtures shared by every test: databases, a live server on loopback, an API client."""
from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa

from server_addon import create_app
from server_addon.serve import uvicorn_server

ADMIN_KEY = "ssk_test_admin_key"
PG_ADMIN_URL = os.environ.get("SITESYNC_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
API = "/api/addons/sitesync/0.1.0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def pg_admin_engine() -> Iterator[sa.Engine]:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:  # fail loudly: PostgreSQL must run for these tests
        conn.execute(sa.text("SELECT 1"))
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin_engine: sa.Engine) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    name = f"sitesync_test_{uuid.uuid4().hex[:12]}"
    with pg_admin_engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with pg_admin_engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'sitesync.db'}"


def select_database(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


# Server tests run on both backends; client-side suites override this with SQLite only and
# opt into PostgreSQL per test with ``both_databases``.
database_url = pytest.fixture(params=["sqlite", "postgresql"])(select_database)
both_databases = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"],
                                         indirect=True)


class LiveServer:
    """uvicorn serving an app on 127.0.0.1 in a thread."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn_server(app, "127.0.0.1", self.port, graceful_shutdown=0.5)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


class Api:
    """requests against the live server, with a key; returns responses, asserts nothing."""

    def __init__(self, base_url: str, key: str | None) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        if key:
            self.session.headers["Authorization"] = f"Bearer {key}"

    def with_key(self, key: str | None) -> Api:
        return Api(self.base_url, key)

    def __getattr__(self, method: str):  # type: ignore[no-untyped-def]
        if method not in ("get", "post", "put", "delete"):
            raise AttributeError(method)

        def call(path: str, **kwargs):  # type: ignore[no-untyped-def]
            path = path.replace("{api}", API)
            return self.session.request(method.upper(), self.base_url + path, timeout=60,
                                        **kwargs)

        return call


@pytest.fixture
def server(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(create_app(database_url, admin_api_key=ADMIN_KEY)).start()
    yield live
    live.stop()


@pytest.fixture
def api(server: LiveServer) -> Api:
    return Api(server.url, ADMIN_KEY)


from tests.studio import running_service, studio  # noqa: E402,F401  (a fixture shared by client-side suites)
