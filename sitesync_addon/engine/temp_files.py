"""A journal of temporary files in flight, so a restart after kill -9 removes leftovers.

Before a transfer creates its temporary file it appends a line naming it to the journal; a
second line marks it gone once the file is renamed or deleted; one a failed cleanup could
not delete stays journalled (``keep``). A killed process keeps what it wrote (the kernel holds
it), so at the next start the entries left open belong to transfers that died, or to files
that could not be deleted, and their temporary files are deleted. Appending to one open file
costs no file creations, which dominate when thousands of small files move.
"""
from __future__ import annotations

import itertools
import json
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

TEMP_SUFFIX = ".sitesync-part"
_COMPACT_AT = 1024 * 1024  # bytes of journal kept before starting afresh when nothing is open


# Unique per process (random, and the pid for forks) and per transfer (a counter): cheaper
# than a uuid4 per file.
_RUN = uuid.uuid4().hex[:8]
_SERIAL = itertools.count(1)


def temp_name(final_path: str) -> str:
    """A hidden temporary name beside the final one, unique per transfer."""
    folder, _, name = final_path.rpartition("/")
    temp = f".{name}.{_RUN}{os.getpid():x}-{next(_SERIAL):x}{TEMP_SUFFIX}"
    return f"{folder}/{temp}" if folder else temp


class TempJournal:
    """Append-only journal files in ``folder``, one per process run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stream: TextIO | None = None
        self._open: dict[int, dict[str, Any]] = {}  # entries in flight: their records
        self._kept: dict[int, dict[str, Any]] = {}  # leftovers a failed cleanup could not delete

    def add(self, site: str, path: str) -> int:
        """Record a temporary file about to be created; returns its entry id."""
        with self._lock:
            entry = next(self._ids)
            record = {"add": entry, "site": site, "path": path}
            self._write(record)
            self._open[entry] = record
            return entry

    def remove(self, entry: int) -> None:
        """The temporary file of ``entry`` is gone (renamed or deleted)."""
        with self._lock:
            self._open.pop(entry, None)
            self._write({"done": entry})
            self._compact()

    def keep(self, entry: int) -> None:
        """The temporary file of ``entry`` could not be deleted: it stays journalled, so
        ``clean`` at the next start deletes it, while the journal can still be compacted."""
        with self._lock:
            record = self._open.pop(entry, None)
            if record is not None:
                self._kept[entry] = record
            self._compact()

    def kept_on(self, site: str) -> list[tuple[int, str]]:
        """(entry, path) of the leftovers on ``site`` a failed cleanup could not delete."""
        with self._lock:
            return [(entry, record["path"]) for entry, record in self._kept.items()
                    if record["site"] == site]

    def deleted(self, entry: int) -> None:
        """A kept leftover is gone now."""
        with self._lock:
            if self._kept.pop(entry, None) is not None:
                self._write({"done": entry})

    def _compact(self) -> None:
        """Start the journal afresh once it is large and no transfer is open; leftovers are
        written again."""
        if not self._open and self._stream and self._stream.tell() > _COMPACT_AT:
            self._stream.seek(0)
            self._stream.truncate()
            for record in self._kept.values():
                self._write(record)

    def open_entries(self) -> list[dict[str, Any]]:
        """Entries of every journal here whose temporary file may still exist."""
        with self._lock:
            if self._stream:
                self._stream.flush()
            return [entry for log in self._logs() for entry in _open_in(log)]

    def clean(self, delete: Callable[[str, str], None]) -> int:
        """Delete every journalled temporary file with ``delete(site, path)``; count them.

        Call it when no transfer of this journal is running (at start)."""
        with self._lock:
            if self._stream:
                self._stream.close()
                self._stream = None
            count = 0
            for log in self._logs():
                for entry in _open_in(log):
                    delete(entry["site"], entry["path"])
                    count += 1
                log.unlink(missing_ok=True)
            self._open.clear()
            self._kept.clear()
            return count

    def close(self) -> None:
        with self._lock:
            if self._stream:
                self._stream.close()
                self._stream = None

    def _logs(self) -> list[Path]:
        return sorted(self.folder.glob("*.log"))

    def _write(self, record: dict[str, Any]) -> None:
        if self._stream is None:
            name = f"{os.getpid()}-{uuid.uuid4().hex[:8]}.log"
            self._stream = open(self.folder / name, "a", encoding="utf-8")  # noqa: SIM115
        # Unbuffered to the kernel: a line written is kept even if the process is killed.
        self._stream.write(json.dumps(record) + "\n")
        self._stream.flush()


def _open_in(log: Path) -> list[dict[str, Any]]:
    added: dict[int, dict[str, Any]] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:  # a line cut short by a kill: its file was not created yet
            continue
        if "add" in record:
            added[record["add"]] = record
        else:
            added.pop(record.get("done"), None)
    return list(added.values())
