import os
import subprocess
import sys

import pytest

from tests.conftest import ADMIN_KEY
from tests.server.helpers import make_project, ok, publish


def make_key(api, role, projects=None):  # type: ignore[no-untyped-def]
    return ok(api.post("/api/keys", json={"role": role, "projects": projects}), 201)["key"]


@pytest.mark.parametrize("path", ["/api/projects", "/api/keys", "{api}/settings",
                                  "{api}/pause", "/api/keys/me"])
def test_every_endpoint_but_health_needs_a_key(api, path):
    response = api.with_key(None).get(path)
    assert response.status_code == 401
    assert "API key" in response.json()["detail"]
    assert api.with_key("ssk_wrong").get(path).status_code == 401


def test_key_in_x_api_key_header(api):
    response = api.with_key(None).get("/api/projects", headers={"x-api-key": ADMIN_KEY})
    assert response.status_code == 200


def test_keys_are_stored_hashed_and_revocable(api, server):
    key = make_key(api, "service")
    listed = ok(api.get("/api/keys"))
    assert all("key" not in item for item in listed)
    from sqlalchemy import select

    from server_addon.db.tables import api_keys
    with server.app.state.db.read() as conn:
        stored = [row.key_hash for row in conn.execute(select(api_keys.c.key_hash))]
    assert key not in stored and len(stored) == 2
    assert ok(api.with_key(key).get("/api/keys/me"))["role"] == "service"
    key_id = ok(api.with_key(key).get("/api/keys/me"))["id"]
    ok(api.delete(f"/api/keys/{key_id}"))
    assert api.with_key(key).get("/api/projects").status_code == 401


def test_roles(api):
    project = make_project(api, "allowed")
    make_project(api, "other")
    artist = api.with_key(make_key(api, "artist", ["allowed"]))
    service = api.with_key(make_key(api, "service"))
    assert [p["name"] for p in ok(artist.get("/api/projects"))] == ["allowed"]
    assert artist.get("/api/projects/other").status_code == 403
    assert artist.get("{api}/other/state", params={"localSite": "a", "remoteSite": "b"}
                      ).status_code == 403
    assert ok(artist.get("{api}/allowed/state", params={"localSite": "a", "remoteSite": "b"}
                         ))["total"] == 0
    # artists and services may publish; only admins create projects or manage keys
    publish(artist, project)
    for client in (artist, service):
        assert client.post("/api/projects", json={"name": "x", "roots": {"work": {}}}
                           ).status_code == 403
        assert client.get("/api/keys").status_code == 403
        assert client.put("{api}/settings", json={}).status_code == 403
    assert artist.put("{api}/pause", json={"paused": True}).status_code == 403
    assert ok(service.put("{api}/pause", json={"paused": True}))["paused"] is True


def test_first_start_generates_an_admin_key_once(sqlite_url):
    from server_addon import create_app

    env_key = os.environ.pop("SITESYNC_ADMIN_API_KEY", None)
    try:
        first = create_app(sqlite_url)
        second = create_app(sqlite_url)
    finally:
        if env_key is not None:
            os.environ["SITESYNC_ADMIN_API_KEY"] = env_key
    assert first.state.generated_admin_key.startswith("ssk_")
    assert second.state.generated_admin_key is None


def test_cli_manages_keys(api, server):
    env = {**os.environ, "SITESYNC_SERVER_URL": server.url, "SITESYNC_API_KEY": ADMIN_KEY}
    make_project(api, "P")
    created = subprocess.run(
        [sys.executable, "-m", "sitesync_addon.cli", "keys", "create", "--role", "artist",
         "--project", "P"], env=env, capture_output=True, text=True, check=True)
    key = created.stdout.strip()
    assert key.startswith("ssk_")
    me = ok(api.with_key(key).get("/api/keys/me"))
    assert me["role"] == "artist" and me["projects"] == ["P"]
    listed = subprocess.run([sys.executable, "-m", "sitesync_addon.cli", "keys", "list"],
                            env=env, capture_output=True, text=True, check=True)
    assert "artist" in listed.stdout and key not in listed.stdout


def test_cli_reports_bad_key_in_one_line(server):
    env = {**os.environ, "SITESYNC_SERVER_URL": server.url, "SITESYNC_API_KEY": "ssk_nope"}
    result = subprocess.run([sys.executable, "-m", "sitesync_addon.cli", "keys", "list"],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "401" in result.stderr and "SITESYNC_API_KEY" in result.stderr
