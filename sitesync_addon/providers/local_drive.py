"""``local_drive``: a folder tree on a disk this machine mounts."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sitesync_addon.errors import FileNotFoundOnSite, PathEscapesRoot, ProviderError
from sitesync_addon.providers.base import (
    LOCAL_PATH,
    AbstractProvider,
    FileStat,
    ProviderSettings,
    relative_path,
)
from sitesync_addon.providers.hookspecs import hookimpl


class LocalDriveSettings(ProviderSettings):
    """A folder tree on a disk this machine mounts; the site's ``root`` says where."""


class LocalDriveProvider(AbstractProvider):
    """Paths are ``ROOT_NAME/rest/of/path``: the first part names one of the site's roots."""

    code = "local_drive"
    title = "Local drive"
    settings_model = LocalDriveSettings
    icon = Path(__file__).parent / "resources" / "local_drive.png"
    capabilities = frozenset({LOCAL_PATH})

    def __init__(self, site_name: str, settings: dict, roots: dict[str, str]) -> None:
        super().__init__(site_name, settings, roots)
        self._resolved_roots: dict[str, str] = {}
        self._safe_folders: set[str] = set()  # folders known to lie inside their root
        self._made_folders: set[str] = set()

    def _root(self, root_name: str) -> str:
        if root_name not in self._resolved_roots:
            if root_name not in self.roots:
                raise ProviderError(
                    f"site '{self.site_name}' has no root '{root_name}' on this machine "
                    f"(roots: {', '.join(sorted(self.roots)) or 'none'}); set it in the "
                    "site's settings (local_roots or root)")
            root = os.path.realpath(self.roots[root_name])
            if not os.path.isdir(root):  # an unmounted volume: never fill its mount point
                raise ProviderError(
                    f"root '{root_name}' of site '{self.site_name}' is missing: {root}; mount "
                    "it or correct the site's roots")
            self._resolved_roots[root_name] = root
        return self._resolved_roots[root_name]

    def real_path(self, path: str) -> Path:
        """The path on this machine; refuses paths that leave the root, symlinks included."""
        return Path(self._real(path))

    def _real(self, path: str) -> str:
        root_name, _, rest = relative_path(path).partition("/")
        root = self._root(root_name)
        target = os.path.join(root, rest) if rest else root
        folder = os.path.dirname(target)
        if folder not in self._safe_folders:
            self._check_inside(folder, root, path)
            _remember(self._safe_folders, folder)
        if os.path.islink(target):
            self._check_inside(target, root, path)
        return target

    def _check_inside(self, location: str, root: str, path: str) -> None:
        """The existing part of ``location`` must resolve inside ``root`` (no symlink out)."""
        existing = location
        while not os.path.lexists(existing) and len(existing) > len(root):
            existing = os.path.dirname(existing)
        resolved = os.path.realpath(existing)
        if resolved != root and not resolved.startswith(root + os.sep):
            raise PathEscapesRoot(f"path '{path}' leads outside the root {root} of site "
                                  f"'{self.site_name}' through a symlink")

    def is_active(self) -> bool:
        return bool(self.roots) and all(Path(p).is_dir() for p in self.roots.values())

    def stat(self, path: str) -> FileStat | None:
        try:
            return FileStat(size=os.stat(self._real(path)).st_size)
        except FileNotFoundError:
            return None

    def open_read(self, path: str) -> BinaryIO:
        try:
            return open(self._real(path), "rb", buffering=0)
        except FileNotFoundError:
            raise FileNotFoundOnSite(f"{path} is not on site '{self.site_name}'") from None

    def open_write(self, path: str) -> BinaryIO:
        target = self._real(path)
        folder = os.path.dirname(target)
        if folder not in self._made_folders:  # one mkdir per folder, not one per file
            os.makedirs(folder, exist_ok=True)
            _remember(self._made_folders, folder)
        try:
            return open(target, "wb")
        except FileNotFoundError:  # the folder was removed since this provider made it
            os.makedirs(folder, exist_ok=True)
            return open(target, "wb")

    def rename(self, source: str, target: str) -> None:
        os.replace(self._real(source), self._real(target))

    def delete(self, path: str) -> None:
        try:
            os.unlink(self._real(path))
        except FileNotFoundError:
            pass

    def delete_empty_folders(self, path: str) -> None:
        """Remove the file's folder and its parents while they are empty (up to the root)."""
        folder = self.real_path(path).parent
        root = Path(self._root(relative_path(path).partition("/")[0]))
        while folder != root and folder.is_relative_to(root):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def list(self, folder: str) -> Iterator[str]:
        base = self.real_path(folder)
        for dirpath, _dirs, names in os.walk(base):
            for name in names:
                full = Path(dirpath) / name
                yield f"{folder.rstrip('/')}/{full.relative_to(base).as_posix()}"


def _remember(known: set[str], folder: str, limit: int = 100_000) -> None:
    if len(known) >= limit:
        known.clear()
    known.add(folder)


@hookimpl
def sitesync_providers() -> list[type[AbstractProvider]]:
    return [LocalDriveProvider]
