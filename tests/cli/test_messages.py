"""What the command line says when something is wrong: one literal line, the right exit code."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import requests

from tests.cli.test_cli import configure_site, publish, run, sample
from tests.conftest import free_port
from tests.studio import LOCAL_ID, PROJECT


def one_error_line(result: subprocess.CompletedProcess) -> str:  # type: ignore[type-arg]
    """The only line of stderr, which starts with ``error:``; exit code 1, no traceback."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_square_brackets_in_a_missing_file_name_are_printed(studio):
    missing = studio.tmp / "plate[left].exr"
    result = run(studio, "publish", PROJECT, "--folder", "shots/sh010", "--product", "plate",
                 "--version", 1, "--representation", "exr", missing, check=False,
                 site_id="publisher")
    assert str(missing) in one_error_line(result)


def test_a_folder_with_brackets_shows_in_the_status_table(studio):
    out = run(studio, "publish", PROJECT, "--folder", "shots/sh[010]", "--product", "plate",
              "--version", 1, "--representation", "exr", sample(studio), site_id="publisher",
              env={"COLUMNS": "200"}).stdout
    assert out.startswith("published 1 file(s) as representation ")
    table = run(studio, "status", PROJECT, env={"COLUMNS": "200"}).stdout
    assert "shots/sh[010]" in table


def test_a_directory_given_as_file_is_named_a_directory(studio):
    folder = studio.tmp / "renders"
    folder.mkdir()
    (folder / "a.exr").write_bytes(b"x")
    result = run(studio, "publish", PROJECT, "--folder", "shots/sh010", "--product", "plate",
                 "--version", 1, "--representation", "exr", folder, check=False,
                 site_id="publisher")
    line = one_error_line(result)
    assert f"{folder} is a directory" in line and f"e.g. {folder}/*" in line
    assert "missing" not in line


def _without_server_extra(studio, command):  # type: ignore[no-untyped-def]
    """Run ``sitesync COMMAND`` as if the server extra were not installed (no fastapi)."""
    code = ("import sys\nsys.modules['fastapi'] = None  # import fastapi now fails\n"
            "from sitesync_addon.framework.cli import main\n"
            f"sys.argv = ['sitesync', {command!r}]\nmain()\n")
    env = {**os.environ, "SITESYNC_SERVER_URL": studio.url,
           "XDG_STATE_HOME": str(studio.tmp / "state")}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, cwd=studio.tmp, check=False)


def test_demo_and_server_without_the_server_extra_name_it(studio):
    for command in ("demo", "server"):
        line = one_error_line(_without_server_extra(studio, command))
        assert f"sitesync {command}" in line and "pip install 'sitesync[server]'" in line


def test_a_provider_error_from_a_real_command_is_one_line(studio):
    """validate on an SFTP site nobody listens for: the provider's error, nothing more."""
    port = free_port()
    run(studio, "settings", "set", "--project", PROJECT, "--file", "-", stdin=json.dumps(
        {"sites": [{"name": "vendor", "provider": "sftp",
                    "sftp": {"host": "127.0.0.1", "port": port, "user": "sync",
                             "check_host_key": False}}]}))
    publish(studio, sample(studio))
    line = one_error_line(run(studio, "validate", PROJECT, "vendor", check=False))
    assert line.startswith("error: site 'vendor': cannot reach") and str(port) in line


def _disable_project(studio):  # type: ignore[no-untyped-def]
    run(studio, "settings", "set", "--project", PROJECT, "--file", "-",
        stdin=json.dumps({"enabled": False}))


def test_status_of_a_disabled_project_says_how_to_enable_it(studio):
    _disable_project(studio)
    line = one_error_line(run(studio, "status", PROJECT, check=False))
    assert f"not enabled for project '{PROJECT}'" in line
    assert f"sitesync settings set --project {PROJECT}" in line and '"enabled": true' in line
    missing = one_error_line(run(studio, "status", "nope", check=False))
    assert "Project 'nope' not found" in missing


def test_syncservice_names_each_disabled_project(studio):
    rep = publish(studio, sample(studio))
    run(studio, "add-site", PROJECT, rep["id"], LOCAL_ID)
    _disable_project(studio)
    result = run(studio, "syncservice", "--active_site", "local", "--once", "--quiet")
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"not enabled for project '{PROJECT}'" in lines[0]
    assert "not moved" in lines[0] and f"--project {PROJECT}" in lines[0]
    assert "moved 0 file(s)" in result.stdout
    assert not studio.local_path(rep["files"][0]).exists()


def test_add_site_refuses_a_site_the_project_does_not_configure(studio):
    configure_site(studio, "backup")
    rep = publish(studio, sample(studio))
    line = one_error_line(run(studio, "add-site", PROJECT, rep["id"], "bakup", check=False))
    assert f"site 'bakup' is not configured in project '{PROJECT}'" in line
    assert f"backup, local, studio, {LOCAL_ID}" in line
    assert "bakup" not in studio.artist.site_states(PROJECT, [rep["id"]])[rep["id"]]
    for site in ("backup", "local"):  # configured, and this machine's implicit site
        run(studio, "add-site", PROJECT, rep["id"], site)
    # another machine with site-scope settings in the project is a site too
    run(studio, "settings", "set", "--project", PROJECT, "--site-id", "ws2", "--file", "-",
        stdin=json.dumps({"active_site": "local"}))
    run(studio, "add-site", PROJECT, rep["id"], "ws2")
    assert {"backup", LOCAL_ID, "ws2"} <= set(
        studio.artist.site_states(PROJECT, [rep["id"]])[rep["id"]])


def _server(studio, port, db):  # type: ignore[no-untyped-def]
    env = {key: value for key, value in os.environ.items() if key != "SITESYNC_ADMIN_API_KEY"}
    return [sys.executable, "-m", "sitesync_addon.framework.cli", "server", "--port",
            str(port), "--database-url", f"sqlite:///{db}"], \
        {**env, "XDG_STATE_HOME": str(studio.tmp / "state")}


def test_server_on_a_port_in_use_fails_before_printing_or_creating_a_key(studio):
    db = studio.tmp / "taken.db"
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        args, env = _server(studio, port, db)
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60,
                                check=False)
    line = one_error_line(result)
    assert f"port {port} on 127.0.0.1 is in use" in line and "--port" in line
    assert result.stdout == "" and not db.exists()


def test_server_starts_on_a_free_port_and_prints_its_banner(studio):
    db, port = studio.tmp / "free.db", free_port()
    args, env = _server(studio, port, db)
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, \
                process.communicate()
            time.sleep(0.1)
    finally:
        process.send_signal(2)  # SIGINT, as Ctrl+C
        out, err = process.communicate(timeout=30)
    assert f"SiteSync server on http://127.0.0.1:{port} (sqlite)" in out
    assert "Created the first admin API key (shown once): ssk_" in out
    assert "server stopped" in out and "Traceback" not in err
