"""s3 against SeaweedFS (``weed mini``) on 127.0.0.1: each provider gets its own key prefix."""
from __future__ import annotations

import uuid

import pytest

from sitesync_addon.providers.s3 import S3Provider
from sitesync_addon.testing.conformance import ProviderCase
from tests.servers.seaweedfs import shared_seaweedfs


@pytest.fixture
def s3_case(request: pytest.FixtureRequest) -> ProviderCase:
    server = shared_seaweedfs(request)

    def provider(secret: str | None = None) -> S3Provider:
        prefix = f"case-{uuid.uuid4().hex[:8]}"
        return S3Provider("conformance", server.settings(prefix, secret), {})

    return ProviderCase(make=provider, make_with_bad_credentials=lambda: provider("wrong"))
