"""The provider contract: five required storage primitives and detected features.

A provider only moves bytes. The engine owns retries, verification, atomic placement and
progress, so a provider stays small. Paths handed to a provider are relative POSIX paths
under the site root (``proj/shots/sh010/file.exr``); the provider maps them to its storage and
refuses any that would leave the root.

Required: ``is_active``, ``stat``, ``open_read``, ``write`` (or ``open_write``, on which the
base builds ``write``) and ``delete``. Optional methods (``rename``, ``real_path``,
``open_write``, ``list``, ``copy``) are detected once per class into ``Features``; what no
method shows (``atomic_write``, ``hash_on_write``) a class declares in its header::

    class MyStore(AbstractProvider, atomic_write=True): ...

Every error a provider raises is one of ``sitesync_addon.errors``, never its SDK's.
"""
from __future__ import annotations

import errno
import importlib
import io
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import JsonDict

from sitesync_addon.errors import (
    NoSpace,
    NotFound,
    PermissionDenied,
    ProviderError,
    ProviderNotInstalled,
    SiteSyncError,
    VerificationFailed,
)
from sitesync_addon.hashing import CHUNK_SIZE
from sitesync_addon.paths import relative_path as relative_path  # providers import it here
from sitesync_addon.platform import current_platform

PlatformPaths = dict[Literal["windows", "linux", "darwin"], str]
SECRET: JsonDict = {"secret": True}  # json_schema_extra of settings fields to mask and never log


@dataclass(frozen=True)
class FileStat:
    size: int
    content_hash: str | None = None  # "algorithm:hexdigest", when the storage keeps one


@dataclass(frozen=True)
class Features:
    """What a provider can do beyond the required methods; the engine asks these, never the
    class or its code."""

    rename: bool = False  # rename(source, target) replaces target
    local_path: bool = False  # real_path(path) -> Path: files are paths on this machine
    streaming_writes: bool = False  # open_write(path) -> a stream that writes the file
    hash_on_write: bool = False  # write(content_hash=...) keeps the published hash for stat
    listing: bool = False  # list(folder) -> relative paths below it, recursively
    server_side_copy: bool = False  # copy(source, target) without moving bytes through here
    atomic_write: bool = False  # a written object appears under its name only once complete


# Optional method -> the feature its override shows.
_DETECTED = {"rename": "rename", "real_path": "local_path", "open_write": "streaming_writes",
             "list": "listing", "copy": "server_side_copy"}


class ProviderSettings(BaseModel):
    """Base of a provider's settings block (``sites[].<code>``); unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    max_concurrency: int | None = Field(
        None, ge=1, le=64, description="Transfers at once on this site; empty: the "
                                       "provider's default.")


class AbstractProvider(ABC):
    """One storage backend, bound to one site's settings and roots."""

    code: ClassVar[str]  # the site's ``provider`` value and the name of its settings block
    title: ClassVar[str] = ""  # shown to people, e.g. "Amazon S3"
    settings_model: ClassVar[type[ProviderSettings]] = ProviderSettings
    icon: ClassVar[Path | None] = None  # a PNG shown next to sites of this provider
    install: ClassVar[str] = ""  # what to pip install when its SDK is missing
    features: ClassVar[Features] = Features()  # detected per class in __init_subclass__
    max_concurrency: int = 4  # transfers at once on one site; its settings may change it

    def __init_subclass__(cls, *, atomic_write: bool | None = None,
                          hash_on_write: bool | None = None, **kwargs: Any) -> None:
        """Detect the features once per class: overridden optional methods, plus the
        declarations no method shows (inherited unless given again)."""
        super().__init_subclass__(**kwargs)
        detected = {feature: getattr(cls, method) is not getattr(AbstractProvider, method)
                    for method, feature in _DETECTED.items()}
        parent = cls.features
        cls.features = Features(
            **detected,
            atomic_write=parent.atomic_write if atomic_write is None else atomic_write,
            hash_on_write=parent.hash_on_write if hash_on_write is None else hash_on_write)

    def __init__(self, site_name: str, settings: dict[str, Any], roots: dict[str, str]) -> None:
        self.site_name = site_name
        self.settings = settings
        self.roots = roots
        limit = settings.get("max_concurrency")
        if limit is not None:  # a site may lower (a slow link) or raise the default
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                raise ProviderError(f"site '{site_name}' has invalid {self.code} settings: "
                                    "max_concurrency must be a whole number from 1")
            self.max_concurrency = limit

    # -- required -----------------------------------------------------------------------------

    @abstractmethod
    def is_active(self) -> bool:
        """Whether the site can be used now (reachable, credentials accepted); quick."""

    @abstractmethod
    def stat(self, path: str) -> FileStat | None:
        """Size (and stored hash) of a file, or None when it does not exist."""

    @abstractmethod
    def open_read(self, path: str) -> BinaryIO:
        """A stream of the file's bytes; ``NotFound`` when missing. Its ``read`` raises
        SiteSync errors too (wrap SDK streams in ``TranslatedStream``)."""

    @abstractmethod
    def delete(self, path: str) -> None:
        """Delete a file; a missing file is not an error."""

    def write(self, path: str, reader: BinaryIO, size: int,
              content_hash: str | None = None) -> FileStat:
        """Store the bytes of ``reader`` (``size`` of them) as ``path``; returns the stat of
        what was stored.

        The engine hands a forward-only reader that hashes, reports progress and raises
        ``TransferCancelled`` when asked to stop; errors of the reader pass unchanged. Only
        with ``features.hash_on_write`` does the engine pass ``content_hash``, the published
        hash, to keep for ``stat``. This default streams into ``open_write``.
        """
        with self.open_write(path) as writer:
            shutil.copyfileobj(reader, writer, CHUNK_SIZE)
        stored = self.stat(path)
        if stored is None:
            raise VerificationFailed(f"{path} is not on site '{self.site_name}' right after "
                                     "it was written")
        return stored

    # -- optional: each one overridden shows a feature ----------------------------------------

    def rename(self, source: str, target: str) -> None:
        """Move a file to a new name, replacing what is there (``features.rename``)."""
        raise self._lacks("rename")

    def real_path(self, path: str) -> Path:
        """The file's path on this machine (``features.local_path``)."""
        raise self._lacks("real_path")

    def open_write(self, path: str) -> BinaryIO:
        """A new stream that writes the file, creating parent folders on demand
        (``features.streaming_writes``). With ``atomic_write``, a ``with`` block left by an
        exception stores nothing; otherwise the engine deletes what it wrote."""
        raise self._lacks("open_write")

    def list(self, folder: str) -> Iterator[str]:
        """Relative paths of the files below ``folder``, recursively (``features.listing``)."""
        raise self._lacks("list")

    def copy(self, source: str, target: str) -> None:
        """Copy a file within the site, replacing ``target`` (``features.server_side_copy``)."""
        raise self._lacks("copy")

    def _lacks(self, method: str) -> NotImplementedError:
        return NotImplementedError(f"provider '{self.code}' has no {method}(); check "
                                   "provider.features first")

    # -- helpers for providers ----------------------------------------------------------------

    def validated_settings(self) -> Any:
        """``self.settings`` as the provider's ``settings_model``; invalid settings raise a
        ``ProviderError`` that names the fields but not their values (they may be secrets)."""
        try:
            return self.settings_model.model_validate(self.settings)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'block'}: {e['msg']}"
                                 for e in exc.errors(include_input=False))
            raise ProviderError(f"site '{self.site_name}' has invalid {self.code} settings: "
                                f"{problems}") from None

    def import_sdk(self, *modules: str) -> None:
        """Import the SDK this provider needs, at creation rather than module import (the
        server imports every provider module for its settings schema)."""
        for module in modules:
            try:
                importlib.import_module(module)
            except ImportError as exc:
                raise ProviderNotInstalled(self.not_installed()) from exc

    def not_installed(self) -> str:
        hint = f": pip install '{self.install}'" if self.install else ""
        return f"site '{self.site_name}' uses provider '{self.code}', which is not installed{hint}"

    def platform_path(self, paths: PlatformPaths, setting: str) -> str | None:
        """This platform's entry of a per-platform path setting, ``~`` and variables
        expanded; None when the setting is empty, an error when only this platform lacks it."""
        if not paths:
            return None
        path = paths.get(current_platform())
        if not path:
            raise ProviderError(f"site '{self.site_name}' has no {setting} for "
                                f"{current_platform()}; set it in the site's settings")
        return os.path.expanduser(os.path.expandvars(str(path)))

    def root(self, name: str) -> str:
        """The site's root ``name`` on this machine (the first part of a site path)."""
        if name not in self.roots:
            raise ProviderError(
                f"site '{self.site_name}' has no root '{name}' on this machine (roots: "
                f"{', '.join(sorted(self.roots)) or 'none'}); set it in the site's settings "
                "(local_roots or root)")
        return self.roots[name]


def os_error(exc: OSError, doing: str) -> ProviderError:
    """An OS error as SiteSync's, by errno; ``doing`` names the action, path and site."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    message = f"{doing}: {reason}"
    if exc.errno == errno.ENOENT:
        return NotFound(message)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return PermissionDenied(message)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return NoSpace(message)
    return ProviderError(message)


Translate = Callable[[Exception], SiteSyncError]


class TranslatedStream(io.RawIOBase):
    """A stream a provider returns whose ``read``, ``write`` and ``close`` raise SiteSync
    errors: ``translate`` turns any other exception into one (SiteSync's pass as they are)."""

    def __init__(self, raw: Any, translate: Translate) -> None:
        super().__init__()
        self.raw = raw
        self.translate = translate

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except SiteSyncError:
            raise
        except Exception as exc:
            raise self.translate(exc) from exc

    def readable(self) -> bool:
        return bool(getattr(self.raw, "readable", lambda: True)())

    def writable(self) -> bool:
        return bool(getattr(self.raw, "writable", lambda: hasattr(self.raw, "write"))())

    def fileno(self) -> int:
        return int(self.raw.fileno())  # the kernel copy between local paths uses it

    def readinto(self, buffer: Any) -> int:
        into = getattr(self.raw, "readinto", None)
        if into is not None:
            return int(self._call(into, buffer) or 0)
        data = self._call(self.raw.read, len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def write(self, data: Any) -> int:
        return int(self._call(self.raw.write, data) or 0)

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        exit_raw = getattr(self.raw, "__exit__", None)
        if exit_raw is not None and not self.closed:
            super().close()  # the raw stream's own exit decides (e.g. an upload on success)
            self._call(exit_raw, kind, *rest)
        else:
            self.close()

    def close(self) -> None:
        if not self.closed:
            super().close()
            self._call(self.raw.close)


class SpooledWriter(io.RawIOBase):
    """``open_write`` for a store that takes a whole body (or its size) up front: bytes spool
    in memory, then on disk past ``max_memory``, and go to ``upload(reader, size)`` on a clean
    close; a ``with`` block left by an exception (or a stream dropped unclosed) uploads
    nothing."""

    def __init__(self, upload: Callable[[BinaryIO, int], object], max_memory: int) -> None:
        super().__init__()
        self._upload = upload
        self._spool = tempfile.SpooledTemporaryFile(max_size=max_memory)  # noqa: SIM115 - the writer closes it in close()
        self._failed = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self._spool.write(data)

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self._failed = kind is not None
        self.close()

    def __del__(self) -> None:
        self._failed = True  # dropped without close(): never upload a part of a file
        super().__del__()

    def close(self) -> None:
        if self.closed:
            return
        try:
            if not self._failed:
                size = self._spool.tell()
                self._spool.seek(0)
                self._upload(self._spool, size)  # type: ignore[arg-type]  # IO[bytes] as BinaryIO
        finally:
            self._spool.close()
            super().close()
