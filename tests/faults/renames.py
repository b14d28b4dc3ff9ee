"""Count how often each final file name is placed under a folder, with inotify.

The engine writes a temporary file and renames it onto its final name, so a file moved once
shows one ``IN_MOVED_TO`` under its final name; a file created in place under a final name
counts too. Folders that appear after the count starts are watched from then on, but a file
placed in one before its watch exists would be missed, so tests make the destination folders
first and assert ``late_folders`` is empty."""
from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from inotify_simple import INotify, flags

from sitesync_addon.engine.temp_files import TEMP_SUFFIX

WATCHED = flags.MOVED_TO | flags.CREATE | flags.ONLYDIR
QUIET = 0.2  # seconds without events that end a drain


class RenameCounter:
    """``placed[path]``: how many times a final name under ``root`` was placed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.placed: Counter[Path] = Counter()
        self.late_folders: list[Path] = []
        self._inotify = INotify()
        self._folders: dict[int, Path] = {}
        self._stopping = threading.Event()
        for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
            self._watch(folder)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RenameCounter:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)
        self._inotify.close()

    def _watch(self, folder: Path) -> None:
        self._folders[self._inotify.add_watch(folder, WATCHED)] = folder

    def _run(self) -> None:
        while True:
            events = self._inotify.read(timeout=int(QUIET * 1000))
            if not events and self._stopping.is_set():
                return  # drained: nothing arrived for QUIET seconds after the stop
            for event in events:
                folder = self._folders.get(event.wd)
                if folder is None or not event.name:
                    continue
                path = folder / event.name
                if event.mask & flags.ISDIR:
                    self.late_folders.append(path)
                    self._watch(path)
                elif not event.name.endswith(TEMP_SUFFIX):
                    self.placed[path.relative_to(self.root)] += 1

    def twice(self) -> dict[Path, int]:
        """Final names placed more than once."""
        return {path: count for path, count in self.placed.items() if count > 1}
