"""sftp specifics against a live OpenSSH sshd: host keys, keys and passphrases, errors,
one connection shared by threads."""
from __future__ import annotations

import contextlib
import errno
import io
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sitesync_addon.errors import (
    AuthFailed,
    NoSpace,
    NotFound,
    PathEscapesRoot,
    PermissionDenied,
    ProviderError,
    SiteUnavailable,
    Transient,
)
from sitesync_addon.providers import sftp as sftp_module
from sitesync_addon.providers.registry import create_provider
from sitesync_addon.providers.sftp import MAX_CHANNELS, SftpProvider
from tests.servers.sshd import PASSPHRASE, SshdServer, sshd  # noqa: F401

SITE = "sftp-site"


def everywhere(path: Path | str) -> dict[str, str]:
    return {"linux": str(path), "darwin": str(path), "windows": str(path)}


@pytest.fixture
def make(sshd: SshdServer) -> Iterator:  # noqa: F811
    """``make(**settings)``: a provider over a fresh area; all closed afterwards."""
    made: list[SftpProvider] = []

    def provider(root: Path | None = None, **overrides: object) -> SftpProvider:
        made.append(SftpProvider(SITE, sshd.settings(root or sshd.area(), **overrides), {}))
        return made[-1]

    yield provider
    for each in made:
        each.close()


def put(provider: SftpProvider, path: str, data: bytes) -> None:
    provider.write(path, io.BytesIO(data), len(data))


def logins(server: SshdServer) -> int:
    return server.log.read_text(errors="replace").count("Accepted publickey")


def sftp_sessions(server: SshdServer) -> int:
    return server.log.read_text(errors="replace").count("subsystem 'sftp'")


# -- host keys --------------------------------------------------------------------------------

def test_an_unknown_host_key_is_refused_with_what_to_do(make, sshd):  # noqa: F811
    provider = make(known_hosts_path=everywhere(sshd.empty_known_hosts))
    assert not provider.is_active()
    with pytest.raises(SiteUnavailable) as raised:  # the site is held until someone acts
        provider.stat("work/a.bin")
    assert not isinstance(raised.value, AuthFailed)
    message = str(raised.value)
    assert SITE in message and f"127.0.0.1:{sshd.port}" in message
    assert str(sshd.empty_known_hosts) in message and "ssh-keyscan" in message
    assert "check_host_key: false" in message and "SHA256:" in message


def test_a_missing_known_hosts_file_refuses_every_host(make, sshd, tmp_path):  # noqa: F811
    missing = tmp_path / "no-such-known_hosts"
    provider = make(known_hosts_path=everywhere(missing))
    with pytest.raises(ProviderError, match="does not exist"):
        provider.stat("work/a.bin")
    assert not missing.exists()


def test_a_changed_host_key_is_refused_as_a_possible_attack(make, sshd):  # noqa: F811
    provider = make(known_hosts_path=everywhere(sshd.wrong_known_hosts))
    assert not provider.is_active()
    with pytest.raises(SiteUnavailable, match="CHANGED") as raised:
        provider.stat("work/a.bin")
    assert "ssh-keygen -R" in str(raised.value)


def test_check_host_key_false_trusts_any_server_unrecorded(make, sshd, caplog):  # noqa: F811
    provider = make(known_hosts_path=everywhere(sshd.empty_known_hosts), check_host_key=False)
    with caplog.at_level("WARNING", logger="sitesync_addon.providers.sftp"):
        assert provider.is_active()
    put(provider, "work/p/f.bin", b"trusted")
    assert provider.stat("work/p/f.bin").size == 7
    assert "accepted unchecked" in caplog.text
    assert sshd.empty_known_hosts.read_text() == ""  # nothing learnt behind the user's back


# -- credentials --------------------------------------------------------------------------------

def test_a_key_with_a_passphrase_logs_in(make, sshd):  # noqa: F811
    provider = make(key_path=everywhere(sshd.key_with_passphrase), key_passphrase=PASSPHRASE)
    assert provider.is_active()
    put(provider, "work/p/locked.bin", b"x" * 100)
    assert provider.stat("work/p/locked.bin").size == 100


@pytest.mark.parametrize("passphrase", [None, "not the passphrase"])
def test_a_locked_key_without_its_passphrase_is_an_authentication_failure(
        make, sshd, passphrase):  # noqa: F811
    provider = make(key_path=everywhere(sshd.key_with_passphrase), key_passphrase=passphrase)
    assert not provider.is_active()
    with pytest.raises(AuthFailed, match="passphrase") as raised:
        provider.stat("work/a.bin")
    assert SITE in str(raised.value) and str(sshd.key_with_passphrase) in str(raised.value)
    if passphrase:
        assert passphrase not in str(raised.value)


def test_an_unknown_key_names_the_site_host_and_user(make, sshd):  # noqa: F811
    provider = make(key_path=everywhere(sshd.stranger_key))
    with pytest.raises(AuthFailed) as raised:
        provider.stat("work/a.bin")
    message = str(raised.value)
    assert SITE in message and f"127.0.0.1:{sshd.port}" in message
    assert f"user '{sshd.user}'" in message


def test_a_refused_password_is_an_authentication_failure_never_shown(make, sshd):  # noqa: F811
    provider = make(key_path={}, password="s3cret-password")  # sshd allows keys only
    assert not provider.is_active()
    with pytest.raises(AuthFailed, match="password") as raised:
        provider.stat("work/a.bin")
    assert "s3cret-password" not in str(raised.value)


def test_a_missing_key_file_is_a_clear_error(make, sshd, tmp_path):  # noqa: F811
    provider = make(key_path=everywhere(tmp_path / "gone"))
    with pytest.raises(ProviderError, match="missing.*key_path"):
        provider.stat("work/a.bin")


def test_invalid_settings_are_refused_without_their_values(sshd):  # noqa: F811
    with pytest.raises(ProviderError, match="invalid sftp settings: port") as raised:
        SftpProvider(SITE, {"host": "h", "user": "u", "port": 0, "password": "hunter2"}, {})
    assert "hunter2" not in str(raised.value)


# -- reaching the server -----------------------------------------------------------------------

def test_an_unreachable_server_holds_the_site(make, sshd):  # noqa: F811
    closed = SftpProvider(SITE, sshd.settings(sshd.area(), port=free_closed_port()), {})
    assert not closed.is_active()
    with pytest.raises(SiteUnavailable, match="cannot reach.*check the site's host") as raised:
        closed.stat("work/a.bin")
    assert not isinstance(raised.value, AuthFailed)
    unknown = SftpProvider(SITE, sshd.settings(sshd.area(), host="no-such-host.invalid"), {})
    with pytest.raises(SiteUnavailable, match="cannot reach"):
        unknown.stat("work/a.bin")


def free_closed_port() -> int:
    import socket
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_missing_root_is_not_created(make, sshd, tmp_path):  # noqa: F811
    root = sshd.folder / "never-made"
    provider = make(root=root)
    assert not provider.is_active()
    with pytest.raises(SiteUnavailable, match="does not exist"):
        put(provider, "work/p/f.bin", b"data")
    assert not root.exists()


def test_a_root_with_dots_stays_where_it_points(make, sshd):  # noqa: F811
    area = sshd.area()
    provider = make(root=f"{area}/sub/..")
    put(provider, "work/p/f.bin", b"dots")
    assert (area / "work" / "p" / "f.bin").read_bytes() == b"dots"
    for path in ("work/../../x", "../x", "/etc/passwd"):
        with pytest.raises(PathEscapesRoot):
            provider.stat(path)


def test_the_provider_is_registered_and_built_from_a_site(sshd):  # noqa: F811
    area = sshd.area()
    provider = create_provider(SITE, {"provider": "sftp", "sftp": sshd.settings(area)})
    try:
        assert isinstance(provider, SftpProvider) and provider.is_active()
    finally:
        provider.close()  # type: ignore[attr-defined]


# -- files -------------------------------------------------------------------------------------

def test_files_land_on_the_server_under_the_root(make, sshd):  # noqa: F811
    area = sshd.area()
    provider = make(root=area)
    data = os.urandom(3 * 1024 * 1024 + 17)
    assert provider.write("work/a/b/file.bin", io.BytesIO(data), len(data)).size == len(data)
    assert (area / "work" / "a" / "b" / "file.bin").read_bytes() == data
    with provider.open_read("work/a/b/file.bin") as reader:
        assert reader.read() == data


def test_open_write_makes_folders_and_open_read_refuses_missing_files(make, sshd):  # noqa: F811
    area = sshd.area()
    provider = make(root=area)
    with provider.open_write("work/x/y/z.bin") as writer:
        writer.write(b"hello ")
        writer.write(b"world")
    assert (area / "work" / "x" / "y" / "z.bin").read_bytes() == b"hello world"
    with pytest.raises(NotFound, match="nope.bin"):
        provider.open_read("work/x/nope.bin")
    assert list(provider.list("work/missing")) == []


def test_an_upload_that_fails_midway_leaves_no_partial_file(make, sshd):  # noqa: F811
    area = sshd.area()
    provider = make(root=area)

    class Failing(io.RawIOBase):
        sent = 0

        def readinto(self, buffer):  # type: ignore[no-untyped-def]
            if self.sent > 3 * 1024 * 1024:
                raise OSError("source disk went away")
            buffer[:] = b"x" * len(buffer)
            self.sent += len(buffer)
            return len(buffer)

    with pytest.raises(OSError, match="went away"):
        provider.write("work/p/cut.bin", Failing(), 10 * 1024 * 1024)
    assert not (area / "work" / "p" / "cut.bin").exists()
    assert provider.is_active()  # and the provider goes on


# -- one connection ----------------------------------------------------------------------------

def test_threads_share_one_connection_and_a_few_channels(make, sshd):  # noqa: F811
    provider = make()
    before_logins, before_sessions = logins(sshd), sftp_sessions(sshd)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for index in range(10):
                path = f"work/t/new-{index}/w{worker}.bin"  # folders made concurrently
                data = f"{worker}:{index}".encode() * 100
                put(provider, path, data)
                assert provider.stat(path).size == len(data)
                with provider.open_read(path) as reader:
                    assert reader.read() == data
        except BaseException as exc:  # noqa: BLE001  (reported by the main thread)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list(provider.list("work/t"))) == 120
    assert logins(sshd) - before_logins == 1
    assert sftp_sessions(sshd) - before_sessions <= MAX_CHANNELS


def test_a_dropped_connection_is_reopened(make, sshd):  # noqa: F811
    provider = make()
    put(provider, "work/p/f.bin", b"before")
    before = logins(sshd)
    for process in session_processes(sshd):  # the server side of every connection dies
        os.kill(process, signal.SIGKILL)
    with contextlib.suppress(Transient):
        provider.stat("work/p/f.bin")  # may still meet the dead connection
    assert provider.stat("work/p/f.bin").size == 6
    assert logins(sshd) - before == 1


def test_a_silent_server_is_transient_then_reconnected(make, sshd, monkeypatch):  # noqa: F811
    monkeypatch.setattr(sftp_module, "IO_TIMEOUT", 1.0)
    provider = make()
    put(provider, "work/p/f.bin", b"before")
    frozen = session_processes(sshd)
    for process in frozen:  # the connection stays open, and nothing answers on it
        os.kill(process, signal.SIGSTOP)
    try:
        with pytest.raises(Transient, match="no answer in 1 s"):
            provider.stat("work/p/f.bin")
        assert provider.stat("work/p/f.bin").size == 6  # over a new connection
    finally:
        for process in frozen:
            os.kill(process, signal.SIGKILL)


def session_processes(server: SshdServer) -> list[int]:
    """Every process below the listening sshd: those that serve this session's connections."""
    found, pending = [], [server.process.pid]
    while pending:
        pid = pending.pop()
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except FileNotFoundError:  # ended meanwhile
            continue
        found.extend(int(child) for child in children)
        pending.extend(int(child) for child in children)
    return found


def test_sftp_status_errors_map_by_errno(make, sshd):  # noqa: F811
    """paramiko raises SFTP statuses as OSErrors by errno (the server runs as root here, so a
    real EACCES cannot be provoked): each becomes the error the engine acts on."""
    provider = make()
    cases = [(FileNotFoundError(errno.ENOENT, "No such file"), NotFound),
             (PermissionError(errno.EACCES, "Permission denied"), PermissionDenied),
             (OSError(errno.ENOSPC, "No space left on device"), NoSpace),
             (EOFError(), Transient), (OSError("Failure"), ProviderError)]
    for raised, expected in cases:
        translated = provider._translate(raised, "writing", "work/p/f.bin")
        assert type(translated) is expected and "work/p/f.bin" in str(translated)
