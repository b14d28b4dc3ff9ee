"""local_drive over temporary folders."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sitesync_addon.providers.local_drive import LocalDriveProvider
from sitesync_addon.testing.conformance import ProviderCase


@pytest.fixture
def local_drive_case(tmp_path: Path) -> Iterator[ProviderCase]:
    def make() -> LocalDriveProvider:
        root = tmp_path / f"site-{uuid.uuid4().hex[:8]}"
        root.mkdir()
        return LocalDriveProvider("conformance", {}, {"work": str(root)})

    def unmounted() -> LocalDriveProvider:
        return LocalDriveProvider("conformance", {}, {"work": str(tmp_path / "not-mounted")})

    yield ProviderCase(make=make, make_with_bad_credentials=unmounted)
