"""The reporter: one thread owns every report to the server and reads the answers.

Workers hand it outcomes and progress and never wait on the network. It sends final reports
in batches (at ``batch_size``, or ``final_delay`` after the oldest waiting one), every
``moving_every`` seconds (1 s) the progress of the files moving now, so a dashboard advances
at least once a second, and every ``progress_every`` seconds the progress of every file the
service holds, which renews their leases, files still waiting their turn included. An answer
saying a file is paused, or that its lease is no longer ours, goes to ``on_answer`` so the
transfer stops at its next chunk. Every ``heartbeat.every`` seconds (and at start) it sends
the service's heartbeat: files moving and bytes per second since the last one.
Reports the server could not take (it is away) are kept and sent again; a final "done" that
the server refuses (the lease moved to another service) is logged, never dropped silently.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sitesync_addon.client.types import Outcome, Report, ReportResult, WorkItem
from sitesync_addon.client.work import Work
from sitesync_addon.engine.heartbeat import HeartbeatSender
from sitesync_addon.errors import ResumableError, ServerError

log = logging.getLogger(__name__)
Key = tuple[str, str, str]  # project, representation id, file id
AnswerHandler = Callable[[Key, ReportResult], None]
DoneHandler = Callable[[str, Report], None]
MOVING_EVERY = 1.0  # seconds between progress reports of files that are moving


def key_of(project: str, item: WorkItem) -> Key:
    return project, item["representationId"], item["fileId"]


def _report(item: WorkItem, outcome: Outcome, **extra: Any) -> Report:
    report: Report = {"representationId": item["representationId"], "fileId": item["fileId"],
                      "site": item["targetSite"], "outcome": outcome}
    report.update(extra)  # type: ignore[typeddict-item]  # keys checked by Report's callers
    return report


class Reporter(threading.Thread):
    def __init__(self, work: Work, worker_id: str, lease_seconds: float,
                 progress_every: float, on_answer: AnswerHandler, batch_size: int = 200,
                 final_delay: float = 0.5, on_done: DoneHandler | None = None,
                 heartbeat: HeartbeatSender | None = None,
                 moving_every: float = MOVING_EVERY,
                 on_returned: Callable[[list[float]], None] | None = None) -> None:
        super().__init__(name="sitesync-report", daemon=True)
        self.work = work
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.progress_every = progress_every
        self.on_answer = on_answer
        self.on_done = on_done  # called here, after the server took a "done"
        # Called once files went back to the queue (errors, releases), with their backoffs in
        # seconds from now (0 for a release): they may be claimed again then, not a loop later.
        self.on_returned = on_returned
        self.batch_size = batch_size
        self.final_delay = min(final_delay, progress_every)
        self._cond = threading.Condition()
        self._finals: dict[str, list[Report]] = {}
        self._sending = 0  # final reports out on the wire now
        self._oldest_final: float | None = None
        self._held: dict[Key, Report] = {}  # claimed and not finished: progress so far
        self._last_progress = time.monotonic()
        self._progress_now = False
        self._sent_generation = 0  # bumped after each round of sending
        self._stopping = False
        self._away_until = 0.0  # the server was away: wait before sending again
        self.lost_leases = 0  # files the server said are no longer ours
        self.moving_every = moving_every
        self._moving: set[Key] = set()  # held files whose bytes are flowing now
        self._last_moving = time.monotonic()
        self.heartbeat = heartbeat
        self._last_heartbeat: float | None = None  # None: none sent yet
        self._heartbeat_now = True  # the first goes at start
        self._bytes = 0  # bytes moved by this service, for the heartbeat's speed
        self._bytes_at_heartbeat = 0

    # -- what workers call ---------------------------------------------------------------

    def hold(self, project: str, item: WorkItem) -> None:
        """A claimed file: its lease is renewed with every progress round until it ends."""
        with self._cond:
            self._held[key_of(project, item)] = _report(item, "progress", progress=0.0,
                                                        size=0)

    def started(self, project: str, item: WorkItem) -> None:
        """A held file's bytes start to flow: its progress goes every ``moving_every``."""
        with self._cond:
            key = key_of(project, item)
            if key in self._held:
                self._moving.add(key)
                self._cond.notify_all()

    def progress(self, project: str, item: WorkItem, written: int) -> None:
        fraction = written / item["size"] if item["size"] else 1.0
        with self._cond:
            key = key_of(project, item)
            if key in self._held:
                self._bytes += max(0, written - self._held[key].get("size", 0))
                self._held[key] = _report(item, "progress", progress=min(fraction, 1.0),
                                          size=written)

    def outcome(self, project: str, item: WorkItem, outcome: Outcome, **extra: Any) -> None:
        """A final report: done, error (a retry) or release (back to the queue)."""
        with self._cond:
            key = key_of(project, item)
            held = self._held.pop(key, None)
            self._moving.discard(key)
            if outcome == "done" and held is not None:
                self._bytes += max(0, item["size"] - held.get("size", 0))
            self._finals.setdefault(project, []).append(_report(item, outcome, **extra))
            if self._oldest_final is None:
                self._oldest_final = time.monotonic()
            self._cond.notify_all()

    def heartbeat_now(self) -> None:
        """Send the heartbeat at once (what the service serves changed)."""
        with self._cond:
            self._heartbeat_now = True
            self._cond.notify_all()

    def send_progress_now(self) -> None:
        """Send the progress of every held file at once (something was paused)."""
        with self._cond:
            self._progress_now = True
            self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every final report queued so far was sent; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._progress_now = True
            self._cond.notify_all()
            target = self._sent_generation + 1
            while self._finals or self._sending or self._sent_generation < target:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                if not self.is_alive():
                    return not (self._finals or self._sending)
                self._cond.wait(remaining if remaining is not None else 1.0)
            return True

    def backlogged(self) -> bool:
        """Final reports are waiting for the server to come back."""
        with self._cond:
            return bool(self._finals) and time.monotonic() < self._away_until + 5.0

    def pending(self) -> int:
        """Final reports not yet taken by the server."""
        with self._cond:
            return sum(len(r) for r in self._finals.values()) + self._sending

    def stop(self, timeout: float = 10.0) -> None:
        """Send what is left (for at most ``timeout`` seconds), then end."""
        self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self.is_alive():
            self.join(timeout)

    # -- the thread ------------------------------------------------------------------------

    def run(self) -> None:
        while not self._stopping:
            try:
                self._round()
            except Exception:  # a bug must not end the reporter: reports would pile up
                log.exception("reporting failed; going on")
                with self._cond:
                    self._sending = 0
                    self._cond.wait(1.0)

    def _round(self) -> None:
        """Wait until something is due, then send it."""
        with self._cond:
            while not self._stopping and not self._due():
                self._cond.wait(self._wait_time())
            if self._stopping:
                return
            finals, self._finals, self._oldest_final = self._finals, {}, None
            self._sending = sum(len(r) for r in finals.values())
            progress = self._progress_to_send()
            beat = self._heartbeat_numbers() if self._heartbeat_due() else None
        kept = finals  # if sending breaks, keep them all: a report taken twice is refused
        try:
            kept = self._send_finals(finals)
            returned = [float(r.get("retryAfter") or 0.0) for project, reports in finals.items()
                        if project not in kept for r in reports if r["outcome"] != "done"]
            if returned and self.on_returned is not None:
                self.on_returned(sorted(set(returned)))
        finally:
            with self._cond:
                for project, reports in kept.items():
                    self._finals.setdefault(project, [])[:0] = reports
                if kept and self._oldest_final is None:
                    self._oldest_final = time.monotonic()
                self._sending = 0
        if progress:
            self._send_progress(progress)
        if beat is not None and self.heartbeat is not None:
            self.heartbeat.send(*beat)
        with self._cond:
            self._sent_generation += 1
            self._cond.notify_all()

    def _progress_to_send(self) -> dict[Key, Report] | None:
        """Under the lock: every held file's progress when that round is due, else the
        moving files' when theirs is."""
        now = time.monotonic()
        if self._progress_now or self._progress_due():
            self._progress_now = False
            self._last_progress = self._last_moving = now
            return dict(self._held)
        if self._moving and self._moving_due():
            self._last_moving = now
            return {key: self._held[key] for key in self._moving if key in self._held}
        return None

    def _progress_due(self) -> bool:
        return time.monotonic() - self._last_progress >= self.progress_every

    def _moving_interval(self) -> float:
        return min(self.moving_every, self.progress_every)

    def _moving_due(self) -> bool:
        return time.monotonic() - self._last_moving >= self._moving_interval()

    def _heartbeat_due(self) -> bool:
        return self.heartbeat is not None and (
            self._heartbeat_now or self._last_heartbeat is None
            or time.monotonic() - self._last_heartbeat >= self.heartbeat.every)

    def _heartbeat_numbers(self) -> tuple[int, float]:
        """Under the lock: files moving now, and bytes per second since the last beat."""
        now = time.monotonic()
        elapsed = now - self._last_heartbeat if self._last_heartbeat is not None else 0.0
        moved = self._bytes - self._bytes_at_heartbeat
        self._last_heartbeat, self._bytes_at_heartbeat = now, self._bytes
        self._heartbeat_now = False
        return len(self._moving), (moved / elapsed if elapsed > 0 else 0.0)

    def _due(self) -> bool:
        if time.monotonic() < self._away_until:
            return False
        if self._progress_now or (self._held and self._progress_due()):
            return True
        if (self._moving and self._moving_due()) or self._heartbeat_due():
            return True
        if not self._finals or self._oldest_final is None:
            return False
        waiting = sum(len(r) for r in self._finals.values())
        return (waiting >= self.batch_size
                or time.monotonic() - self._oldest_final >= self.final_delay)

    def _wait_time(self) -> float:
        now = time.monotonic()
        times = [self._last_progress + self.progress_every, self._away_until]
        if self._moving:
            times.append(self._last_moving + self._moving_interval())
        if self.heartbeat is not None and self._last_heartbeat is not None:
            times.append(self._last_heartbeat + self.heartbeat.every)
        if self._oldest_final is not None:
            times.append(self._oldest_final + self.final_delay)
        return max(0.01, min(t for t in times if t > now) - now) if any(
            t > now for t in times) else 0.05

    def _send(self, project: str, reports: list[Report]) -> list[ReportResult] | None:
        """The answers, or None when the server is away (the reports are kept)."""
        try:
            return self.work.report(project, self.worker_id, self.lease_seconds, reports)
        except ResumableError as exc:
            log.warning("reporting to the server failed, will send again: %s", exc)
            self._away_until = time.monotonic() + 1.0
            return None
        except ServerError as exc:
            if len(reports) > 1:  # find the one it refuses; the others must not be lost
                answers = [self._send(project, [report]) for report in reports]
                if any(answer is None for answer in answers):
                    return None
                return [answer[0] if answer else {"accepted": False, "detail": str(exc)}
                        for answer in answers if answer is not None]
            log.error("the server refused a report of file %s in project '%s': %s",
                      reports[0]["fileId"], project, exc)
            return []

    def _send_finals(self, finals: dict[str, list[Report]]) -> dict[str, list[Report]]:
        kept: dict[str, list[Report]] = {}
        for project, reports in finals.items():
            answers = self._send(project, reports)
            if answers is None:
                kept[project] = reports
                continue
            for report, answer in zip(reports, answers, strict=False):
                if not answer.get("accepted"):
                    log.warning("the server did not take '%s' of file %s (%s): %s",
                                report["outcome"], report["fileId"], report["site"],
                                answer.get("detail"))
                elif report["outcome"] == "done" and self.on_done is not None:
                    self._after_done(project, report)
        return kept

    def _after_done(self, project: str, report: Report) -> None:
        assert self.on_done is not None
        try:
            self.on_done(project, report)
        except ServerError as exc:
            log.warning("after file %s reached '%s': %s", report["fileId"], report["site"], exc)
        except Exception:  # noqa: BLE001 - the file is done; a follow-up must not undo that
            log.exception("after file %s reached '%s'", report["fileId"], report["site"])

    def _send_progress(self, progress: dict[Key, Report]) -> None:
        by_project: dict[str, list[Key]] = {}
        for key in progress:
            by_project.setdefault(key[0], []).append(key)
        for project, keys in by_project.items():
            answers = self._send(project, [progress[k] for k in keys])
            for key, answer in zip(keys, answers or [], strict=False):
                if not answer.get("accepted"):
                    self.lost_leases += 1
                self.on_answer(key, answer)
