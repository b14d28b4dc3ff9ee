"""rclone over its local backend, and over ``rclone serve webdav`` on 127.0.0.1."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from sitesync_addon.providers.rclone import RcloneProvider
from sitesync_addon.testing.conformance import ProviderCase
from tests.servers.rclone_webdav import shared_webdav


@pytest.fixture
def rclone_local_case(tmp_path: Path) -> ProviderCase:
    def make() -> RcloneProvider:  # a remote of type local, defined inline
        folder = tmp_path / f"rclone-{uuid.uuid4().hex[:8]}"
        return RcloneProvider("conformance", {"remote": f"disk:{folder}",
                                              "parameters": {"type": "local"}}, {})

    def unconfigured() -> RcloneProvider:  # a config file that lacks the remote
        config = tmp_path / "empty-rclone.conf"
        config.write_text("")
        return RcloneProvider("conformance", {"remote": f"disk:{tmp_path}/nope",
                                              "config_path": {"linux": str(config),
                                                              "darwin": str(config),
                                                              "windows": str(config)}}, {})

    return ProviderCase(make=make, make_with_bad_credentials=unconfigured)


@pytest.fixture
def rclone_webdav_case(request: pytest.FixtureRequest) -> ProviderCase:
    server = shared_webdav(request)

    def provider(password: str | None = None) -> RcloneProvider:
        parameters = server.parameters(password) if password else server.parameters()
        return RcloneProvider("conformance", {"remote": f"dav:case-{uuid.uuid4().hex[:8]}",
                                              "parameters": parameters}, {})

    return ProviderCase(make=provider, make_with_bad_credentials=lambda: provider("wrong"))
