"""A crowded site: six ``sitesync syncservice`` processes of one site id on one local root,
three of them under ``unshare --uts`` with hostnames of their own, split across two
``sitesync server`` processes on one PostgreSQL database. The work queue must hand each file
to one of them only: every file is placed on its final name exactly once."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from server_addon.sitesync import queue
from server_addon.sitesync.tables import file_states as file_state_rows
from sitesync_addon.client.types import SiteState
from sitesync_addon.engine.temp_files import TEMP_SUFFIX
from sitesync_addon.hashing import hash_file
from sitesync_addon.status import SiteSyncStatus
from tests.conftest import ADMIN_KEY, API
from tests.faults.renames import RenameCounter
from tests.faults.server_process import ServerProcess
from tests.server.helpers import postgres_database
from tests.studio import LOCAL_ID, PROJECT, Studio

MIB = 1024 * 1024
SMALL_FILES = 1200  # six claims of 200 each: every service gets a share
LARGE_SIZES = [1 * MIB, 2 * MIB + 7, 3 * MIB]
HOST_SERVICES = 3
UNSHARED_HOSTS = ["crowd-1", "crowd-2", "crowd-3"]
SERVICE_COUNT = HOST_SERVICES + len(UNSHARED_HOSTS)
UP_TIMEOUT = 90.0  # seconds for six services to start on two busy cores
DONE_TIMEOUT = 150.0
EXIT_TIMEOUT = 60.0


@pytest.fixture
def database_url(pg_admin_engine: sa.Engine) -> Iterator[str]:
    with postgres_database(pg_admin_engine) as url:
        yield url


@pytest.fixture
def servers(database_url: str, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """Two server processes on one database; the first migrates it before the second."""
    log_dir = tmp_path / "server-logs"
    log_dir.mkdir()
    started: list[ServerProcess] = []
    try:
        for _ in range(2):
            started.append(ServerProcess(database_url, log_dir).start())
        yield started
    finally:
        for process in started:
            process.stop()


@pytest.fixture
def server(servers: list[ServerProcess]) -> ServerProcess:
    """The ``studio`` fixture's server: the first of the two."""
    return servers[0]


@dataclass
class Service:
    """One ``sitesync syncservice`` process and where it logs."""

    name: str
    hostname: str | None  # None: this host's own
    state_dir: Path
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def moved(self) -> int:
        """Files it moved, from its closing summary line."""
        for line in self.output().splitlines():
            if line.startswith("moved "):
                return int(line.split()[1])
        return -1


def service_command(hostname: str | None) -> list[str]:
    command = [sys.executable, "-m", "sitesync_addon.cli", "syncservice", "--active_site",
               "local", "--quiet"]
    if hostname is None:
        return command
    # A UTS namespace of its own: another machine's hostname, the same pid space and files.
    return ["unshare", "--uts", "sh", "-c",
            f"hostname {hostname} && exec {' '.join(command)}"]


def start_service(name: str, url: str, state_dir: Path, log_dir: Path,
                  hostname: str | None = None) -> Service:
    env = {**os.environ, "SITESYNC_SERVER_URL": url, "SITESYNC_API_KEY": ADMIN_KEY,
           "SITESYNC_SITE_ID": LOCAL_ID, "XDG_STATE_HOME": str(state_dir)}
    log = log_dir / f"{name}.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(service_command(hostname), env=env, stdin=subprocess.DEVNULL,
                                   stdout=output, stderr=subprocess.STDOUT)
    return Service(name, hostname, state_dir, process, log)


def start_crowd(tmp_path: Path, urls: list[str]) -> list[Service]:
    """Three services on this host and three under their own hostnames, taking turns at the
    servers; each with a state folder of its own."""
    log_dir = tmp_path / "service-logs"
    log_dir.mkdir(exist_ok=True)
    hostnames: list[str | None] = [None] * HOST_SERVICES + list(UNSHARED_HOSTS)
    return [start_service(f"service-{n}", urls[n % len(urls)], tmp_path / f"state-{n}",
                          log_dir, hostname)
            for n, hostname in enumerate(hostnames)]


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             alive: Sequence[Service] = ()) -> None:
    """Poll ``condition``; fail when ``timeout`` passes or a service ends meanwhile."""
    deadline = time.monotonic() + timeout
    while not condition():
        for service in alive:
            assert service.process.poll() is None, (
                f"{service.name} ended ({service.process.returncode}) while waiting for "
                f"{what}:\n{service.output()[-3000:]}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def services_of_site(url: str) -> list[dict]:
    response = requests.get(f"{url}{API}/services", params={"site": LOCAL_ID},
                            headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def stop_crowd(services: list[Service]) -> None:
    """SIGTERM every service; each must exit 0 on its own."""
    for service in services:
        if service.process.poll() is None:
            service.process.send_signal(signal.SIGTERM)
    for service in services:
        try:
            service.process.wait(EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait()
            pytest.fail(f"{service.name} did not stop on SIGTERM:\n{service.output()[-3000:]}")


@pytest.fixture
def crowd_cleanup() -> Iterator[list[Service]]:
    """Services a test started; any still running at the end are killed."""
    started: list[Service] = []
    yield started
    for service in started:
        if service.process.poll() is None:
            service.process.kill()
            service.process.wait()


def publish_crowd_files(studio: Studio) -> dict:
    sizes = [random.randint(1, 4096) for _ in range(SMALL_FILES)] + LARGE_SIZES
    rep = studio.publish("sh010", sizes)
    for file in rep["files"]:  # RenameCounter needs the folders before it starts
        studio.local_path(file).parent.mkdir(parents=True, exist_ok=True)
    return rep


def file_states(studio: Studio, rep: dict) -> SiteState:
    return studio.artist.site_states(PROJECT, [rep["id"]], [LOCAL_ID])[rep["id"]][LOCAL_ID]


def all_ok(studio: Studio, rep: dict) -> bool:
    files = file_states(studio, rep)["files"].values()
    return all(file["status"] == SiteSyncStatus.OK for file in files)


def lost_files(studio: Studio, rep: dict) -> list[str]:
    """Files not OK on the server, or not on disk with the published hash."""
    states = file_states(studio, rep)["files"]
    lost = []
    for file in rep["files"]:
        path = studio.local_path(file)
        if (states[file["id"]]["status"] != SiteSyncStatus.OK or not path.exists()
                or hash_file(path) != file["hash"]):
            lost.append(file["path"])
    return lost


def temp_files(root: Path) -> list[Path]:
    return list(root.rglob(f"*{TEMP_SUFFIX}"))


def assert_six_services_listed(url: str) -> None:
    listed = services_of_site(url)
    ids = [service["serviceId"] for service in listed]
    assert len(ids) == SERVICE_COUNT == len(set(ids)), listed
    hosts = sorted(service["host"] for service in listed)
    assert set(UNSHARED_HOSTS) <= set(hosts), hosts
    assert hosts.count(os.uname().nodename) == HOST_SERVICES, hosts


def figures(label: str, services: list[Service], rep: dict, counter: RenameCounter,
            lost: list[str], seconds: float) -> None:
    placed_once = sum(1 for count in counter.placed.values() if count == 1)
    print(f"figures {label}: services={len(services)} servers=2 files={len(rep['files'])} "
          f"placed_once={placed_once} placed_twice={len(counter.twice())} lost={len(lost)} "
          f"moved_by={[service.moved() for service in services]} wall_seconds={seconds:.1f}")


def crowd_ready(studio: Studio, servers: list[ServerProcess], tmp_path: Path,
                started: list[Service]) -> tuple[dict, list[Service]]:
    """The representation published (not yet queued) and six services idle and heard from,
    so that queueing it makes them race for the same files."""
    rep = publish_crowd_files(studio)
    services = start_crowd(tmp_path, [server.url for server in servers])
    started.extend(services)
    wait_for(lambda: len(services_of_site(servers[1].url)) == SERVICE_COUNT, UP_TIMEOUT,
             "six services to send heartbeats", services)
    return rep, services


def assert_all_ended_well(studio: Studio, rep: dict, counter: RenameCounter,
                          services: list[Service], lost: list[str]) -> None:
    for service in services:
        assert service.process.returncode == 0, (service.name, service.output()[-3000:])
    assert counter.late_folders == []
    assert lost == []
    assert len(counter.placed) == len(rep["files"])
    assert file_states(studio, rep)["status"] == SiteSyncStatus.OK  # none left IN_PROGRESS
    assert temp_files(studio.local_root) == []


def assert_servers_quiet(servers: list[ServerProcess]) -> None:
    for server in servers:
        assert "Traceback" not in server.logs(), server.logs()[-3000:]


def test_six_services_of_one_site_place_every_file_once(
        studio: Studio, servers: list[ServerProcess], tmp_path: Path,
        crowd_cleanup: list[Service]) -> None:
    rep, services = crowd_ready(studio, servers, tmp_path, crowd_cleanup)
    started = time.monotonic()
    with RenameCounter(studio.local_root) as counter:
        studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
        wait_for(lambda: all_ok(studio, rep), DONE_TIMEOUT, "every file OK", services)
        seconds = time.monotonic() - started
        stop_crowd(services)
    lost = lost_files(studio, rep)
    figures("crowd", services, rep, counter, lost, seconds)
    assert counter.twice() == {}
    assert_all_ended_well(studio, rep, counter, services, lost)
    assert_six_services_listed(servers[0].url)
    assert_servers_quiet(servers)


def in_flight_by_pid(engine: sa.Engine, rep: dict) -> dict[int, list[sa.Row]]:
    """Files IN_PROGRESS on the site, by the pid of the service holding their lease (the
    holder is ``key id/service id``, the service id ``host:site:pid:random``)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(file_state_rows).where(
            file_state_rows.c.representation_id == rep["id"],
            file_state_rows.c.site == LOCAL_ID,
            file_state_rows.c.status == SiteSyncStatus.IN_PROGRESS))
        held: dict[int, list[sa.Row]] = {}
        for row in rows:
            service_id = row.lease_owner.partition("/")[2]
            held.setdefault(int(service_id.split(":")[2]), []).append(row)
        return held


def kill_the_busiest(engine: sa.Engine, rep: dict, services: list[Service]) -> tuple[Service, list]:
    """kill -9 the service holding the most unfinished leases; those leases."""
    held = in_flight_by_pid(engine, rep)
    by_pid = {service.process.pid: service for service in services}
    pid = max((p for p in held if p in by_pid), key=lambda p: len(held[p]))
    victim = by_pid[pid]
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait()
    return victim, in_flight_by_pid(engine, rep).get(pid, [])


def placed_but_not_reported(studio: Studio, rep: dict, orphaned: list[sa.Row]) -> set[Path]:
    """Files the killed service renamed onto their final names before its "done" reached the
    server: still IN_PROGRESS under its lease, so the design moves them again (same bytes)."""
    orphaned_ids = {str(row.file_id) for row in orphaned}
    return {studio.local_path(file).relative_to(studio.local_root) for file in rep["files"]
            if file["id"] in orphaned_ids and studio.local_path(file).exists()}


def test_a_crowd_member_killed_midway_its_files_still_end_ok_once(
        studio: Studio, servers: list[ServerProcess], tmp_path: Path,
        crowd_cleanup: list[Service], database_url: str) -> None:
    """kill -9 of the busiest service while it holds leases; its supervisor starts it again
    on the same state folder, which deletes its temporary files and gives its leases back,
    and the crowd moves those files."""
    rep, services = crowd_ready(studio, servers, tmp_path, crowd_cleanup)
    engine = sa.create_engine(database_url)
    started = time.monotonic()
    try:
        with RenameCounter(studio.local_root) as counter:
            studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
            wait_for(lambda: bool(counter.placed) and bool(in_flight_by_pid(engine, rep)),
                     DONE_TIMEOUT, "files moving", services)
            victim, orphaned = kill_the_busiest(engine, rep, services)
            placed_unreported = placed_but_not_reported(studio, rep, orphaned)
            survivors = [service for service in services if service is not victim]
            restarted = start_service(f"{victim.name}-restarted", servers[0].url,
                                      victim.state_dir, tmp_path / "service-logs")
            crowd_cleanup.append(restarted)
            survivors.append(restarted)
            wait_for(lambda: all_ok(studio, rep), DONE_TIMEOUT, "every file OK", survivors)
            seconds = time.monotonic() - started
            stop_crowd(survivors)
    finally:
        engine.dispose()
    lost = lost_files(studio, rep)
    figures(f"killed(orphaned={len(orphaned)} placed_unreported={len(placed_unreported)})",
            survivors, rep, counter, lost, seconds)
    assert orphaned, "the victim held no unfinished lease when it was killed"
    assert set(counter.twice()) <= placed_unreported, counter.twice()
    assert_all_ended_well(studio, rep, counter, survivors, lost)
    ids = {service["serviceId"] for service in services_of_site(servers[1].url)}
    assert len(ids) == SERVICE_COUNT + 1  # the victim is still listed (stale later)
    assert_servers_quiet(servers)


def finish_file(conn: sa.Connection, row: sa.Row) -> None:
    """The ``done`` report of a claimed file, as the work queue records it."""
    done = queue.Report(row.representation_id, row.file_id, LOCAL_ID, "done")
    results = queue.report(conn, project_id=row.project_id, holder=row.lease_owner,
                           reports=[done], retry_cnt=3, lease_seconds=300.0).results
    assert results[0]["accepted"], results


def waits_on_a_lock(engine: sa.Engine, pids: list[int]) -> bool:
    """Whether the backend in ``pids`` (once known) waits for a row lock."""
    if not pids:
        return False
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pids[0]}).scalar() == "Lock"


def test_the_last_two_files_done_at_once_leave_the_representation_ok(
        studio: Studio, database_url: str) -> None:
    """Two services report the last two files of a representation at the same moment: the
    second report waits for the first, and the representation must end OK, not stay
    IN_PROGRESS with every file OK (what the crowd test saw now and then)."""
    rep = studio.publish("sh020", [10, 20])
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    for worker in ("racer-a", "racer-b"):
        assert len(studio.artist.client.work.claim(PROJECT, LOCAL_ID, "studio", worker, 1,
                                                   300.0)) == 1
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = list(conn.execute(sa.select(file_state_rows).where(
                file_state_rows.c.representation_id == rep["id"],
                file_state_rows.c.site == LOCAL_ID)))
        assert len(rows) == 2 and len({row.lease_owner for row in rows}) == 2
        errors: list[BaseException] = []
        second_pid: list[int] = []

        def second() -> None:
            try:
                with engine.begin() as conn:
                    second_pid.append(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
                    finish_file(conn, rows[1])
            except BaseException as exc:  # noqa: BLE001 - the assertion below shows it
                errors.append(exc)

        racer = threading.Thread(target=second)
        with engine.begin() as first:
            finish_file(first, rows[0])  # uncommitted: it holds the representation's row
            racer.start()
            wait_for(lambda: waits_on_a_lock(engine, second_pid), 60,
                     "the second report to wait")
        racer.join(60)
        assert not racer.is_alive() and errors == []
    finally:
        engine.dispose()
    assert all_ok(studio, rep)
    assert file_states(studio, rep)["status"] == SiteSyncStatus.OK
