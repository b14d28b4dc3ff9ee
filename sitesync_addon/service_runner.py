"""Running the sync service in the foreground (``sitesync syncservice``), with progress bars."""
from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (BarColumn, DownloadColumn, Progress, TaskID, TextColumn,
                           TransferSpeedColumn)


if TYPE_CHECKING:
    from sitesync_addon.api import SiteSyncApi
    from sitesync_addon.client.types import WorkItem


class ProgressBars:
    """A rich bar per file in flight and one for all bytes moved."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.total = progress.add_task("all files", total=0)
        self.tasks: dict[tuple[str, str, str], TaskID] = {}
        self.written: dict[tuple[str, str, str], int] = {}
        self.lock = threading.Lock()

    @staticmethod
    def _key(item: WorkItem) -> tuple[str, str, str]:
        return item["representationId"], item["fileId"], item["targetSite"]

    def started(self, item: WorkItem) -> None:
        name = item["path"].rsplit("/", 1)[-1]
        with self.lock:
            key = self._key(item)
            self.tasks[key] = self.progress.add_task(f"{item['targetSite']}: {name}",
                                                     total=item["size"])
            self.written[key] = 0
            total = self.progress.tasks[self.total].total or 0
            self.progress.update(self.total, total=total + item["size"])

    def advanced(self, item: WorkItem, written: int) -> None:
        with self.lock:
            key = self._key(item)
            self.progress.update(self.tasks[key], completed=written)
            self.progress.advance(self.total, written - self.written[key])
            self.written[key] = written

    def finished(self, item: WorkItem, outcome: str) -> None:
        with self.lock:
            key = self._key(item)
            task = self.tasks.pop(key)
            if outcome == "done":
                self.progress.advance(self.total, item["size"] - self.written.pop(key))
            self.progress.remove_task(task)


def run_service(api: SiteSyncApi, active_site: str, *, once: bool = False,
                concurrency: int = 4, console: Console | None = None,
                show_progress: bool = True) -> bool:
    """Run until SIGINT/SIGTERM (or until idle with ``once``); False if anything FAILED."""
    api.service_site = api.sites.as_local_id(active_site)
    thread = api.create_service(active_site, concurrency=concurrency)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        thread.stop(timeout=0)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    bars = show_progress and console is not None
    # File names are shown literally: as markup, "plate[left].exr" would print "plate.exr".
    progress = Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                        DownloadColumn(), TransferSpeedColumn(), console=console,
                        disable=not bars, transient=False)
    try:
        with progress:
            thread.observer = ProgressBars(progress) if bars else None
            if once:
                ok = thread.run_until_idle()
            else:
                thread.start()
                while thread.is_alive():
                    thread.join(0.5)
                # Ended without being asked to (a bug): exit non-zero, so a supervisor
                # restarts it.
                ok = thread.stop_requested
                if not ok and console is not None:
                    console.print("the sync service stopped unexpectedly; see the log above",
                                  markup=False, highlight=False)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if console is not None:
        console.print(f"moved {thread.moved} file(s), {thread.failed} failed attempt(s)",
                      markup=False, highlight=False)
    return ok
