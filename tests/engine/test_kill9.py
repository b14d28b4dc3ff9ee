"""kill -9 of `sitesync syncservice` in the middle of large transfers, then a restart."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from sitesync_addon.engine.temp_files import TEMP_SUFFIX
from sitesync_addon.hashing import hash_file
from tests.conftest import ADMIN_KEY, both_databases
from tests.studio import LOCAL_ID, PROJECT

MIB = 1024 * 1024


def service(studio, tmp_path) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = {**os.environ, "SITESYNC_SERVER_URL": studio.url, "SITESYNC_API_KEY": ADMIN_KEY,
           "SITESYNC_SITE_ID": LOCAL_ID, "XDG_STATE_HOME": str(tmp_path / "state")}
    return subprocess.Popen([sys.executable, "-m", "sitesync_addon.cli", "syncservice",
                             "--active_site", "local", "--once", "--quiet"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def partial_files(root):  # type: ignore[no-untyped-def]
    return list(root.rglob(f"*{TEMP_SUFFIX}"))


def assert_no_partial_file_under_a_final_name(studio, reps) -> None:  # type: ignore[no-untyped-def]
    for rep in reps:
        for file in rep["files"]:
            path = studio.local_path(file)
            if path.exists():
                assert hash_file(path) == file["hash"], f"{path} is partial or corrupt"


@pytest.mark.slow
@both_databases
def test_kill_9_mid_transfer_then_restart_completes(studio, tmp_path):
    reps = [studio.publish(f"sh{n}", [200 * MIB, 3 * MIB]) for n in range(3)]
    for rep in reps:
        studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    for delay in (0.0, 0.7):  # kill once as soon as bytes flow, once a little later
        process = service(studio, tmp_path)
        deadline = time.monotonic() + 60
        while not partial_files(studio.local_root):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert_no_partial_file_under_a_final_name(studio, reps)
    finished = service(studio, tmp_path)
    out, err = finished.communicate(timeout=300)
    assert finished.returncode == 0, (out, err)
    for rep in reps:
        assert studio.artist.is_representation_on_site(PROJECT, rep["id"], LOCAL_ID)
        for file in rep["files"]:
            assert hash_file(studio.local_path(file)) == file["hash"]
    assert partial_files(studio.local_root) == [] and partial_files(studio.root) == []


@pytest.mark.slow
def test_sigterm_stops_cleanly_and_releases_leases(studio, tmp_path):
    rep = studio.publish("sh1", [300 * MIB])
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    process = service(studio, tmp_path)
    deadline = time.monotonic() + 60
    while not partial_files(studio.local_root):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert partial_files(studio.local_root) == []
    assert not studio.local_path(rep["files"][0]).exists()
    state = studio.artist.site_states(PROJECT, [rep["id"]], [LOCAL_ID])[rep["id"]][LOCAL_ID]
    file_state = next(iter(state["files"].values()))
    assert file_state["status"] == 1 and file_state["progress"] == 0  # released, not leased
