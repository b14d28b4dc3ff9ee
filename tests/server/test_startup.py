import os
import signal
import subprocess
import sys
import time

import requests
import sqlalchemy as sa

from server_addon import create_app
from tests.conftest import ADMIN_KEY, free_port


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
    assert versions == again == {"alembic_version": "0001", "alembic_version_sitesync": "0001"}
    assert {"projects", "files", "sitesync_file_states", "sitesync_events"} <= tables


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
