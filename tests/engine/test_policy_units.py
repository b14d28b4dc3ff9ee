"""The error policy and the reporter on their own: no server, a fake work queue."""
from __future__ import annotations

import threading
import time

import pytest

from sitesync_addon.engine.heartbeat import HeartbeatSender
from sitesync_addon.engine.policy import Action, SiteHealth, decide
from sitesync_addon.engine.reporter import Reporter
from sitesync_addon.errors import (AuthFailed, ConfigError, NotFound, NoSpace, PermissionDenied,
                                   ProviderNotInstalled, ServerUnreachable, SiteUnavailable,
                                   Transient, TransferCancelled, VerificationFailed)


@pytest.mark.parametrize(("error", "action"), [
    (TransferCancelled("x"), Action.RELEASE),
    (Transient("timeout"), Action.BACK_OFF),
    (ServerUnreachable("away"), Action.BACK_OFF),
    (SiteUnavailable("closed port"), Action.HOLD),
    (AuthFailed("wrong password"), Action.HOLD),
    (ProviderNotInstalled("pip install 'sitesync[s3]'"), Action.HOLD),
    (ConfigError("no such site"), Action.HOLD),
    (NotFound("gone"), Action.RETRY),
    (VerificationFailed("hash"), Action.RETRY),
    (PermissionDenied("no"), Action.RETRY),
    (NoSpace("full"), Action.RETRY),
    (RuntimeError("a bug"), Action.RETRY),
])
def test_each_error_has_one_action(error: Exception, action: Action) -> None:
    assert decide(error) is action


def test_a_held_site_is_unusable_until_it_recovers() -> None:
    health = SiteHealth(base=0.01, cap=0.02)
    assert health.usable("nas")
    health.hold("nas", "not mounted")
    assert not health.usable("nas") and health.held() == {"nas": "not mounted"}
    time.sleep(0.03)
    assert health.due_for_probe() == ["nas"] and not health.usable("nas")  # still held
    health.recovered("nas")
    assert health.usable("nas") and health.held() == {}


def test_a_backoff_ends_by_itself_and_honours_retry_after() -> None:
    health = SiteHealth(base=10, cap=60)
    assert health.back_off("cloud", retry_after=0.05) == 0.05
    assert not health.usable("cloud") and health.next_change() is not None
    time.sleep(0.06)
    assert health.usable("cloud") and health.due_for_probe() == []


class FakeWork:
    """Takes reports like the server: accepted unless the lease was taken away."""

    def __init__(self) -> None:
        self.calls: list[list[dict]] = []
        self.lost: set[str] = set()
        self.away = False
        self.lock = threading.Lock()

    def report(self, project: str, worker_id: str, lease: float, reports: list) -> list:
        if self.away:
            raise ServerUnreachable("the server is away")
        with self.lock:
            self.calls.append(list(reports))
        return [{"accepted": r["fileId"] not in self.lost, "paused": False} for r in reports]


def item(n: int) -> dict:
    return {"representationId": "r", "fileId": f"f{n}", "targetSite": "ws1", "size": 100}


@pytest.fixture
def work() -> FakeWork:
    return FakeWork()


def reporter_for(work: FakeWork, answers: list, **kwargs: float) -> Reporter:
    reporter = Reporter(work, "w1", 300, kwargs.get("every", 60),  # type: ignore[arg-type]
                        lambda key, answer: answers.append((key, answer)),
                        batch_size=int(kwargs.get("batch", 200)), final_delay=0.05)
    reporter.start()
    return reporter


def test_final_reports_go_in_batches(work: FakeWork) -> None:
    reporter = reporter_for(work, [], batch=3)
    for n in range(7):
        reporter.outcome("p", item(n), "done")  # type: ignore[arg-type]
    assert reporter.flush(timeout=5)
    assert sum(len(c) for c in work.calls) == 7 and len(work.calls) <= 4
    reporter.stop()


def test_reports_the_server_could_not_take_are_sent_when_it_is_back(work: FakeWork) -> None:
    reporter = reporter_for(work, [])
    work.away = True
    reporter.outcome("p", item(1), "done")  # type: ignore[arg-type]
    assert reporter.flush(timeout=0.5) is False and reporter.pending() == 1
    work.away = False
    assert reporter.flush(timeout=5) and reporter.pending() == 0
    assert [r["outcome"] for c in work.calls for r in c] == ["done"]
    reporter.stop()


def test_a_lost_lease_reaches_the_answer_handler(work: FakeWork) -> None:
    answers: list = []
    reporter = reporter_for(work, answers, every=0.05)
    reporter.hold("p", item(1))  # type: ignore[arg-type]
    reporter.hold("p", item(2))  # type: ignore[arg-type]
    work.lost.add("f2")
    deadline = time.monotonic() + 5
    while not any(not a["accepted"] for _, a in answers):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert ("p", "r", "f2") in [key for key, a in answers if not a["accepted"]]
    assert reporter.lost_leases >= 1
    reporter.stop()


class FakeServices:
    def __init__(self) -> None:
        self.beats: list[dict] = []
        self.away = False

    def heartbeat(self, service_id: str, site: str, host: str, version: str, pid: int,
                  projects: list[str], files_in_flight: int, bytes_per_second: float) -> None:
        if self.away:
            raise ServerUnreachable("the server is away")
        self.beats.append({"id": service_id, "projects": projects, "inFlight": files_in_flight,
                           "speed": bytes_per_second})


def wait_until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def beating_reporter(work: FakeWork, services: FakeServices, every: float) -> Reporter:
    heartbeat = HeartbeatSender(services, "host:ws1:1:abcdef", "ws1",  # type: ignore[arg-type]
                                lambda: ["p"], every)
    return Reporter(work, "w1", 300, 60, lambda key, answer: None,  # type: ignore[arg-type]
                    final_delay=0.05, heartbeat=heartbeat)


def test_moving_files_report_every_second_and_waiting_ones_at_the_slow_pace(
        work: FakeWork) -> None:
    reporter = beating_reporter(work, FakeServices(), every=60)
    reporter.moving_every = 0.05
    reporter.hold("p", item(1))  # type: ignore[arg-type]
    reporter.hold("p", item(2))  # type: ignore[arg-type]  # waits its turn
    reporter.start()
    reporter.started("p", item(1))  # type: ignore[arg-type]
    reporter.progress("p", item(1), 40)  # type: ignore[arg-type]
    wait_until(lambda: len(work.calls) >= 3)
    sent = [r["fileId"] for call in work.calls for r in call]
    assert set(sent) == {"f1"}  # the full round (every 60 s) has not come yet
    assert work.calls[-1][0]["size"] == 40
    reporter.stop()


def test_heartbeats_tell_files_in_flight_and_speed(work: FakeWork) -> None:
    services = FakeServices()
    reporter = beating_reporter(work, services, every=0.1)
    reporter.start()
    wait_until(lambda: services.beats)  # one at start
    assert services.beats[0] == {"id": "host:ws1:1:abcdef", "projects": ["p"], "inFlight": 0,
                                 "speed": 0.0}
    reporter.hold("p", item(1))  # type: ignore[arg-type]
    reporter.started("p", item(1))  # type: ignore[arg-type]
    reporter.progress("p", item(1), 50)  # type: ignore[arg-type]
    wait_until(lambda: any(b["inFlight"] == 1 and b["speed"] > 0 for b in services.beats))
    reporter.outcome("p", item(1), "done")  # type: ignore[arg-type]
    count = len(services.beats)
    wait_until(lambda: len(services.beats) > count + 1)
    assert services.beats[-1]["inFlight"] == 0
    reporter.stop()


def test_a_server_away_skips_heartbeats_but_reports_go_on(work: FakeWork) -> None:
    services = FakeServices()
    services.away = True
    reporter = beating_reporter(work, services, every=0.02)
    reporter.start()
    time.sleep(0.1)
    reporter.outcome("p", item(1), "done")  # type: ignore[arg-type]
    assert reporter.flush(timeout=5)
    assert [r["outcome"] for c in work.calls for r in c] == ["done"] and services.beats == []
    assert reporter.is_alive()
    reporter.stop()
