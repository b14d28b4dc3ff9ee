import threading
import time

import pytest
import requests

from tests.conftest import ADMIN_KEY
from tests.server.helpers import make_project, ok, publish, stamp

WAKE_UPS = "new_work,reset,priority,paused,unpaused,reset_timer,settings"


@pytest.fixture
def project(api):  # type: ignore[no-untyped-def]
    return make_project(api)


def test_long_poll_wakes_within_a_second_of_new_work(api, project):
    pub = publish(api, project)
    cursor = ok(api.get("{api}/events", params={"timeout": 0}))["lastId"]
    threading.Timer(0.5, stamp, args=(api.with_key(ADMIN_KEY), project, pub.ids, "ws1", 1)
                    ).start()
    started = time.monotonic()
    batch = ok(api.get("{api}/events", params={"after": cursor, "project": project,
                                               "kinds": WAKE_UPS, "timeout": 10}))
    waited = time.monotonic() - started
    assert [e["kind"] for e in batch["events"]] == ["new_work"]
    assert waited < 1.5  # 0.5 s until the stamp, then at most one poll interval
    assert batch["lastId"] == batch["events"][0]["id"]


def test_events_for_reset_priority_pause_and_reset_timer(api, project):
    pub = publish(api, project)
    rep = pub.ids[0]
    stamp(api, project, pub.ids, "ws1", 4)
    cursor = ok(api.get("{api}/events", params={"timeout": 0}))["lastId"]
    ok(api.post(f"{{api}}/{project}/state/{rep}/ws1", params={"reset": "true"}, json={}), 204)
    ok(api.post(f"{{api}}/{project}/state/{rep}/ws1", json={"priority": 99}), 204)
    ok(api.put(f"{{api}}/{project}/pause", json={"paused": True}))
    ok(api.post(f"{{api}}/{project}/reset_timer"), 204)
    ok(api.put("{api}/pause", json={"paused": False}))
    kinds = [e["kind"] for e in ok(api.get("{api}/events", params={
        "after": cursor, "project": project, "kinds": WAKE_UPS, "timeout": 0}))["events"]]
    assert kinds == ["reset", "priority", "paused", "reset_timer", "unpaused"]


def test_events_of_other_projects_are_filtered(api, project):
    make_project(api, "other")
    cursor = ok(api.get("{api}/events", params={"timeout": 0}))["lastId"]
    ok(api.post("{api}/other/reset_timer"), 204)
    batch = ok(api.get("{api}/events", params={"after": cursor, "project": project,
                                               "timeout": 0.3}))
    assert batch["events"] == [] and batch["lastId"] > cursor


def test_server_sent_event_stream(api, server, project):
    threading.Timer(0.3, lambda: api.with_key(ADMIN_KEY).post(
        f"{{api}}/{project}/reset_timer")).start()
    with requests.get(f"{server.url}/api/addons/sitesync/0.1.0/events/stream",
                      params={"project": project}, stream=True, timeout=10,
                      headers={"x-api-key": ADMIN_KEY}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = []
        for line in response.iter_lines(decode_unicode=True):
            lines.append(line)
            if line.startswith("data:"):
                break
    assert "event: reset_timer" in lines


def test_artist_cannot_listen_to_other_projects(api, project):
    key = ok(api.post("/api/keys", json={"role": "artist", "projects": [project]}), 201)["key"]
    assert api.with_key(key).get("{api}/events", params={"project": "x", "timeout": 0}
                                 ).status_code == 403
