"""OpenSSH ``sshd`` on 127.0.0.1 with a throwaway config, host key and user keys.

One server per test session (per xdist worker), running as the current user: root (then it
needs its privilege separation folder ``/run/sshd``) or a normal user, who can only log in as
itself. The user logs in with a key; password authentication stays off, since no test knows a
real account password. Case modules, whose fixtures other modules copy without this one, take
the server through ``shared_sshd(request)``; tests import the ``sshd`` fixture.
"""
from __future__ import annotations

import os
import pwd
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from tests.servers import session_server

SSHD = "/usr/sbin/sshd"  # sshd re-executes itself and insists on an absolute path
PASSPHRASE = "k3y pa55 phrase"  # a space on purpose
START_TIMEOUT = 20.0  # seconds


@dataclass
class SshdServer:
    port: int
    user: str
    folder: Path  # served: every test area lives below it
    key: Path  # the user's key, no passphrase
    key_with_passphrase: Path  # the user's other key, locked with PASSPHRASE
    stranger_key: Path  # a key the server does not know
    known_hosts: Path  # holds the server's host key for [127.0.0.1]:port
    wrong_known_hosts: Path  # holds another key for [127.0.0.1]:port (a "changed" host key)
    empty_known_hosts: Path
    process: subprocess.Popen
    log: Path

    def area(self) -> Path:
        """A fresh, empty folder on the server."""
        folder = self.folder / f"area-{uuid.uuid4().hex[:10]}"
        folder.mkdir()
        return folder

    def settings(self, root: Path | str, **overrides: Any) -> dict[str, Any]:
        """An sftp settings block that logs in with the plain key and checks the host key."""
        return {"host": "127.0.0.1", "port": self.port, "user": self.user,
                "key_path": _everywhere(self.key), "known_hosts_path": _everywhere(
                    self.known_hosts), "root": str(root), **overrides}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _everywhere(path: Path) -> dict[str, str]:
    return {"linux": str(path), "darwin": str(path), "windows": str(path)}


def _write_private(path: Path, key: Any, passphrase: str | None = None) -> str:
    """Write ``key`` in OpenSSH format (mode 0600, as sshd and ssh demand); return its public
    line."""
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.OpenSSH, encryption))
    path.chmod(0o600)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    path.with_suffix(".pub").write_text(public + "\n")
    return public


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(4).startswith(b"SSH-")  # the banner: sshd, not some other port
    except OSError:
        return False


def start_sshd(base: Path) -> SshdServer:
    """Generate keys and a config under ``base``, start sshd and wait until it answers."""
    keys, served = base / "keys", base / "served"
    keys.mkdir(parents=True)
    served.mkdir()
    host_public = _write_private(keys / "host_ed25519", ed25519.Ed25519PrivateKey.generate())
    other_host = _write_private(keys / "other_host", ed25519.Ed25519PrivateKey.generate())
    user_public = _write_private(keys / "user_ed25519", ed25519.Ed25519PrivateKey.generate())
    locked_public = _write_private(keys / "user_ecdsa", ec.generate_private_key(ec.SECP256R1()),
                                   PASSPHRASE)
    _write_private(keys / "stranger", ed25519.Ed25519PrivateKey.generate())
    (keys / "authorized_keys").write_text(f"{user_public}\n{locked_public}\n")
    port = _free_port()
    (keys / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_public}\n")
    (keys / "wrong_known_hosts").write_text(f"[127.0.0.1]:{port} {other_host}\n")
    (keys / "empty_known_hosts").write_text("")
    config = base / "sshd_config"
    config.write_text("\n".join([
        "ListenAddress 127.0.0.1",
        f"Port {port}",
        f"HostKey {keys / 'host_ed25519'}",
        f"PidFile {base / 'sshd.pid'}",
        f"AuthorizedKeysFile {keys / 'authorized_keys'}",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",  # keys only, which is all the tests use
        "UsePAM no",
        "StrictModes no",  # the temporary folders belong to whoever runs the tests
        "LogLevel VERBOSE",
        "Subsystem sftp internal-sftp",
        "",
    ]))
    if os.geteuid() == 0:  # privilege separation needs its empty, root-owned folder
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    log = base / "sshd.log"
    with open(log, "wb") as stderr:
        process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)],
                                   stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)
    deadline = time.monotonic() + START_TIMEOUT
    while not _accepts(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"sshd did not start: {log.read_text(errors='replace')}")
        time.sleep(0.05)
    return SshdServer(port=port, user=pwd.getpwuid(os.getuid()).pw_name, folder=served,
                      key=keys / "user_ed25519", key_with_passphrase=keys / "user_ecdsa",
                      stranger_key=keys / "stranger", known_hosts=keys / "known_hosts",
                      wrong_known_hosts=keys / "wrong_known_hosts",
                      empty_known_hosts=keys / "empty_known_hosts", process=process, log=log)


SERVER = pytest.StashKey[SshdServer]()


def shared_sshd(request: pytest.FixtureRequest) -> SshdServer:
    """The session's server, started on first use and stopped when the session ends."""
    return session_server(request, SERVER, "sshd", start_sshd, SshdServer.stop)


@pytest.fixture(scope="session")
def sshd(request: pytest.FixtureRequest) -> SshdServer:
    return shared_sshd(request)
