"""The claimer, the bounded queue and the workers against a fake server: no network."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from sitesync_addon.engine.config import EngineConfig
from sitesync_addon.engine.service import SyncService
from sitesync_addon.errors import ServerUnreachable
from sitesync_addon.hashing import hash_file
from sitesync_addon.providers.local_drive import LocalDriveProvider

PROJECT = "p"


class FakeWork:
    """A queue of files from ``studio`` to ``ws1``; leases are not checked."""

    def __init__(self, paths: list[str], hashes: dict[str, str]) -> None:
        self.waiting = list(paths)
        self.hashes = hashes
        self.done: list[str] = []
        self.claims: list[int] = []
        self.fail_claims = 0
        self.lock = threading.Lock()

    def claim(self, project: str, local: str, remote: str, worker: str, limit: int,
              lease: float, claim_id: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            if self.fail_claims:
                self.fail_claims -= 1
                raise ServerUnreachable("the server is restarting")
            self.claims.append(limit)
            taken, self.waiting = self.waiting[:limit], self.waiting[limit:]
        return [{"representationId": "r", "fileId": path, "path": "{root[work]}/" + path,
                 "size": 1000, "hash": self.hashes[path], "sourceSite": "studio",
                 "targetSite": "ws1", "direction": "download", "priority": 50, "retries": 0,
                 "leaseExpiresAt": 0} for path in taken]

    def report(self, project: str, worker: str, lease: float, reports: list) -> list:
        with self.lock:
            self.done += [r["fileId"] for r in reports if r["outcome"] == "done"]
        return [{"accepted": True, "paused": False} for _ in reports]

    def release(self, project: str, worker: str, claim_id: str | None = None) -> int:
        return 0


class FakeState:
    def __init__(self, work: FakeWork) -> None:
        self.work = work

    def count(self, project: str, local: str, remote: str, **filters: Any) -> int:
        statuses = filters.get("localStatusFilter") or filters.get("remoteStatusFilter")
        if statuses == 2 or statuses == [2]:  # FAILED
            return 0
        return int(bool(self.work.waiting)) if "remoteStatusFilter" in filters else 0


class FakeServices:
    """Takes heartbeats: (service id, site, host, version, pid, projects, in flight, speed)."""

    def __init__(self) -> None:
        self.beats: list[tuple] = []

    def heartbeat(self, *beat: Any) -> None:
        self.beats.append(beat)


class FakeClient:
    def __init__(self, work: FakeWork) -> None:
        self.work = work
        self.state = FakeState(work)
        self.services = FakeServices()


class FakeSites:
    def __init__(self, roots: dict[str, Path]) -> None:
        self.providers = {site: LocalDriveProvider(site, {}, {"work": str(root)})
                          for site, root in roots.items()}

    def enabled_projects(self) -> list[str]:
        return [PROJECT]

    def active_site(self, project: str) -> str:
        return "ws1"

    def remote_site(self, project: str) -> str:
        return "studio"

    def loop_delay(self, project: str | None) -> int:
        return 60

    def project_settings(self, project: str) -> dict[str, Any]:
        return {"sites": {site: {"alternative_sites": []} for site in self.providers}}

    def provider(self, project: str, site: str) -> LocalDriveProvider:
        return self.providers[site]

    def invalidate(self) -> None:
        pass


def service_over(tmp_path: Path, count: int, **config: Any) -> tuple[SyncService, FakeWork]:
    studio, local = tmp_path / "studio", tmp_path / "ws1"
    paths, hashes = [], {}
    for n in range(count):
        path = studio / f"f{n:04d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(1000))
        paths.append(path.name)
        hashes[path.name] = hash_file(path)
    local.mkdir()
    work = FakeWork(paths, hashes)
    service = SyncService(FakeClient(work), FakeSites({"studio": studio, "ws1": local}),  # type: ignore[arg-type]
                          EngineConfig(site="ws1", state_dir=tmp_path / "state", **config))
    service._listen = lambda: None  # type: ignore[method-assign]  # no event stream here
    return service, work


def test_the_queue_is_bounded_and_every_file_moves_once(tmp_path: Path) -> None:
    service, work = service_over(tmp_path, 250, claim_limit=40, concurrency=3)
    assert service.run_until_idle()
    assert sorted(work.done) == sorted(set(work.done)) and len(work.done) == 250
    assert max(work.claims) <= 40 and service.moved == 250 and service.failed == 0
    assert all((tmp_path / "ws1" / name).is_file() for name in work.done)


def test_a_claim_that_fails_costs_nothing_and_the_rest_moves(tmp_path: Path) -> None:
    service, work = service_over(tmp_path, 30, claim_limit=10, concurrency=2)
    work.fail_claims = 1  # the server blips once
    assert service.run_until_idle()
    assert len(work.done) == 30 and service.failed == 0
