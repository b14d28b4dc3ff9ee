import threading
import uuid

import pytest

from server_addon.sitesync import listing as state_listing
from tests.server.helpers import make_project, ok, publish, stamp

OK, QUEUED, IN_PROGRESS, FAILED, PAUSED, NA = 4, 1, 0, 2, 3, -1


def listing(api, project, **params):  # type: ignore[no-untyped-def]
    params = {"localSite": "studio", "remoteSite": "ws1", **params}
    return ok(api.get(f"{{api}}/{project}/state", params=params))


def site_files(api, project, rep_id, site):  # type: ignore[no-untyped-def]
    found = ok(api.get(f"{{api}}/{project}/state/representations",
                       params={"representationIds": rep_id, "siteNames": site}))
    sites = found[0]["sites"]
    return {f["id"]: f for f in sites[0]["files"]} if sites else None


@pytest.fixture
def project(api):  # type: ignore[no-untyped-def]
    return make_project(api)


def test_add_site_creates_every_file_with_the_status(api, project):
    rep = publish(api, project).representations[0]
    ok(api.post(f"{{api}}/{project}/state/{rep['id']}/studio", json={"status": OK}), 204)
    files = site_files(api, project, rep["id"], "studio")
    assert {f["status"] for f in files.values()} == {OK}
    assert [files[f["id"]]["size"] for f in rep["files"]] == [f["size"] for f in rep["files"]]
    page = listing(api, project)
    item = page["representations"][0]
    assert item["localStatus"]["status"] == OK and item["remoteStatus"]["status"] == NA
    assert item["fileCount"] == 3 and item["size"] == 600
    assert item["localStatus"]["size"] == item["localStatus"]["totalSize"] == 600


def test_per_file_updates_leave_other_files_alone(api, project):
    rep = publish(api, project).representations[0]
    file_ids = [f["id"] for f in rep["files"]]
    ok(api.post(f"{{api}}/{project}/state/{rep['id']}/ws1", json={"status": QUEUED}), 204)
    ok(api.post(f"{{api}}/{project}/state/{rep['id']}/ws1", json={"files": [
        {"id": file_ids[0], "status": OK}, {"id": file_ids[1], "progress": 0.5}]}), 204)
    files = site_files(api, project, rep["id"], "ws1")
    assert [files[i]["status"] for i in file_ids] == [OK, IN_PROGRESS, QUEUED]
    assert files[file_ids[1]]["progress"] == 0.5 and files[file_ids[1]]["size"] == 100
    item = listing(api, project, localSite="ws1", remoteSite="studio")["representations"][0]
    assert item["localStatus"]["status"] == IN_PROGRESS
    assert item["localStatus"]["progress"] == pytest.approx(0.5)


def test_concurrent_updates_of_different_files_are_all_kept(api, project):
    rep = publish(api, project, files=12).representations[0]
    ok(api.post(f"{{api}}/{project}/state/{rep['id']}/ws1", json={"status": QUEUED}), 204)
    errors = []

    def finish(file_id: str) -> None:
        client = api.with_key(api.session.headers["Authorization"].split()[1])
        response = client.post(f"{{api}}/{project}/state/{rep['id']}/ws1",
                               json={"files": [{"id": file_id, "status": OK}]})
        if response.status_code != 204:
            errors.append(response.text)

    threads = [threading.Thread(target=finish, args=(f["id"],)) for f in rep["files"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    files = site_files(api, project, rep["id"], "ws1")
    assert {f["status"] for f in files.values()} == {OK}
    item = listing(api, project, localSite="ws1")["representations"][0]
    assert item["localStatus"]["status"] == OK


def test_errors_count_retries_until_failed(api, project):
    rep = publish(api, project, files=1).representations[0]
    file_id = rep["files"][0]["id"]
    ok(api.put(f"{{api}}/settings/{project}", json={"config": {"retry_cnt": 2}}))
    ok(api.post(f"{{api}}/{project}/state/{rep['id']}/ws1", json={"status": QUEUED}), 204)
    body = {"files": [{"id": file_id, "error": "disk full"}]}
    ok(api.post(f"{{api}}/{project}/state/{rep['id']}/ws1", json=body), 204)
    first = site_files(api, project, rep["id"], "ws1")[file_id]
    assert (first["status"], first["retries"], first["message"]) == (QUEUED, 1, "disk full")
    ok(api.post(f"{{api}}/{project}/state/{rep['id']}/ws1", json=body), 204)
    assert site_files(api, project, rep["id"], "ws1")[file_id]["status"] == FAILED
    item = listing(api, project, localSite="ws1")["representations"][0]
    assert item["localStatus"]["status"] == FAILED
    assert item["localStatus"]["message"] == "disk full"
    assert item["localStatus"]["retries"] == 2


def test_reset_rebuilds_the_file_map(api, project):
    rep = publish(api, project).representations[0]
    ok(api.post(f"{{api}}/{project}/state/{rep['id']}/ws1", json={"status": OK}), 204)
    ok(api.post(f"{{api}}/{project}/state/{rep['id']}/ws1", params={"reset": "true"},
                json={}), 204)
    files = site_files(api, project, rep["id"], "ws1")
    assert {(f["status"], f["retries"], f["progress"]) for f in files.values()} == {
        (QUEUED, 0, 0.0)}


def test_priority_and_pause(api, project):
    rep = publish(api, project).representations[0]
    ok(api.post(f"{{api}}/{project}/state/{rep['id']}/ws1",
                json={"status": QUEUED, "priority": 900}), 204)
    item = listing(api, project, localSite="ws1")["representations"][0]
    assert item["priority"] == 900
    ok(api.put(f"{{api}}/{project}/state/{rep['id']}/ws1/pause", json={"paused": True}))
    item = listing(api, project, localSite="ws1")["representations"][0]
    assert item["localStatus"]["status"] == PAUSED and item["localStatus"]["paused"] is True
    assert {f["localStatus"]["status"] for f in item["files"]} == {PAUSED}
    ok(api.put(f"{{api}}/{project}/state/{rep['id']}/ws1/pause", json={"paused": False}))
    ok(api.put(f"{{api}}/{project}/state/{rep['id']}/ws1/pause", json={"paused": False}))
    item = listing(api, project, localSite="ws1")["representations"][0]
    assert item["localStatus"]["status"] == QUEUED
    missing = api.put(f"{{api}}/{project}/state/{rep['id']}/nosite/pause",
                      json={"paused": True})
    assert missing.status_code == 404


def test_delete_site_state(api, project):
    rep = publish(api, project).representations[0]
    stamp(api, project, [rep["id"]], "ws1", OK)
    assert api.delete(f"{{api}}/{project}/state/{rep['id']}/ws1").status_code == 204
    assert site_files(api, project, rep["id"], "ws1") is None
    again = api.delete(f"{{api}}/{project}/state/{rep['id']}/ws1")
    assert again.status_code == 404 and "ws1" in again.json()["detail"]


def test_bulk_stamp_many_representations(api, project):
    pub = publish(api, project, count=40, files=2)
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids, "ws1", QUEUED, priority=70)
    page = listing(api, project, pageLength=100)
    assert page["total"] == 40
    assert {(i["localStatus"]["status"], i["remoteStatus"]["status"])
            for i in page["representations"]} == {(OK, QUEUED)}
    duplicate = api.post(f"{{api}}/{project}/state/bulk", json={"items": [
        {"representationId": pub.ids[0], "siteName": "x"}] * 2})
    assert duplicate.status_code == 400
    unknown = api.post(f"{{api}}/{project}/state/bulk", json={"items": [
        {"representationId": str(uuid.uuid4()), "siteName": "x"}]})
    assert unknown.status_code == 404


def test_listing_filters_sorting_and_paging(api, project):
    a = publish(api, project, count=3, folder="shots/sh010", product="renderMain")
    b = publish(api, project, count=2, folder="assets/chair", product="model", name="abc")
    stamp(api, project, a.ids, "studio", OK, priority=10)
    stamp(api, project, b.ids, "studio", OK, priority=90)
    stamp(api, project, a.ids[:1], "ws1", QUEUED)
    assert listing(api, project)["total"] == 5
    assert listing(api, project, folderFilter="SH01")["total"] == 3
    assert listing(api, project, productFilter="model")["total"] == 2
    assert listing(api, project, repreNameFilter="abc")["total"] == 2
    assert listing(api, project, versionFilter=2)["total"] == 2
    assert listing(api, project, versionIdsFilter=b.version_ids)["total"] == 2
    assert listing(api, project, representationIds=a.ids[:2])["total"] == 2
    assert listing(api, project, remoteStatusFilter=QUEUED)["total"] == 1
    assert listing(api, project, remoteStatusFilter=NA)["total"] == 4
    assert listing(api, project, bothOnly="true")["total"] == 1
    by_priority = listing(api, project)["representations"]
    assert [i["priority"] for i in by_priority] == [90, 90, 10, 10, 10]
    ascending = listing(api, project, sortBy="folder", sortDesc="false")["representations"]
    assert [i["folder"] for i in ascending] == ["assets/chair"] * 2 + ["shots/sh010"] * 3
    pages = [listing(api, project, sortBy="version", page=n, pageLength=2)
             for n in (1, 2, 3)]
    seen = [i["representationId"] for p in pages for i in p["representations"]]
    assert sorted(seen) == sorted(a.ids + b.ids) and pages[2]["total"] == 5
    for key in ("product", "representation", "localStatus", "remoteStatus", "updatedAt"):
        assert listing(api, project, sortBy=key)["total"] == 5


@pytest.mark.parametrize("descending", [True, False])
def test_priority_pages_follow_the_full_sort(api, project, descending):
    """Pages made from local states alone (ahead of the default priority) and pages sorted
    from every match agree with one sort of all representations."""
    pub = publish(api, project, count=12, folder="shots/sq01/sh010")
    publish(api, project, count=2, folder="assets/elsewhere")  # filtered out below
    priorities = [90] * 4 + [70] * 2 + [None] * 3 + [20] * 3
    for rep_id, priority in zip(pub.ids, priorities, strict=True):
        if priority is None:  # no state on the local site: sorts at the default, 50
            stamp(api, project, [rep_id], "ws1", QUEUED)
        else:
            stamp(api, project, [rep_id], "studio", OK, priority=priority)
    key = {r: (50 if p is None else p) for r, p in zip(pub.ids, priorities, strict=True)}
    expected = sorted(pub.ids, key=lambda r: (-key[r] if descending else key[r], r))
    seen = []
    for page in range(1, 7):
        found = listing(api, project, folderFilter="sq01", sortDesc=str(descending).lower(),
                        page=page, pageLength=2)
        assert found["total"] == 12
        seen += [i["representationId"] for i in found["representations"]]
    assert seen == expected


@pytest.mark.parametrize("cap", [3, state_listing.COUNT_CAP])
@pytest.mark.parametrize("descending", [True, False])
def test_folder_pages_follow_the_full_sort(api, project, monkeypatch, descending, cap):
    """Pages by folder, sorted from the matches read for the count or (past the cap) walked
    folder by folder, agree with one sort of all representations by folder, then id."""
    monkeypatch.setattr(state_listing, "COUNT_CAP", cap)
    for folder, product, count in (("shots/sh020", "render", 3), ("assets/chair", "model", 2),
                                   ("shots/sh010", "render", 2), ("shots/sh020", "anim", 2),
                                   ("shots/sh010/fx", "render", 1), ("assets", "look", 2)):
        pub = publish(api, project, count=count, folder=folder, product=product)
        stamp(api, project, pub.ids[:1], "studio", OK)
    everything = listing(api, project, pageLength=100)["representations"]
    assert len(everything) == 12
    for params in ({}, {"localStatusFilter": OK}, {"productFilter": "render"}):
        found = listing(api, project, pageLength=100, **params)["representations"]
        ordered = sorted(((i["folder"], i["representationId"]) for i in found),
                         key=lambda item: item[1])
        ordered.sort(key=lambda item: item[0], reverse=descending)  # stable: ids stay ascending
        seen = []
        for page in range(1, len(found) // 2 + 2):
            got = listing(api, project, sortBy="folder", sortDesc=str(descending).lower(),
                          page=page, pageLength=2, **params)
            assert (got["total"], got["totalExact"]) == (
                min(len(found), (page - 1) * 2 + cap), len(found) <= (page - 1) * 2 + cap)
            seen += [(i["folder"], i["representationId"]) for i in got["representations"]]
        assert seen == ordered, params


def test_totals_below_the_cap_are_exact(api, project):
    pub = publish(api, project, count=4)
    stamp(api, project, pub.ids, "studio", OK)
    stamp(api, project, pub.ids[:1], "ws1", QUEUED)
    for params, total in (({}, 4), ({"remoteStatusFilter": QUEUED}, 1),
                          ({"folderFilter": "nothing"}, 0), ({"page": 3, "pageLength": 2}, 4)):
        page = listing(api, project, **params)
        assert (page["total"], page["totalExact"]) == (total, True), params


def test_total_is_capped_past_the_page_start(api, project, monkeypatch):
    pub = publish(api, project, count=7)
    stamp(api, project, pub.ids, "studio", OK)
    monkeypatch.setattr(state_listing, "COUNT_CAP", 3)
    first = listing(api, project, pageLength=2)
    assert (first["total"], first["totalExact"]) == (3, False)
    # Past the cap: items still come, and the count reaches 3 beyond the page's start.
    third = listing(api, project, pageLength=2, page=3)
    assert len(third["representations"]) == 2
    assert (third["total"], third["totalExact"]) == (7, True)
    seen, page = [], 1
    while True:  # a client paging until `total` sees every representation once
        found = listing(api, project, pageLength=2, page=page)
        seen += [i["representationId"] for i in found["representations"]]
        if page * 2 >= found["total"]:
            break
        page += 1
    assert sorted(seen) == sorted(pub.ids)
    assert listing(api, project, folderFilter="sh0")["totalExact"] is False


@pytest.mark.parametrize("params", [
    {"page": 0}, {"pageLength": 0}, {"pageLength": 1001}, {"sortBy": "nope"},
    {"localStatusFilter": 7}, {"localSite": "bad site"}, {"representationIds": "x"},
    {"page": 10**30},
])
def test_bad_listing_parameters_are_422(api, project, params):
    response = api.get(f"{{api}}/{project}/state",
                       params={"localSite": "studio", "remoteSite": "ws1", **params})
    assert response.status_code == 422 and response.json()["detail"]


@pytest.mark.parametrize("text", ["'; DROP TABLE files; --", "%", "_", "\"quoted\"", "日本語",
                                  "a\\b", "100%_sure"])
def test_hostile_filter_text_is_harmless(api, project, text):
    pub = publish(api, project, folder="shots/100%_sure")
    stamp(api, project, pub.ids, "studio", OK)
    expected = 1 if text in ("%", "_", "100%_sure") else 0
    assert listing(api, project, folderFilter=text)["total"] == expected
    assert listing(api, project, productFilter=text)["total"] == 0
    assert api.get(f"{{api}}/{project}/state",
                   params={"localSite": "studio", "remoteSite": text}).status_code in (200, 422)
    assert ok(api.get(f"/api/projects/{project}/representations"))  # tables still there


def test_bad_state_bodies(api, project):
    rep = publish(api, project).representations[0]
    url = f"{{api}}/{project}/state/{rep['id']}/ws1"
    assert api.post(url, json={"status": 9}).status_code == 422
    assert api.post(url, json={"files": [{"id": "nope"}]}).status_code == 422
    assert api.post(url, json={"files": [{"id": str(uuid.uuid4()), "status": OK}]}
                    ).status_code == 404
    assert api.post(url, json={"priority": 5000}).status_code == 422
    assert api.post(url, json={"unknown": 1}).status_code == 422
    assert api.post(f"{{api}}/{project}/state/{uuid.uuid4()}/ws1", json={}).status_code == 404
    assert api.post(f"{{api}}/{project}/state/not-uuid/ws1", json={}).status_code == 422
    assert api.post(f"{{api}}/nope/state/{rep['id']}/ws1", json={}).status_code == 404
    assert site_files(api, project, rep["id"], "ws1") is None  # nothing half-written


def test_params(api, project):
    pub = publish(api, project)
    stamp(api, project, pub.ids, "studio", OK)
    params = ok(api.get(f"{{api}}/{project}/params"))
    assert params["sites"] == ["studio"] and params["representationNames"] == ["exr"]
    assert params["statuses"]["OK"] == 4 and "priority" in params["sortBy"]


def test_a_thousand_ids_fit_in_one_query_string(api, project):
    ids = [str(uuid.uuid4()) for _ in range(1000)]
    found = ok(api.get(f"{{api}}/{project}/state/representations",
                       params={"representationIds": ids}))
    assert len(found) == 1000 and all(item["sites"] == [] for item in found)
