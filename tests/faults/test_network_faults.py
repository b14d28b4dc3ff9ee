"""Network faults between the sync service and each server it talks to, through the TCP
fault proxy (``tests/faults/proxy.py``).

Every case publishes one representation (empty, small, medium and multi-chunk files, 9 MiB
being multipart on S3) and corrupts one file's studio copy after publishing (same size, other
bytes: a permanent fault of that file). A service moves the files through the proxy; the
fault is injected while files move (or, for refuse and 503, before the service starts), held
for ``FAULT_SECONDS`` and cleared. Then:

- the service thread is alive, and logged no error (an unexpected exception in its loop);
- every good file ends OK on the destination with the published bytes (hash), with no retry
  counted (the fault was transient);
- the corrupted file ends FAILED at ``retry_cnt`` with the real cause (the hash mismatch) in
  its message, not the network's;
- no final name holds anything but a verified good file, no temporary file is left (one a
  fault kept from being deleted goes with the next success on its site), and on S3 no
  multipart upload is left open.

Targets: ``server`` (the SiteSync server: the artist's service reaches it through the
proxy, while it downloads studio -> ws1 on local disks), ``s3`` (SeaweedFS), ``sftp``
(OpenSSH sshd), ``webdav`` (rclone serve webdav, driven by the rclone provider); the remote
targets are uploads from the studio root by a service running as that site.

Matrix (x: tested):

    fault      server  s3  sftp  webdav
    refuse       x      .   x     x
    reset        x      x   x     x
    cut          x      x   x     .
    stall        x      x   x     .
    throttle     .      x   x     x
    http_503     x      x   -     x      (-: not an HTTP target)

Provider timeouts are cut to a few seconds here (``short_timeouts``), so a stall fails a
transfer quickly instead of holding it for minutes.
"""
from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from sitesync_addon import SiteSyncAddon, hashing
from sitesync_addon.engine.service import SyncService
from sitesync_addon.engine.temp_files import TEMP_SUFFIX
from sitesync_addon.providers import rclone as rclone_module
from sitesync_addon.providers import sftp as sftp_module
from sitesync_addon.providers.s3 import S3Provider
from sitesync_addon.status import SiteSyncStatus
from tests.conftest import ADMIN_KEY
from tests.faults.proxy import Fault, FaultProxy, ProxyFactory, fault_proxy  # noqa: F401
from tests.servers.rclone_webdav import WebdavServer, shared_webdav
from tests.servers.seaweedfs import SeaweedFS, shared_seaweedfs
from tests.servers.sshd import SshdServer, shared_sshd
from tests.studio import LOCAL_ID, PROJECT, Studio, Throttle

MIB = 1024 * 1024
SIZES = [0, 1000, 300_000, 2 * MIB, 9 * MIB + 7]
BAD = 2  # the file whose studio copy is corrupted after publishing
RETRY_CNT = 3
SITE = "remote"
TIMEOUT = 2.0  # seconds: provider connect and read timeouts in this module
FAULT_SECONDS = 3.0  # how long a fault holds once injected
BITE_DEADLINE = 30.0  # seconds for a fault to hit a connection
SETTLE_DEADLINE = 120.0  # seconds for every file to end once the fault cleared
FIRST_BYTES = 64 * 1024  # bytes through the proxy before a mid-stream fault is injected
CUT_AFTER = 256 * 1024  # bytes a connection may pass under reset / cut
SERVER_CUT_AFTER = 2 * 1024  # the same for the server's calls, which are small
THROTTLE_RATE = 128 * 1024  # bytes per second and connection
SLOW_CHUNKS = 0.3  # seconds per chunk of the server target's local copies: files in flight
BLOCKING = (Fault.REFUSE, Fault.HTTP_503)  # injected before the service starts
OK, FAILED = int(SiteSyncStatus.OK), int(SiteSyncStatus.FAILED)

CASES = [
    ("server", Fault.REFUSE), ("server", Fault.RESET), ("server", Fault.CUT),
    ("server", Fault.STALL), ("server", Fault.HTTP_503),
    ("s3", Fault.RESET), ("s3", Fault.CUT), ("s3", Fault.STALL), ("s3", Fault.THROTTLE),
    ("s3", Fault.HTTP_503),
    ("sftp", Fault.REFUSE), ("sftp", Fault.RESET), ("sftp", Fault.CUT), ("sftp", Fault.STALL),
    ("sftp", Fault.THROTTLE),
    ("webdav", Fault.REFUSE), ("webdav", Fault.RESET), ("webdav", Fault.THROTTLE),
    ("webdav", Fault.HTTP_503),
]


def amount(target_name: str, fault: Fault) -> int:
    """Bytes for reset and cut, bytes per second for throttle, else 0."""
    cut = SERVER_CUT_AFTER if target_name == "server" else CUT_AFTER
    return {Fault.RESET: cut, Fault.CUT: cut, Fault.THROTTLE: THROTTLE_RATE}.get(fault, 0)


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(S3Provider, "CONNECT_TIMEOUT", TIMEOUT)
    monkeypatch.setattr(S3Provider, "READ_TIMEOUT", TIMEOUT)
    monkeypatch.setattr(sftp_module, "CONNECT_TIMEOUT", TIMEOUT)
    monkeypatch.setattr(sftp_module, "QUICK_TIMEOUT", TIMEOUT)
    monkeypatch.setattr(sftp_module, "IO_TIMEOUT", TIMEOUT)
    monkeypatch.setattr(rclone_module, "CONNECT_TIMEOUT", f"{TIMEOUT:g}s")
    monkeypatch.setattr(rclone_module, "IO_TIMEOUT", f"{TIMEOUT:g}s")


@pytest.fixture(scope="session")
def seaweedfs(request: pytest.FixtureRequest) -> SeaweedFS:
    return shared_seaweedfs(request)


@pytest.fixture(scope="session")
def sshd(request: pytest.FixtureRequest) -> SshdServer:
    return shared_sshd(request)


@pytest.fixture(scope="session")
def webdav(request: pytest.FixtureRequest) -> WebdavServer:
    return shared_webdav(request)


@dataclass
class Target:
    """A service whose traffic to one server passes the proxy, and a view of where its files
    land: ``names()`` lists every file there (relative to the site's ``work`` root),
    ``read(name)`` returns one's bytes."""

    proxy: FaultProxy
    service: SyncService
    site: str  # the destination site
    names: Callable[[], list[str]]
    read: Callable[[str], bytes]
    open_uploads: Callable[[], int] = lambda: 0  # S3 multipart uploads not completed


def _folder_view(root: Path) -> tuple[Callable[[], list[str]], Callable[[str], bytes]]:
    def names() -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    return names, lambda name: (root / name).read_bytes()


def _remote_service(studio: Studio, site: dict, tmp_path: Path) -> SyncService:
    """Make ``site`` the project's remote site; a service as that site uploads from the
    studio root."""
    admin = studio.publisher
    admin.client.http.put(f"/api/{admin.endpoint_prefix}/settings", json={
        "enabled": True,
        "config": {"retry_cnt": RETRY_CNT, "active_site": "studio", "remote_site": SITE},
        "sites": [site]})
    admin.clear_caches()
    return admin.create_service(active_site=SITE, state_dir=tmp_path / "state",
                                retry_backoff_base=0.05, site_backoff_cap=2.0)


def server_target(request: pytest.FixtureRequest, studio: Studio, make: ProxyFactory,
                  tmp_path: Path) -> Target:
    proxy = make(request.getfixturevalue("server").port)
    artist = SiteSyncAddon(proxy.url, ADMIN_KEY, site_id=LOCAL_ID)
    artist.client.http.timeout = TIMEOUT * 2  # a stalled server fails calls in seconds
    service = artist.create_service(state_dir=tmp_path / "state", retry_backoff_base=0.05,
                                    lease_seconds=20, site_backoff_cap=2.0)
    service.observer = Throttle(SLOW_CHUNKS)  # files are still in flight when the fault hits
    return Target(proxy, service, LOCAL_ID, *_folder_view(studio.local_root))


def s3_target(request: pytest.FixtureRequest, studio: Studio, make: ProxyFactory,
              tmp_path: Path) -> Target:
    seaweed: SeaweedFS = request.getfixturevalue("seaweedfs")
    proxy = make(int(seaweed.endpoint_url.rpartition(":")[2]))
    prefix = f"faults-{uuid.uuid4().hex[:8]}"
    settings = {**seaweed.settings(prefix), "endpoint_url": proxy.url}
    service = _remote_service(studio, {"name": SITE, "provider": "s3", "s3": settings},
                              tmp_path)
    client, work = seaweed.client(), f"{prefix}/work/"

    def names() -> list[str]:
        listed = client.list_objects_v2(Bucket=seaweed.bucket, Prefix=prefix)
        return sorted(item["Key"].removeprefix(work) for item in listed.get("Contents", []))

    def read(name: str) -> bytes:
        return client.get_object(Bucket=seaweed.bucket, Key=work + name)["Body"].read()

    def open_uploads() -> int:
        listed = client.list_multipart_uploads(Bucket=seaweed.bucket, Prefix=prefix)
        return len(listed.get("Uploads", []))

    return Target(proxy, service, SITE, names, read, open_uploads)


def sftp_target(request: pytest.FixtureRequest, studio: Studio, make: ProxyFactory,
                tmp_path: Path) -> Target:
    sshd: SshdServer = request.getfixturevalue("sshd")
    proxy = make(sshd.port)
    # known_hosts is keyed by [host]:port: the server's key, under the proxy's port.
    host_key = sshd.known_hosts.read_text().split(" ", 1)[1]
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{proxy.port} {host_key}")
    area = sshd.area()
    settings = sshd.settings(area, port=proxy.port,
                             known_hosts_path={"linux": str(known_hosts)})
    service = _remote_service(studio, {"name": SITE, "provider": "sftp", "sftp": settings},
                              tmp_path)
    return Target(proxy, service, SITE, *_folder_view(area / "work"))


def webdav_target(request: pytest.FixtureRequest, studio: Studio, make: ProxyFactory,
                  tmp_path: Path) -> Target:
    server: WebdavServer = request.getfixturevalue("webdav")
    proxy = make(int(server.url.rpartition(":")[2]))
    folder = f"faults-{uuid.uuid4().hex[:8]}"
    block = {"remote": f"dav:{folder}", "parameters": {**server.parameters(), "url": proxy.url}}
    service = _remote_service(studio, {"name": SITE, "provider": "rclone", "rclone": block},
                              tmp_path)
    return Target(proxy, service, SITE, *_folder_view(server.folder / folder / "work"))


TARGETS = {"server": server_target, "s3": s3_target, "sftp": sftp_target,
           "webdav": webdav_target}


def wait_for(condition: Callable[[], bool], deadline: float, what: str,
             seen: Callable[[], object] = lambda: "") -> None:
    """Poll ``condition``; on timeout the error shows ``seen()``."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline:g} s waiting for {what} {seen()}")
        time.sleep(0.1)


def bitten(target: Target, fault: Fault) -> bool:
    """The fault hit the link (refusals leave no trace in the proxy: the site or the server
    being waited for shows instead)."""
    counters = target.proxy.counters
    return {
        Fault.REFUSE: target.site == LOCAL_ID or SITE in target.service.health.held(),
        Fault.RESET: counters.resets > 0,
        Fault.CUT: counters.cuts > 0,
        Fault.STALL: counters.stalled > 0,
        Fault.THROTTLE: counters.throttled > 0,
        Fault.HTTP_503: counters.answered_503 > 0,
    }[fault]


def temporary(names: list[str]) -> list[str]:
    return [name for name in names if name.endswith(TEMP_SUFFIX)]


def content_hash(data: bytes, published: str) -> str:
    algorithm, _ = hashing.split(published)
    hasher = hashing.new_hasher(algorithm)
    hasher.update(data)
    return f"{algorithm}:{hasher.hexdigest()}"


def publish(studio: Studio, target: Target) -> tuple[dict, dict]:
    """The representation and its corrupted file (on the destination's to-do list)."""
    rep = studio.publish("sh010", SIZES)
    if target.site == LOCAL_ID:
        studio.publisher.add_site(PROJECT, rep["id"], LOCAL_ID)
    bad = rep["files"][BAD]
    studio.studio_path(bad).write_bytes(os.urandom(bad["size"]))
    return rep, bad


@pytest.mark.parametrize(("target_name", "fault"), CASES,
                         ids=[f"{t}-{f.value}" for t, f in CASES])
def test_files_end_ok_once_the_fault_clears(request, studio, fault_proxy, tmp_path,  # noqa: F811
                                            caplog, target_name, fault):
    caplog.set_level(logging.WARNING, logger="sitesync_addon")
    target = TARGETS[target_name](request, studio, fault_proxy, tmp_path)
    rep, bad = publish(studio, target)
    proxy, service = target.proxy, target.service
    state = studio.publisher.client.state

    def files() -> dict[str, dict]:
        return state.sites(PROJECT, [rep["id"]], [target.site])[rep["id"]][target.site]["files"]

    def settled() -> bool:
        return all(f["status"] == (FAILED if f["id"] == bad["id"] else OK)
                   for f in files().values())

    if fault in BLOCKING:
        proxy.set(fault, amount(target_name, fault))
        service.start()
    else:
        service.start()
        moving = ((lambda: service.observer.chunks > 0) if target.site == LOCAL_ID  # type: ignore[union-attr]
                  else lambda: proxy.counters.bytes_up + proxy.counters.bytes_down > FIRST_BYTES)
        wait_for(moving, BITE_DEADLINE, "files to move through the proxy")
        proxy.set(fault, amount(target_name, fault))
    try:
        injected = time.monotonic()
        wait_for(lambda: bitten(target, fault), BITE_DEADLINE, f"the {fault.value} fault to hit")
        time.sleep(max(0.0, injected + FAULT_SECONDS - time.monotonic()))  # the fault holds
        assert service.is_alive(), f"the service died under {fault.value}"
        ok_under_fault = sum(f["status"] == OK for f in files().values())
        if fault in BLOCKING:
            assert ok_under_fault == 0, f"{ok_under_fault} files went OK through a {fault.value}"
        proxy.clear()
        wait_for(settled, SETTLE_DEADLINE, "every file to end once the fault cleared",
                 lambda: [(f["status"], f["retries"], f["message"]) for f in files().values()])
        assert service.is_alive(), f"the service died after {fault.value}"
        # A temporary file the fault kept from being deleted goes with the next success.
        wait_for(lambda: not temporary(target.names()), SETTLE_DEADLINE,
                 "the temporary files to be deleted", lambda: temporary(target.names()))
    finally:
        service.stop()

    bugs = [r.getMessage() for r in caplog.records
            if r.name.startswith("sitesync_addon") and r.levelno >= logging.ERROR]
    assert not bugs, f"the service logged errors under {fault.value}: {bugs}"
    ended = files()
    good = [f for f in rep["files"] if f["id"] != bad["id"]]
    burned = {f["path"]: ended[f["id"]]["message"] for f in good if ended[f["id"]]["retries"]}
    assert not burned, f"a transient {fault.value} burned retries: {burned}"
    failed = ended[bad["id"]]
    assert failed["retries"] == RETRY_CNT
    assert "does not match the published" in (failed["message"] or ""), failed["message"]

    expected = sorted(f["path"].partition("/")[2] for f in good)
    names = target.names()
    assert names == expected, "names on the destination: the good files, nothing temporary"
    for file in good:
        data = target.read(file["path"].partition("/")[2])
        assert content_hash(data, file["hash"]) == file["hash"], f"{file['path']}: wrong bytes"
    assert target.open_uploads() == 0, "a multipart upload was left open"
    counters = proxy.counters
    print(f"\nfigures {target_name}-{fault.value}: files ok {len(good)}/{len(good)}, "
          f"failed {bad['path'].rpartition('/')[2]} at {failed['retries']}, retries burned 0, "
          f"ok under the fault {ok_under_fault}, temporary leftovers 0, connections "
          f"{counters.connections}, resets {counters.resets}, cuts {counters.cuts}, "
          f"503s {counters.answered_503}, stalled {counters.stalled}, "
          f"bytes {counters.bytes_up}/{counters.bytes_down}")
