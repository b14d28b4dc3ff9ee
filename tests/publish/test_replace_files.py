"""PUT /api/projects/{project}/representations/{id}: republish a representation in place."""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import both_databases
from tests.server.helpers import make_project, ok, publish, stamp

NEW_FILE = {"path": "{root[work]}/proj/sh010/render/hero/new.exr", "size": 700, "hash": "h9"}


def sites(api, project: str, rep_id: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    [item] = ok(api.get(f"{{api}}/{project}/state/representations",
                        params={"representationIds": [rep_id]}))
    return {site["name"]: site for site in item["sites"]}


@both_databases
def test_replacing_files_keeps_the_id_and_every_site_holding_none_of_them(api):
    project = make_project(api)
    pub = publish(api, project, files=2)
    rep = pub.representations[0]
    stamp(api, project, [rep["id"]], "studio", 4)
    stamp(api, project, [rep["id"]], "ws1", 4)
    kept_id = rep["files"][0]["id"]  # an id given again names a new file
    replaced = ok(api.put(f"/api/projects/{project}/representations/{rep['id']}", json={
        "files": [{**NEW_FILE, "id": kept_id}, NEW_FILE | {"path": NEW_FILE["path"] + "2"}]}))
    assert replaced["id"] == rep["id"] and replaced["versionId"] == rep["versionId"]
    assert [(f["path"], f["size"], f["hash"]) for f in replaced["files"]] == [
        (NEW_FILE["path"], 700, "h9"), (NEW_FILE["path"] + "2", 700, "h9")]
    assert replaced["files"][0]["id"] == kept_id
    assert ok(api.get(f"/api/projects/{project}/representations/{rep['id']}")) == replaced
    state = sites(api, project, rep["id"])
    assert {name: (s["status"], s["files"]) for name, s in state.items()} == {
        "studio": (-1, []), "ws1": (-1, [])}
    # a reset stamp rebuilds the file maps from the new files
    ok(api.post(f"{{api}}/{project}/state/bulk", json={"items": [
        {"representationId": rep["id"], "siteName": "studio", "status": 4, "reset": True},
        {"representationId": rep["id"], "siteName": "ws1", "status": 1, "reset": True}]}), 204)
    state = sites(api, project, rep["id"])
    assert (state["studio"]["status"], state["ws1"]["status"]) == (4, 1)
    new_ids = {f["id"] for f in replaced["files"]}
    assert {f["id"] for f in state["ws1"]["files"]} == new_ids
    assert {f["status"] for f in state["ws1"]["files"]} == {1}


@both_databases
@pytest.mark.parametrize("body, status, words", [
    ({}, 422, "files"),
    ({"files": [NEW_FILE], "name": "other"}, 422, "name"),
    ({"files": [NEW_FILE | {"size": -1}]}, 422, "size"),
    ({"files": [NEW_FILE | {"path": "{root[work]}/../etc/passwd"}]}, 400, "escapes its root"),
    ({"files": [NEW_FILE | {"path": "{root[nope]}/a.exr"}]}, 400, "root 'nope'"),
    ({"files": [NEW_FILE | {"id": str(uuid.UUID(int=1))}] * 2}, 400, "unique"),
])
def test_bad_bodies_change_nothing(api, body, status, words):
    project = make_project(api)
    rep = publish(api, project).representations[0]
    response = api.put(f"/api/projects/{project}/representations/{rep['id']}", json=body)
    assert response.status_code == status and words in response.text
    assert ok(api.get(f"/api/projects/{project}/representations/{rep['id']}")) == rep


def test_unknown_representations_are_404(api):
    project = make_project(api)
    other = make_project(api, "other")
    rep = publish(api, other).representations[0]
    for rep_id in (uuid.uuid4(), rep["id"]):  # unknown, or in another project
        response = api.put(f"/api/projects/{project}/representations/{rep_id}",
                           json={"files": [NEW_FILE]})
        assert response.status_code == 404 and str(rep_id) in response.json()["detail"]
    assert api.put(f"/api/projects/{project}/representations/nope",
                   json={"files": []}).status_code == 422
