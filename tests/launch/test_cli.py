"""`sitesync launch` as an artist's launcher runs it: a subprocess against the live server."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ADMIN_KEY
from tests.launch.conftest import CHILD, FOLDER, MACHINE_B, TASK, publish_workfile
from tests.studio import PROJECT, Studio


def sitesync_launch(studio: Studio, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SITESYNC_SERVER_URL": studio.url, "SITESYNC_API_KEY": ADMIN_KEY,
           "SITESYNC_SITE_ID": MACHINE_B}
    return subprocess.run([sys.executable, "-m", "sitesync_addon.cli", "launch", "--project",
                           PROJECT, "--folder", FOLDER, "--task", TASK, "--app", "nuke/15",
                           *args], env=env, capture_output=True, text=True)


def test_launch_fetches_the_workfile_and_exits_with_the_app_code(studio, machine_b, sync_b):
    rep = publish_workfile(studio, 3)
    out = studio.tmp / "received.json"
    result = sitesync_launch(studio, "--", sys.executable, "-c", CHILD, str(out))
    assert result.returncode == 7, result.stderr
    received = json.loads(out.read_text())
    workfile = machine_b.work_area() / "sh010_compositing_v004.nk"
    assert received["argv"] == [str(out), str(workfile)]
    assert received["env"]["SITESYNC_TASK"] == TASK
    assert workfile.read_bytes() == studio.studio_path(rep["files"][0]).read_bytes()
    assert f"copied shots/sh010/workfileCompositing v003 'nk' ({rep['id']})" in result.stderr


def test_launch_without_a_command_prints_the_workfile(studio, machine_b, tmp_path):
    chosen = tmp_path / "mine.nk"
    result = sitesync_launch(studio, "--workfile", str(chosen))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ready: {chosen}"


def test_a_timeout_is_a_one_line_error_and_the_app_never_starts(studio, machine_b):
    rep = publish_workfile(studio, 1)
    out = studio.tmp / "received.json"
    result = sitesync_launch(studio, "--timeout", "0.2", "--", sys.executable, "-c", CHILD,
                             str(out))
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: timed out after 0.2 s") and rep["id"] in last
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_bad_input_is_a_one_line_error(studio, machine_b):
    result = sitesync_launch(studio, "--app", "/15")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: give the application as group/variant, e.g. " \
        "maya/2025"
