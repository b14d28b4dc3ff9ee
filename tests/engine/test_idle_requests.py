"""An idle service stays quiet: at most one settings read per project per loop_delay, and a
settings change is seen through the server's event, not by polling."""
from __future__ import annotations

import collections
import time

from tests.studio import PROJECT, Studio

LOOP_DELAY = 2


def counting(studio: Studio, service) -> collections.Counter:  # type: ignore[no-untyped-def]
    counts: collections.Counter = collections.Counter()
    request = service.client.http.request

    def counted(method: str, path: str, **kwargs):  # type: ignore[no-untyped-def]
        counts[f"{method} {path.split('?')[0]}"] += 1
        return request(method, path, **kwargs)

    service.client.http.request = counted  # type: ignore[method-assign]
    return counts


def test_an_idle_service_reads_settings_at_most_once_per_loop_delay(studio, tmp_path,
                                                                     monkeypatch):
    admin = studio.publisher
    admin.client.http.put(f"/api/{admin.endpoint_prefix}/settings/{PROJECT}",
                          json={"config": {"loop_delay": LOOP_DELAY}})
    artist = studio.artist
    service = artist.create_service(state_dir=tmp_path / "state")
    counts = counting(studio, service)
    service.start()
    try:
        time.sleep(1.0)  # start-up: first reads, leftovers, first claim
        counts.clear()
        window = 3 * LOOP_DELAY
        time.sleep(window)
        settings_reads = sum(n for call, n in counts.items() if "/settings/" in call)
        assert settings_reads <= window / LOOP_DELAY + 1, counts
        assert counts["GET /api/projects"] <= window / LOOP_DELAY + 1, counts
        before = service.sites.provider(PROJECT, "studio")
        closed: list[bool] = []
        before.close = lambda: closed.append(True)  # type: ignore[attr-defined]
        admin.client.http.put(f"/api/{admin.endpoint_prefix}/settings/{PROJECT}",
                              json={"config": {"loop_delay": 30}})
        deadline = time.monotonic() + 5
        while service.sites.loop_delay(PROJECT) != 30:  # the settings event drops the cache
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # Old providers are dropped at once, and closed only once transfers using them had
        # time to end.
        assert service.sites.provider(PROJECT, "studio") is not before and closed == []
        monkeypatch.setattr("sitesync_addon.sites.RETIRE_SECONDS", 0.0)
        service.sites.invalidate()
        assert closed == [True]
    finally:
        service.stop()
