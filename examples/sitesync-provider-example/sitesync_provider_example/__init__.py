"""``cas_folder``: a content-addressed folder store, as a SiteSync provider plugin.

Layout under the configured folder::

    objects/ab/abcdef...   the bytes of a file, named by their SHA-256
    refs/<path>            {"sha256": ..., "size": ...} for each stored path

A write streams into a temporary object while hashing, moves it to its content name (once per
content), then writes the reference with an atomic rename: a path appears only when complete,
so the class declares ``atomic_write=True`` and the engine writes straight to the final name.
It implements the five required methods (``write`` comes from the base, on top of
``open_write``) and ``rename`` and ``list``, which its features then show.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pydantic import Field

from sitesync_addon.errors import NotFound, ProviderError, SiteUnavailable
from sitesync_addon.providers import (
    AbstractProvider,
    FileStat,
    ProviderSettings,
    TranslatedStream,
    hookimpl,
    os_error,
    relative_path,
)

CHUNK = 4 * 1024 * 1024


class CasFolderSettings(ProviderSettings):
    folder: str = Field(min_length=1, description="The store's folder on this machine.")


class CasFolderProvider(AbstractProvider, atomic_write=True):
    code = "cas_folder"
    title = "Content-addressed folder"
    settings_model = CasFolderSettings
    icon = Path(__file__).parent / "cas_folder.png"

    def __init__(self, site_name: str, settings: dict, roots: dict[str, str]) -> None:
        super().__init__(site_name, settings, roots)
        self.store = Path(self.validated_settings().folder)

    # -- layout -------------------------------------------------------------------------------

    def _ref(self, path: str) -> Path:
        return self._root() / "refs" / relative_path(path)

    def _object(self, digest: str) -> Path:
        return self.store / "objects" / digest[:2] / digest

    def _root(self) -> Path:
        """The store; a missing one (an unmounted disk) makes the whole site unusable."""
        if not self.store.is_dir():
            raise SiteUnavailable(f"the store of site '{self.site_name}' is missing: "
                                  f"{self.store}; create it or correct the site's folder")
        return self.store

    def _read_ref(self, path: str) -> dict | None:
        ref = self._ref(path)
        try:
            return json.loads(ref.read_text())
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise os_error(exc, f"reading {path} on site '{self.site_name}'") from None

    # -- the provider contract ----------------------------------------------------------------

    def is_active(self) -> bool:
        return self.store.is_dir() and os.access(self.store, os.W_OK)

    def stat(self, path: str) -> FileStat | None:
        ref = self._read_ref(path)
        return FileStat(ref["size"], f"sha256:{ref['sha256']}") if ref else None

    def open_read(self, path: str) -> BinaryIO:
        ref = self._read_ref(path)
        if ref is None:
            raise NotFound(f"{path} is not on site '{self.site_name}'")
        where = f"reading {path} on site '{self.site_name}'"
        try:
            raw = open(self._object(ref["sha256"]), "rb")  # noqa: SIM115
        except OSError as exc:
            raise os_error(exc, where) from None
        # Errors met while reading (a disk going away) are SiteSync errors too.
        return TranslatedStream(raw, lambda exc: os_error(exc, where)  # type: ignore
                                if isinstance(exc, OSError) else ProviderError(f"{where}: {exc}"))

    def open_write(self, path: str) -> BinaryIO:
        return _ObjectWriter(self, relative_path(path))  # type: ignore[return-value]

    def rename(self, source: str, target: str) -> None:
        ref = self._ref(target)
        try:
            ref.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._ref(source), ref)
        except FileNotFoundError:
            raise NotFound(f"{source} is not on site '{self.site_name}'") from None
        except OSError as exc:
            raise os_error(exc, f"renaming {source} on site '{self.site_name}'") from None

    def delete(self, path: str) -> None:
        try:
            self._ref(path).unlink(missing_ok=True)
        except OSError as exc:
            raise os_error(exc, f"deleting {path} on site '{self.site_name}'") from None

    def list(self, folder: str) -> Iterator[str]:
        base = self._ref(folder)
        for dirpath, _dirs, names in os.walk(base):
            for name in names:
                if not name.startswith(".tmp-"):
                    yield (Path(dirpath) / name).relative_to(self.store / "refs").as_posix()

    def commit(self, path: str, temp: Path, digest: str, size: int) -> None:
        """Give the temporary object its content name, then publish the reference."""
        target = self._object(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            temp.unlink()  # the same bytes are stored already
        else:
            os.replace(temp, target)
        ref = self._ref(path)
        ref.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=ref.parent, prefix=".tmp-",
                                         delete=False) as stream:
            json.dump({"sha256": digest, "size": size}, stream)
        os.replace(stream.name, ref)


class _ObjectWriter:
    """Writes a new object; the path gets it only when the writer closes without error."""

    def __init__(self, provider: CasFolderProvider, path: str) -> None:
        self.provider = provider
        self.path = path
        self.where = f"writing {path} on site '{provider.site_name}'"
        incoming = provider._root() / "objects" / "incoming"
        try:
            incoming.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=incoming)
        except OSError as exc:
            raise os_error(exc, self.where) from None
        self.temp = Path(name)
        self.stream = os.fdopen(handle, "wb")
        self.hasher = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        self.size += len(data)
        try:
            return self.stream.write(data)
        except OSError as exc:  # a full disk shows here
            raise os_error(exc, self.where) from None

    def __enter__(self) -> _ObjectWriter:
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        try:
            self.stream.close()
            if kind is None:
                self.provider.commit(self.path, self.temp, self.hasher.hexdigest(), self.size)
        except OSError as exc:
            raise os_error(exc, self.where) from None
        finally:
            self.temp.unlink(missing_ok=True)  # committed: already moved or dropped


@hookimpl
def sitesync_providers() -> list[type[AbstractProvider]]:
    return [CasFolderProvider]
