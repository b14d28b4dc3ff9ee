"""The sync service: a background thread that claims work, moves files and reports.

It runs as one site: a workstation's local site id (the tray), or any site named to
``sitesync syncservice --active_site NAME``. It wakes within a second of new work through the
server's event stream; ``loop_delay`` is only the fallback.
"""
from __future__ import annotations

import logging
import random
import socket
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import platformdirs

from sitesync_addon.contract.files import template_to_site_path
from sitesync_addon.engine.reporter import Reporter
from sitesync_addon.engine.temp_files import TempJournal
from sitesync_addon.engine.transfer import TransferRequest, transfer
from sitesync_addon.errors import TransferCancelled
from sitesync_addon.server_api import ServerError
from sitesync_addon.sites import DEFAULT_SITE, LOCAL_SITE
from sitesync_addon.status import SiteSyncStatus

if TYPE_CHECKING:
    from sitesync_addon.addon import SiteSyncAddon

log = logging.getLogger(__name__)
CLAIM_LIMIT = 200
LEASE_SECONDS = 300.0
EVENT_WAIT = 10.0


class TransferObserver(Protocol):
    """Told about transfers as they go (progress bars)."""

    def started(self, item: dict) -> None: ...

    def advanced(self, item: dict, written: int) -> None: ...

    def finished(self, item: dict, outcome: str) -> None: ...


def _claimed(claim: Future, holding: bool) -> list[dict]:
    """The files of a claim. While files are held, a failed claim is logged and ends
    claiming for this pass, so what is held is still moved or released."""
    try:
        return claim.result()
    except ServerError as exc:
        if not holding:
            raise
        log.warning("claiming more work failed; finishing what is claimed: %s", exc)
        return []


def retry_delay(retries: int, base: float, cap: float = 600.0) -> float:
    """Exponential backoff with full jitter."""
    return random.uniform(0, min(cap, base * 2 ** retries))


class SiteSyncThread(threading.Thread):
    """Moves files for one acting site until ``stop()``."""

    def __init__(self, addon: SiteSyncAddon, active_site: str | None = None,
                 concurrency: int = 4, state_dir: Path | None = None,
                 lease_seconds: float = LEASE_SECONDS) -> None:
        super().__init__(name="sitesync", daemon=True)
        self.addon = addon
        site = active_site or addon.local_site_id
        self.site = addon.local_site_id if site == LOCAL_SITE else site
        self.concurrency = concurrency
        # Stable per machine and site, so a restarted service takes back what it held.
        self.worker_id = f"{socket.gethostname()}:{self.site}"
        state_dir = state_dir or Path(platformdirs.user_state_dir("sitesync"))
        self.journal = TempJournal(state_dir / "in-flight" / self.site)
        self.lease_seconds = lease_seconds
        self.reporter = Reporter(addon.api, addon.endpoint_prefix, self.worker_id,
                                 lease_seconds, addon.LOG_PROGRESS_SEC)
        self._stop_event = threading.Event()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._cancels: dict[tuple, threading.Event] = {}
        self._held_back: set[tuple] = set()  # claimed, not started, paused meanwhile
        self._providers: dict[tuple[str, str], Any] = {}
        self._slots: dict[str, threading.Semaphore] = {}  # per provider code
        self._next_retry_at: float | None = None  # monotonic time a failed file may go again
        self.moved = 0
        self.failed = 0
        self.observer: TransferObserver | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def run(self) -> None:
        self.remove_leftovers()
        threading.Thread(target=self._listen, name="sitesync-events", daemon=True).start()
        while not self._stop_event.is_set():
            try:
                busy = self.run_once()
            except ServerError as exc:
                log.warning("sync loop: %s", exc)
                busy = False
            if not busy:
                self._wake.wait(timeout=self._idle_wait())
                self._wake.clear()

    def stop(self, timeout: float = 60.0) -> None:
        """Cancel transfers at their next chunk, release their leases, and end the thread."""
        self._stop_event.set()
        self._wake.set()
        if self.is_alive():
            self.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def remove_leftovers(self) -> int:
        """Delete temporary files that transfers killed earlier left behind."""
        def delete(site: str, path: str) -> None:
            for (_project, name), provider in self._providers.items():
                if name == site:
                    provider.delete(path)
                    return
            for project in self.addon.get_enabled_projects():
                if site in self.addon.get_sync_project_setting(project)["sites"]:
                    self._provider(project, site).delete(path)
                    return

        removed = self.journal.clean(delete)
        if removed:
            log.info("removed %d temporary files left by an earlier run", removed)
        for project in self.addon.get_enabled_projects():
            self.addon.api.post(f"/api/{self.addon.endpoint_prefix}/{project}/work/release",
                                json={"workerId": self.worker_id})
        return removed

    def _idle_wait(self) -> float:
        """Until the next loop, or sooner when a failed file's backoff ends."""
        with self._lock:
            retry_at, self._next_retry_at = self._next_retry_at, None
        wait = self._loop_delay()
        return wait if retry_at is None else max(0.0, min(wait, retry_at - time.monotonic()))

    def _loop_delay(self) -> float:
        projects = self.addon.get_enabled_projects()
        return min((self.addon.get_loop_delay(p) for p in projects), default=60)

    # -- work ---------------------------------------------------------------------------------

    def site_pairs(self, project: str) -> list[tuple[str, str]]:
        """The (local, remote) pairs this site moves files for in a project."""
        active = self.addon.get_active_site(project)
        remote = self.addon.get_remote_site(project)
        if self.site in (active, remote):
            return [(active, remote)] if active != remote else []
        return [(self.site, DEFAULT_SITE)] if self.site != DEFAULT_SITE else []

    def run_once(self) -> bool:
        """One pass over every enabled project; True when it moved anything."""
        busy = False
        for project in self.addon.get_enabled_projects():
            for local, remote in self.site_pairs(project):
                busy = self._drain(project, local, remote) or busy
        return busy

    def _claim(self, project: str, local: str, remote: str) -> list[dict]:
        return self.addon.api.post(f"/api/{self.addon.endpoint_prefix}/{project}/work/claim",
                                   json={"localSite": local, "remoteSite": remote,
                                         "workerId": self.worker_id, "limit": CLAIM_LIMIT,
                                         "leaseSeconds": self.lease_seconds})

    def _drain(self, project: str, local: str, remote: str) -> bool:
        """Move files until the queue is empty. Up to ``concurrency`` move at once, each
        thread taking the next claimed file as soon as it is free (a large file never holds
        back the small ones claimed with it); more are claimed while the last ones move."""
        backlog: deque[dict] = deque()
        running: set[Future] = set()
        moved = exhausted = False
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="sitesync-move") as pool, \
                ThreadPoolExecutor(1, thread_name_prefix="sitesync-claim") as ahead:
            claiming: Future | None = ahead.submit(self._claim, project, local, remote)
            try:
                while not self._stop_event.is_set():
                    if claiming is not None and claiming.done():
                        future, claiming = claiming, None
                        claimed = _claimed(future, holding=bool(backlog or running))
                        exhausted = not claimed
                        backlog.extend(claimed)
                        for item in claimed:  # progress reports renew the leases of files
                            self.reporter.progress(project, item, 0)  # waiting their turn
                    while backlog and len(running) < self.concurrency:
                        running.add(pool.submit(self._move, project, backlog.popleft()))
                        moved = True
                    if claiming is None and not exhausted and len(backlog) < CLAIM_LIMIT // 2:
                        claiming = ahead.submit(self._claim, project, local, remote)
                    if not running and claiming is None:
                        break
                    done, running = wait(running | ({claiming} if claiming else set()),
                                         return_when=FIRST_COMPLETED)
                    running.discard(claiming)  # type: ignore[arg-type]
                    for future in done - {claiming}:
                        if future.exception() is not None:
                            log.error("moving a file failed", exc_info=future.exception())
            finally:
                wait(running)  # on a stop, moves end at their next chunk and report
                if claiming is not None:  # claimed when a stop came: back to the queue
                    backlog.extend(_claimed(claiming, holding=True))
                for item in backlog:
                    self.reporter.outcome(project, item, "release")
                with self._lock:
                    self._held_back.clear()
        self.reporter.flush()
        return moved

    def _provider(self, project: str, site: str) -> Any:
        key = (project, site)
        with self._lock:  # transfer threads ask at once; one provider per site
            if key not in self._providers:
                self._providers[key] = self.addon.provider_for(project, site)
            return self._providers[key]

    def _slot(self, provider: Any) -> threading.Semaphore:
        """Bounds transfers at once per provider, as each provider declares."""
        with self._lock:
            if provider.code not in self._slots:
                self._slots[provider.code] = threading.Semaphore(provider.max_concurrency)
            return self._slots[provider.code]

    def _move(self, project: str, item: dict) -> None:
        key = (project, item["representationId"], item["fileId"])
        with self._lock:  # check_pauses sees it either held back or with its cancel event
            held_back = key in self._held_back
            self._held_back.discard(key)
            cancel = self._cancels[key] = threading.Event()
        if held_back:  # paused (or leased away) while it waited: back to the queue
            self._cancels.pop(key, None)
            self.reporter.outcome(project, item, "release")
            return
        outcome = "error"
        try:
            if self.observer:
                self.observer.started(item)
            request = TransferRequest(
                source=self._provider(project, item["sourceSite"]),
                target=self._provider(project, item["targetSite"]),
                path=template_to_site_path(item["path"]), size=item["size"],
                content_hash=item["hash"])
            with ExitStack() as slots:
                # One slot per provider code, taken in a fixed order: no two waits can cross.
                by_code = {p.code: p for p in (request.source, request.target)}
                for code in sorted(by_code):
                    slots.enter_context(self._slot(by_code[code]))
                transfer(request, self.journal,
                         progress=lambda written: self._progress(project, item, written),
                         should_stop=lambda: self._stop_event.is_set() or cancel.is_set())
        except TransferCancelled:
            outcome = "release"
            self.reporter.outcome(project, item, "release")
        except Exception as exc:  # every failure is reported; the server counts retries
            log.warning("%s -> %s: %s", item["sourceSite"], item["targetSite"], exc)
            self.failed += 1
            delay = retry_delay(item["retries"], self.addon.retry_backoff_base)
            self.reporter.outcome(project, item, "error", error=f"{type(exc).__name__}: {exc}",
                                  retryAfter=delay)
            with self._lock:  # the loop comes back for it when its backoff ends
                due = time.monotonic() + delay
                self._next_retry_at = min(self._next_retry_at or due, due)
        else:
            outcome = "done"
            self.moved += 1
            self.reporter.outcome(project, item, "done")
            self._update_alternatives(project, item)
        finally:
            self._cancels.pop(key, None)
            if self.observer:
                self.observer.finished(item, outcome)

    def _progress(self, project: str, item: dict, written: int) -> None:
        if self.observer:
            self.observer.advanced(item, written)
        self.reporter.progress(project, item, written)

    # -- running until idle (syncservice --once) ---------------------------------------------

    def _count(self, **status_filters: int) -> int:
        total = 0
        for project in self.addon.get_enabled_projects():
            for local, remote in self.site_pairs(project):
                total += self.addon.api.get(
                    f"/api/{self.addon.endpoint_prefix}/{project}/state",
                    params={"localSite": local, "remoteSite": remote, "pageLength": 1,
                            **status_filters})["total"]
        return total

    def pending(self) -> int:
        """Representations with files still to move (queued, in flight or backing off)."""
        waiting = [int(SiteSyncStatus.QUEUED), int(SiteSyncStatus.IN_PROGRESS)]
        ok = int(SiteSyncStatus.OK)
        return (self._count(localStatusFilter=waiting, remoteStatusFilter=ok)
                + self._count(localStatusFilter=ok, remoteStatusFilter=waiting))

    def run_until_idle(self, poll: float = 0.5) -> bool:
        """Move everything there is, then return True unless something FAILED."""
        self.remove_leftovers()
        while not self._stop_event.is_set():
            if self.run_once():
                continue
            if not self.pending():
                break
            self._stop_event.wait(poll)
        failed = int(SiteSyncStatus.FAILED)
        return (not self._stop_event.is_set() and self._count(localStatusFilter=failed) == 0
                and self._count(remoteStatusFilter=failed) == 0)

    def _update_alternatives(self, project: str, item: dict) -> None:
        site = self.addon.get_sync_project_setting(project)["sites"].get(item["targetSite"])
        if site and site.get("alternative_sites"):
            self.reporter.flush()
            self.addon.handle_alternate_site(project, item["representationId"],
                                             item["targetSite"], item["fileId"])

    def check_pauses(self) -> None:
        """Ask the server about files claimed; cancel those paused or no longer ours, and
        hold back those not started yet."""
        answers = self.reporter.flush(progress=True)
        for key, answer in answers.items():
            if not answer["accepted"] or answer.get("paused"):
                with self._lock:
                    cancel = self._cancels.get(key)
                    if cancel:
                        cancel.set()
                    else:  # claimed and still waiting its turn
                        self._held_back.add(key)

    def _listen(self) -> None:
        """Follow the server's events: wake on new work, check pauses when asked."""
        after = None
        url = f"/api/{self.addon.endpoint_prefix}/events"
        while not self._stop_event.is_set():
            try:
                params = {"timeout": EVENT_WAIT if after is not None else 0}
                if after is not None:
                    params["after"] = after
                batch = self.addon.api.get(url, params=params, timeout=EVENT_WAIT + 10)
            except ServerError as exc:
                log.debug("event stream: %s", exc)
                self._stop_event.wait(1.0)
                continue
            after = batch["lastId"]
            kinds = {event["kind"] for event in batch["events"]}
            if "settings" in kinds:
                self.addon.clear_caches()
            if "paused" in kinds:
                self.check_pauses()
            if kinds:
                self._wake.set()
