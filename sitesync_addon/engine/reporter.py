"""Batches outcomes and progress of claimed files into few server calls."""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sitesync_addon.server_api import ServerApi, ServerError

log = logging.getLogger(__name__)


class Reporter:
    """Collects reports per project; flushes finished ones in batches, progress on a timer."""

    def __init__(self, api: ServerApi, prefix: str, worker_id: str, lease_seconds: float,
                 progress_every: float, batch_size: int = 200) -> None:
        self.api = api
        self.prefix = prefix
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.progress_every = progress_every
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._done: dict[str, list[dict]] = {}
        self._done_since: float | None = None  # when the oldest unsent final report came
        self._progress: dict[tuple, dict] = {}
        self._last_progress = time.monotonic()
        self._sender = ThreadPoolExecutor(1, thread_name_prefix="sitesync-report")
        self._sending: Future | None = None

    def outcome(self, project: str, item: dict, outcome: str, **extra: Any) -> None:
        """Queue a final report; sent with 'batch_size' others, or within 'progress_every'
        seconds of the first one waiting (the server shows it, the lease stops mattering)."""
        now = time.monotonic()
        with self._lock:
            self._progress.pop((project, item["representationId"], item["fileId"]), None)
            self._done.setdefault(project, []).append(_report(item, outcome, **extra))
            if self._done_since is None:
                self._done_since = now
            due = (len(self._done[project]) >= self.batch_size
                   or now - self._done_since >= self.progress_every)
        if due:
            self.flush_soon()

    def progress(self, project: str, item: dict, written: int) -> None:
        fraction = written / item["size"] if item["size"] else 1.0
        with self._lock:
            self._progress[(project, item["representationId"], item["fileId"])] = _report(
                item, "progress", progress=min(fraction, 1.0), size=written)
        if time.monotonic() - self._last_progress >= self.progress_every:
            self.flush(progress=True)

    def flush_soon(self) -> None:
        """Send finished reports in the background, so the next files can move meanwhile."""
        self._wait_for_sending()
        sending = self._sender.submit(self._send_done_keeping_failures)
        with self._lock:
            self._sending = sending

    def _send_done_keeping_failures(self) -> None:
        with self._lock:
            done, self._done, self._done_since = self._done, {}, None
        self._send_done(done, keep_failed=True)

    def _send_done(self, done: dict[str, list[dict]], keep_failed: bool) -> None:
        """Send final reports; what the server did not take is kept for the next flush
        (leases still hold the files), and raised unless ``keep_failed``."""
        batches = list(done.items())
        for index, (project, reports) in enumerate(batches):
            try:
                self._send(project, reports)
            except ServerError as exc:
                unsent = [(project, reports)] if keep_failed else batches[index:]
                with self._lock:
                    for name, kept in unsent:
                        self._done.setdefault(name, [])[:0] = kept
                    self._done_since = self._done_since or time.monotonic()
                if not keep_failed:
                    raise
                log.warning("reporting to the server failed, will retry: %s", exc)

    def _wait_for_sending(self) -> None:
        with self._lock:
            sending, self._sending = self._sending, None
        if sending is not None:
            sending.result()

    def flush(self, progress: bool = False) -> dict[tuple, dict]:
        """Send what is pending; return the server's answers to progress reports by file."""
        self._wait_for_sending()
        with self._lock:
            done, self._done, self._done_since = self._done, {}, None
            pending = dict(self._progress) if progress else {}
            if progress:
                self._last_progress = time.monotonic()
        answers: dict[tuple, dict] = {}
        self._send_done(done, keep_failed=False)
        by_project: dict[str, list[tuple]] = {}
        for key in pending:
            by_project.setdefault(key[0], []).append(key)
        for project, keys in by_project.items():
            results = self._send(project, [pending[k] for k in keys])
            answers.update(zip(keys, results, strict=True))
        return answers

    def _send(self, project: str, reports: list[dict]) -> list[dict]:
        return self.api.post(f"/api/{self.prefix}/{project}/work/report", json={
            "workerId": self.worker_id, "leaseSeconds": self.lease_seconds,
            "reports": reports})


def _report(item: dict, outcome: str, **extra: Any) -> dict:
    return {"representationId": item["representationId"], "fileId": item["fileId"],
            "site": item["targetSite"], "outcome": outcome, **extra}
