import threading
import time

import pytest

from tests.server.helpers import make_project, ok, publish, stamp

OK, QUEUED, IN_PROGRESS, FAILED = 4, 1, 0, 2


@pytest.fixture
def project(api):  # type: ignore[no-untyped-def]
    return make_project(api)


def claim(api, project, worker="w1", limit=100, lease=300, local="ws1", remote="studio"):  # type: ignore[no-untyped-def]
    return ok(api.post(f"{{api}}/{project}/work/claim", json={
        "localSite": local, "remoteSite": remote, "workerId": worker, "limit": limit,
        "leaseSeconds": lease}))


def report(api, project, items, outcome, worker="w1", **extra):  # type: ignore[no-untyped-def]
    return ok(api.post(f"{{api}}/{project}/work/report", json={"workerId": worker, "reports": [
        {"representationId": i["representationId"], "fileId": i["fileId"],
         "site": i["targetSite"], "outcome": outcome, **extra} for i in items]}))


def test_claims_download_and_upload_by_priority_then_age(api, project):
    pub = publish(api, project, count=4, files=1)
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids[:3], "ws1", QUEUED)  # downloads, oldest first
    ok(api.post(f"{{api}}/{project}/state/{pub.ids[2]}/ws1", json={"priority": 500}), 204)
    # an upload: ws1 has it, studio wants it
    up = publish(api, project, count=1, files=1, product="up").ids[0]
    stamp(api, project, [up], "ws1", OK)
    stamp(api, project, [up], "studio", QUEUED)
    items = claim(api, project)
    order = [i["representationId"] for i in items]
    assert order[0] == pub.ids[2]  # highest priority
    assert order[1:3] == pub.ids[:2]  # then oldest
    assert items[3]["representationId"] == up and items[3]["direction"] == "upload"
    assert {i["direction"] for i in items[:3]} == {"download"}
    assert items[0]["sourceSite"] == "studio" and items[0]["targetSite"] == "ws1"
    assert pub.ids[3] not in order  # no state on ws1: nothing to do
    assert claim(api, project, worker="w2") == []  # all leased


def test_concurrent_claimers_get_disjoint_work(api, project):
    pub = publish(api, project, count=30, files=4)
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids, "ws1", QUEUED)
    results: dict[str, list] = {}

    def worker(name: str) -> None:
        client = api.with_key(api.session.headers["Authorization"].split()[1])
        got = []
        while batch := claim(client, project, worker=name, limit=7):
            got.extend((i["representationId"], i["fileId"]) for i in batch)
        results[name] = got

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [item for got in results.values() for item in got]
    assert len(claimed) == 120 and len(set(claimed)) == 120


def test_expired_lease_returns_the_file_to_the_queue(api, project):
    pub = publish(api, project, files=1)
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids, "ws1", QUEUED)
    first = claim(api, project, worker="slow", lease=1)
    assert len(first) == 1 and claim(api, project, worker="fast") == []
    time.sleep(1.3)
    second = claim(api, project, worker="fast")
    assert [i["fileId"] for i in second] == [first[0]["fileId"]]
    # the worker whose lease expired may no longer report for that file
    late = report(api, project, first, "done", worker="slow")
    assert late[0]["accepted"] is False and "lease" in late[0]["detail"]
    assert report(api, project, second, "done", worker="fast")[0]["accepted"] is True


def test_progress_renews_the_lease_and_done_marks_ok(api, project):
    pub = publish(api, project, files=2)
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids, "ws1", QUEUED)
    items = claim(api, project, lease=1)
    report(api, project, items, "progress", progress=0.5)
    ok(api.post(f"{{api}}/{project}/work/report", json={
        "workerId": "w1", "leaseSeconds": 30, "reports": [
            {"representationId": i["representationId"], "fileId": i["fileId"],
             "site": "ws1", "outcome": "progress", "progress": 0.7} for i in items]}))
    time.sleep(0.6)
    assert claim(api, project, worker="other") == []  # lease renewed
    page = ok(api.get(f"{{api}}/{project}/state", params={"localSite": "ws1",
                                                          "remoteSite": "studio"}))
    assert page["representations"][0]["localStatus"]["progress"] == pytest.approx(0.7)
    results = report(api, project, items, "done")
    assert [r["status"] for r in results] == [OK, OK]
    page = ok(api.get(f"{{api}}/{project}/state", params={"localSite": "ws1",
                                                          "remoteSite": "studio"}))
    assert page["representations"][0]["localStatus"]["status"] == OK


def test_errors_retry_then_fail_and_failed_is_not_handed_out(api, project):
    ok(api.put(f"{{api}}/settings/{project}", json={"config": {"retry_cnt": 2}}))
    pub = publish(api, project, files=1)
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids, "ws1", QUEUED)
    items = claim(api, project)
    assert report(api, project, items, "error", error="checksum mismatch")[0]["status"] == QUEUED
    items = claim(api, project)
    assert len(items) == 1 and items[0]["retries"] == 1
    assert report(api, project, items, "error", error="checksum mismatch")[0]["status"] == FAILED
    assert claim(api, project) == []
    page = ok(api.get(f"{{api}}/{project}/state", params={"localSite": "ws1",
                                                          "remoteSite": "studio"}))
    side = page["representations"][0]["localStatus"]
    assert (side["status"], side["message"], side["retries"]) == (FAILED, "checksum mismatch", 2)
    ok(api.post(f"{{api}}/{project}/state/{pub.ids[0]}/ws1", params={"reset": "true"},
                json={}), 204)
    assert len(claim(api, project)) == 1


def test_one_report_batch_mixes_outcomes_per_file(api, project):
    pub = publish(api, project, files=4)
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids, "ws1", QUEUED)
    items = sorted(claim(api, project), key=lambda i: i["path"])
    outcomes = [("done", {}), ("error", {"error": "disk full"}), ("release", {}),
                ("progress", {"progress": 0.25})]
    results = ok(api.post(f"{{api}}/{project}/work/report", json={"workerId": "w1", "reports": [
        {"representationId": i["representationId"], "fileId": i["fileId"], "site": "ws1",
         "outcome": outcome, **extra}
        for i, (outcome, extra) in zip(items, outcomes, strict=False)]}))
    assert [r["status"] for r in results] == [OK, QUEUED, QUEUED, IN_PROGRESS]
    page = ok(api.get(f"{{api}}/{project}/state", params={"localSite": "ws1",
                                                          "remoteSite": "studio"}))
    by_id = {f["id"]: f["localStatus"] for f in page["representations"][0]["files"]}
    done, failed, released, moving = (by_id[i["fileId"]] for i in items)
    assert (done["status"], done["progress"], done["size"]) == (OK, 1.0, items[0]["size"])
    assert (failed["status"], failed["retries"], failed["message"]) == (QUEUED, 1, "disk full")
    assert (released["status"], released["progress"]) == (QUEUED, 0.0)
    assert (moving["status"], moving["progress"]) == (IN_PROGRESS, pytest.approx(0.25))
    # The failed and the released file are free again; the one still moving stays leased.
    assert sorted(i["fileId"] for i in claim(api, project, worker="other")) == sorted(
        i["fileId"] for i in items[1:3])


def test_retry_backoff_delays_the_next_claim(api, project):
    pub = publish(api, project, files=1)
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids, "ws1", QUEUED)
    report(api, project, claim(api, project), "error", error="timeout", retryAfter=1)
    assert claim(api, project) == []
    time.sleep(1.2)
    assert len(claim(api, project)) == 1


def test_release_gives_work_back(api, project):
    pub = publish(api, project, files=2)
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids, "ws1", QUEUED)
    items = claim(api, project)
    assert all(r["accepted"] for r in report(api, project, items, "release"))
    assert len(claim(api, project, worker="w2")) == 2


@pytest.mark.parametrize("level", ["server", "project", "representation"])
def test_pauses_are_honoured_by_claims(api, project, level):
    pub = publish(api, project, files=1)
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids, "ws1", QUEUED)
    url = {"server": "{api}/pause", "project": f"{{api}}/{project}/pause",
           "representation": f"{{api}}/{project}/state/{pub.ids[0]}/ws1/pause"}[level]
    ok(api.put(url, json={"paused": True}))
    if level != "representation":
        assert ok(api.get(url))["paused"] is True
    assert claim(api, project) == []
    ok(api.put(url, json={"paused": False}))
    assert len(claim(api, project)) == 1


def test_file_level_pause(api, project):
    pub = publish(api, project, files=2)
    rep = pub.representations[0]
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids, "ws1", QUEUED)
    ok(api.post(f"{{api}}/{project}/state/{rep['id']}/ws1", json={
        "files": [{"id": rep["files"][0]["id"], "paused": True}]}), 204)
    assert [i["fileId"] for i in claim(api, project)] == [rep["files"][1]["id"]]


def test_bad_claims_and_reports(api, project):
    assert api.post(f"{{api}}/{project}/work/claim", json={
        "localSite": "ws1", "remoteSite": "studio", "workerId": "w", "limit": 0}
    ).status_code == 422
    assert api.post(f"{{api}}/{project}/work/claim", json={"localSite": "ws1"}
                    ).status_code == 422
    assert api.post(f"{{api}}/{project}/work/report", json={"workerId": "w", "reports": [
        {"representationId": "x", "fileId": "y", "site": "ws1", "outcome": "done"}]}
    ).status_code == 422
    assert api.post(f"{{api}}/{project}/work/report", json={"workerId": "w", "reports": [
        {"representationId": "3f1c5b8e-0000-4000-8000-000000000000",
         "fileId": "3f1c5b8e-0000-4000-8000-000000000001", "site": "ws1", "outcome": "done"}]}
    ).json()[0]["accepted"] is False


def test_release_returns_every_file_a_worker_held(api, project):
    pub = publish(api, project, files=3)
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids, "ws1", QUEUED)
    assert len(claim(api, project, worker="crashed")) == 3
    released = ok(api.post(f"{{api}}/{project}/work/release", json={"workerId": "crashed"}))
    assert released == {"released": 3}
    assert len(claim(api, project, worker="crashed")) == 3


def test_release_by_claim_id_frees_only_the_files_of_a_lost_claim(api, project):
    """A claim whose answer never arrived: its files go back at once, while the files the
    worker holds from an earlier claim stay its own."""
    pub = publish(api, project, count=2, files=2)
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids, "ws1", QUEUED)
    held = ok(api.post(f"{{api}}/{project}/work/claim", json={
        "localSite": "ws1", "remoteSite": "studio", "workerId": "w1", "limit": 2,
        "claimId": "c-1"}))
    lost = ok(api.post(f"{{api}}/{project}/work/claim", json={
        "localSite": "ws1", "remoteSite": "studio", "workerId": "w1", "limit": 2,
        "claimId": "c-2"}))
    assert len(held) == len(lost) == 2
    assert claim(api, project, worker="w2") == []  # everything is leased
    released = ok(api.post(f"{{api}}/{project}/work/release",
                           json={"workerId": "w1", "claimId": "c-2"}))
    assert released == {"released": 2}
    again = claim(api, project, worker="w2")
    assert sorted(i["fileId"] for i in again) == sorted(i["fileId"] for i in lost)
    assert all(r["accepted"] for r in report(api, project, held, "done"))
    assert ok(api.post(f"{{api}}/{project}/work/release",
                       json={"workerId": "w2", "claimId": "c-2"})) == {"released": 0}
    bad = api.post(f"{{api}}/{project}/work/release", json={"workerId": "w1",
                                                            "claimId": "no spaces"})
    assert bad.status_code == 422 and "claimId" in bad.text


def test_progress_answers_tell_about_pauses(api, project):
    pub = publish(api, project, files=1)
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids, "ws1", QUEUED)
    items = claim(api, project)
    assert report(api, project, items, "progress", progress=0.1)[0]["paused"] is False
    ok(api.put(f"{{api}}/{project}/state/{pub.ids[0]}/ws1/pause", json={"paused": True}))
    assert report(api, project, items, "progress", progress=0.2)[0]["paused"] is True
    ok(api.put(f"{{api}}/{project}/state/{pub.ids[0]}/ws1/pause", json={"paused": False}))
    ok(api.put("{api}/pause", json={"paused": True}))
    assert report(api, project, items, "progress", progress=0.3)[0]["paused"] is True


def test_only_the_lease_holder_may_report_or_release(api, project):
    """Another key sending the same worker id neither reports for nor releases its files."""
    pub = publish(api, project, count=1, files=2)
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids, "ws1", QUEUED)
    items = claim(api, project, worker="host:ws1:7:abcdef")
    assert len(items) == 2
    other_key = ok(api.post("/api/keys", json={"role": "service"}), 201)["key"]
    other = api.with_key(other_key)
    answers = report(other, project, items[:1], "done", worker="host:ws1:7:abcdef")
    assert answers[0]["accepted"] is False and "not yours" in answers[0]["detail"]
    released = ok(other.post(f"{{api}}/{project}/work/release",
                             json={"workerId": "host:ws1:7:abcdef"}))
    assert released == {"released": 0}
    assert claim(other, project, worker="host:ws1:7:abcdef") == []  # still leased
    # the holder itself: reports and releases work
    assert report(api, project, items[:1], "done", worker="host:ws1:7:abcdef")[0]["accepted"]
    assert ok(api.post(f"{{api}}/{project}/work/release",
                       json={"workerId": "host:ws1:7:abcdef"})) == {"released": 1}
