"""The error policy against a live server: a site that is down, refused credentials, a lease
that moved to another service. None of them may cost a file a retry or move it twice."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from sitesync_addon.status import SiteSyncStatus
from tests.servers.sshd import sshd  # noqa: F401
from tests.studio import PROJECT, Studio

SITE = "nas"


def wait_for(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def remote_site(studio: Studio, site: dict) -> None:
    admin = studio.publisher
    admin.client.http.put(f"/api/{admin.endpoint_prefix}/settings", json={
        "enabled": True, "config": {"retry_cnt": 3, "active_site": "studio",
                                    "remote_site": site["name"]}, "sites": [site]})
    admin.clear_caches()


def files_on(studio: Studio, rep: dict, site: str) -> list[dict]:
    state = studio.publisher.site_states(PROJECT, [rep["id"]], [site])[rep["id"]][site]
    return list(state["files"].values())


def test_a_site_down_for_a_while_costs_no_retries_and_everything_ends_ok(studio, tmp_path):
    nas = tmp_path / "nas"
    nas.mkdir()
    remote_site(studio, {"name": SITE, "provider": "local_drive",
                         "root": {"work": {"linux": str(nas)}}})
    unmounted = tmp_path / "nas-unmounted"
    nas.rename(unmounted)  # the share is not mounted
    rep = studio.publish("sh010", [1000] * 20)
    service = studio.publisher.create_service(SITE, state_dir=tmp_path / "state",
                                              site_backoff_cap=1.0)
    service.start()
    try:
        wait_for(lambda: all(f["message"] and "waiting for site 'nas'" in f["message"]
                             for f in files_on(studio, rep, SITE))
                 and SITE in service.health.held())
        time.sleep(2)  # held: several probes fail, no file is tried
        files = files_on(studio, rep, SITE)
        assert {f["status"] for f in files} == {int(SiteSyncStatus.QUEUED)}
        assert [f["retries"] for f in files] == [0] * 20 and service.failed == 0
        unmounted.rename(nas)  # mounted again
        wait_for(lambda: studio.publisher.is_representation_on_site(PROJECT, rep["id"], SITE))
    finally:
        service.stop()
    assert [f["retries"] for f in files_on(studio, rep, SITE)] == [0] * 20
    assert service.moved == 20 and service.failed == 0
    assert all((nas / f["path"].partition("/")[2]).is_file() for f in rep["files"])


def test_refused_credentials_hold_the_site_with_one_message(studio, sshd, tmp_path):  # noqa: F811
    settings = sshd.settings(sshd.area(), key_path={
        p: str(sshd.stranger_key) for p in ("linux", "darwin", "windows")})
    remote_site(studio, {"name": SITE, "provider": "sftp", "sftp": settings})
    rep = studio.publish("sh010", [1000] * 10)
    service = studio.publisher.create_service(SITE, state_dir=tmp_path / "state")
    assert service.run_until_idle() is False  # the site stays down: it says so
    files = files_on(studio, rep, SITE)
    assert [f["retries"] for f in files] == [0] * 10 and service.failed == 0
    assert {f["status"] for f in files} == {int(SiteSyncStatus.QUEUED)}
    [message] = {f["message"] for f in files}
    assert message.startswith(f"waiting for site '{SITE}'") and "AuthFailed" not in message
    assert SITE in service.health.held()


def test_a_lost_lease_cancels_the_transfer_and_the_file_moves_once(studio, tmp_path):
    nas = tmp_path / "nas"
    nas.mkdir()
    remote_site(studio, {"name": SITE, "provider": "local_drive",
                         "root": {"work": {"linux": str(nas)}}})
    rep = studio.publish("big", [48 * 1024 * 1024])
    # Progress (of the moving file too) every 2 s: the 1 s lease runs out while it stalls.
    slow = studio.publisher.create_service(SITE, state_dir=tmp_path / "a", concurrency=1,
                                           lease_seconds=1.0, log_progress_sec=2.0,
                                           moving_progress_sec=2.0)
    started, release = threading.Event(), threading.Event()

    class Stall:
        """Holds the first transfer after its first chunk until told to go on."""

        def started(self, item: dict) -> None:
            pass

        def advanced(self, item: dict, written: int) -> None:
            started.set()
            release.wait(10)

        def finished(self, item: dict, outcome: str) -> None:
            self.outcome = outcome

    stall = Stall()
    slow.observer = stall
    slow.start()
    try:
        assert started.wait(20)
        time.sleep(1.5)  # the lease expires while the transfer stalls
        claimed_by_other = studio.publisher.client.work.claim(PROJECT, "studio", SITE,
                                                              "another-host:nas", 10, 300)
        assert len(claimed_by_other) == 1  # the lease had expired: another service has it
        # Its next progress round tells the stalled service the lease is gone.
        wait_for(lambda: slow.reporter.lost_leases >= 1, 10)
        release.set()
        wait_for(lambda: getattr(stall, "outcome", None) is not None)
    finally:
        release.set()
        slow.stop()
    assert stall.outcome == "release"  # cancelled at its next chunk, not placed
    assert slow.moved == 0
    [file] = files_on(studio, rep, SITE)
    assert file["status"] == int(SiteSyncStatus.IN_PROGRESS) and file["retries"] == 0
    assert not (nas / rep["files"][0]["path"].partition("/")[2]).exists()
    assert not [p for p in Path(nas).rglob("*") if p.is_file()]  # no temp file left
