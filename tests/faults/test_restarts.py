"""The sync service outlives restarts of the servers it talks to.

A long-running ``sitesync syncservice`` process (not ``--once``) moves a representation of
many files while one of its servers goes away and comes back on the same port and data:

- the SiteSync server, killed -9 for 1, 5 and 30 seconds (the service downloads
  studio -> ws1 on local disks);
- the server's PostgreSQL, restarted under it (a private cluster for the test): the server
  answers 503 meanwhile, never 500, and logs no traceback;
- SeaweedFS, killed -9 and started again while the service uploads to an S3 remote site.

Then the service process still runs, every file ends OK with the published bytes and no
retry counted (a transient outage costs none), reports held through the outage reach the
server without waiting for a lease to expire (leases last 300 s, the test far less), no
temporary name is left, and SIGTERM ends the service with exit code 0. Each case prints one
``figures`` line.

The service process slows every chunk down (``CHUNK_DELAY``) so that files are still in
flight when the fault hits.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from sitesync_addon import hashing
from sitesync_addon.client.types import FileSiteState
from sitesync_addon.engine.temp_files import TEMP_SUFFIX
from sitesync_addon.status import SiteSyncStatus
from tests.conftest import ADMIN_KEY, API, free_port
from tests.faults.server_process import ServerProcess
from tests.servers.seaweedfs import SeaweedFS, start_seaweedfs
from tests.studio import LOCAL_ID, PROJECT, Studio

MIB = 1024 * 1024
# Many small files and a few multi-chunk ones (multipart on S3), all claimed at once.
SIZES = [1000] * 150 + [12 * MIB] * 3
CHUNK_DELAY = 0.05  # seconds the service process sleeps per file and per MiB moved
MOVED_BEFORE_FAULT = 20  # files on their final name before the fault is injected
SETTLE_DEADLINE = 120.0  # seconds for every file to end OK once the server is back
STOP_DEADLINE = 60.0  # seconds for SIGTERM to end the service
PG_DOWN_SECONDS = 3.0
SEAWEED_DOWN_SECONDS = 3.0
REMOTE = "remote"
# In the service's log: a bug, a 500 answer, a report the server refused or a lease lost.
TROUBLE = ("Traceback", "(500)", "did not take", "refused a report", "lost the lease")
OK = int(SiteSyncStatus.OK)

# The service process: ``sitesync`` whose transfers sleep argv[1] seconds at their first
# bytes and at every further MiB (one worker moves a file, so the dict needs no lock).
SLOW_SERVICE = """
import sys, time
from sitesync_addon.engine import service
from sitesync_addon.cli import main
delay, progress, slept = float(sys.argv[1]), service.SyncService._progress, {}
def slow(self, project, item, written):
    step = written // (1024 * 1024)
    if slept.get(item["fileId"], -1) < step:
        slept[item["fileId"]] = step
        time.sleep(delay)
    progress(self, project, item, written)
service.SyncService._progress = slow
sys.argv = ["sitesync", *sys.argv[2:]]
main()
"""


# -- helpers ---------------------------------------------------------------------------------


def wait_for(condition: Callable[[], bool], deadline: float, what: str,
             seen: Callable[[], object] = lambda: "") -> float:
    """Poll ``condition``; seconds it took. On timeout the error shows ``seen()``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > deadline:
            raise AssertionError(f"timed out after {deadline:g} s waiting for {what} {seen()}")
        time.sleep(0.1)
    return time.monotonic() - start


@dataclass
class ServiceProcess:
    """A ``sitesync syncservice`` process; its output goes to ``log``."""

    process: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def troubles(self) -> list[str]:
        """Log lines that mean a bug, a 500 or a report the server did not take."""
        return [line for line in self.log.read_text(errors="replace").splitlines()
                if any(sign in line for sign in TROUBLE)]

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"SIGTERM did not stop the service: {self.output()}") from None


@pytest.fixture
def start_service(studio: Studio, tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """Start a slowed service process (killed at the end if a test left it running)."""
    started: list[ServiceProcess] = []

    def start(active_site: str = "local", site_id: str = LOCAL_ID) -> ServiceProcess:
        env = {**os.environ, "SITESYNC_SERVER_URL": studio.url, "SITESYNC_API_KEY": ADMIN_KEY,
               "SITESYNC_SITE_ID": site_id, "XDG_STATE_HOME": str(tmp_path / "state")}
        log = tmp_path / f"service-{len(started)}.log"
        with open(log, "wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-c", SLOW_SERVICE, str(CHUNK_DELAY), "syncservice",
                 "--active_site", active_site, "--quiet"],
                env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
        started.append(ServiceProcess(process, log))
        return started[-1]

    yield start
    for service in started:
        if service.alive():
            service.process.kill()
            service.process.wait()


def file_states(studio: Studio, rep: dict, site: str) -> dict[str, FileSiteState]:
    state = studio.publisher.client.state
    return state.sites(PROJECT, [rep["id"]], [site])[rep["id"]][site]["files"]


def all_ok(studio: Studio, rep: dict, site: str) -> bool:
    try:
        return all(f["status"] == OK for f in file_states(studio, rep, site).values())
    except Exception:  # noqa: BLE001 - the server may be starting again
        return False


def unsettled(studio: Studio, rep: dict, site: str) -> Callable[[], object]:
    """What the files not OK look like, for a timeout's message."""
    return lambda: [(f["status"], f["retries"], f["message"])
                    for f in file_states(studio, rep, site).values() if f["status"] != OK]


def burned_retries(studio: Studio, rep: dict, site: str) -> dict[str, object]:
    return {f["id"]: (f["retries"], f["message"])
            for f in file_states(studio, rep, site).values() if f["retries"]}


def content_hash(data: bytes, published: str) -> str:
    algorithm, _ = hashing.split(published)
    hasher = hashing.new_hasher(algorithm)
    hasher.update(data)
    return f"{algorithm}:{hasher.hexdigest()}"


def temp_names(root: Path) -> list[Path]:
    return list(root.rglob(f"*{TEMP_SUFFIX}"))


def on_disk(studio: Studio, rep: dict) -> int:
    """Files of ``rep`` on their final name on ws1."""
    return sum(studio.local_path(f).exists() for f in rep["files"])


def assert_downloaded(studio: Studio, rep: dict) -> None:
    for file in rep["files"]:
        path = studio.local_path(file)
        assert content_hash(path.read_bytes(), file["hash"]) == file["hash"], path
    assert temp_names(studio.local_root) == [] and temp_names(studio.root) == []


def start_download(studio: Studio, start_service: Callable[..., ServiceProcess]
                   ) -> tuple[dict, ServiceProcess]:
    """Publish ``SIZES``, put ws1 on its to-do list, start the service; return once files
    are moving (some on their final name already)."""
    rep = studio.publish("sh010", SIZES)
    studio.publisher.add_site(PROJECT, rep["id"], LOCAL_ID)
    service = start_service()
    wait_for(lambda: on_disk(studio, rep) >= MOVED_BEFORE_FAULT or not service.alive(), 60,
             "files to move")
    wait_for(lambda: bool(temp_names(studio.local_root)) or not service.alive(), 60,
             "a file in flight")
    assert service.alive(), service.output()
    assert on_disk(studio, rep) < len(SIZES), "the sync ended before the fault: slow it down"
    return rep, service


def settle(studio: Studio, rep: dict, site: str, service: ServiceProcess) -> float:
    """Wait until every file is OK (the service still running); seconds it took."""
    took = wait_for(lambda: all_ok(studio, rep, site) or not service.alive(), SETTLE_DEADLINE,
                    "every file to end OK", unsettled(studio, rep, site))
    assert service.alive(), f"the service exited: {service.output()}"
    assert all_ok(studio, rep, site)
    assert not burned_retries(studio, rep, site), "a transient outage burned retries"
    return took


def stop_cleanly(service: ServiceProcess) -> None:
    """SIGTERM ends it with 0, it hit no trouble, and it moved each file once (a report
    lost in the outage would have had a file moved again)."""
    assert service.alive(), f"the service exited: {service.output()}"
    code = service.terminate()
    assert code == 0, f"exit code {code}: {service.output()}"
    assert not service.troubles(), service.troubles()
    assert f"moved {len(SIZES)} file(s), 0 failed attempt(s)" in service.output()


# -- the SiteSync server ---------------------------------------------------------------------


@pytest.mark.parametrize("outage", [1.0, 5.0, 30.0], ids=["1s", "5s", "30s"])
def test_server_kill_9(studio, server, start_service, outage):  # type: ignore[no-untyped-def]
    rep, service = start_download(studio, start_service)
    server.kill()
    time.sleep(outage)  # the outage itself: nothing to poll
    assert service.alive(), f"the service exited during a {outage:g} s outage: " \
                            f"{service.output()}"
    moved_in_outage = on_disk(studio, rep)
    server.start()
    recovered = settle(studio, rep, LOCAL_ID, service)
    assert_downloaded(studio, rep)
    stop_cleanly(service)
    print(f"\nfigures server-kill-9-{outage:g}s: outage {outage:g} s, files {len(SIZES)}, "
          f"ok {len(SIZES)}, retries 0, on disk when the server came back {moved_in_outage}, "
          f"time to recover {recovered:.1f} s")


# -- PostgreSQL ------------------------------------------------------------------------------


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of one test, run as the ``postgres`` user on its own port."""

    folder: Path
    port: int
    user: str

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        runner = ["runuser", "-u", self.user, "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*runner, *command], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"

    def init(self) -> PrivatePostgres:
        self._run(pg_binary("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync")
        return self

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off")
        self._run(pg_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "pg.log"),
                  "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(pg_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")


def pg_binary(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        pytest.skip(f"PostgreSQL's {name} is not installed")
    return str(found[-1])


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A fresh cluster in a folder the ``postgres`` user owns (pytest's tmp_path is root's,
    mode 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="sitesync-pg-"))
    user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:
        os.chown(folder, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    cluster = PrivatePostgres(folder, free_port(), user).init()
    cluster.start()
    try:
        yield cluster
    finally:
        try:
            cluster.stop("immediate")
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite, or the private cluster for a test that asks for ``private-postgres``."""
    if getattr(request, "param", "sqlite") == "private-postgres":
        return request.getfixturevalue("private_postgres").url
    return f"sqlite:///{tmp_path / 'sitesync.db'}"


def sync_call_statuses(server: ServerProcess, rep_id: str) -> dict[str, int]:
    """The statuses of plain calls a sync service makes, by name (for a worker that holds
    nothing, so they change nothing)."""
    worker = {"workerId": "outage-probe", "leaseSeconds": 30}
    calls: dict[str, tuple[str, str, dict[str, Any]]] = {
        "claim": ("POST", f"{PROJECT}/work/claim",
                  {"json": {**worker, "localSite": LOCAL_ID, "remoteSite": "studio",
                            "limit": 1}}),
        "report": ("POST", f"{PROJECT}/work/report", {"json": {**worker, "reports": []}}),
        "state": ("GET", f"{PROJECT}/state/representations",
                  {"params": {"representationIds": [rep_id]}}),
        "events": ("GET", "events", {"params": {"timeout": 0}}),
        "heartbeat": ("POST", "services/heartbeat", {"json": {
            "serviceId": "outage-probe", "site": LOCAL_ID, "host": "probe", "version": "0",
            "pid": 1, "projects": [PROJECT], "filesInFlight": 0, "bytesPerSecond": 0}}),
    }
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    return {name: requests.request(method, f"{server.url}{API}/{path}", headers=headers,
                                   timeout=30, **options).status_code
            for name, (method, path, options) in calls.items()}


@pytest.mark.parametrize("database_url", ["private-postgres"], indirect=True)
def test_postgres_restart(studio, server, private_postgres, start_service):  # type: ignore[no-untyped-def]
    rep, service = start_download(studio, start_service)
    private_postgres.stop("immediate")
    stopped = time.monotonic()
    statuses = sync_call_statuses(server, rep["id"])
    assert set(statuses.values()) == {503}, f"sync calls during the outage: {statuses}"
    time.sleep(max(0.0, stopped + PG_DOWN_SECONDS - time.monotonic()))  # the outage holds
    assert service.alive(), f"the service exited while PostgreSQL was down: {service.output()}"
    private_postgres.start()
    recovered = settle(studio, rep, LOCAL_ID, service)
    assert_downloaded(studio, rep)
    stop_cleanly(service)
    after = sync_call_statuses(server, rep["id"])
    assert all(status < 400 for status in after.values()), f"the probes are bad calls: {after}"
    logs = server.logs()
    assert "Traceback" not in logs, logs[-4000:]
    print(f"\nfigures postgres-restart: outage {PG_DOWN_SECONDS:g} s, files {len(SIZES)}, "
          f"ok {len(SIZES)}, retries 0, sync calls answered {statuses}, "
          f"time to recover {recovered:.1f} s")


# -- SeaweedFS -------------------------------------------------------------------------------


@pytest.fixture
def own_seaweedfs(tmp_path: Path) -> Iterator[SeaweedFS]:
    """A SeaweedFS of this test only: it is killed and started again."""
    server = start_seaweedfs(tmp_path / "seaweedfs")
    yield server
    server.stop()


@dataclass
class Bucket:
    """What lies under one site's prefix in the bucket."""

    seaweed: SeaweedFS
    prefix: str

    @property
    def work(self) -> str:
        return f"{self.prefix}/work/"

    def names(self) -> list[str]:
        client, names, token = self.seaweed.client(), [], None
        while True:
            page = client.list_objects_v2(Bucket=self.seaweed.bucket, Prefix=self.prefix,
                                          **({"ContinuationToken": token} if token else {}))
            names += [item["Key"].removeprefix(self.work) for item in page.get("Contents", [])]
            token = page.get("NextContinuationToken")
            if not token:
                return sorted(names)

    def finals(self) -> list[str]:
        return [name for name in self.names() if not name.endswith(TEMP_SUFFIX)]

    def read(self, name: str) -> bytes:
        answer = self.seaweed.client().get_object(Bucket=self.seaweed.bucket,
                                                  Key=self.work + name)
        return answer["Body"].read()

    def open_uploads(self) -> list[str]:
        """The keys of multipart uploads begun and neither completed nor aborted."""
        listed = self.seaweed.client().list_multipart_uploads(Bucket=self.seaweed.bucket,
                                                              Prefix=self.prefix)
        return [upload["Key"].removeprefix(self.work) for upload in listed.get("Uploads", [])]


def make_s3_remote(studio: Studio, seaweed: SeaweedFS) -> Bucket:
    """Make an S3 site on ``seaweed`` the project's remote site: the studio uploads to it."""
    bucket = Bucket(seaweed, f"restarts-{uuid.uuid4().hex[:8]}")
    site = {"name": REMOTE, "provider": "s3", "s3": seaweed.settings(bucket.prefix)}
    admin = studio.publisher
    admin.client.http.put(f"/api/{admin.endpoint_prefix}/settings", json={
        "enabled": True,
        "config": {"retry_cnt": 3, "active_site": "studio", "remote_site": REMOTE},
        "sites": [site]})
    admin.clear_caches()
    return bucket


def test_seaweedfs_kill_9(studio, own_seaweedfs, start_service):  # type: ignore[no-untyped-def]
    bucket = make_s3_remote(studio, own_seaweedfs)
    rep = studio.publish("sh010", SIZES)
    service = start_service(active_site=REMOTE, site_id="publisher")
    wait_for(lambda: len(bucket.finals()) >= MOVED_BEFORE_FAULT or not service.alive(), 60,
             "files to reach S3")
    wait_for(lambda: bool(bucket.open_uploads()) or not service.alive(), 60,
             "a multipart upload in flight")
    assert service.alive(), service.output()
    assert len(bucket.finals()) < len(SIZES), "the sync ended before the fault: slow it down"
    own_seaweedfs.kill()
    time.sleep(SEAWEED_DOWN_SECONDS)  # the outage itself: nothing to poll
    assert service.alive(), f"the service exited while S3 was down: {service.output()}"
    own_seaweedfs.restart()
    recovered = settle(studio, rep, REMOTE, service)
    stop_cleanly(service)

    expected = sorted(f["path"].partition("/")[2] for f in rep["files"])
    names = bucket.names()
    assert bucket.finals() == expected, "final names on S3: only the published files"
    assert names == expected, f"temporary objects left: {sorted(set(names) - set(expected))}"
    for file in rep["files"]:
        data = bucket.read(file["path"].partition("/")[2])
        assert content_hash(data, file["hash"]) == file["hash"], f"{file['path']}: wrong bytes"
    left_open = bucket.open_uploads()
    print(f"\nfigures seaweedfs-kill-9: outage {SEAWEED_DOWN_SECONDS:g} s, files {len(SIZES)}, "
          f"ok {len(SIZES)}, retries 0, temporary leftovers 0, multipart uploads left open "
          f"{len(left_open)}, time to recover {recovered:.1f} s")
    assert not left_open, f"multipart uploads left open: {left_open}"
