"""``sftp``: an SSH file server through paramiko (imported when a provider is made).

One SSH connection per provider object, opened on first use and reopened when it drops. A
paramiko SFTP client must not serve two threads at once, so every operation borrows an SFTP
channel from a small pool over that one connection and gives it back afterwards. Host keys are
checked against a known_hosts file unless the site turns ``check_host_key`` off. Writes are
pipelined and reads run ahead a window at a time, which hides the round trip of each request.
Files grow under their name, so the engine writes to a temporary name and renames.
"""
from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import posixpath
import socket
import stat as stat_mode
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from pydantic import Field

from sitesync_addon.errors import (
    AuthFailed,
    NoSpace,
    NotFound,
    PermissionDenied,
    ProviderError,
    SiteSyncError,
    SiteUnavailable,
    Transient,
)
from sitesync_addon.providers.base import (
    SECRET,
    AbstractProvider,
    FileStat,
    PlatformPaths,
    ProviderSettings,
    relative_path,
)
from sitesync_addon.providers.hookspecs import hookimpl

if TYPE_CHECKING:
    import paramiko

log = logging.getLogger(__name__)


class SftpSettings(ProviderSettings):
    host: str = Field(min_length=1)
    port: int = Field(22, ge=1, le=65535)
    user: str = Field(min_length=1)
    password: str | None = Field(None, json_schema_extra=SECRET)
    key_path: PlatformPaths = Field(default_factory=dict, description="Private key per platform.")
    key_passphrase: str | None = Field(None, json_schema_extra=SECRET)
    known_hosts_path: PlatformPaths = Field(
        default_factory=dict, description="known_hosts file per platform; empty: "
                                          "~/.ssh/known_hosts.")
    check_host_key: bool = Field(True, description="Turning this off trusts any server.")
    root: str = Field("/", description="Folder on the server where the site's tree starts "
                                       "(it must exist); a relative one starts in the "
                                       "user's login folder.")


CONNECT_TIMEOUT = 15.0  # seconds to reach the server, read its banner and log in
QUICK_TIMEOUT = 5.0  # the same for is_active
IO_TIMEOUT = 60.0  # seconds an open channel may stay silent before the call fails
KEEPALIVE = 30  # seconds between keepalives on an idle connection
# OpenSSH allows 10 sessions (channels) per connection (MaxSessions): stay below it.
MAX_CHANNELS = 8
CHANNEL_WAIT = 600.0  # seconds a call waits for a free channel
REQUEST_SIZE = 32 * 1024  # paramiko's SFTP request size
READ_WINDOW = 8 * 1024 * 1024  # bytes requested ahead of the reader
WRITE_BLOCK = 1024 * 1024  # bytes taken from the engine's reader at a time


class _UnknownHostKey(Exception):
    def __init__(self, hostname: str, key: paramiko.PKey) -> None:
        super().__init__(f"{hostname} is not in known_hosts")
        self.hostname = hostname
        self.key = key


# Host key policies: paramiko calls missing_host_key() on any object it is given, so these
# need not subclass its MissingHostKeyPolicy (which would import paramiko with this module).

class _RefuseUnknownHost:
    """paramiko's RejectPolicy, keeping the key so the message can show its fingerprint."""

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str,
                         key: paramiko.PKey) -> None:
        raise _UnknownHostKey(hostname, key)


class _TrustAnyHost:
    """``check_host_key: false``: accept the key, and say so in the log."""

    def __init__(self, site_name: str) -> None:
        self.site_name = site_name

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str,
                         key: paramiko.PKey) -> None:
        log.warning("site '%s': host key of %s (%s %s) accepted unchecked (check_host_key is "
                    "off)", self.site_name, hostname, key.get_name(), key.fingerprint)


class SftpProvider(AbstractProvider):
    """Paths map under the configured root: ``work/p/f.exr`` -> ``<root>/work/p/f.exr``."""

    code = "sftp"
    title = "SFTP"
    settings_model = SftpSettings
    icon = Path(__file__).parent / "resources" / "sftp.png"
    install = "sitesync[sftp]"
    # Every transfer shares one connection whose encryption runs in Python under the GIL:
    # past a few transfers at once more only adds contention.
    max_concurrency = 4

    def __init__(self, site_name: str, settings: dict[str, Any], roots: dict[str, str]) -> None:
        super().__init__(site_name, settings, roots)
        self.import_sdk("paramiko")
        self.config: SftpSettings = self.validated_settings()
        root = self.config.root.strip() or "/"
        if root == "~" or root.startswith("~/"):  # SFTP starts relative paths at home
            root = root[2:] or "."
        self.base = posixpath.normpath(root)
        self.where = f"{self.config.user}@{self.config.host}:{self.config.port}"
        self._lock = threading.Lock()  # guards the connection and the idle channels
        self._client: paramiko.SSHClient | None = None
        self._idle: list[paramiko.SFTPClient] = []
        self._slots = threading.BoundedSemaphore(MAX_CHANNELS)
        self._key: paramiko.PKey | None = None
        self._posix_rename = True  # until the server says it lacks the extension

    # -- paths --------------------------------------------------------------------------------

    def remote_path(self, path: str) -> str:
        """The server path of a site path; refuses paths that leave the root."""
        # relative_path leaves no "..", so the join stays under the (normalised) root.
        return posixpath.join(self.base, relative_path(path))

    # -- the connection -----------------------------------------------------------------------

    def _private_key(self) -> paramiko.PKey | None:
        import paramiko

        if self._key is None:
            path = self.platform_path(self.config.key_path, "key_path")
            if path is None:
                return None
            if not os.path.isfile(path):
                raise ProviderError(f"the private key of site '{self.site_name}' is missing: "
                                    f"{path}; correct key_path")
            passphrase = self.config.key_passphrase
            try:
                self._key = paramiko.PKey.from_path(
                    path, passphrase.encode() if passphrase else None)  # type: ignore[arg-type]  # cryptography needs bytes
            except TypeError:  # cryptography's way to say the key is locked
                raise AuthFailed(
                    f"the private key {path} of site '{self.site_name}' is protected by a "
                    "passphrase; set key_passphrase") from None
            except (ValueError, paramiko.SSHException) as exc:
                hint = ("wrong key_passphrase, or not a private key" if passphrase
                        else "not a private key paramiko reads")
                raise AuthFailed(f"cannot load the private key {path} of site "
                                 f"'{self.site_name}' ({hint}): {exc}") from None
        return self._key

    def _known_hosts(self) -> str:
        return (self.platform_path(self.config.known_hosts_path, "known_hosts_path")
                or os.path.expanduser("~/.ssh/known_hosts"))

    def _connect(self, timeout: float) -> paramiko.SSHClient:
        import paramiko

        config = self.config
        client = paramiko.SSHClient()
        known_hosts = ""
        if config.check_host_key:
            known_hosts = self._known_hosts()
            if os.path.isfile(known_hosts):
                client.get_host_keys().load(known_hosts)  # read only: never written back
            client.set_missing_host_key_policy(_RefuseUnknownHost())  # type: ignore[arg-type]  # duck-typed policy
        else:  # no known keys loaded either: a changed key is accepted too
            client.set_missing_host_key_policy(
                _TrustAnyHost(self.site_name))  # type: ignore[arg-type]  # duck-typed policy
        key = self._private_key()
        # Without a configured key or password, the user's agent and ~/.ssh keys.
        fallback = key is None and config.password is None
        try:
            client.connect(config.host, config.port, config.user, password=config.password,
                           pkey=key, timeout=timeout, banner_timeout=timeout,
                           auth_timeout=timeout, channel_timeout=timeout,
                           allow_agent=fallback, look_for_keys=fallback,
                           transport_factory=_transport_without_nagle)  # type: ignore[arg-type]  # paramiko passes a socket
        except Exception as exc:  # noqa: BLE001  (each kind becomes a SiteSync error)
            client.close()
            raise self._connect_error(exc, known_hosts) from None
        transport = client.get_transport()
        assert transport is not None
        transport.set_keepalive(KEEPALIVE)
        return client

    def _connect_error(self, exc: Exception, known_hosts: str) -> ProviderError:
        import paramiko

        site, where = self.site_name, self.where
        config = self.config
        host = (f"'[{config.host}]:{config.port}'" if config.port != 22 else config.host)
        if isinstance(exc, _UnknownHostKey):
            missing = "" if os.path.isfile(known_hosts) else " (the file does not exist)"
            return SiteUnavailable(
                f"site '{site}': the host key of {config.host}:{config.port} "
                f"({exc.key.get_name()} {exc.key.fingerprint}) is not in the known_hosts "
                f"file {known_hosts}{missing}. Check the fingerprint with the server's admin "
                f"and add it (e.g. ssh-keyscan -p {config.port} {config.host} >> {known_hosts}),"
                " or set check_host_key: false in the site's settings to trust any server")
        if isinstance(exc, paramiko.BadHostKeyException):
            return SiteUnavailable(
                f"site '{site}': the host key of {config.host}:{config.port} CHANGED: the "
                f"server offers {exc.key.get_name()} {exc.key.fingerprint}, known_hosts "
                f"{known_hosts} expects {exc.expected_key.fingerprint}. Someone may be "
                "intercepting the connection; if the server's key really changed, remove the "
                f"old one (ssh-keygen -R {host} -f {known_hosts}) and add the new one")
        if isinstance(exc, paramiko.AuthenticationException):
            how = " and ".join(
                part for part, used in (("key", config.key_path), ("password", config.password))
                if used) or "the agent's or ~/.ssh keys"
            return AuthFailed(
                f"site '{site}': {config.host}:{config.port} refused user '{config.user}' "
                f"(tried {how}): {exc}; check the site's user, key_path and password")
        if _unreachable(exc):  # no TCP connection: a wrong host, a closed port, no route
            return SiteUnavailable(f"site '{site}': cannot reach {where}: {_describe(exc)}; "
                                   "check the site's host and port, and that the server runs")
        if isinstance(exc, (OSError, EOFError, paramiko.SSHException)):
            # Reset connections, a server that hung up mid-handshake (sshd's MaxStartups).
            return Transient(f"site '{site}': cannot reach {where}: {_describe(exc)}")
        return ProviderError(f"site '{site}': connecting to {where} failed: "
                             f"{type(exc).__name__}: {exc}")

    def _transport(self, timeout: float) -> paramiko.Transport:
        """The live connection, opened (again) when needed; the caller holds the lock."""
        transport = self._client.get_transport() if self._client else None
        if transport is None or not transport.is_active():
            self._disconnect()
            self._client = self._connect(timeout)
            transport = self._client.get_transport()
        assert transport is not None
        return transport

    def _disconnect(self) -> None:
        for sftp in self._idle:
            _close_quietly(sftp)
        self._idle.clear()
        if self._client is not None:
            self._client.close()
            self._client = None

    def close(self) -> None:
        """Close the connection (the next call opens another)."""
        with self._lock:
            self._disconnect()

    # -- channels -----------------------------------------------------------------------------

    def _borrow(self, timeout: float | None = None) -> paramiko.SFTPClient:
        import paramiko

        timeout = timeout or CONNECT_TIMEOUT  # read now, not at import: tests shorten it
        if not self._slots.acquire(timeout=CHANNEL_WAIT):
            raise Transient(f"site '{self.site_name}': no SFTP channel to "
                                         f"{self.where} came free in {CHANNEL_WAIT:.0f} s")
        try:
            with self._lock:
                transport = self._transport(timeout)
                while self._idle:
                    sftp = self._idle.pop()
                    if _usable(sftp, transport):
                        return sftp
                    _close_quietly(sftp)
            with self._translated("opening an SFTP channel to", self.where):
                opened = paramiko.SFTPClient.from_transport(transport)
                channel = opened.get_channel() if opened is not None else None
                if opened is None or channel is None:
                    raise paramiko.SSHException("the server refused an SFTP channel")
            channel.settimeout(IO_TIMEOUT)
            return opened
        except BaseException:
            self._slots.release()
            raise

    def _give_back(self, sftp: paramiko.SFTPClient, reusable: bool) -> None:
        try:
            with self._lock:
                transport = self._client.get_transport() if self._client else None
                if reusable and transport is not None and _usable(sftp, transport):
                    self._idle.append(sftp)
                    return
            _close_quietly(sftp)
        finally:
            self._slots.release()

    @contextmanager
    def _sftp(self, action: str, path: str) -> Iterator[paramiko.SFTPClient]:
        """A channel for one operation, with errors translated. After an SFTP status error
        the channel stays in step and goes back to the pool; after anything else it closes."""
        sftp = self._borrow()
        reusable = False
        try:
            with self._translated(action, path):
                yield sftp
            reusable = True
        except ProviderError as exc:
            reusable = not isinstance(exc, Transient)
            raise
        finally:
            self._give_back(sftp, reusable)

    @contextmanager
    def _translated(self, action: str, path: str) -> Iterator[None]:
        """paramiko's errors as SiteSync's: status errors arrive as OSErrors by errno."""
        try:
            yield
        except SiteSyncError:
            raise
        except Exception as exc:  # noqa: BLE001  (every SDK error is translated)
            raise self._translate(exc, action, path) from None

    def _translate(self, exc: Exception, action: str, path: str) -> ProviderError:
        import paramiko

        where = f"site '{self.site_name}': {action} {path} on {self.where}"
        if isinstance(exc, FileNotFoundError):
            return NotFound(f"{path} is not on site '{self.site_name}' ({self.where})")
        if isinstance(exc, PermissionError):
            return PermissionDenied(f"site '{self.site_name}': {self.where} denied {action} "
                                    f"{path}; check the permissions of user "
                                    f"'{self.config.user}' on the server")
        if isinstance(exc, (TimeoutError, ConnectionError, EOFError, paramiko.SSHException)):
            if isinstance(exc, TimeoutError):  # a silent link may never fail by itself
                self.close()  # so the next call connects afresh
            why = (f"no answer in {IO_TIMEOUT:g} s" if isinstance(exc, TimeoutError)
                   else _describe(exc))
            return Transient(f"site '{self.site_name}': the connection to {self.where} "
                             f"failed while {action} {path}: {why}")
        if isinstance(exc, OSError) and (exc.errno in (errno.ENOSPC, errno.EDQUOT)
                                         or "no space" in str(exc).lower()):
            return NoSpace(f"{where}: the server's disk is full ({exc})")
        # OSError(text): an SFTP "failure" status; SFTPError: a protocol problem.
        return ProviderError(f"{where} failed: {_describe(exc)}")

    # -- the contract -------------------------------------------------------------------------

    def is_active(self) -> bool:
        try:
            sftp = self._borrow(QUICK_TIMEOUT)
        except ProviderError as exc:
            log.info("site '%s' is not active: %s", self.site_name, exc)
            return False
        reusable = False
        try:
            found = stat_mode.S_ISDIR(sftp.stat(self.base).st_mode or 0)
            reusable = True
        except _ssh_errors() as exc:
            log.info("site '%s' is not active: root %s: %s", self.site_name, self.base, exc)
            found = False
        finally:
            self._give_back(sftp, reusable)
        return found

    def stat(self, path: str) -> FileStat | None:
        remote = self.remote_path(path)
        with self._sftp("reading the size of", path) as sftp:
            try:
                attributes = sftp.stat(remote)
            except FileNotFoundError:
                return None
        if stat_mode.S_ISDIR(attributes.st_mode or 0):
            return None
        return FileStat(size=attributes.st_size or 0)

    def open_read(self, path: str) -> BinaryIO:
        remote = self.remote_path(path)
        sftp = self._borrow()
        try:
            with self._translated("reading", path):
                handle = sftp.open(remote, "rb")
                size = handle.stat().st_size or 0
        except BaseException as exc:
            self._give_back(sftp, isinstance(exc, ProviderError)
                            and not isinstance(exc, Transient))
            raise
        return _Reader(handle, size,  # type: ignore[return-value]  # RawIOBase as BinaryIO
                       lambda reusable: self._give_back(sftp, reusable),
                       lambda: self._translated("reading", path))

    def open_write(self, path: str) -> BinaryIO:
        return self._open_write(path)  # type: ignore[return-value]  # RawIOBase as BinaryIO

    def _open_write(self, path: str) -> _Writer:
        remote = self.remote_path(path)
        sftp = self._borrow()
        try:
            with self._translated("writing", path):
                handle = self._create(sftp, remote)
        except BaseException as exc:
            self._give_back(sftp, isinstance(exc, ProviderError)
                            and not isinstance(exc, Transient))
            raise
        return _Writer(handle, sftp, remote, lambda reusable: self._give_back(sftp, reusable),
                       lambda: self._translated("writing", path))

    def write(self, path: str, reader: BinaryIO, size: int,
              content_hash: str | None = None) -> FileStat:
        writer = self._open_write(path)
        written = 0
        try:
            # The reader's own errors (the source's, or TransferCancelled) pass untranslated.
            while block := reader.read(WRITE_BLOCK):
                writer.write(block)
                written += len(block)
            writer.close()
        except BaseException:
            writer.discard()
            raise
        # close() had the server acknowledge every write of a file opened empty, so its
        # size is what was sent: no stat round trip per file.
        return FileStat(size=written)

    def _create(self, sftp: paramiko.SFTPClient, remote: str) -> paramiko.SFTPFile:
        """Open ``remote`` for writing, making its folders when they are missing."""
        try:
            handle = sftp.open(remote, "wb", bufsize=0)
        except FileNotFoundError:
            self._make_folders(sftp, posixpath.dirname(remote))
            handle = sftp.open(remote, "wb", bufsize=0)
        handle.set_pipelined(True)  # errors then surface at close(), which always runs
        return handle

    def _make_folders(self, sftp: paramiko.SFTPClient, folder: str) -> None:
        """``mkdir -p`` below the root; the root itself must exist (an unmounted volume on
        the server must not be filled through its mount point)."""
        missing: list[str] = []
        while folder != self.base and folder not in ("", "/", "."):
            try:
                sftp.stat(folder)
                break
            except FileNotFoundError:
                missing.append(folder)
                folder = posixpath.dirname(folder)
        else:
            try:
                sftp.stat(self.base)
            except FileNotFoundError:
                raise SiteUnavailable(f"the root {self.base} of site '{self.site_name}' does "
                                      f"not exist on {self.where}; create it or correct the "
                                      "site's root") from None
        for folder in reversed(missing):
            try:
                sftp.mkdir(folder)
            except OSError:  # made meanwhile by another transfer? Then fine.
                if not stat_mode.S_ISDIR(sftp.stat(folder).st_mode or 0):
                    raise

    def rename(self, source: str, target: str) -> None:
        old, new = self.remote_path(source), self.remote_path(target)
        with self._sftp("renaming", f"{source} to {target}") as sftp:
            if self._posix_rename:
                try:
                    sftp.posix_rename(old, new)  # replaces the target in one step
                    return
                except FileNotFoundError:
                    raise
                except OSError as exc:
                    if "unsupported" not in str(exc).lower():
                        raise
                    log.info("site '%s': %s lacks posix-rename; renaming in two steps",
                             self.site_name, self.where)
                    self._posix_rename = False
            _remove_quietly(sftp, new)  # plain SFTP rename refuses an existing target
            sftp.rename(old, new)

    def delete(self, path: str) -> None:
        remote = self.remote_path(path)
        with self._sftp("deleting", path) as sftp, contextlib.suppress(FileNotFoundError):
            sftp.remove(remote)

    def list(self, folder: str) -> Iterator[str]:
        top = self.remote_path(folder)
        prefix = folder.rstrip("/")
        found: list[str] = []
        with self._sftp("listing", folder) as sftp:
            pending = [""]
            while pending:
                below = pending.pop()
                try:
                    entries = sftp.listdir_attr(posixpath.join(top, below) if below else top)
                except FileNotFoundError:
                    continue
                for entry in entries:
                    name = f"{below}/{entry.filename}" if below else entry.filename
                    if stat_mode.S_ISDIR(entry.st_mode or 0):
                        pending.append(name)
                    elif stat_mode.S_ISREG(entry.st_mode or 0):
                        found.append(f"{prefix}/{name}")
        return iter(found)


class _Reader(io.RawIOBase):
    """A remote file read ahead a window at a time; gives its channel back when closed.

    paramiko's ``prefetch`` asks for the whole rest of the file at once, and closing the file
    early then waits for all of it; ``readv`` over one window at a time bounds what an
    interrupted read still has to receive.
    """

    def __init__(self, handle: paramiko.SFTPFile, size: int,
                 release: Callable[[bool], None],
                 translated: Callable[[], Any]) -> None:
        self._handle = handle
        self._size = size
        self._release = release
        self._translated = translated
        self._next = 0  # where the next window starts
        self._window: Iterator[bytes] = iter(())
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def _block(self) -> bytes:
        """The next block; b"" at the end (or early, for a file that shrank: the engine's
        size and hash checks catch that)."""
        block = next(self._window, None)
        if block is None and self._next < self._size:
            end = min(self._next + READ_WINDOW, self._size)
            # readv sends the window's requests from a thread of its own and yields blocks.
            self._window = self._handle.readv(
                [(offset, min(REQUEST_SIZE, end - offset))
                 for offset in range(self._next, end, REQUEST_SIZE)])
            self._next = end
            block = next(self._window, None)
        return block or b""

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` from as many blocks as fit: fewer, larger writes downstream."""
        target = memoryview(buffer).cast("B")
        count = 0
        while count < len(target):
            if not self._pending:
                with self._translated():
                    block = self._block()
                if not block:
                    break
                self._pending = memoryview(block)
            take = min(len(target) - count, len(self._pending))
            target[count:count + take] = self._pending[:take]
            self._pending = self._pending[take:]
            count += take
        return count

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        reusable = False
        try:
            with self._translated():
                # Receive the rest of the window: then readv's thread has sent every request
                # and the channel is in step again (closing under it would break that thread).
                for _ in self._window:
                    pass
                self._handle.close()
            reusable = True
        except ProviderError:
            pass  # the channel is dropped; the read's own outcome stands
        finally:
            self._release(reusable)


class _Writer(io.RawIOBase):
    """A pipelined remote file; ``close`` waits for the server's answers, then gives the
    channel back."""

    def __init__(self, handle: paramiko.SFTPFile, sftp: paramiko.SFTPClient, remote: str,
                 release: Callable[[bool], None], translated: Callable[[], Any]) -> None:
        self._handle = handle
        self._sftp = sftp
        self._remote = remote
        self._release = release
        self._translated = translated

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        with self._translated():
            self._handle.write(data)
        return len(data)

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        try:
            with self._translated():
                self._handle.close()  # the answers to pipelined writes: errors show here
        except BaseException:
            self._abandon()
            raise
        self._release(True)

    def discard(self) -> None:
        """Stop writing and delete what was written, as far as the connection allows."""
        if self.closed:
            return
        super().close()
        self._abandon()

    def _abandon(self) -> None:
        try:
            self._handle.close()
        except _ssh_errors():
            pass
        _remove_quietly(self._sftp, self._remote)  # never a partial file left behind
        self._release(False)


def _transport_without_nagle(sock: socket.socket, **options: Any) -> paramiko.Transport:
    """Small requests sent back to back (write, close, stat, rename) would otherwise wait
    for the server's delayed ACKs: tens of milliseconds per small file."""
    import paramiko

    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return paramiko.Transport(sock, **options)


def _ssh_errors() -> tuple[type[BaseException], ...]:
    """What a broken connection raises (an ``except`` clause evaluates this only when
    something was raised, so paramiko is loaded by then)."""
    import paramiko

    return (OSError, EOFError, paramiko.SSHException)


def _unreachable(exc: BaseException) -> bool:
    """No TCP connection was made: DNS failed, the port is closed, no route, or the connect
    timed out (the SSH handshake, which comes later, raises SSHException or EOFError)."""
    from paramiko.ssh_exception import NoValidConnectionsError

    return (isinstance(exc, (socket.gaierror, NoValidConnectionsError, ConnectionRefusedError,
                             TimeoutError))
            or (isinstance(exc, OSError)
                and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH)))


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__  # socket timeouts come without a message


def _usable(sftp: paramiko.SFTPClient, transport: paramiko.Transport) -> bool:
    channel = sftp.get_channel()
    return (channel is not None and not channel.closed and channel.get_transport() is transport
            and transport.is_active())


def _close_quietly(sftp: paramiko.SFTPClient) -> None:
    try:
        sftp.close()
    except _ssh_errors():
        pass


def _remove_quietly(sftp: paramiko.SFTPClient, remote: str) -> None:
    try:
        sftp.remove(remote)
    except _ssh_errors():
        pass


@hookimpl
def sitesync_providers() -> list[type[AbstractProvider]]:
    return [SftpProvider]
