"""The sync service: one claimer feeds a bounded queue read by N long-lived workers.

It runs as one site: a workstation's local site id (the tray), or any site named to
``sitesync syncservice --active_site NAME``. The service thread is the claimer: it claims
files under a lease while the queue has room, then waits for room, new work (the server's
events wake it within a second), the end of a backoff, or ``loop_delay``. Workers move one
file at a time; each site bounds its own transfers at once. The reporter thread owns every
report to the server. What a failure costs is decided by ``policy``.

A server outage never stops the service: claims wait and go on, workers finish what they
hold, and their reports are kept until the server answers again.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Protocol

from sitesync_addon.client import ServerClient
from sitesync_addon.client.types import Report, ReportResult, WorkItem
from sitesync_addon.engine.commands import CommandRunner
from sitesync_addon.engine.config import EngineConfig
from sitesync_addon.engine.heartbeat import HeartbeatSender
from sitesync_addon.engine.policy import Action, SiteHealth, decide, fit_message, jittered
from sitesync_addon.engine.reporter import Key, Reporter, key_of
from sitesync_addon.engine.slots import ServiceSlot
from sitesync_addon.engine.temp_files import TempJournal
from sitesync_addon.engine.transfer import TransferRequest, transfer
from sitesync_addon.errors import ResumableError, ServerError, ServerUnreachable, SiteSyncError
from sitesync_addon.paths import template_to_site_path
from sitesync_addon.providers.base import AbstractProvider
from sitesync_addon.sites import DEFAULT_SITE, SiteResolver
from sitesync_addon.status import SiteSyncStatus

log = logging.getLogger(__name__)
EVENT_WAIT = 10.0
STOP_SECONDS = 30.0  # how long stopping waits for transfers to end at their next chunk
# The events that wake the service; progress and state events are for dashboards.
WAKE_KINDS = ("new_work", "reset", "priority", "paused", "unpaused", "reset_timer", "settings",
              "command")
SERVER_RETRY_CAP = 30.0


class TransferObserver(Protocol):
    """Told about transfers as they go (progress bars)."""

    def started(self, item: WorkItem) -> None: ...

    def advanced(self, item: WorkItem, written: int) -> None: ...

    def finished(self, item: WorkItem, outcome: str) -> None: ...


class Counters:
    """Files moved and failed attempts, counted from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.moved = 0
        self.failed = 0

    def add(self, moved: int = 0, failed: int = 0) -> None:
        with self._lock:
            self.moved += moved
            self.failed += failed


class SyncService(threading.Thread):
    """Moves files for one site until ``stop()``."""

    def __init__(self, client: ServerClient, sites: SiteResolver,
                 config: EngineConfig) -> None:
        super().__init__(name="sitesync", daemon=True)
        self.client = client
        self.sites = sites
        self.config = config
        self.site = config.site
        self.worker_id = config.worker_id
        self.slot = ServiceSlot(config.state_dir / "in-flight" / self.site, self.worker_id)
        self.journal = self.slot.journal
        self.health = SiteHealth(cap=config.site_backoff_cap)
        self.counters = Counters()
        self.observer: TransferObserver | None = None
        self._stop_event = threading.Event()
        self._serving: list[str] = []  # enabled projects, as the last pass found them
        self.reporter = self._new_reporter()
        self.commands = CommandRunner(client, sites, config.service_id, self.served_sites,
                                      self._stop_event, on_done=self.wake)
        self._queue: queue.Queue[tuple[str, WorkItem] | None] = queue.Queue()
        self._workers: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._claimed: dict[Key, threading.Event] = {}  # claimed, not finished: cancel events
        self._unanswered_claims: list[tuple[str, str]] = []  # (project, claim id), answers lost
        self._held_in: dict[str, str] = {}  # held site -> a project to probe it in
        self._slots: dict[str, threading.Semaphore] = {}
        self._retry_at: list[float] = []  # monotonic times failed files may go again
        self._wake = threading.Event()
        self._room = threading.Event()
        self._cleaned = False

    @property
    def concurrency(self) -> int:
        return self.config.concurrency

    @concurrency.setter
    def concurrency(self, value: int) -> None:
        self.config.concurrency = value

    @property
    def moved(self) -> int:
        return self.counters.moved

    @property
    def failed(self) -> int:
        return self.counters.failed

    def _new_reporter(self) -> Reporter:
        heartbeat = HeartbeatSender(self.client.services, self.config.service_id, self.site,
                                    lambda: list(self._serving), self.config.heartbeat_every)
        return Reporter(self.client.work, self.worker_id, self.config.lease_seconds,
                        self.config.log_progress_sec, self._on_answer,
                        batch_size=self.config.claim_limit, on_done=self._update_alternatives,
                        heartbeat=heartbeat, moving_every=self.config.moving_progress_sec,
                        on_returned=self._returned)

    # -- lifecycle -----------------------------------------------------------------------

    def run(self) -> None:
        threading.Thread(target=self._listen, name="sitesync-events", daemon=True).start()
        self.commands.start()
        with self._running():
            outage = 0
            while not self._stop_event.is_set():
                try:
                    claimed = self._pass()
                    outage = 0
                except ResumableError as exc:  # the server is away: wait, then go on
                    delay = jittered(1.0, outage, SERVER_RETRY_CAP)
                    outage += 1
                    log.warning("sync loop: %s; trying again in %.0f s", exc, delay)
                    self._sleep(delay)
                    continue
                except ServerError as exc:
                    log.warning("sync loop: %s", exc)
                    claimed = 0
                except Exception:  # a bug must not end the service quietly
                    log.exception("sync loop failed; going on in %.0f s", SERVER_RETRY_CAP)
                    self._sleep(SERVER_RETRY_CAP)
                    continue
                if claimed:
                    self._wait_for_room()
                else:
                    self._sleep(self._idle_wait())

    def stop(self, timeout: float = 60.0) -> None:
        """Cancel transfers at their next chunk, release their leases, and end the thread."""
        self._stop_event.set()
        self._wake.set()
        self._room.set()
        if self.is_alive():
            self.join(timeout)
        if not self.is_alive():
            self.slot.close()

    def wake(self) -> None:
        self._wake.set()

    def _returned(self, backoffs: list[float]) -> None:
        """Files went back to the queue: claim now, and again as each backoff ends. The
        server counts a backoff from when it took the report, so the wake does too."""
        now = time.monotonic()
        with self._lock:
            self._retry_at.extend(now + delay for delay in backoffs if delay > 0)
        self.wake()

    @property
    def stop_requested(self) -> bool:
        return self._stop_event.is_set()

    @contextmanager
    def _running(self) -> Iterator[None]:
        """Workers and the reporter, started and, at the end, stopped with nothing held."""
        if not self.reporter.is_alive():
            if self.reporter.ident is not None:  # a reporter runs once
                self.reporter = self._new_reporter()
            self.reporter.start()
        self._workers = [threading.Thread(target=self._work, name=f"sitesync-move-{n}",
                                          daemon=True) for n in range(self.concurrency)]
        for worker in self._workers:
            worker.start()
        try:
            yield
        finally:
            for _ in self._workers:
                self._queue.put(None)  # after the files still queued: those are released
            deadline = time.monotonic() + STOP_SECONDS
            for worker in self._workers:  # a transfer stuck in a provider call is left behind
                worker.join(max(0.0, deadline - time.monotonic()))
            self.reporter.stop()

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(timeout=max(0.0, seconds))
        self._wake.clear()

    def _wait_for_room(self) -> None:
        """Until the queue is half empty (claim more), or something wakes the service."""
        while not self._stop_event.is_set() and not self._wake.is_set():
            if self._queue.qsize() <= self.config.claim_limit // 2:
                return
            self._room.wait(0.5)
            self._room.clear()
        self._wake.clear()

    def _idle_wait(self) -> float:
        """Until the next loop, or sooner when a backoff ends."""
        now = time.monotonic()
        with self._lock:
            self._retry_at = [t for t in self._retry_at if t > now]
            soonest = [min(self._retry_at)] if self._retry_at else []
        site_change = self.health.next_change()
        soonest += [site_change] if site_change else []
        if self.reporter.backlogged():
            soonest.append(now + 1.0)  # reports wait for the server: look again soon
        try:
            projects = self.sites.enabled_projects()
            wait = float(min((self.sites.loop_delay(p) for p in projects), default=60))
        except ServerError as exc:  # the server refused or is away: try again a bit later
            log.debug("idle wait: %s", exc)
            wait = jittered(2.0, 2, SERVER_RETRY_CAP)
        return min([wait] + [t - now for t in soonest])

    # -- claiming ------------------------------------------------------------------------

    def site_pairs(self, project: str) -> list[tuple[str, str]]:
        """The (local, remote) pairs this site moves files for in a project."""
        active = self.sites.active_site(project)
        remote = self.sites.remote_site(project)
        if self.site in (active, remote):
            return [(active, remote)] if active != remote else []
        return [(self.site, DEFAULT_SITE)] if self.site != DEFAULT_SITE else []

    def served_sites(self) -> list[str]:
        """The sites whose commands this service carries out: its own, and the remote sites
        it moves its own files to (not the studio's, which a studio service serves)."""
        served = {self.site}
        for project in list(self._serving):
            for local, remote in self.site_pairs(project):
                if local == self.site and remote != DEFAULT_SITE:
                    served.add(remote)
        return sorted(served)

    def _pass(self) -> int:
        """Clean up once, probe held sites, claim while there is room; files claimed."""
        if not self._cleaned:
            self.remove_leftovers()
            self._cleaned = True
        self._probe_held_sites()
        projects = self.sites.enabled_projects()
        if projects != self._serving:
            self._serving = list(projects)
            self.reporter.heartbeat_now()
        if self.reporter.backlogged():  # old reports first: they must not undo new claims
            return 0
        self._release_unanswered_claims()
        claimed = 0
        for project in projects:
            for local, remote in self.site_pairs(project):
                if self.health.usable(local) and self.health.usable(remote):
                    claimed += self._claim(project, local, remote)
        return claimed

    def _claim(self, project: str, local: str, remote: str) -> int:
        claimed = 0
        while not self._stop_event.is_set():
            room = self.config.claim_limit - self._queue.qsize()
            if room <= 0:
                break
            claim_id = uuid.uuid4().hex
            try:
                items = self.client.work.claim(project, local, remote, self.worker_id, room,
                                               self.config.lease_seconds, claim_id)
            except ServerUnreachable:  # the server may have leased files all the same
                self._unanswered_claims.append((project, claim_id))
                raise
            for item in items:
                with self._lock:
                    self._claimed[key_of(project, item)] = threading.Event()
                self.reporter.hold(project, item)
                self._queue.put((project, item))
            claimed += len(items)
            if len(items) < room:
                break
        return claimed

    def _release_unanswered_claims(self) -> None:
        """Give back the files of claims whose answers were lost, at once: they would stay
        leased to this service, unmoved, until their leases ran out."""
        while self._unanswered_claims:
            project, claim_id = self._unanswered_claims[0]
            released = self.client.work.release(project, self.worker_id, claim_id)
            if released:
                log.info("gave back %d file(s) of a claim whose answer was lost", released)
            self._unanswered_claims.pop(0)

    def remove_leftovers(self) -> int:
        """Delete the temporary files that services of this site killed earlier left behind,
        and give back their leases; services still running are left alone."""
        projects = self.sites.enabled_projects()
        removed = 0
        for orphan in self.slot.orphans(legacy_worker_id=self.config.legacy_worker_id):
            removed += self._clean(orphan.journal, projects)
            if orphan.worker_id:
                for project in projects:
                    self.client.work.release(project, orphan.worker_id)
            orphan.forget()
        if removed:
            log.info("removed %d temporary files left by an earlier run", removed)
        return removed

    def _clean(self, journal: TempJournal, projects: list[str]) -> int:
        """Delete a journal's temporary files; those on a site that is down now move to this
        service's journal, to be deleted at its next start."""
        kept: list[tuple[str, str]] = []

        def delete(site: str, path: str) -> None:
            try:
                for project in projects:
                    if site in self.sites.project_settings(project)["sites"]:
                        self.sites.provider(project, site).delete(path)
                        return
            except SiteSyncError as exc:  # that site is down: try again at the next start
                log.warning("cannot delete the leftover %s on site '%s' now: %s", path, site,
                            exc)
                kept.append((site, path))

        removed = journal.clean(delete) - len(kept)
        for site, path in kept:
            self.journal.keep(self.journal.add(site, path))
        return removed

    # -- held sites ----------------------------------------------------------------------

    def _probe_held_sites(self) -> None:
        for site in self.health.due_for_probe():
            project = self._held_in.get(site)
            if project is None or self._site_is_active(project, site):
                log.info("site '%s' is back", site)
                self.health.recovered(site)
                self._held_in.pop(site, None)
            else:
                self.health.hold(site, self.health.held().get(site, "unavailable"))

    def _site_is_active(self, project: str, site: str) -> bool:
        try:
            return self.sites.provider(project, site).is_active()
        except Exception as exc:  # noqa: BLE001 - a probe that fails means "not yet"
            log.debug("probing site '%s': %s", site, exc)
            return False

    def _culprits(self, project: str, item: WorkItem) -> list[str]:
        """The sites of a failed transfer that do not answer; else the far side."""
        pair = [item["sourceSite"], item["targetSite"]]
        down = [site for site in pair if not self._site_is_active(project, site)]
        return down or [site for site in pair if site != self.site] or pair

    # -- moving --------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if self._queue.qsize() <= self.config.claim_limit // 2:
                self._room.set()
            if job is None:
                return
            project, item = job
            try:
                self._move(project, item)
            except Exception:  # a bug must not end the worker: the file goes back
                log.exception("moving %s failed", item["path"])
                self.reporter.outcome(project, item, "release")

    def _on_answer(self, key: Key, answer: ReportResult) -> None:
        if not answer.get("accepted") or answer.get("paused"):
            with self._lock:
                cancel = self._claimed.get(key)
            if cancel is not None:
                if not answer.get("accepted"):
                    log.warning("lost the lease of file %s: %s", key[2], answer.get("detail"))
                cancel.set()

    def _move(self, project: str, item: WorkItem) -> None:
        key = key_of(project, item)
        with self._lock:
            cancel = self._claimed.get(key) or threading.Event()
        try:
            if cancel.is_set() or self._stop_event.is_set():
                self.reporter.outcome(project, item, "release")
                return
            waiting = self._site_wait(item)
            if waiting is not None:
                self.reporter.outcome(project, item, "release", **waiting)
                return
            self._transfer(project, item, cancel)
        finally:
            with self._lock:  # a file claimed again meanwhile has an event of its own
                if self._claimed.get(key) is cancel:
                    del self._claimed[key]

    def _site_wait(self, item: WorkItem) -> dict[str, object] | None:
        """Report fields for a file whose site waits (held or backing off), else None."""
        held = self.health.held()
        for site in (item["sourceSite"], item["targetSite"]):
            if site in held:
                return {"error": fit_message(f"waiting for site '{site}': {held[site]}")}
            if not self.health.usable(site):
                return {}
        return None

    def _transfer(self, project: str, item: WorkItem, cancel: threading.Event) -> None:
        outcome = "error"
        self._observe("started", item)
        try:
            source = self.sites.provider(project, item["sourceSite"])
            target = self.sites.provider(project, item["targetSite"])
            request = TransferRequest(source=source, target=target,
                                      path=template_to_site_path(item["path"]),
                                      size=item["size"], content_hash=item["hash"])
            with self._slots_for(source, target):
                self.reporter.started(project, item)
                transfer(request, self.journal,
                         progress=lambda written: self._progress(project, item, written),
                         should_stop=lambda: self._stop_event.is_set() or cancel.is_set())
        except Exception as exc:  # noqa: BLE001 - the policy decides what each error costs
            outcome = self._failed(project, item, exc)
        else:
            outcome = "done"
            self.counters.add(moved=1)
            self.health.succeeded(item["sourceSite"])
            self.health.succeeded(item["targetSite"])
            self.reporter.outcome(project, item, "done")
            self._delete_kept_leftovers(target)
        finally:
            self._observe("finished", item, outcome)

    def _delete_kept_leftovers(self, target: AbstractProvider) -> None:
        """Temporary files a failed transfer could not delete (the link to the site was down)
        go once a transfer to that site succeeds again, not only at the next start."""
        for entry, path in self.journal.kept_on(target.site_name):
            try:
                target.delete(path)
            except SiteSyncError as exc:
                log.debug("the leftover %s on site '%s' stays for now: %s", path,
                          target.site_name, exc)
            else:
                self.journal.deleted(entry)

    def _observe(self, event: str, *args: object) -> None:
        """Tell the observer (progress bars, a window); its failures never stop a transfer."""
        if self.observer is None:
            return
        try:
            getattr(self.observer, event)(*args)
        except Exception:  # noqa: BLE001 - display code must not break the sync
            log.exception("the transfer observer failed on '%s'", event)

    def _failed(self, project: str, item: WorkItem, error: Exception) -> str:
        action = decide(error)
        message = fit_message(f"{type(error).__name__}: {error}")
        if action is Action.RELEASE or isinstance(error, ServerError):
            # Cancelled, or the server went away mid-file (settings): no site is to blame.
            self.reporter.outcome(project, item, "release")
            return "release"
        if action is Action.RETRY:
            if not isinstance(error, (SiteSyncError, OSError)):  # a bug, not the storage
                log.error("unexpected error moving %s", item["path"], exc_info=error)
            log.warning("%s -> %s: %s", item["sourceSite"], item["targetSite"], error)
            self.counters.add(failed=1)
            delay = jittered(self.config.retry_backoff_base, item["retries"], 600.0)
            # The loop comes back for it when its backoff ends (``_returned``).
            self.reporter.outcome(project, item, "error", error=message, retryAfter=delay)
            return "error"
        culprits = self._culprits(project, item)
        if action is Action.HOLD:
            for site in culprits:
                if site not in self.health.held():
                    log.warning("holding site '%s' until it answers: %s", site, error)
                self._held_in[site] = project  # before the hold: a probe needs the project
                self.health.hold(site, str(error))
            self.reporter.outcome(project, item, "release",
                                  error=fit_message(f"waiting for site '{culprits[0]}': {error}"))
        else:
            for site in culprits:
                delay = self.health.back_off(site, getattr(error, "retry_after", None))
                log.info("site '%s' backs off %.1f s: %s", site, delay, error)
            self.reporter.outcome(project, item, "release")
        self.wake()
        return "release"

    @contextmanager
    def _slots_for(self, *providers: AbstractProvider) -> Iterator[None]:
        """One slot per site, taken in a fixed order, so no two waits can cross."""
        by_site = {p.site_name: p for p in providers}
        with ExitStack() as stack:
            for site in sorted(by_site):
                with self._lock:
                    slot = self._slots.get(site)
                    if slot is None:
                        slot = self._slots[site] = threading.Semaphore(
                            max(1, int(by_site[site].max_concurrency)))
                stack.enter_context(slot)
            yield

    def _progress(self, project: str, item: WorkItem, written: int) -> None:
        if self.observer:
            self.observer.advanced(item, written)
        self.reporter.progress(project, item, written)

    def _update_alternatives(self, project: str, done: Report) -> None:
        """On the reporter's thread, once the server took the file's "done"."""
        site = self.sites.project_settings(project)["sites"].get(done["site"])
        if site and site.get("alternative_sites"):
            self.sites.mirror_to_alternatives(project, done["representationId"], done["site"],
                                              done["fileId"])

    # -- running until idle (syncservice --once) -----------------------------------------

    def _count(self, **status_filters: object) -> int:
        total = 0
        for project in self.sites.enabled_projects():
            for local, remote in self.site_pairs(project):
                total += self.client.state.count(project, local, remote, **status_filters)
        return total

    def pending(self) -> int:
        """Representations with files still to move (queued, in flight or backing off)."""
        waiting = [int(SiteSyncStatus.QUEUED), int(SiteSyncStatus.IN_PROGRESS)]
        ok = int(SiteSyncStatus.OK)
        return (self._count(localStatusFilter=waiting, remoteStatusFilter=ok)
                + self._count(localStatusFilter=ok, remoteStatusFilter=waiting))

    def _busy(self) -> bool:
        with self._lock:
            return bool(self._claimed)

    def run_once(self) -> bool:
        """Claim and move until nothing more can be claimed now; True when files moved."""
        before = self.moved
        with self._running():
            while not self._stop_event.is_set() and self._guarded_pass():
                self._wait_for_room()
            while self._busy() and not self._stop_event.is_set():
                self._sleep(0.05)
            self.reporter.flush(timeout=60)
        return self.moved > before

    def _guarded_pass(self) -> int:
        """One claiming pass; a server error ends it with nothing claimed (logged)."""
        try:
            return self._pass()
        except ServerError as exc:
            log.warning("claiming failed; finishing what is claimed: %s", exc)
            return 0

    def run_until_idle(self, poll: float = 0.2) -> bool:
        """Move everything there is, then return True unless something FAILED or a site
        stayed down."""
        with self._running():
            while not self._stop_event.is_set():
                if self._guarded_pass():
                    self._wait_for_room()
                    continue
                if self._busy():
                    self._sleep(poll)
                    continue
                self.reporter.flush(timeout=60)
                if self.health.held():
                    for site, why in self.health.held().items():
                        log.error("site '%s' is unavailable: %s", site, why)
                    return False
                if not self.pending():
                    break
                self._sleep(min(poll * 5, max(0.0, self._idle_wait())))
            stopped_early = self._stop_event.is_set() and self._busy()
        failed = int(SiteSyncStatus.FAILED)
        return (not stopped_early and self._count(localStatusFilter=failed) == 0
                and self._count(remoteStatusFilter=failed) == 0)

    def check_pauses(self) -> None:
        """Ask the server about claimed files now; paused ones stop at their next chunk."""
        self.reporter.send_progress_now()

    def _listen(self) -> None:
        """Follow the server's events: wake on new work, drop stale settings, check pauses."""
        after: int | None = None
        while not self._stop_event.is_set():
            try:
                batch = self.client.events.poll(after, EVENT_WAIT if after is not None else 0,
                                                kinds=WAKE_KINDS)
            except ServerError as exc:
                log.debug("event stream: %s", exc)
                self._stop_event.wait(1.0)
                continue
            after = batch["lastId"]
            kinds = {event["kind"] for event in batch["events"]}
            if "settings" in kinds:
                self.sites.invalidate()
            if "paused" in kinds:
                self.check_pauses()
            if "command" in kinds:
                self.commands.look_now()
            if kinds:
                self._wake.set()

