"""The sync engine end to end: live server, real files, the real sync thread."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sitesync_addon import SiteSyncAddon
from sitesync_addon.engine.config import CLAIM_LIMIT
from sitesync_addon.engine.temp_files import TEMP_SUFFIX
from sitesync_addon.hashing import hash_file
from sitesync_addon.client import ADDON_PREFIX
from sitesync_addon.client.http import Http
from sitesync_addon.client.work import Work
from sitesync_addon.errors import ServerError
from sitesync_addon.status import SiteSyncStatus
from tests.conftest import ADMIN_KEY, Api, both_databases
from tests.server.helpers import artist_with_id
from tests.studio import LOCAL_ID, PROJECT, Throttle


def wait_for(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def thread(studio, tmp_path):  # type: ignore[no-untyped-def]
    sync = studio.artist.create_service(state_dir=tmp_path / "state")
    yield sync
    sync.stop()


def no_temp_files(*roots) -> bool:  # type: ignore[no-untyped-def]
    return not [p for root in roots for p in root.rglob(f"*{TEMP_SUFFIX}")]


@both_databases
def test_fifty_representations_reach_the_local_site(studio, thread):
    reps = [studio.publish(f"sh{n:03d}", [1000 + n, 20_000, 300_000]) for n in range(50)]
    for rep in reps:
        studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    assert thread.run_until_idle() is True
    for rep in reps:
        assert studio.artist.is_representation_on_site(PROJECT, rep["id"], LOCAL_ID)
        for file in rep["files"]:
            assert hash_file(studio.local_path(file)) == file["hash"]
    assert no_temp_files(studio.root, studio.local_root)
    assert thread.moved == 150 and thread.failed == 0


def test_running_thread_wakes_on_new_work_within_a_second(studio, thread):
    thread.start()
    time.sleep(0.5)  # idle, waiting for loop_delay (60 s) or an event
    rep = studio.publish("sh010", [50_000])
    started = time.monotonic()
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    wait_for(lambda: studio.artist.is_representation_on_site(PROJECT, rep["id"], LOCAL_ID), 5)
    assert time.monotonic() - started < 1.5


def test_running_thread_retries_a_failed_file_when_its_backoff_ends(studio, thread):
    settings = f"/api/{studio.publisher.endpoint_prefix}/settings"
    studio.publisher.client.http.put(settings, json={"enabled": True, "config": {"retry_cnt": 50}})
    rep = studio.publish("sh010", [20_000])
    source = studio.studio_path(rep["files"][0])
    hidden = source.with_name("hidden")
    source.rename(hidden)
    thread.start()
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    wait_for(lambda: thread.failed >= 1, 10)
    hidden.rename(source)  # no event: only the backoff brings the service back (loop is 60 s)
    wait_for(lambda: studio.artist.is_representation_on_site(PROJECT, rep["id"], LOCAL_ID), 15)


@pytest.mark.parametrize("size", [10_000, 9 * 1024 * 1024])  # streamed, kernel-copied
def test_corrupt_source_retries_then_fails_with_message(studio, thread, size):
    rep = studio.publish("sh010", [size, 10_000])
    studio.studio_path(rep["files"][0]).write_bytes(b"x" * size)  # same size, other bytes
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    assert thread.run_until_idle() is False
    files = studio.artist.site_states(PROJECT, [rep["id"]], [LOCAL_ID])[rep["id"]][LOCAL_ID][
        "files"]
    bad, good = files[rep["files"][0]["id"]], files[rep["files"][1]["id"]]
    assert bad["status"] == SiteSyncStatus.FAILED and bad["retries"] == 3
    assert "hash" in bad["message"]
    assert good["status"] == SiteSyncStatus.OK
    assert not studio.local_path(rep["files"][0]).exists()  # never under its final name
    assert no_temp_files(studio.local_root)


def test_priority_orders_the_work(studio, thread):
    low = studio.publish("low", [1000])
    high = studio.publish("high", [1000])
    order = []
    thread.observer = type("Recorder", (), {
        "started": lambda self, item: order.append(item["representationId"]),
        "advanced": lambda self, item, written: None,
        "finished": lambda self, item, outcome: None})()
    thread.concurrency = 1
    studio.artist.add_site(PROJECT, low["id"], LOCAL_ID)
    studio.artist.add_site(PROJECT, high["id"], LOCAL_ID)
    studio.artist.update_db(PROJECT, high["id"], LOCAL_ID, priority=900)
    thread.run_until_idle()
    assert order == [high["id"], low["id"]]


def test_pause_stops_a_transfer_between_chunks(studio, thread):
    rep = studio.publish("big", [256 * 1024 * 1024])
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    throttle = thread.observer = Throttle(0.05)
    thread.start()
    wait_for(lambda: throttle.chunks >= 2)
    studio.artist.pause_representation(PROJECT, rep["id"], LOCAL_ID)
    wait_for(lambda: studio.artist.get_progress_for_repre(
        PROJECT, rep["id"], LOCAL_ID)[LOCAL_ID] == 0 and no_temp_files(studio.local_root), 10)
    assert throttle.chunks < 32  # stopped well before the 32 chunks of the file
    assert not studio.local_path(rep["files"][0]).exists()
    thread.observer = None
    studio.artist.unpause_representation(PROJECT, rep["id"], LOCAL_ID)
    wait_for(lambda: studio.artist.is_representation_on_site(PROJECT, rep["id"], LOCAL_ID))
    assert hash_file(studio.local_path(rep["files"][0])) == rep["files"][0]["hash"]


def test_server_pause_is_honoured(studio, thread):
    rep = studio.publish("sh010", [1000])
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    studio.artist.pause_server()
    assert thread.run_once() is False
    studio.artist.unpause_server()
    assert thread.run_until_idle() is True


DEAD_SERVICE = """
import sys, time
from pathlib import Path
from sitesync_addon.engine.slots import ServiceSlot
slot = ServiceSlot(Path(sys.argv[1]), sys.argv[2])
slot.journal.add(sys.argv[3], sys.argv[4])
print("ready", flush=True)
time.sleep(60)
"""


def killed_service(folder: Path, worker_id: str, site: str, temp: str) -> None:
    """A service process that journals a temporary file, then dies by kill -9."""
    process = subprocess.Popen([sys.executable, "-c", DEAD_SERVICE, str(folder), worker_id,
                                site, temp], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    process.kill()
    process.wait()


def test_leftovers_of_a_killed_service_are_removed_at_start(studio, tmp_path):
    rep = studio.publish("sh010", [1000, 2000])
    leftover = studio.local_root / "proj" / ".x.sitesync-part"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"partial")
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    dead_id = "host:ws1:1:dead00"
    held = studio.artist.client.work.claim(PROJECT, LOCAL_ID, "studio", dead_id, 1, 300)
    assert len(held) == 1  # one file leased to the service that then dies
    killed_service(tmp_path / "state" / "in-flight" / LOCAL_ID, dead_id, LOCAL_ID,
                   "work/proj/.x.sitesync-part")
    thread = studio.artist.create_service(state_dir=tmp_path / "state")
    try:
        assert thread.remove_leftovers() == 1
        assert not leftover.exists()
        assert thread.run_until_idle() and thread.moved == 2  # its lease was given back
    finally:
        thread.stop()
    assert list((tmp_path / "state" / "in-flight" / LOCAL_ID).iterdir()) == []


def test_two_services_of_one_site_leave_each_others_files_and_leases_alone(studio, tmp_path):
    """A tray and a `syncservice` of one site on one machine, or a restart overlapping the
    old process: the one starting must not clean up after the one still running."""
    rep = studio.publish("sh010", [1000, 2000])
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    first = studio.artist.create_service(state_dir=tmp_path / "state")
    second = studio.artist.create_service(state_dir=tmp_path / "state")
    try:
        assert first.worker_id != second.worker_id
        held = first.client.work.claim(PROJECT, LOCAL_ID, "studio", first.worker_id, 1, 300)
        temp = studio.local_root / "proj" / ".y.sitesync-part"
        temp.parent.mkdir(parents=True)
        temp.write_bytes(b"being written")
        first.journal.add(LOCAL_ID, "work/proj/.y.sitesync-part")
        assert second.remove_leftovers() == 0
        assert temp.exists()
        # the first one's file is still leased to it: the second moves only the other one
        assert second.run_once() is True and second.moved == 1
        answer = first.client.work.report(PROJECT, first.worker_id, 300, [
            {"representationId": held[0]["representationId"], "fileId": held[0]["fileId"],
             "site": LOCAL_ID, "outcome": "release"}])
        assert answer[0]["accepted"] is True
    finally:
        first.stop()
        second.stop()


def test_progress_is_stored_while_a_file_moves(studio, tmp_path):
    studio.artist.LOG_PROGRESS_SEC = 0.1
    thread = studio.artist.create_service(state_dir=tmp_path / "state")
    thread.observer = Throttle(0.05)
    rep = studio.publish("big", [64 * 1024 * 1024])
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    thread.start()
    try:
        wait_for(lambda: 0 < studio.artist.get_progress_for_repre(
            PROJECT, rep["id"], LOCAL_ID)[LOCAL_ID] < 1, 10)
        item = studio.artist.get_repre_sync_state(PROJECT, rep["id"], LOCAL_ID, "studio")
        assert item["localStatus"]["status"] == SiteSyncStatus.IN_PROGRESS
        assert 0 < item["localStatus"]["size"] < item["localStatus"]["totalSize"]
        wait_for(lambda: studio.artist.is_representation_on_site(PROJECT, rep["id"], LOCAL_ID))
    finally:
        thread.stop()


def test_alternative_sites_follow_a_transfer(studio, thread):
    settings = f"/api/{studio.publisher.endpoint_prefix}/settings/{PROJECT}"
    studio.publisher.client.http.put(settings, json={"sites": [
        {"name": "nas", "provider": "local_drive", "alternative_sites": [LOCAL_ID]}]})
    studio.artist.clear_caches()
    rep = studio.publish("sh010", [1000, 2000])
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    assert thread.run_until_idle()
    assert studio.artist.is_representation_on_site(PROJECT, rep["id"], "nas")


def test_transfers_at_once_are_bounded_by_the_provider(studio, thread, monkeypatch):
    from sitesync_addon.providers.local_drive import LocalDriveProvider

    monkeypatch.setattr(LocalDriveProvider, "max_concurrency", 2)
    running, peak, lock = [0], [0], __import__("threading").Lock()

    class Count:
        def started(self, item: dict) -> None: ...

        def advanced(self, item: dict, written: int) -> None:
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.02)
            with lock:
                running[0] -= 1

        def finished(self, item: dict, outcome: str) -> None: ...

    thread.observer, thread.concurrency = Count(), 8
    rep = studio.publish("sh010", [1000] * 16)
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    assert thread.run_until_idle()
    assert peak[0] == 2


def test_a_large_file_does_not_hold_back_the_files_claimed_with_it(studio, thread):
    """Each thread takes the next file as soon as it is free: while one thread is held on a
    large file, the other moves every small file, more than one claim's worth."""
    big = studio.publish("big", [4 * 1024 * 1024])
    small = studio.publish("small", [100] * (CLAIM_LIMIT + 50))
    done: list[dict] = []

    class HoldTheBigFile:
        def started(self, item: dict) -> None: ...

        def advanced(self, item: dict, written: int) -> None:
            if item["representationId"] == big["id"]:
                wait_for(lambda: len(done) == len(small["files"]), timeout=20)

        def finished(self, item: dict, outcome: str) -> None:
            if item["representationId"] == small["id"] and outcome == "done":
                done.append(item)

    thread.observer, thread.concurrency = HoldTheBigFile(), 2
    studio.artist.add_site(PROJECT, big["id"], LOCAL_ID)
    studio.artist.update_db(PROJECT, big["id"], LOCAL_ID, priority=900)
    studio.artist.add_site(PROJECT, small["id"], LOCAL_ID)
    assert thread.run_until_idle()
    assert thread.failed == 0  # the big file was never held past its wait
    assert len(done) == len(small["files"])
    assert hash_file(studio.local_path(big["files"][0])) == big["files"][0]["hash"]


def test_a_claim_failing_mid_pass_leaves_no_file_held(studio, thread):
    """The server drops one claim while claimed files wait: those still move, nothing stays
    leased, and the next pass takes the rest."""
    rep = studio.publish("many", [100] * (CLAIM_LIMIT + 20))
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    claims, claim = [], thread.client.work.claim

    def second_claim_fails(*args: object) -> list[dict]:
        claims.append(args)
        if len(claims) == 2:  # fault injection at the server boundary
            raise ServerError("claim work: the server is restarting", status_code=503)
        return claim(*args)

    thread.client.work.claim, thread.concurrency = second_claim_fails, 1
    assert thread.run_once()
    page = studio.artist.client.http.get(f"/api/{studio.artist.endpoint_prefix}/{PROJECT}/state",
                                 params={"localSite": LOCAL_ID, "remoteSite": "studio"})
    statuses = [f["localStatus"]["status"] for f in page["representations"][0]["files"]]
    assert statuses.count(int(SiteSyncStatus.OK)) == CLAIM_LIMIT
    assert statuses.count(int(SiteSyncStatus.QUEUED)) == 20  # none left IN_PROGRESS
    assert thread.run_until_idle() and thread.moved == CLAIM_LIMIT + 20


def test_final_reports_the_server_missed_are_sent_with_the_next_flush(studio, thread):
    rep = studio.publish("sh020", [100, 100])
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)

    def claim() -> list:
        return thread.client.work.claim(PROJECT, LOCAL_ID, "studio", thread.worker_id, 10, 300)

    items = claim()
    reporter, live = thread.reporter, thread.reporter.work
    reporter.work = Work(Http("http://127.0.0.1:1", "key"), ADDON_PREFIX)  # the server is away
    reporter.start()
    for item in items:
        reporter.outcome(PROJECT, item, "release")
    assert reporter.flush(timeout=1.5) is False and reporter.pending() == 2  # kept
    assert claim() == []  # still leased to this worker
    reporter.work = live
    assert reporter.flush(timeout=10)
    assert len(claim()) == 2  # released, claimable again
    reporter.stop()


def waiting_behind_a_big_file(studio, tmp_path, on_last_chunk):  # type: ignore[no-untyped-def]
    """A thread of one mover with 2 s leases, held ~3 s on a 64 MiB file while three small
    files wait their turn; ``on_last_chunk()`` runs as the big file ends."""
    thread = studio.artist.create_service(state_dir=tmp_path / "state", concurrency=1,
                            lease_seconds=2)
    thread.reporter.progress_every = 0.2
    big = studio.publish("big", [64 * 1024 * 1024])
    small = studio.publish("small", [100] * 3)
    for rep in (big, small):
        studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    studio.artist.update_db(PROJECT, big["id"], LOCAL_ID, priority=900)

    class Slow(Throttle):
        def advanced(self, item: dict, written: int) -> None:
            if item["representationId"] == big["id"]:
                super().advanced(item, written)
                if written == item["size"]:
                    on_last_chunk(small)

    thread.observer = Slow(0.4)
    return thread, small


def test_files_waiting_their_turn_keep_their_leases(studio, tmp_path):
    taken: list[list] = []
    thread, small = waiting_behind_a_big_file(studio, tmp_path, lambda _: taken.append(
        studio.artist.client.http.post(f"/api/{studio.artist.endpoint_prefix}/{PROJECT}/work/claim",
                               json={"localSite": LOCAL_ID, "remoteSite": "studio",
                                     "workerId": "another-machine", "limit": 10})))
    assert thread.run_until_idle()
    assert taken == [[]]  # 3 s behind the big file, their 2 s leases were still held
    assert thread.moved == 4


def test_a_file_paused_while_waiting_its_turn_is_not_moved(studio, tmp_path):
    thread, small = waiting_behind_a_big_file(studio, tmp_path, lambda small: (
        studio.artist.pause_representation(PROJECT, small["id"], LOCAL_ID),
        thread.check_pauses()))
    thread.run_once()
    assert thread.moved == 1
    assert not any(studio.local_path(f).exists() for f in small["files"])
    studio.artist.unpause_representation(PROJECT, small["id"], LOCAL_ID)
    assert thread.run_until_idle() and thread.moved == 4


@both_databases
def test_a_running_service_heartbeats_what_it_moves(studio, tmp_path):
    """While a large file moves the service is listed with it in flight and its speed; its
    id is its own (host, site, pid, random part), not the lease's worker id."""
    thread = studio.artist.create_service(state_dir=tmp_path / "state", heartbeat_every=0.2)
    thread.observer = Throttle(0.3)  # 8 chunks of 8 MiB: about 2.4 s
    rep = studio.publish("big", [64 * 1024 * 1024])
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    services = studio.artist.client.services
    thread.start()
    try:
        wait_for(lambda: any(s["filesInFlight"] > 0 for s in services.list(site=LOCAL_ID)), 15)
        (listed,) = services.list(site=LOCAL_ID)
        host, site, pid, random_part = listed["serviceId"].split(":")
        assert (site, int(pid), len(random_part)) == (LOCAL_ID, os.getpid(), 6)
        assert listed["serviceId"] == thread.config.service_id == thread.worker_id
        assert listed["projects"] == [PROJECT] and listed["stale"] is False
        wait_for(lambda: services.list(site=LOCAL_ID)[0]["bytesPerSecond"] > 0, 10)
        wait_for(lambda: studio.artist.get_repre_sync_state(  # progress reached the server
            PROJECT, rep["id"], LOCAL_ID, "studio")["localStatus"]["size"] > 0, 5)
        wait_for(lambda: studio.artist.is_representation_on_site(PROJECT, rep["id"], LOCAL_ID))
        wait_for(lambda: services.list(site=LOCAL_ID)[0]["filesInFlight"] == 0, 5)
    finally:
        thread.stop()
    other = studio.artist.create_service(state_dir=tmp_path / "state")
    assert other.config.service_id != thread.config.service_id  # one identity per process


def test_moving_files_report_progress_every_second(studio, tmp_path):
    """At the default pace (leases renewed every 5 s), a moving file's progress still reaches
    the server at least once a second."""
    thread = studio.artist.create_service(state_dir=tmp_path / "state")
    assert thread.config.log_progress_sec == 5
    thread.observer = Throttle(0.5)  # 8 chunks of 8 MiB: about 4 s
    rep = studio.publish("big", [64 * 1024 * 1024])
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    seen: list[int] = []
    thread.start()
    try:
        deadline = time.monotonic() + 3.2
        while time.monotonic() < deadline:
            item = studio.artist.get_repre_sync_state(PROJECT, rep["id"], LOCAL_ID, "studio")
            seen.append(item["localStatus"]["size"])
            time.sleep(0.1)
    finally:
        thread.stop()
    assert len({size for size in seen if size}) >= 2  # it advanced within the 3 s


def test_every_retry_wakes_at_its_own_backoff_not_at_loop_delay(studio, thread):
    """A file failing again and again is retried after each of its own short backoffs; the
    loop's delay (60 s) never holds a retry back."""
    rep = studio.publish("sh010", [1000])
    studio.studio_path(rep["files"][0]).unlink()  # the source is gone: each try fails
    thread.start()
    time.sleep(0.3)  # idle now, until loop_delay or an event
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)

    def failed() -> bool:
        state = studio.artist.get_repre_sync_state(PROJECT, rep["id"], LOCAL_ID, "studio")
        return state["localStatus"]["status"] == SiteSyncStatus.FAILED

    wait_for(failed, 20)  # three tries within seconds, not three loop delays
    state = studio.artist.get_repre_sync_state(PROJECT, rep["id"], LOCAL_ID, "studio")
    assert state["localStatus"]["retries"] == 3


def test_a_refused_heartbeat_is_said_once_as_a_warning(studio, tmp_path, caplog):
    """An artist key's service may run only as a site id the key holds: a service as a site
    registered to another key is refused, and the service says so once, not silently."""
    admin = Api(studio.url, ADMIN_KEY)
    owner, owner_id = artist_with_id(admin, [PROJECT])
    other, _ = artist_with_id(admin, [PROJECT])
    ok = admin.put(f"/api/keys/{owner_id}/sites/ws9")
    assert ok.status_code < 300, ok.text
    intruder = SiteSyncAddon(studio.url, other.session.headers["Authorization"][7:],
                             site_id="ws9")
    thread = intruder.create_service(state_dir=tmp_path / "state", heartbeat_every=0.2)
    caplog.set_level("DEBUG", logger="sitesync_addon.engine.heartbeat")
    thread.start()
    try:
        wait_for(lambda: sum("refused" in r.message for r in caplog.records) >= 1, 10)
        time.sleep(1.0)  # several more beats, refused the same way
    finally:
        thread.stop()
    refusals = [r for r in caplog.records if "refused" in r.message]
    assert len(refusals) == 1 and refusals[0].levelname == "WARNING"
    assert "registered to another key" in refusals[0].message
