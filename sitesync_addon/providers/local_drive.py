"""``local_drive``: a folder tree on a disk this machine mounts."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sitesync_addon.errors import FileNotFoundOnSite, PathEscapesRoot, ProviderError
from sitesync_addon.providers.base import AbstractProvider, FileStat, relative_path


class LocalDriveProvider(AbstractProvider):
    """Paths are ``ROOT_NAME/rest/of/path``: the first part names one of the site's roots."""

    code = "local_drive"

    def real_path(self, path: str) -> Path:
        """The path on this machine; refuses paths that leave the root, symlinks included."""
        clean = relative_path(path)
        root_name, _, rest = clean.partition("/")
        if root_name not in self.roots:
            raise ProviderError(f"site '{self.site_name}' has no root '{root_name}' on this "
                                f"machine (roots: {', '.join(sorted(self.roots)) or 'none'}); "
                                "set it in the site's settings (local_roots or root)")
        root = Path(self.roots[root_name]).resolve()
        target = root / rest if rest else root
        # Resolve symlinks of the existing part of the path: none may point outside the root.
        existing = target
        while not existing.exists() and existing != root:
            existing = existing.parent
        if not existing.resolve().is_relative_to(root):
            raise PathEscapesRoot(f"path '{path}' leads outside the root {root} of site "
                                  f"'{self.site_name}' through a symlink")
        return target

    def is_active(self) -> bool:
        return bool(self.roots) and all(Path(p).is_dir() for p in self.roots.values())

    def stat(self, path: str) -> FileStat | None:
        try:
            return FileStat(size=self.real_path(path).stat().st_size)
        except FileNotFoundError:
            return None

    def open_read(self, path: str) -> BinaryIO:
        try:
            return open(self.real_path(path), "rb", buffering=0)  # noqa: SIM115
        except FileNotFoundError:
            raise FileNotFoundOnSite(f"{path} is not on site '{self.site_name}'") from None

    def open_write(self, path: str) -> BinaryIO:
        target = self.real_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        return open(target, "wb")  # noqa: SIM115

    def rename(self, source: str, target: str) -> None:
        os.replace(self.real_path(source), self.real_path(target))

    def delete(self, path: str) -> None:
        try:
            self.real_path(path).unlink()
        except FileNotFoundError:
            pass

    def delete_empty_folders(self, path: str) -> None:
        """Remove the file's folder and its parents while they are empty (up to the root)."""
        folder = self.real_path(path).parent
        root = Path(self.roots[relative_path(path).partition("/")[0]]).resolve()
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

