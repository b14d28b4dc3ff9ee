import os
import signal
import subprocess
import sys
import time
import uuid

import requests
import sqlalchemy as sa

from server_addon import create_app
from server_addon.app import HOST_MIGRATIONS
from server_addon.sitesync.addon import SiteSyncServerAddon
from tests.conftest import ADMIN_KEY, free_port


def head(script_location) -> str:  # type: ignore[no-untyped-def]
    """The newest revision of a migrations folder, so new migrations need no test edit."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(script_location))
    return ScriptDirectory.from_config(config).get_current_head()


def test_second_start_is_a_no_op_migration(database_url):
    create_app(database_url, admin_api_key=ADMIN_KEY)
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        versions = {table: conn.execute(sa.text(f"SELECT version_num FROM {table}")).scalar()
                    for table in ("alembic_version", "alembic_version_sitesync")}
        tables = set(sa.inspect(conn).get_table_names())
    create_app(database_url, admin_api_key=ADMIN_KEY)
    with engine.connect() as conn:
        again = {table: conn.execute(sa.text(f"SELECT version_num FROM {table}")).scalar()
                 for table in versions}
    engine.dispose()
    assert versions == again == {"alembic_version": head(HOST_MIGRATIONS),
                                 "alembic_version_sitesync": head(SiteSyncServerAddon.migrations)}
    assert {"projects", "files", "sitesync_file_states", "sitesync_events"} <= tables


def test_upgrade_gives_existing_representations_their_folder(database_url):
    from alembic import command

    from server_addon.db import migrate
    from server_addon.db.engine import Database
    from server_addon.db.tables import metadata

    db = Database(database_url)
    config = migrate.alembic_config(HOST_MIGRATIONS, "alembic_version", metadata)
    with db.engine.begin() as conn:  # a database as the first release left it
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        ids = {name: uuid.uuid4() for name in ("project", "folder", "product", "version", "rep")}
        rows = [
            ("projects", {"id": ids["project"], "name": "old", "roots": {}, "created_at": 0.0}),
            ("folders", {"id": ids["folder"], "project_id": ids["project"], "path": "sh010"}),
            ("products", {"id": ids["product"], "project_id": ids["project"],
                          "folder_id": ids["folder"], "name": "plate", "product_type": "plate"}),
            ("versions", {"id": ids["version"], "project_id": ids["project"],
                          "product_id": ids["product"], "version": 1, "created_at": 0.0}),
            ("representations", {"id": ids["rep"], "project_id": ids["project"],
                                 "version_id": ids["version"], "name": "exr",
                                 "created_at": 0.0}),
        ]
        for name, row in rows:  # today's tables, but only the columns 0001 had
            conn.execute(metadata.tables[name].insert().values(row))
    db.engine.dispose()
    create_app(database_url, admin_api_key=ADMIN_KEY)
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        folder = conn.execute(sa.text("SELECT folder_id FROM representations")).scalar()
    engine.dispose()
    assert uuid.UUID(str(folder)) == ids["folder"]


def test_upgrade_gives_existing_file_states_their_size(database_url):
    from alembic import command

    from server_addon.db import migrate
    from server_addon.db.tables import metadata
    from server_addon.sitesync import tables as sync

    app = create_app(database_url, admin_api_key=ADMIN_KEY)
    config = migrate.alembic_config(SiteSyncServerAddon.migrations, "alembic_version_sitesync",
                                    sync.metadata)
    ids = {name: uuid.uuid4() for name in ("project", "folder", "product", "version", "rep",
                                           "file")}
    with app.state.db.engine.begin() as conn:  # file states as 0002 left them
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")
        for name, row in [
            ("projects", {"id": ids["project"], "name": "old", "roots": {}, "created_at": 0.0}),
            ("folders", {"id": ids["folder"], "project_id": ids["project"], "path": "sh010"}),
            ("products", {"id": ids["product"], "project_id": ids["project"],
                          "folder_id": ids["folder"], "name": "plate", "product_type": "plate"}),
            ("versions", {"id": ids["version"], "project_id": ids["project"],
                          "product_id": ids["product"], "version": 1, "created_at": 0.0}),
            ("representations", {"id": ids["rep"], "project_id": ids["project"],
                                 "version_id": ids["version"], "folder_id": ids["folder"],
                                 "name": "exr", "created_at": 0.0}),
            ("files", {"representation_id": ids["rep"], "id": ids["file"], "position": 0,
                       "path": "{root[work]}/a", "size": 1234, "hash": None}),
        ]:
            conn.execute(metadata.tables[name].insert().values(row))
        conn.execute(sync.site_states.insert().values(
            representation_id=ids["rep"], site="ws1", project_id=ids["project"], priority=50,
            status=1, paused=False, created_at=0.0, updated_at=0.0))
        columns = [c for c in sync.file_states.c if c.name != "file_size"]
        conn.execute(sa.insert(sa.table(sync.file_states.name, *[sa.column(c.name, c.type)
                                                                for c in columns])).values(
            representation_id=ids["rep"], site="ws1", file_id=ids["file"],
            project_id=ids["project"], status=1, size=0, progress=0.0, retries=0,
            paused=False, priority=50, queued_at=0.0, available_at=0.0, updated_at=0.0))
    app.state.db.dispose()
    app = create_app(database_url, admin_api_key=ADMIN_KEY)
    with app.state.db.read() as conn:
        assert conn.execute(sa.select(sync.file_states.c.file_size)).scalar_one() == 1234
    app.state.db.dispose()


def test_sqlite_runs_in_wal_mode(sqlite_url):
    app = create_app(sqlite_url, admin_api_key=ADMIN_KEY)
    with app.state.db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_sitesync_server_command_serves_and_stops(tmp_path):
    port = free_port()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "HOME": str(tmp_path)}
    env.pop("SITESYNC_ADMIN_API_KEY", None)
    env.pop("SITESYNC_DATABASE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "sitesync_addon.cli", "server",
                                "--port", str(port)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
                break
            except requests.ConnectionError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert health.json() == {"status": "ok", "database": "sqlite"}
        spec = requests.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).json()
        assert "/api/addons/sitesync/0.1.0/{project}/work/claim" in spec["paths"]
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "admin API key" in out
    assert list(tmp_path.rglob("sitesync.db"))  # embedded default in the user data dir
