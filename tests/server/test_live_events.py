"""The dashboard's live events: progress of moving files, aggregated state changes, the kinds
filter, and that a key sees the events of its own projects only."""
import json
import threading
import time

import pytest
import requests

from tests.conftest import API
from tests.server.helpers import make_project, ok, publish, stamp

OK, QUEUED, IN_PROGRESS, NA = 4, 1, 0, -1
PROGRESS_KEYS = {"representationId", "site", "fileId", "status", "progress", "size",
                 "bytesPerSecond"}


@pytest.fixture
def project(api):  # type: ignore[no-untyped-def]
    return make_project(api)


def cursor(api) -> int:  # type: ignore[no-untyped-def]
    return ok(api.get("{api}/events", params={"timeout": 0}))["lastId"]


def events_after(api, after: int, **params) -> list[dict]:  # type: ignore[no-untyped-def]
    return ok(api.get("{api}/events", params={"after": after, "timeout": 0, **params}))[
        "events"]


def report(api, project, item, outcome, **extra):  # type: ignore[no-untyped-def]
    return ok(api.post(f"{{api}}/{project}/work/report", json={"workerId": "w1", "reports": [
        {"representationId": item["representationId"], "fileId": item["fileId"],
         "site": item["targetSite"], "outcome": outcome, **extra}]}))


def claim(api, project):  # type: ignore[no-untyped-def]
    return ok(api.post(f"{{api}}/{project}/work/claim", json={
        "localSite": "ws1", "remoteSite": "studio", "workerId": "w1"}))


def test_reports_publish_progress_with_a_speed_and_claims_publish_state(api, project):
    rep = publish(api, project, files=1).representations[0]  # one file of 100 bytes
    stamp(api, project, [rep["id"]], "studio", OK)
    stamp(api, project, [rep["id"]], "ws1", QUEUED)
    start = cursor(api)
    (item,) = claim(api, project)
    claimed = events_after(api, start, kinds="state")
    assert [e["payload"] for e in claimed] == [{"items": [
        {"representationId": rep["id"], "site": "ws1", "status": IN_PROGRESS,
         "progress": 0.0}]}]
    assert claimed[0]["project"] == project

    start = cursor(api)
    report(api, project, item, "progress", progress=0.4, size=40)
    time.sleep(0.25)
    report(api, project, item, "progress", progress=0.9, size=90)
    moved = events_after(api, start)
    assert [e["kind"] for e in moved] == ["progress", "progress"]  # no status changed
    first, second = (e["payload"]["items"] for e in moved)
    assert set(second[0]) == PROGRESS_KEYS
    assert second[0] | {"bytesPerSecond": 0} == {
        "representationId": rep["id"], "site": "ws1", "fileId": rep["files"][0]["id"],
        "status": IN_PROGRESS, "progress": 0.9, "size": 90, "bytesPerSecond": 0}
    # 50 bytes in a little over 0.25 s, measured from the previous progress report
    assert 50 / 2 < second[0]["bytesPerSecond"] < 50 / 0.25
    assert first[0]["bytesPerSecond"] > 0  # 40 bytes since the claim

    start = cursor(api)
    report(api, project, item, "done")
    done = events_after(api, start)
    by_kind = {e["kind"]: e["payload"]["items"] for e in done}
    assert by_kind["progress"][0]["status"] == OK and by_kind["progress"][0]["size"] == 100
    assert by_kind["state"] == [{"representationId": rep["id"], "site": "ws1", "status": OK,
                                 "progress": 1.0}]


def test_one_progress_event_per_report_call(api, project):
    rep = publish(api, project, files=3).representations[0]
    stamp(api, project, [rep["id"]], "studio", OK)
    stamp(api, project, [rep["id"]], "ws1", QUEUED)
    items = claim(api, project)
    start = cursor(api)
    ok(api.post(f"{{api}}/{project}/work/report", json={"workerId": "w1", "reports": [
        {"representationId": i["representationId"], "fileId": i["fileId"], "site": "ws1",
         "outcome": outcome} for i, outcome in zip(items, ["progress", "release", "error"],
                                                   strict=True)]}))
    progress = events_after(api, start, kinds="progress")
    assert len(progress) == 1
    statuses = sorted(i["status"] for i in progress[0]["payload"]["items"])
    assert statuses == [IN_PROGRESS, QUEUED, QUEUED]
    # a report no lease allows publishes nothing
    start = cursor(api)
    ok(api.post(f"{{api}}/{project}/work/report", json={"workerId": "thief", "reports": [
        {"representationId": items[0]["representationId"], "fileId": items[0]["fileId"],
         "site": "ws1", "outcome": "done"}]}))
    assert events_after(api, start, kinds="progress") == []


def test_state_events_for_stamps_pauses_and_deletes(api, project):
    reps = publish(api, project, count=2).ids
    start = cursor(api)
    stamp(api, project, reps, "ws1", QUEUED)  # new sites: one batched event
    ok(api.put(f"{{api}}/{project}/state/{reps[0]}/ws1/pause", json={"paused": True}))
    ok(api.post(f"{{api}}/{project}/state/{reps[0]}/ws1", json={"priority": 70}), 204)
    ok(api.delete(f"{{api}}/{project}/state/{reps[1]}/ws1"), 204)
    items = [e["payload"]["items"] for e in events_after(api, start, kinds="state")]
    assert items == [
        [{"representationId": r, "site": "ws1", "status": QUEUED, "progress": 0.0}
         for r in reps],
        [{"representationId": reps[0], "site": "ws1", "status": 3, "progress": 0.0}],
        # the priority changed no status: no event
        [{"representationId": reps[1], "site": "ws1", "status": NA, "progress": 0.0}],
    ]


def test_kinds_filter_the_poll_and_the_stream(api, server, project):
    rep = publish(api, project).ids
    start = cursor(api)
    stamp(api, project, rep, "ws1", QUEUED)
    assert {e["kind"] for e in events_after(api, start)} == {"new_work", "state"}
    assert [e["kind"] for e in events_after(api, start, kinds="new_work")] == ["new_work"]
    assert {e["kind"] for e in events_after(api, start, kinds="state, new_work")} == {
        "new_work", "state"}
    threading.Timer(0.3, lambda: stamp(api, project, rep, "ws2", QUEUED)).start()
    with requests.get(f"{server.url}{API}/events/stream",
                      params={"project": project, "kinds": "state"}, stream=True,
                      timeout=10, headers=api.session.headers) as response:
        lines = []
        for line in response.iter_lines(decode_unicode=True):
            lines.append(line)
            if line.startswith("data:"):
                break
    assert [line for line in lines if line.startswith("event:")] == ["event: state"]


def test_a_reconnecting_stream_goes_on_after_its_last_event_id(api, server, project):
    rep = publish(api, project).ids
    start = cursor(api)
    stamp(api, project, rep, "ws1", QUEUED)
    stamp(api, project, rep, "ws2", QUEUED)
    first, second = [e["id"] for e in events_after(api, start, kinds="state")]
    # the browser sends the id of the last event it had; it wins over the page's ``after``
    with requests.get(f"{server.url}{API}/events/stream",
                      params={"kinds": "state", "after": start}, stream=True, timeout=10,
                      headers={**api.session.headers, "Last-Event-ID": str(first)}) as response:
        ids = []
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("id:"):
                ids.append(int(line[3:]))
                break
    assert ids == [second]


@pytest.mark.parametrize("kinds", ["bogus", "", "state,", "progress,nope", "STATE"])
def test_unknown_kinds_get_a_clear_4xx(api, server, kinds):
    for path in ("{api}/events", "{api}/events/stream"):
        response = api.get(path, params={"kinds": kinds, "timeout": 0})
        assert response.status_code == 400, response.text
        assert "kind" in response.json()["detail"]


def test_an_artist_sees_only_its_projects_events_without_naming_a_project(api, server,
                                                                          project):
    make_project(api, "secret")
    mine, theirs = publish(api, project).ids, publish(api, "secret").ids
    key = ok(api.post("/api/keys", json={"role": "artist", "projects": [project]}), 201)["key"]
    artist = api.with_key(key)
    start = cursor(api)
    stamp(api, "secret", theirs, "ws1", QUEUED)
    stamp(api, project, mine, "ws1", QUEUED)
    ok(api.put("{api}/pause", json={"paused": True}))  # studio-wide: everyone hears it
    seen = events_after(artist, start)
    assert {e["project"] for e in seen} == {project, None}
    assert "paused" in {e["kind"] for e in seen}
    assert "secret" in {e["project"] for e in events_after(api, start)}  # admins see all
    # the stream, from the start of this test
    with requests.get(f"{server.url}{API}/events/stream", params={"after": start},
                      stream=True, timeout=10, headers={"x-api-key": key}) as response:
        projects = []
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("data:"):
                projects.append(json.loads(line[5:])["project"])
                if projects[-1] is None:  # the server pause came last
                    break
    assert "secret" not in projects and project in projects


def test_progress_events_are_pruned_within_minutes(server, monkeypatch):
    from sqlalchemy import func, insert, select

    from server_addon.sitesync import events
    from server_addon.sitesync.tables import events as table

    monkeypatch.setattr(events, "_PRUNE_PROGRESS_EVERY", 10)
    old = time.time() - events.PROGRESS_KEEP_SECONDS - 1
    with server.app.state.db.write() as conn:
        conn.execute(insert(table), [{"project": "p", "kind": kind, "payload": {},
                                      "created_at": old}
                                     for kind in ["progress"] * 50 + ["reset"] * 5])
        for _ in range(10):  # an id divisible by 10 comes up: the prune runs
            events.publish_items(conn, kind="progress", project="p", items=[{"n": 1}])
        kinds = dict(conn.execute(select(table.c.kind, func.count()).group_by(table.c.kind)
                                  ).all())
    assert kinds["progress"] <= 10  # only the fresh ones are left
    assert kinds["reset"] == 5  # other events stay their hour


def test_many_waiters_share_one_reader_of_the_events(api, project, monkeypatch):
    """Twenty open pages waiting on the stream cost one read per poll, not one each."""
    from server_addon.sitesync import events

    reads: list[float] = []
    since = events.EventHub._since

    def counted(self, *args):  # type: ignore[no-untyped-def]
        reads.append(time.monotonic())
        return since(self, *args)

    monkeypatch.setattr(events.EventHub, "_since", counted)
    rep = publish(api, project).ids
    start = cursor(api)
    got: list[list[str]] = []

    def wait() -> None:
        found = ok(api.get("{api}/events", params={"after": start, "timeout": 10,
                                                   "kinds": "new_work"}))["events"]
        got.append([e["kind"] for e in found])

    waiters = [threading.Thread(target=wait) for _ in range(20)]
    for thread in waiters:
        thread.start()
    time.sleep(1.5)  # all twenty wait
    reads.clear()
    time.sleep(1.0)
    idle_reads = len(reads)
    stamp(api, project, rep, "ws1", QUEUED)
    for thread in waiters:
        thread.join(15)
    assert got == [["new_work"]] * 20  # every waiter got the event
    # One reader polls every POLL_SECONDS (0.2 s): about 5 reads in that second, not 100.
    assert idle_reads <= 2 / events.POLL_SECONDS, idle_reads
