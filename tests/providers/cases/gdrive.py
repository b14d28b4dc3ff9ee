"""gdrive against the Drive v3 test server on 127.0.0.1: each provider gets a fresh root
folder in the test service account's My Drive."""
from __future__ import annotations

import uuid

import pytest

from sitesync_addon.providers.gdrive import GDriveProvider
from sitesync_addon.testing.conformance import ProviderCase
from tests.servers.drive import shared_drive_server


@pytest.fixture
def gdrive_case(request: pytest.FixtureRequest) -> ProviderCase:
    drive = shared_drive_server(request)

    def make() -> GDriveProvider:
        return GDriveProvider("conformance", drive.settings(f"cases/{uuid.uuid4().hex[:8]}"), {})

    def refused() -> GDriveProvider:  # the account's name, but a key Drive never registered
        unknown = drive.server.unknown_key(drive.account["client_email"])
        key_file = drive.write_key(unknown, f"unknown-{uuid.uuid4().hex[:8]}")
        return GDriveProvider("conformance", drive.settings("cases/refused", key_file), {})

    return ProviderCase(make=make, make_with_bad_credentials=refused)
