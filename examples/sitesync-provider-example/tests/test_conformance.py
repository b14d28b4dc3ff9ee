"""The SiteSync provider conformance suite, run against this plugin."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sitesync_provider_example import CasFolderProvider

from sitesync_addon.testing.conformance import ProviderCase, ProviderConformance


class TestCasFolder(ProviderConformance):
    @pytest.fixture
    def provider_case(self, tmp_path: Path) -> ProviderCase:
        def make() -> CasFolderProvider:
            store = tmp_path / f"store-{uuid.uuid4().hex[:8]}"
            store.mkdir()
            return CasFolderProvider("vault", {"folder": str(store)}, {})

        def missing() -> CasFolderProvider:
            return CasFolderProvider("vault", {"folder": str(tmp_path / "missing")}, {})

        return ProviderCase(make=make, make_with_bad_credentials=missing)
