"""A studio on a live server: a project with sync on, a studio root and a local site."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from sitesync_addon import SiteSyncAddon
from sitesync_addon.publish import publish_files
from tests.conftest import ADMIN_KEY

PROJECT = "proj"
LOCAL_ID = "ws1"


@dataclass
class Studio:
    url: str
    root: Path
    local_root: Path
    tmp: Path
    publisher: SiteSyncAddon
    artist: SiteSyncAddon

    def publish(self, shot: str, sizes: list[int], version: int = 1, name: str = "bin") -> dict:
        folder = self.tmp / "incoming" / f"{shot}-v{version}-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for index, size in enumerate(sizes):
            path = folder / f"{shot}_{index:04d}.{name}"
            path.write_bytes(os.urandom(size))
            paths.append(path)
        return publish_files(self.publisher, PROJECT, folder=f"shots/{shot}", product="plate",
                             version=version, representation=name, files=paths)

    def local_path(self, file: dict) -> Path:
        return self.local_root / file["path"].partition("/")[2]

    def studio_path(self, file: dict) -> Path:
        return self.root / file["path"].partition("/")[2]

    def upload_to_remote_site(self, site: dict, state_dir: Path) -> dict:
        """Make ``site`` the project's remote site, publish a representation (empty, small and
        multi-chunk files) and run a sync service as that site until idle; it uploads from
        the studio root. Returns the representation."""
        admin = self.publisher
        admin.client.http.put(f"/api/{admin.endpoint_prefix}/settings", json={
            "enabled": True,
            "config": {"retry_cnt": 3, "active_site": "studio", "remote_site": site["name"]},
            "sites": [site]})
        admin.clear_caches()
        rep = self.publish("sh010", [0, 1000, 300_000, 9 * 1024 * 1024 + 7])
        thread = admin.create_service(active_site=site["name"], state_dir=state_dir)
        assert thread.site_pairs(PROJECT) == [("studio", site["name"])]
        try:
            assert thread.run_until_idle() is True
        finally:
            thread.stop()
        assert admin.is_representation_on_site(PROJECT, rep["id"], site["name"])
        assert thread.moved == len(rep["files"]) and thread.failed == 0
        return rep


class Throttle:
    """An observer that slows every chunk down, so a test can act while a file moves."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.chunks = 0

    def started(self, item: dict) -> None: ...

    def advanced(self, item: dict, written: int) -> None:
        self.chunks += 1
        time.sleep(self.seconds)

    def finished(self, item: dict, outcome: str) -> None: ...


@pytest.fixture
def studio(server, tmp_path) -> Studio:  # type: ignore[no-untyped-def]
    root, local_root = tmp_path / "studio", tmp_path / "ws1"
    root.mkdir()
    local_root.mkdir()
    admin = SiteSyncAddon(server.url, ADMIN_KEY, site_id="publisher")
    settings = f"/api/{admin.endpoint_prefix}/settings"
    admin.client.http.post("/api/projects", json={"name": PROJECT,
                                          "roots": {"work": {"linux": str(root)}}})
    admin.client.http.put(settings, json={"enabled": True, "config": {"retry_cnt": 3}})
    admin.client.http.put(f"{settings}/{PROJECT}/site/{LOCAL_ID}", json={
        "active_site": "local", "remote_site": "studio",
        "local_roots": [{"name": "work", "path": str(local_root)}]})
    artist = SiteSyncAddon(server.url, ADMIN_KEY, site_id=LOCAL_ID)
    artist.retry_backoff_base = 0.05
    return Studio(server.url, root, local_root, tmp_path, admin, artist)


@pytest.fixture
def running_service(studio, tmp_path):  # type: ignore[no-untyped-def]
    """The artist machine's sync service, started; stopped after the test."""
    service = studio.artist.create_service(state_dir=tmp_path / "state")
    service.start()
    yield service
    service.stop()
