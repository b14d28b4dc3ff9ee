"""A running service's own folder for its temporary-file journal, locked while it runs.

Every service process gets ``in-flight/<site>/<pid>-<random>/`` with a ``lock`` file it holds
for its whole life and a ``worker`` file naming its worker id (the id its leases are under).
The operating system drops the lock when the process ends, kill -9 included. So at start a
service knows which sibling folders belong to services that died (their lock is free) and
cleans only those: their journalled temporary files and their leases. Folders of services
still running, on this machine, for the same site, are never touched.
"""
from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from sitesync_addon.engine.temp_files import TempJournal

LOCK_NAME = "lock"
WORKER_NAME = "worker"


@dataclass
class Orphan:
    """The folder of a service that died: its journal and the worker id of its leases."""

    folder: Path
    worker_id: str | None  # None: the folder of a service older than per-process ids
    journal: TempJournal
    lock: FileLock | None

    def forget(self) -> None:
        """Its leftovers are dealt with: remove the folder."""
        if self.lock is not None:  # removed while still held, so no one else takes it up
            shutil.rmtree(self.folder, ignore_errors=True)
            self.lock.release()
        else:  # the old layout: journals directly in the site's folder
            for log in self.folder.glob("*.log"):
                log.unlink(missing_ok=True)


class ServiceSlot:
    """This process's folder under ``root`` (``in-flight/<site>``), locked until ``close``."""

    def __init__(self, root: Path, worker_id: str) -> None:
        self.root = root
        self.worker_id = worker_id
        self.folder = root / f"{os.getpid()}-{secrets.token_hex(4)}"
        self.folder.mkdir(parents=True)
        self._lock = FileLock(self.folder / LOCK_NAME)
        self._lock.acquire(timeout=0)  # a new folder: nobody else can hold it
        (self.folder / WORKER_NAME).write_text(worker_id, encoding="utf-8")
        self.journal = TempJournal(self.folder)

    def orphans(self, legacy_worker_id: str) -> Iterator[Orphan]:
        """The folders of services that died, each locked for this process while it is
        handled; journals of the old layout (one shared folder) come as one orphan of
        ``legacy_worker_id``."""
        if any(self.root.glob("*.log")):
            yield Orphan(self.root, legacy_worker_id, TempJournal(self.root), None)
        for folder in sorted(self.root.iterdir()):
            if folder == self.folder or not folder.is_dir():
                continue
            lock = FileLock(folder / LOCK_NAME)
            try:
                lock.acquire(timeout=0)
            except Timeout:  # its service runs
                continue
            worker = folder / WORKER_NAME
            worker_id = worker.read_text(encoding="utf-8") if worker.exists() else None
            yield Orphan(folder, worker_id or None, TempJournal(folder), lock)

    def close(self) -> None:
        """Give the folder up; it is removed when no temporary file is left in it."""
        if not self._lock.is_locked:
            return
        leftover = bool(self.journal.open_entries())
        self.journal.close()
        if not leftover:
            shutil.rmtree(self.folder, ignore_errors=True)
        self._lock.release()
