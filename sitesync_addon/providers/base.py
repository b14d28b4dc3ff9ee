"""The provider contract: a few required storage primitives and declared capabilities.

A provider only moves bytes. The engine owns retries, verification, atomic placement and
progress, so a provider stays small. Paths handed to a provider are relative POSIX paths
under the site root (``proj/shots/sh010/file.exr``); the provider maps them to its storage and
refuses any that would leave the root.
"""
from __future__ import annotations

import posixpath
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from sitesync_addon.errors import PathEscapesRoot, ProviderError
from sitesync_addon.hashing import CHUNK_SIZE

ATOMIC_WRITE = "atomic_write"  # a written object appears under its name only once complete
LOCAL_PATH = "local_path"  # files are paths on this machine: ``real_path(path)`` gives them
HASH_ON_WRITE = "hash_on_write"  # write() takes the published content_hash= to keep for stat()


PlatformPaths = dict[Literal["windows", "linux", "darwin"], str]
SECRET = {"secret": True}  # json_schema_extra of settings fields to mask and never log


@dataclass(frozen=True)
class FileStat:
    size: int
    content_hash: str | None = None  # "algorithm:hexdigest", when the storage keeps one


class ProviderSettings(BaseModel):
    """Base of a provider's settings block (``sites[].<code>``); unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class AbstractProvider(ABC):
    """One storage backend, bound to one site's settings and roots."""

    code: ClassVar[str]  # the site's ``provider`` value and the name of its settings block
    title: ClassVar[str] = ""  # shown to people, e.g. "Amazon S3"
    settings_model: ClassVar[type[ProviderSettings]] = ProviderSettings
    icon: ClassVar[Path | None] = None  # a PNG shown next to sites of this provider
    capabilities: ClassVar[frozenset[str]] = frozenset()
    max_concurrency: ClassVar[int] = 4  # transfers at once that touch this storage

    def __init__(self, site_name: str, settings: dict[str, Any], roots: dict[str, str]) -> None:
        self.site_name = site_name
        self.settings = settings
        self.roots = roots

    @abstractmethod
    def is_active(self) -> bool:
        """Whether the site can be used now (reachable, credentials accepted)."""

    @abstractmethod
    def stat(self, path: str) -> FileStat | None:
        """Size (and stored hash) of a file, or None when it does not exist."""

    @abstractmethod
    def open_read(self, path: str) -> BinaryIO:
        """A stream of the file's bytes; raises FileNotFoundOnSite when missing."""

    @abstractmethod
    def open_write(self, path: str) -> BinaryIO:
        """A new stream that writes the file, creating parent folders on demand."""

    @abstractmethod
    def rename(self, source: str, target: str) -> None:
        """Move a file to a new name, replacing what is there."""

    @abstractmethod
    def delete(self, path: str) -> None:
        """Delete a file; a missing file is not an error."""

    @abstractmethod
    def list(self, folder: str) -> Iterator[str]:
        """Relative paths of the files below ``folder``, recursively."""

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

    def write(self, path: str, reader: BinaryIO, size: int,
              content_hash: str | None = None) -> None:
        """Store the bytes of ``reader`` (``size`` of them) as ``path``.

        The engine hands a reader that hashes, reports progress and raises
        ``TransferCancelled`` when asked to stop; a provider with a better uploader (multipart,
        resumable) overrides this and must leave nothing under ``path`` when reading fails.
        Only to a provider with ``HASH_ON_WRITE`` the engine passes ``content_hash``, the
        published hash it checks the streamed bytes against (deleting ``path`` on mismatch).
        """
        with self.open_write(path) as writer:
            shutil.copyfileobj(reader, writer, CHUNK_SIZE)

    def read_into(self, path: str, writer: BinaryIO) -> None:
        """Write the bytes of ``path`` into ``writer``; override for a faster downloader."""
        with self.open_read(path) as reader:
            shutil.copyfileobj(reader, writer, CHUNK_SIZE)

    def has(self, capability: str) -> bool:
        return capability in self.capabilities


def relative_path(path: str) -> str:
    """Normalise a relative POSIX path; refuse ``..``, absolute and drive paths."""
    if not path or path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        raise PathEscapesRoot(f"path '{path}' is absolute or empty; it must be relative to "
                              "the site root")
    if "\x00" in path or any(part == ".." for part in path.replace("\\", "/").split("/")):
        raise PathEscapesRoot(f"path '{path}' leaves the site root")
    return posixpath.normpath(path.replace("\\", "/"))
