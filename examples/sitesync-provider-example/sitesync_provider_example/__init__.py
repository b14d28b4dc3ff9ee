"""``cas_folder``: a content-addressed folder store, as a SiteSync provider plugin.

Layout under the configured folder::

    objects/ab/abcdef...   the bytes of a file, named by their SHA-256
    refs/<path>            {"sha256": ..., "size": ...} for each stored path

A write streams into a temporary object while hashing, moves it to its content name (once per
content), then writes the reference with an atomic rename: a path appears only when complete.
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

from sitesync_addon.errors import FileNotFoundOnSite, ProviderError
from sitesync_addon.providers import (ATOMIC_WRITE, AbstractProvider, FileStat, ProviderSettings,
                                      hookimpl, relative_path)

CHUNK = 4 * 1024 * 1024


class CasFolderSettings(ProviderSettings):
    folder: str = Field(min_length=1, description="The store's folder on this machine.")


class CasFolderProvider(AbstractProvider):
    code = "cas_folder"
    title = "Content-addressed folder"
    settings_model = CasFolderSettings
    icon = Path(__file__).parent / "cas_folder.png"
    capabilities = frozenset({ATOMIC_WRITE})

    def __init__(self, site_name: str, settings: dict, roots: dict[str, str]) -> None:
        super().__init__(site_name, settings, roots)
        self.store = Path(CasFolderSettings(**settings).folder)

    # -- layout -------------------------------------------------------------------------------

    def _ref(self, path: str) -> Path:
        return self.store / "refs" / relative_path(path)

    def _object(self, digest: str) -> Path:
        return self.store / "objects" / digest[:2] / digest

    def _read_ref(self, path: str) -> dict | None:
        try:
            return json.loads(self._ref(path).read_text())
        except FileNotFoundError:
            return None

    # -- the provider contract ----------------------------------------------------------------

    def is_active(self) -> bool:
        return self.store.is_dir() and os.access(self.store, os.W_OK)

    def stat(self, path: str) -> FileStat | None:
        ref = self._read_ref(path)
        return FileStat(ref["size"], f"sha256:{ref['sha256']}") if ref else None

    def open_read(self, path: str) -> BinaryIO:
        ref = self._read_ref(path)
        if ref is None:
            raise FileNotFoundOnSite(f"{path} is not on site '{self.site_name}'")
        return open(self._object(ref["sha256"]), "rb")  # noqa: SIM115

    def open_write(self, path: str) -> BinaryIO:
        return _ObjectWriter(self, relative_path(path))  # type: ignore[return-value]

    def rename(self, source: str, target: str) -> None:
        ref = self._ref(target)
        ref.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(self._ref(source), ref)
        except FileNotFoundError:
            raise FileNotFoundOnSite(f"{source} is not on site '{self.site_name}'") from None

    def delete(self, path: str) -> None:
        self._ref(path).unlink(missing_ok=True)

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
        incoming = provider.store / "objects" / "incoming"
        if not provider.store.is_dir():
            raise ProviderError(f"the store of site '{provider.site_name}' is missing: "
                                f"{provider.store}; create it or correct the site's folder")
        try:
            incoming.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=incoming)
        except OSError as exc:
            raise ProviderError(f"cannot write to the store of site '{provider.site_name}' "
                                f"at {provider.store}: {exc.strerror}") from exc
        self.temp = Path(name)
        self.stream = os.fdopen(handle, "wb")
        self.hasher = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        self.size += len(data)
        return self.stream.write(data)

    def __enter__(self) -> _ObjectWriter:
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        self.stream.close()
        if kind is None:
            self.provider.commit(self.path, self.temp, self.hasher.hexdigest(), self.size)
        else:
            self.temp.unlink(missing_ok=True)


@hookimpl
def sitesync_providers() -> list[type[AbstractProvider]]:
    return [CasFolderProvider]
