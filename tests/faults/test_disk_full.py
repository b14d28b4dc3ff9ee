"""The local site's disk fills up while a sync service downloads studio -> ws1.

A small tmpfs is mounted at ws1's root and files that together do not fit are published. A
full disk is a condition of the site, not of a file: the service holds the site with one
message, costs no file a retry, and resumes by itself once space frees. Meanwhile no final
name holds a partial file, no temporary file is left, and the server's state matches the
disk. Then the tmpfs grows and every file completes with the published bytes.

Needs root (``mount -t tmpfs``); skipped otherwise.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from sitesync_addon.client.types import FileSiteState
from sitesync_addon.engine.temp_files import TEMP_SUFFIX
from sitesync_addon.hashing import hash_file
from sitesync_addon.status import SiteSyncStatus
from tests.conftest import ADMIN_KEY
from tests.studio import LOCAL_ID, PROJECT, Studio

MIB = 1024 * 1024
DISK = "8M"  # the full disk: room for two of the large files, not for five
ROOMY = "64M"  # after space frees: room for everything
SIZES = [0, 1000, 300_000, 9 * MIB] + [3 * MIB + n for n in range(5)]  # the 9 MiB: kernel copy
WAIT = 180.0  # seconds a state may take to arrive on this busy machine (a deadline, not a bound)

T = TypeVar("T")
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


def wait_for(condition: Callable[[], T | None], what: Callable[[], str],
             timeout: float = WAIT) -> T:
    """Poll ``condition`` until it gives a value; on the deadline fail, saying ``what`` is
    seen."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"gave up waiting: {what()}"
        time.sleep(0.2)
    return value


@pytest.fixture
def small_disk(studio: Studio) -> Iterator[Path]:
    """ws1's root on an 8 MiB tmpfs, unmounted at the end (lazily if something holds it)."""
    root = studio.local_root
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK}", "sitesync-full", str(root)],
                   check=True)
    try:
        yield root
    finally:
        if subprocess.run(["umount", str(root)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(root)], check=True)


@pytest.fixture
def service(studio: Studio, small_disk: Path, tmp_path: Path) -> Iterator[subprocess.Popen]:
    """``sitesync syncservice --active_site local``, long running, stopped at the end."""
    env = {**os.environ, "SITESYNC_SERVER_URL": studio.url, "SITESYNC_API_KEY": ADMIN_KEY,
           "SITESYNC_SITE_ID": LOCAL_ID, "XDG_STATE_HOME": str(tmp_path / "state")}
    log = tmp_path / "service.log"
    with open(log, "wb") as output:  # a file, not a pipe: a pipe nobody reads would block it
        process = subprocess.Popen([sys.executable, "-m", "sitesync_addon.cli", "syncservice",
                                    "--active_site", "local", "--quiet"], env=env,
                                   stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT)
    process.log = log  # type: ignore[attr-defined]
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    print(log.read_text(errors="replace")[-3000:])


def file_states(studio: Studio, rep: dict) -> dict[str, FileSiteState]:
    state = studio.artist.site_states(PROJECT, [rep["id"]], [LOCAL_ID])[rep["id"]][LOCAL_ID]
    return dict(state["files"])


def temp_files(root: Path) -> list[Path]:
    return list(root.rglob(f"*{TEMP_SUFFIX}"))


def describe(studio: Studio, rep: dict) -> Callable[[], str]:
    def text() -> str:
        states = file_states(studio, rep)
        return "; ".join(f"{f['path'].rsplit('/', 1)[-1]}: status={states[f['id']]['status']} "
                         f"retries={states[f['id']]['retries']} "
                         f"message={states[f['id']]['message']!r}" for f in rep["files"])
    return text


def settled_while_full(studio: Studio, rep: dict,
                       root: Path) -> dict[str, FileSiteState] | None:
    """The file states once every file is either OK or back in the queue with a message,
    nothing moves and no temporary file is left; None before."""
    states = file_states(studio, rep)
    settled = all(s["status"] == SiteSyncStatus.OK
                  or (s["status"] != SiteSyncStatus.IN_PROGRESS and s["message"])
                  for s in states.values())
    return states if settled and not temp_files(root) else None


def assert_state_matches_disk(studio: Studio, rep: dict) -> None:
    """OK on the server means the published bytes on disk; anything else means nothing under
    the final name."""
    states = file_states(studio, rep)
    for file in rep["files"]:
        path, status = studio.local_path(file), states[file["id"]]["status"]
        if status == SiteSyncStatus.OK:
            assert hash_file(path) == file["hash"], f"{path} is OK but not the published bytes"
        else:
            assert not path.exists(), f"{path} is under its final name but {status!r}"


def assert_waits_for_space(state: FileSiteState) -> None:
    """A file that did not fit: waiting (not FAILED), no retry spent, one clear line."""
    message = state["message"] or ""
    assert state["status"] == SiteSyncStatus.QUEUED, state
    assert state["retries"] == 0, f"a full disk spent the file's retries: {state}"
    assert "\n" not in message and f"site '{LOCAL_ID}'" in message, message
    assert "no space left" in message.lower(), message
    assert "free space" in message.lower(), message  # says what to do


def test_a_full_local_disk_holds_the_site_and_resumes_when_space_frees(
        studio: Studio, small_disk: Path, service: subprocess.Popen) -> None:
    rep = studio.publish("sh010", SIZES)
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    show = describe(studio, rep)

    states = wait_for(lambda: settled_while_full(studio, rep, small_disk),
                      lambda: f"{show()}; temp files {temp_files(small_disk)}")
    assert service.poll() is None, "the service ended on a full disk"
    assert_state_matches_disk(studio, rep)
    waiting = [f for f in rep["files"] if states[f["id"]]["status"] != SiteSyncStatus.OK]
    assert waiting, f"everything fit on {DISK}: {show()}"
    for file in waiting:
        assert_waits_for_space(states[file["id"]])

    subprocess.run(["mount", "-o", f"remount,size={ROOMY}", str(small_disk)], check=True)
    freed = time.monotonic()
    wait_for(lambda: all(s["status"] == SiteSyncStatus.OK
                         for s in file_states(studio, rep).values()), show)
    assert service.poll() is None
    holds = service.log.read_text(errors="replace").count(  # type: ignore[attr-defined]
        f"holding site '{LOCAL_ID}'")
    print(f"figures disk={DISK} files={len(SIZES)} fit={len(SIZES) - len(waiting)} "
          f"waiting={len(waiting)} holds={holds} "
          f"resumed_in={time.monotonic() - freed:.1f}s")
    for file in rep["files"]:
        assert hash_file(studio.local_path(file)) == file["hash"]
    assert all(s["retries"] == 0 for s in file_states(studio, rep).values()), show()
    assert temp_files(small_disk) == [] and temp_files(studio.root) == []
