import uuid

import pytest

from tests.server.helpers import make_project, ok, publish, stamp


def test_project_crud_and_site_roots(api):
    roots = {"work": {"linux": "/mnt/work", "windows": "W:/work"}, "render": {"linux": "/r"}}
    created = ok(api.post("/api/projects", json={"name": "P1", "roots": roots}), 201)
    assert created["roots"] == roots
    assert ok(api.get("/api/projects/P1"))["id"] == created["id"]
    assert ok(api.get("/api/projects/P1/siteRoots", params={"platform": "windows"})) == {
        "work": "W:/work"}
    assert ok(api.get("/api/projects/P1/siteRoots")) == {"work": "/mnt/work", "render": "/r"}
    duplicate = api.post("/api/projects", json={"name": "P1", "roots": roots})
    assert duplicate.status_code == 409 and "exists" in duplicate.json()["detail"]
    assert api.delete("/api/projects/P1").status_code == 204
    missing = api.get("/api/projects/P1")
    assert missing.status_code == 404 and "sitesync project create" in missing.json()["detail"]


@pytest.mark.parametrize("body", [
    {"name": "bad name", "roots": {"work": {"linux": "/x"}}},
    {"name": "P", "roots": {}},
    {"name": "P", "roots": {"work": {"amiga": "/x"}}},
    {"name": "P", "roots": {"work": {"linux": "/x"}}, "extra": 1},
    {"roots": {"work": {"linux": "/x"}}},
    [1, 2],
])
def test_bad_project_bodies_are_4xx(api, body):
    response = api.post("/api/projects", json=body)
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]


def test_folder_product_version_are_get_or_create(api):
    project = make_project(api)
    first = api.post(f"/api/projects/{project}/folders", json={"path": "/shots/sh010/"})
    again = api.post(f"/api/projects/{project}/folders", json={"path": "shots/sh010"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json() and first.json()["path"] == "shots/sh010"
    folder_id = first.json()["id"]
    product = ok(api.post(f"/api/projects/{project}/products",
                          json={"folderId": folder_id, "name": "model"}), 201)
    assert ok(api.post(f"/api/projects/{project}/products",
                       json={"folderId": folder_id, "name": "model"}))["id"] == product["id"]
    assert [p["id"] for p in ok(api.get(f"/api/projects/{project}/products",
                                        params={"folderId": folder_id}))] == [product["id"]]
    v1 = ok(api.post(f"/api/projects/{project}/versions",
                     json={"productId": product["id"], "version": 1, "task": "model"}), 201)
    v2 = ok(api.post(f"/api/projects/{project}/versions", json={
        "productId": product["id"], "version": 2,
        "links": [{"versionId": v1["id"], "type": "reference"}]}), 201)
    assert v2["links"] == [{"versionId": v1["id"], "type": "reference"}]
    assert ok(api.get(f"/api/projects/{project}/versions/{v2['id']}"))["links"] == v2["links"]
    by_task = ok(api.get(f"/api/projects/{project}/versions", params={"task": "model"}))
    assert [v["id"] for v in by_task] == [v1["id"]]
    assert api.post(f"/api/projects/{project}/folders", json={"path": "a/../b"}
                    ).status_code == 400


def test_representation_files_and_lookup(api):
    project = make_project(api)
    pub = publish(api, project, count=2, files=2)
    rep = pub.representations[0]
    assert rep["folder"] == "sh010" and rep["product"] == "render" and rep["version"] == 1
    assert [f["size"] for f in rep["files"]] == [100, 200]
    fetched = ok(api.get(f"/api/projects/{project}/representations/{rep['id']}"))
    assert fetched["files"] == rep["files"]
    listed = ok(api.get(f"/api/projects/{project}/representations",
                        params={"versionIds": pub.version_ids[1]}))
    assert [r["id"] for r in listed] == [pub.ids[1]]
    clash = api.post(f"/api/projects/{project}/representations", json={
        "versionId": pub.version_ids[0], "name": "exr", "files": []})
    assert clash.status_code == 409


@pytest.mark.parametrize("path", [
    "{root[work]}/../etc/passwd", "{root[work]}/a/../../b", "/etc/passwd",
    "{root[work]}//abs", "{root[work]}/C:/x", "{root[nope]}/a", "relative/a.exr",
    "{root[work]}/a\\..\\..\\b",
])
def test_paths_escaping_their_root_are_refused(api, path):
    project = make_project(api)
    pub = publish(api, project, count=1, files=1)
    response = api.post(f"/api/projects/{project}/representations", json={
        "versionId": pub.version_ids[0], "name": "other",
        "files": [{"path": path, "size": 1}]})
    assert response.status_code == 400
    assert path.split("/")[0] in response.json()["detail"] or "root" in response.json()["detail"]


def test_unknown_and_malformed_ids(api):
    project = make_project(api)
    unknown = uuid.uuid4()
    assert api.get(f"/api/projects/{project}/representations/{unknown}").status_code == 404
    assert api.get(f"/api/projects/{project}/representations/not-a-uuid").status_code == 422
    assert api.get("/api/projects/nope/folders").status_code == 404
    response = api.post(f"/api/projects/{project}/products",
                        json={"folderId": str(unknown), "name": "x"})
    assert response.status_code == 404 and str(unknown) in response.json()["detail"]


def test_deleting_a_representation_removes_its_state(api):
    project = make_project(api)
    pub = publish(api, project, count=2)
    stamp(api, project, pub.ids, "studio", 4)
    assert api.delete(f"/api/projects/{project}/representations/{pub.ids[0]}"
                      ).status_code == 204
    states = ok(api.get(f"{{api}}/{project}/state/representations",
                        params={"representationIds": pub.ids}))
    assert [len(item["sites"]) for item in states] == [0, 1]
    page = ok(api.get(f"{{api}}/{project}/state", params={"localSite": "studio",
                                                          "remoteSite": "x"}))
    assert page["total"] == 1
    assert api.delete(f"/api/projects/{project}/versions/{pub.version_ids[1]}"
                      ).status_code == 204
    assert ok(api.get(f"/api/projects/{project}/representations")) == []
