"""The dashboard's overview (summary per project and site) and failures grouped by message."""
import pytest

from tests.server.helpers import make_project, ok, publish, stamp

OK, QUEUED, IN_PROGRESS, FAILED, PAUSED = 4, 1, 0, 2, 3
SIZES = [100, 200, 300]  # the helper publishes files of 100, 200, 300 bytes


@pytest.fixture
def project(api):  # type: ignore[no-untyped-def]
    return make_project(api)


def artist(api, projects):  # type: ignore[no-untyped-def]
    key = ok(api.post("/api/keys", json={"role": "artist", "projects": projects}), 201)["key"]
    return api.with_key(key)


def site_of(summary: dict, site: str) -> dict:
    return next(s for s in summary["sites"] if s["site"] == site)


def test_summary_counts_each_status_and_the_bytes_still_to_move(api, project):
    ok(api.put(f"{{api}}/settings/{project}", json={"enabled": True}))
    reps = publish(api, project, count=6).representations
    ids = [r["id"] for r in reps]
    stamp(api, project, ids, "studio", OK)
    stamp(api, project, ids[:1], "ws1", OK)
    stamp(api, project, ids[1:5], "ws1", QUEUED)  # ids[5] has no state on ws1 (NA)
    moving = reps[2]["files"][0]["id"]  # half of its 100 bytes are there
    ok(api.post(f"{{api}}/{project}/state/{ids[2]}/ws1",
                json={"files": [{"id": moving, "progress": 0.5}]}), 204)
    ok(api.post(f"{{api}}/{project}/state/{ids[3]}/ws1", json={"status": FAILED}), 204)
    ok(api.put(f"{{api}}/{project}/state/{ids[4]}/ws1/pause", json={"paused": True}))

    summary = ok(api.get(f"{{api}}/{project}/summary"))
    assert (summary["name"], summary["enabled"], summary["paused"]) == (project, True, False)
    assert [s["site"] for s in summary["sites"]] == ["studio", "ws1"]
    assert site_of(summary, "studio") == {"site": "studio", "ok": 6, "queued": 0,
                                          "inProgress": 0, "failed": 0, "paused": 0,
                                          "bytesQueued": 0}
    # queued: all 600 bytes of ids[1]; moving: 50 + 200 + 300 of ids[2]; failed and paused
    # files are not waiting to move.
    assert site_of(summary, "ws1") == {"site": "ws1", "ok": 1, "queued": 1, "inProgress": 1,
                                       "failed": 1, "paused": 1,
                                       "bytesQueued": sum(SIZES) + 50 + 200 + 300}


def test_summary_of_every_project_the_key_may_use(api, project):
    make_project(api, "other")
    rep = publish(api, "other").ids
    stamp(api, "other", rep, "nas", QUEUED)
    ok(api.put("{api}/other/pause", json={"paused": True}))
    everything = ok(api.get("{api}/summary"))
    assert [p["name"] for p in everything] == ["other", project]
    other = everything[0]
    assert (other["enabled"], other["paused"]) == (False, True)  # sync starts off
    assert other["sites"] == [{"site": "nas", "ok": 0, "queued": 1, "inProgress": 0,
                               "failed": 0, "paused": 0, "bytesQueued": sum(SIZES)}]
    assert everything[1] == {"name": project, "enabled": False, "paused": False, "sites": []}
    key = artist(api, [project])
    assert [p["name"] for p in ok(key.get("{api}/summary"))] == [project]
    assert key.get("{api}/other/summary").status_code == 403
    assert api.get("{api}/nope/summary").status_code == 404


def fail(api, project, rep, site, file_ids, message):  # type: ignore[no-untyped-def]
    """Files of a representation FAILED on ``site`` with ``message`` (retry_cnt is 1)."""
    ok(api.post(f"{{api}}/{project}/state/{rep}/{site}", json={
        "files": [{"id": f, "error": message} for f in file_ids]}), 204)


def test_failures_are_grouped_by_site_and_message_most_files_first(api, project):
    ok(api.put(f"{{api}}/settings/{project}", json={"config": {"retry_cnt": 1}}))
    a, b = publish(api, project, count=2).representations
    stamp(api, project, [a["id"], b["id"]], "ws1", QUEUED)
    stamp(api, project, [a["id"]], "ws2", QUEUED)
    fail(api, project, a["id"], "ws1", [f["id"] for f in a["files"]], "disk full")
    fail(api, project, b["id"], "ws1", [b["files"][0]["id"]], "disk full")
    fail(api, project, b["id"], "ws1", [b["files"][1]["id"]], "checksum mismatch")
    ok(api.post(f"{{api}}/{project}/state/{a['id']}/ws2", json={"status": FAILED}), 204)

    groups = ok(api.get(f"{{api}}/{project}/failures"))
    assert [(g["site"], g["message"], g["files"], g["representations"]) for g in groups] == [
        ("ws1", "disk full", 4, 2), ("ws2", "", 3, 1), ("ws1", "checksum mismatch", 1, 1)]
    assert all(g["lastUpdate"] > 0 for g in groups)
    only = ok(api.get(f"{{api}}/{project}/failures", params={"site": "ws1"}))
    assert [g["message"] for g in only] == ["disk full", "checksum mismatch"]
    assert ok(api.get(f"{{api}}/{project}/failures", params={"site": "nas"})) == []


def test_retrying_a_group_requeues_its_files_claimable_again(api, project):
    ok(api.put(f"{{api}}/settings/{project}", json={"config": {"retry_cnt": 1}}))
    a, b = publish(api, project, count=2).representations
    stamp(api, project, [a["id"], b["id"]], "studio", OK)
    stamp(api, project, [a["id"], b["id"]], "ws1", QUEUED)
    claim = {"localSite": "ws1", "remoteSite": "studio", "workerId": "w1"}
    items = ok(api.post(f"{{api}}/{project}/work/claim", json=claim))
    ok(api.post(f"{{api}}/{project}/work/report", json={"workerId": "w1", "reports": [
        {"representationId": i["representationId"], "fileId": i["fileId"], "site": "ws1",
         "outcome": "error", "error": "disk full" if i["representationId"] == a["id"]
         else "timeout"} for i in items]}))
    assert ok(api.post(f"{{api}}/{project}/work/claim", json=claim)) == []
    cursor = ok(api.get("{api}/events", params={"timeout": 0}))["lastId"]

    answer = ok(api.post(f"{{api}}/{project}/failures/retry",
                         json={"message": "disk full", "site": "ws1"}))
    assert answer == {"requeued": 3}
    again = ok(api.post(f"{{api}}/{project}/work/claim", json=claim))
    assert sorted(i["fileId"] for i in again) == sorted(f["id"] for f in a["files"])
    assert {i["retries"] for i in again} == {0}
    assert [g["message"] for g in ok(api.get(f"{{api}}/{project}/failures"))] == ["timeout"]
    kinds = [e["kind"] for e in ok(api.get("{api}/events", params={
        "after": cursor, "project": project, "timeout": 0}))["events"]]
    assert "reset" in kinds and "state" in kinds  # services wake; the dashboard updates
    found = ok(api.get(f"{{api}}/{project}/state/representations",
                       params={"representationIds": a["id"], "siteNames": "ws1"}))
    assert found[0]["sites"][0]["status"] == IN_PROGRESS  # claimed again, aggregate current
    # nothing matches any more: nothing to do, no event
    assert ok(api.post(f"{{api}}/{project}/failures/retry",
                       json={"message": "disk full", "site": "ws1"})) == {"requeued": 0}


def test_artists_retry_failures_of_their_projects_only(api, project):
    ok(api.put(f"{{api}}/settings/{project}", json={"config": {"retry_cnt": 1}}))
    make_project(api, "other")
    rep = publish(api, project).representations[0]
    stamp(api, project, [rep["id"]], "ws1", QUEUED)
    fail(api, project, rep["id"], "ws1", [rep["files"][0]["id"]], "gone")
    key = artist(api, [project])
    body = {"message": "gone", "site": "ws1"}
    assert key.post("{api}/other/failures/retry", json=body).status_code == 403
    assert key.get("{api}/other/failures").status_code == 403
    assert ok(key.post(f"{{api}}/{project}/failures/retry", json=body)) == {"requeued": 1}


@pytest.mark.parametrize("body", [
    {"site": "ws1"}, {"message": "x"}, {}, {"message": "x", "site": "a b"},
    {"message": "x", "site": "ws1", "extra": 1}, {"message": 5, "site": "ws1"},
    {"message": "a\u0000b", "site": "ws1"}, {"message": "x" * 4001, "site": "ws1"},
])
def test_bad_retry_bodies_get_a_clear_4xx(api, project, body):
    response = api.post(f"{{api}}/{project}/failures/retry", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_bad_failure_queries_get_a_clear_4xx(api, project):
    for params in ({"site": "a b"}, {"site": ""}, {"limit": 0}, {"limit": "x"}):
        response = api.get(f"{{api}}/{project}/failures", params=params)
        assert response.status_code == 422, (params, response.text)
