"""The `sitesync` command line against a live server, as a user runs it (subprocesses)."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import pytest

from sitesync_addon.hashing import hash_file
from tests.conftest import ADMIN_KEY, free_port
from tests.studio import LOCAL_ID, PROJECT


def run(studio, *args, key=ADMIN_KEY, url=None, check=True, stdin=None,  # type: ignore[no-untyped-def]
        site_id=LOCAL_ID, env=None):
    env = {**os.environ, "SITESYNC_SERVER_URL": url or studio.url, "SITESYNC_API_KEY": key,
           "SITESYNC_SITE_ID": site_id, "XDG_STATE_HOME": str(studio.tmp / "state"),
           **(env or {})}
    # What the `sitesync` console script runs: SiteSync's commands and every addon's.
    result = subprocess.run([sys.executable, "-m", "sitesync_addon.framework.cli",
                             *map(str, args)],
                            env=env, capture_output=True, text=True, input=stdin)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def sample(studio, name="a.exr", size=50_000):  # type: ignore[no-untyped-def]
    path = studio.tmp / name
    path.write_bytes(os.urandom(size))
    return path


def publish(studio, *files, version=1, site_id="publisher"):  # type: ignore[no-untyped-def]
    """Publish as a studio machine (no local settings: its active site is studio)."""
    out = run(studio, "publish", PROJECT, "--folder", "shots/sh010", "--product", "plate",
              "--version", version, "--representation", "exr", *files, "--json",
              site_id=site_id).stdout
    return json.loads(out)


def test_every_command_has_help(studio):
    commands = ["server", "keys", "project", "settings", "publish", "status", "add-site",
                "remove-site", "reset", "pause", "unpause", "priority", "validate", "clear",
                "syncservice", "demo", "providers", "launch", "tray"]
    from sitesync_addon.framework import AddonManager
    from sitesync_addon.framework.cli import build

    main = build(AddonManager())
    assert set(commands) <= set(main.commands)
    for command in commands:
        assert main.commands[command].help, f"{command} has no help text"
        result = run(studio, command, "--help")
        assert "Usage:" in result.stdout and main.commands[command].help.split()[0] in \
            result.stdout


def test_publish_status_and_syncservice_once(studio):
    files = [sample(studio, f"f{i}.exr") for i in range(3)]
    rep = publish(studio, *files)
    assert [f["hash"] for f in rep["files"]] == [hash_file(f) for f in files]
    assert all(studio.studio_path(f).exists() for f in rep["files"])
    listing = json.loads(run(studio, "status", PROJECT, "--json").stdout)
    item = listing["representations"][0]
    assert listing["total"] == 1 and item["representationId"] == rep["representationId"]
    assert (item["localStatus"]["status"], item["remoteStatus"]["status"]) == (-1, 4)
    run(studio, "add-site", PROJECT, rep["id"], LOCAL_ID)
    result = run(studio, "syncservice", "--active_site", "local", "--once", "--quiet")
    assert "moved 3 file(s)" in result.stdout
    for file in rep["files"]:
        assert hash_file(studio.local_path(file)) == file["hash"]
    table = run(studio, "status", PROJECT).stdout
    assert "OK 100%" in table


def test_publish_on_a_workstation_uploads_to_studio(studio):
    rep = publish(studio, sample(studio), site_id=LOCAL_ID)
    file = rep["files"][0]
    assert studio.local_path(file).exists() and not studio.studio_path(file).exists()
    run(studio, "syncservice", "--active_site", "local", "--once", "--quiet")
    assert hash_file(studio.studio_path(file)) == file["hash"]
    assert studio.artist.is_representation_on_site(PROJECT, rep["id"], "studio")


def test_settings_get_and_set(studio, tmp_path):
    site_file = tmp_path / "site.json"
    site_file.write_text(json.dumps({"active_site": "local", "remote_site": "studio",
                                     "local_roots": [{"name": "work", "path": "/mnt/x"}]}))
    run(studio, "settings", "set", "--project", PROJECT, "--site-id", "ws9", "--file", site_file)
    got = json.loads(run(studio, "settings", "get", "--project", PROJECT, "--site-id", "ws9")
                     .stdout)
    assert got["local_roots"] == [{"name": "work", "path": "/mnt/x"}]
    run(studio, "settings", "set", "--project", PROJECT, "--file", "-",
        stdin=json.dumps({"config": {"retry_cnt": 7}}))
    resolved = json.loads(run(studio, "settings", "get", "--project", PROJECT, "--resolved")
                          .stdout)
    assert resolved["config"]["retry_cnt"] == 7
    studio_settings = json.loads(run(studio, "settings", "get").stdout)
    assert studio_settings["enabled"] is True
    bad = tmp_path / "bad.json"
    bad.write_text('{"config": {"retry_cnt": 0}}')
    result = run(studio, "settings", "set", "--file", bad, check=False)
    assert result.returncode == 1 and "retry_cnt" in result.stderr
    assert "Traceback" not in result.stderr


def configure_site(studio, name):  # type: ignore[no-untyped-def]
    """Configure a local-drive site ``name`` in the project."""
    root = studio.tmp / name
    root.mkdir(exist_ok=True)
    run(studio, "settings", "set", "--project", PROJECT, "--file", "-", stdin=json.dumps(
        {"sites": [{"name": name, "provider": "local_drive",
                    "root": {"work": {"linux": str(root)}}}]}))


def test_state_commands(studio):
    configure_site(studio, "backup")
    rep = publish(studio, sample(studio))
    rid = rep["id"]
    run(studio, "add-site", PROJECT, rid, "backup")
    again = run(studio, "add-site", PROJECT, rid, "backup", check=False)
    assert again.returncode == 1 and "force" in again.stderr
    run(studio, "add-site", PROJECT, rid, "backup", "--force")
    run(studio, "priority", PROJECT, rid, "backup", 700)
    run(studio, "pause", "--project", PROJECT, "--representation", rid, "--site", "backup")
    state = studio.artist.site_states(PROJECT, [rid], ["backup"])[rid]["backup"]
    assert state["priority"] == 700 and state["paused"] is True
    run(studio, "unpause", "--project", PROJECT, "--representation", rid, "--site", "backup")
    run(studio, "pause", "--project", PROJECT)
    assert studio.artist.is_project_paused(PROJECT)
    run(studio, "unpause", "--project", PROJECT)
    run(studio, "pause")
    assert studio.artist.is_paused()
    run(studio, "unpause")
    run(studio, "reset", PROJECT, rid, "--site", "backup")
    run(studio, "remove-site", PROJECT, rid, "backup")
    assert "backup" not in studio.artist.site_states(PROJECT, [rid])[rid]


def test_validate_and_clear(studio):
    rep = publish(studio, sample(studio))
    for file in rep["files"]:
        target = studio.local_path(file)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(studio.studio_path(file).read_bytes())
    result = run(studio, "validate", PROJECT, LOCAL_ID)
    assert "1 file(s) recorded as present" in result.stdout
    assert studio.artist.is_representation_on_site(PROJECT, rep["id"], LOCAL_ID)
    result = run(studio, "clear", PROJECT, LOCAL_ID)
    assert "1 file(s) deleted" in result.stdout
    assert not studio.local_path(rep["files"][0]).exists()
    refused = run(studio, "clear", PROJECT, "studio", check=False)
    assert refused.returncode == 1 and "studio" in refused.stderr


@pytest.mark.parametrize("args, words", [
    (("status", "nope"), "Project 'nope' not found"),
    (("add-site", PROJECT, "3f1c5b8e-0000-4000-8000-000000000000", LOCAL_ID),
     "does not exist"),
    (("add-site", PROJECT, "not-an-id", LOCAL_ID), "not a representation id"),
    (("publish", PROJECT, "--folder", "a", "--product", "b", "--version", "1",
      "--representation", "r", "/no/such/file.exr"), "missing file"),
    (("reset", PROJECT, "3f1c5b8e-0000-4000-8000-000000000000"), "--site or --side"),
])
def test_bad_input_is_one_line_and_non_zero(studio, args, words):
    result = run(studio, *args, check=False)
    assert result.returncode != 0
    assert words in result.stderr and "Traceback" not in result.stderr


def test_sync_disabled_server_down_and_bad_key(studio):
    rep = publish(studio, sample(studio))
    studio.publisher.client.http.put(f"/api/{studio.publisher.endpoint_prefix}/settings/{PROJECT}",
                             json={"enabled": False})
    disabled = run(studio, "add-site", PROJECT, rep["id"], "x", check=False)
    assert disabled.returncode == 1 and "not enabled" in disabled.stderr
    down = run(studio, "status", PROJECT, url=f"http://127.0.0.1:{free_port()}", check=False)
    assert down.returncode == 1 and "cannot reach" in down.stderr
    unauthorised = run(studio, "status", PROJECT, key="ssk_wrong", check=False)
    assert unauthorised.returncode == 1 and "401" in unauthorised.stderr


def _failing_target(studio, rep, prepare, preexec=None):  # type: ignore[no-untyped-def]
    """Queue ``rep`` for the local site, break the target with ``prepare``, run the service."""
    run(studio, "settings", "set", "--project", PROJECT, "--file", "-",
        stdin=json.dumps({"config": {"retry_cnt": 2}}))
    run(studio, "add-site", PROJECT, rep["id"], LOCAL_ID)
    prepare()
    env = {**os.environ, "SITESYNC_SERVER_URL": studio.url, "SITESYNC_API_KEY": ADMIN_KEY,
           "SITESYNC_SITE_ID": LOCAL_ID, "XDG_STATE_HOME": str(studio.tmp / "state")}
    result = subprocess.run([sys.executable, "-m", "sitesync_addon.cli", "syncservice",
                             "--active_site", "local", "--once", "--quiet"], env=env,
                            capture_output=True, text=True, preexec_fn=preexec)
    state = studio.artist.site_states(PROJECT, [rep["id"]], [LOCAL_ID])[rep["id"]][LOCAL_ID]
    return result, next(iter(state["files"].values()))


def test_full_target_fails_cleanly(studio):
    rep = publish(studio, sample(studio, size=200_000))
    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))  # noqa: E731
    result, file_state = _failing_target(studio, rep, lambda: None, preexec=limit)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert file_state["status"] == 2 and "too large" in file_state["message"]
    assert not studio.local_path(rep["files"][0]).exists()
    assert not list(studio.local_root.rglob("*.sitesync-part"))


def test_unwritable_target_fails_cleanly(studio):
    rep = publish(studio, sample(studio))
    blocker = studio.local_root / PROJECT  # a file where the target needs a folder

    result, file_state = _failing_target(studio, rep, lambda: blocker.write_text("not a dir"))
    assert result.returncode == 2
    assert file_state["status"] == 2 and "Error" in file_state["message"]
    assert blocker.read_text() == "not a dir"


def test_project_create_and_list(studio, tmp_path):
    out = run(studio, "project", "create", "second", "--root", f"work={tmp_path}", "--json")
    assert json.loads(out.stdout)["roots"] == {"work": {"linux": str(tmp_path)}}
    listed = json.loads(run(studio, "project", "list", "--json").stdout)
    assert sorted(p["name"] for p in listed) == [PROJECT, "second"]
    assert "second" in run(studio, "project", "list").stdout
    bad = run(studio, "project", "create", "third", "--root", "nopath", check=False)
    assert bad.returncode != 0 and "NAME=PATH" in bad.stderr
