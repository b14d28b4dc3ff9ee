"""sftp against OpenSSH ``sshd`` on 127.0.0.1 (tests/servers/sshd.py)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from sitesync_addon.providers.sftp import SftpProvider
from sitesync_addon.testing.conformance import ProviderCase
from tests.servers.sshd import shared_sshd


@pytest.fixture
def sftp_case(request: pytest.FixtureRequest) -> Iterator[ProviderCase]:
    server = shared_sshd(request)
    made: list[SftpProvider] = []

    def provider(**overrides: object) -> SftpProvider:
        made.append(SftpProvider("conformance", server.settings(server.area(), **overrides),
                                 {}))
        return made[-1]

    def stranger() -> SftpProvider:  # a key the server does not know
        return provider(key_path={"linux": str(server.stranger_key),
                                  "darwin": str(server.stranger_key),
                                  "windows": str(server.stranger_key)})

    yield ProviderCase(make=provider, make_with_bad_credentials=stranger)
    for each in made:
        each.close()
