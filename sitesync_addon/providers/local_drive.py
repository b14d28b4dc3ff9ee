"""``local_drive``: a folder tree on a disk this machine mounts."""
from __future__ import annotations

import errno
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sitesync_addon.errors import (
    DiskFull,
    NotFound,
    PathEscapesRoot,
    ProviderError,
    SiteUnavailable,
)
from sitesync_addon.providers.base import (
    AbstractProvider,
    FileStat,
    ProviderSettings,
    Translate,
    TranslatedStream,
    os_error,
    relative_path,
)
from sitesync_addon.providers.hookspecs import hookimpl

NO_ROOM = (errno.ENOSPC, errno.EDQUOT)
# A full disk is tried again after this long even if no space freed that statvfs shows (a
# quota, inodes, a network file system that reports free space loosely).
ROOM_RECHECK = 300.0


@dataclass(frozen=True)
class _Room:
    """The free bytes a root waits for after a write there found no room."""

    needed: int
    sized: bool  # the write had taken blocks, so ``needed`` reflects its file's size
    since: float  # monotonic


class LocalDriveSettings(ProviderSettings):
    """A folder tree on a disk this machine mounts; the site's ``root`` says where."""


class LocalDriveProvider(AbstractProvider):
    """Paths are ``ROOT_NAME/rest/of/path``: the first part names one of the site's roots.

    Writes are not atomic (a file grows under its name), so the engine writes to a temporary
    name and renames. A full disk is the site's condition, not the file's: a write that finds
    no room raises ``DiskFull`` (the engine holds the site) and ``is_active()`` says no until
    at least the room that write needed is free."""

    code = "local_drive"
    title = "Local drive"
    settings_model = LocalDriveSettings
    icon = Path(__file__).parent / "resources" / "local_drive.png"

    def __init__(self, site_name: str, settings: dict[str, Any], roots: dict[str, str]) -> None:
        super().__init__(site_name, settings, roots)
        self._resolved_roots: dict[str, str] = {}
        self._safe_folders: set[str] = set()  # folders known to lie inside their root
        self._made_folders: set[str] = set()
        self._room_lock = threading.Lock()
        self._room_needed: dict[str, _Room] = {}  # roots that ran out of space

    def _root(self, root_name: str) -> str:
        if root_name not in self._resolved_roots:
            root = os.path.realpath(self.root(root_name))
            if not os.path.isdir(root):  # an unmounted volume: never fill its mount point
                raise SiteUnavailable(
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

    def _error(self, doing: str, path: str) -> Translate:
        """Translates what a stream meets while ``doing`` ``path`` (a disk that fills up or
        goes away mid-file)."""
        where = f"{doing} {path} on site '{self.site_name}'"

        def translate(exc: Exception) -> ProviderError:
            if isinstance(exc, OSError):
                return self._os_error(exc, where, path)
            return ProviderError(f"{where}: {type(exc).__name__}: {exc}")
        return translate

    def _os_error(self, exc: OSError, where: str, path: str) -> ProviderError:
        if exc.errno in NO_ROOM:
            return self._disk_full(exc, path)
        return os_error(exc, where)

    def _disk_full(self, exc: OSError, path: str) -> DiskFull:
        root = self._root(relative_path(path).partition("/")[0])
        try:
            written = _allocated(os.stat(self._real(path)))
        except OSError:
            written = 0
        self._note_no_room(root, _Room(_free_bytes(root) + written + 1, written > 0,
                                       time.monotonic()))
        reason = exc.strerror or "no space left"
        return DiskFull(f"site '{self.site_name}' has no space left at {root} ({reason}, "
                        f"writing {path}): free space there; its files wait and go on by "
                        "themselves once there is room")

    def _note_no_room(self, root: str, room: _Room) -> None:
        """Keep the least room a failed write needed: free now plus the blocks it took (freed
        when its temporary file is deleted), so a probe waits for space to free. Of writes that
        failed together the smallest that had taken blocks counts (once the others' temporary
        files are gone it may fit); one that took none (the others held the space) tells
        nothing about its size."""
        with self._room_lock:
            known = self._room_needed.get(root)
            if (known is None or (room.sized and not known.sized)
                    or (room.sized == known.sized and room.needed < known.needed)):
                self._room_needed[root] = room

    def _has_room(self) -> bool:
        """False while a root that ran out of space has less free than a write there needed."""
        with self._room_lock:
            waiting = dict(self._room_needed)
        for root, room in waiting.items():
            if (_free_bytes(root) < room.needed
                    and time.monotonic() - room.since < ROOM_RECHECK):
                return False
            with self._room_lock:
                if self._room_needed.get(root) is room:
                    del self._room_needed[root]
        return True

    def is_active(self) -> bool:
        return (bool(self.roots) and all(Path(p).is_dir() for p in self.roots.values())
                and self._has_room())

    def stat(self, path: str) -> FileStat | None:
        try:
            return FileStat(size=os.stat(self._real(path)).st_size)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise os_error(exc, f"reading the size of {path} on site '{self.site_name}'") \
                from None

    def open_read(self, path: str) -> BinaryIO:
        try:
            raw = open(self._real(path), "rb", buffering=0)  # noqa: SIM115 - returned to the caller, who closes it
        except FileNotFoundError:
            raise NotFound(f"{path} is not on site '{self.site_name}'") from None
        except OSError as exc:
            raise os_error(exc, f"reading {path} on site '{self.site_name}'") from None
        return TranslatedStream(  # type: ignore[return-value]  # RawIOBase as BinaryIO
            raw, self._error("reading", path))

    def open_write(self, path: str) -> BinaryIO:
        target = self._real(path)
        folder = os.path.dirname(target)
        try:
            if folder not in self._made_folders:  # one mkdir per folder, not one per file
                os.makedirs(folder, exist_ok=True)
                _remember(self._made_folders, folder)
            try:
                raw = open(target, "wb")  # noqa: SIM115 - returned to the caller, who closes it
            except FileNotFoundError:  # the folder was removed since this provider made it
                os.makedirs(folder, exist_ok=True)
                raw = open(target, "wb")  # noqa: SIM115 - returned to the caller, who closes it
        except OSError as exc:
            raise self._os_error(exc, f"writing {path} on site '{self.site_name}'",
                                 path) from None
        return TranslatedStream(  # type: ignore[return-value]  # RawIOBase as BinaryIO
            raw, self._error("writing", path))

    def rename(self, source: str, target: str) -> None:
        try:
            os.replace(self._real(source), self._real(target))
        except OSError as exc:
            raise os_error(exc, f"renaming {source} to {target} on site "
                                f"'{self.site_name}'") from None

    def delete(self, path: str) -> None:
        try:
            os.unlink(self._real(path))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise os_error(exc, f"deleting {path} on site '{self.site_name}'") from None

    def delete_empty_folders(self, path: str) -> None:
        """Remove the file's folder and its parents while they are empty (up to the root)."""
        prune_empty_folders(self.real_path(path),
                            Path(self._root(relative_path(path).partition("/")[0])))

    def list(self, folder: str) -> Iterator[str]:
        base = self.real_path(folder)
        for dirpath, _dirs, names in os.walk(base):  # a missing folder lists nothing
            for name in names:
                full = Path(dirpath) / name
                yield f"{folder.rstrip('/')}/{full.relative_to(base).as_posix()}"


def _free_bytes(folder: str) -> int:
    """Bytes an unprivileged writer may still use on the file system of ``folder``."""
    try:
        return shutil.disk_usage(folder).free
    except OSError:  # gone: no room
        return 0


def _allocated(info: os.stat_result) -> int:
    """The bytes deleting a file frees: its blocks where the system tells them (POSIX)."""
    blocks = getattr(info, "st_blocks", None)
    return blocks * 512 if blocks is not None else info.st_size


def _remember(known: set[str], folder: str, limit: int = 100_000) -> None:
    if len(known) >= limit:
        known.clear()
    known.add(folder)


@hookimpl
def sitesync_providers() -> list[type[AbstractProvider]]:
    return [LocalDriveProvider]


def prune_empty_folders(file: Path, root: Path) -> None:
    """Remove the file's folder and its parents while they are empty, up to ``root``."""
    folder = file.parent
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
