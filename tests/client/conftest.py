"""Fixtures of the client contract tests: a live server, a project with sync on, an addon."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sitesync_addon import SiteSyncAddon
from tests.conftest import ADMIN_KEY, Api
from tests.server.helpers import Published, make_project, ok, publish

SITE_ID = "ws1"
PROJECT = "proj"


from tests.conftest import both_databases  # noqa: E402,F401
from tests.sqlite_only import sqlite_database_url  # noqa: E402,F401


@dataclass
class Env:
    """A live server, project ``proj`` with sync enabled and the addon of machine ``ws1``."""

    addon: SiteSyncAddon
    api: Api
    studio_root: Path
    local_root: Path
    project: str = PROJECT

    def project_settings(self, overrides: dict[str, Any], project: str = PROJECT) -> None:
        ok(self.api.put(f"{{api}}/settings/{project}", json=overrides))
        self.addon.clear_caches()

    def studio_settings(self, settings: dict[str, Any]) -> None:
        ok(self.api.put("{api}/settings", json=settings))
        self.addon.clear_caches()

    def site_settings(self, settings: dict[str, Any], site_id: str = SITE_ID) -> None:
        ok(self.api.put(f"{{api}}/settings/{self.project}/site/{site_id}", json=settings))
        self.addon.clear_caches()

    def publish(self, **kwargs: Any) -> Published:
        return publish(self.api, self.project, **kwargs)

    def write_files(self, representation: dict, root: Path) -> list[Path]:
        """Put the representation's files on disk under ``root`` with their recorded sizes."""
        paths = []
        for item in representation["files"]:
            path = root / item["path"].removeprefix("{root[work]}/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x" * item["size"])
            paths.append(path)
        return paths

    def state(self, rep_id: str, site: str) -> dict | None:
        """The server's state of one representation on one site, files by id."""
        return self.addon.site_states(self.project, [rep_id], [site]).get(rep_id, {}).get(site)


@pytest.fixture
def env(api: Api, server, tmp_path: Path) -> Env:  # type: ignore[no-untyped-def]
    studio_root, local_root = tmp_path / "studio", tmp_path / SITE_ID
    studio_root.mkdir()
    local_root.mkdir()
    make_project(api, PROJECT, str(studio_root))
    ok(api.put(f"{{api}}/settings/{PROJECT}", json={"enabled": True}))
    ok(api.put(f"{{api}}/settings/{PROJECT}/site/{SITE_ID}", json={
        "active_site": "local", "remote_site": "studio",
        "local_roots": [{"name": "work", "path": str(local_root)}]}))
    addon = SiteSyncAddon(server.url, ADMIN_KEY, site_id=SITE_ID)
    return Env(addon, api, studio_root, local_root)


@pytest.fixture
def addon(env: Env) -> Iterator[SiteSyncAddon]:
    yield env.addon
    if env.addon.is_running:
        env.addon.server_exit()
