"""The SiteSync server as a real process (``sitesync server``), which a test can kill -9 and
start again on the same port and database."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from server_addon.app import ADMIN_KEY_ENV
from tests.conftest import ADMIN_KEY, free_port

START_TIMEOUT = 60.0  # seconds: the first start migrates the database


class ServerProcess:
    """``sitesync server`` on 127.0.0.1:``port``; ``url`` stays the same across restarts."""

    def __init__(self, database_url: str, log_dir: Path, port: int | None = None) -> None:
        self.database_url = database_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_dir = log_dir
        self.starts = 0
        self.process: subprocess.Popen | None = None

    def start(self) -> ServerProcess:
        self.starts += 1
        log = self.log_dir / f"server-{self.port}-{self.starts}.log"
        env = {**os.environ, ADMIN_KEY_ENV: ADMIN_KEY, "SITESYNC_DATABASE_URL": self.database_url}
        with open(log, "wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sitesync_addon.cli", "server", "--port", str(self.port)],
                env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"sitesync server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        return self

    def answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/api/health", timeout=1).ok
        except requests.RequestException:
            return False

    def kill(self) -> None:
        """kill -9: no shutdown, no goodbye to clients."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def logs(self) -> str:
        return "".join(path.read_text(errors="replace")
                       for path in sorted(self.log_dir.glob(f"server-{self.port}-*.log")))
