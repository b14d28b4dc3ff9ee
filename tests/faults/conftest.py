"""The fault suite: real processes on loopback, each fault bounded in time.

Here the ``server`` fixture is a real ``sitesync server`` process, so a test can kill it; the
shared ``studio`` fixture builds on it unchanged."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.server_process import ServerProcess
from tests.sqlite_only import sqlite_database_url  # noqa: F401  (SQLite unless a test opts in)


@pytest.fixture
def server(database_url: str, tmp_path) -> Iterator[ServerProcess]:  # type: ignore[no-untyped-def]
    log_dir = tmp_path / "server-logs"
    log_dir.mkdir()
    process = ServerProcess(database_url, log_dir).start()
    yield process
    process.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:  # the whole suite is slow: `make test-fast` leaves it out
        if "tests/faults/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.slow)
