"""Hero versions: republished in place, every site that had a copy queued again for the new
files; the real sync thread brings them to the artist."""
from __future__ import annotations

from sitesync_addon.hashing import hash_file
from sitesync_addon.status import SiteSyncStatus
from tests.conftest import both_databases
from tests.publish.conftest import errors, incoming, publish, published, sites_of
from tests.studio import LOCAL_ID, PROJECT

OK, QUEUED = SiteSyncStatus.OK, SiteSyncStatus.QUEUED


def hero(*files) -> dict:  # type: ignore[no-untyped-def]
    return {"folder": "assets/chair", "product": "modelMain", "productType": "model",
            "hero": True, "representations": [{"name": "abc", "files": list(files)}]}


@both_databases
def test_hero_republish_replaces_files_and_resets_every_site(studio, tmp_path):
    first = publish(hero(incoming(studio, "chair.abc"), incoming(studio, "chair_proxy.abc")),
                    addon=studio.publisher)
    assert errors(first) == []
    [rep] = published(first)["modelMain"]
    assert rep["version"] == 0
    assert [f["path"] for f in rep["files"]] == [
        f"{{root[work]}}/{PROJECT}/assets/chair/modelMain/hero/chair.abc",
        f"{{root[work]}}/{PROJECT}/assets/chair/modelMain/hero/chair_proxy.abc"]
    assert sites_of(studio, rep) == {"studio": OK}

    # the artist fetches the hero version
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    sync = studio.artist.create_service(state_dir=tmp_path / "state")
    try:
        assert sync.run_until_idle() is True
        assert sites_of(studio, rep) == {"studio": OK, LOCAL_ID: OK}

        new_mesh, new_lod = incoming(studio, "chair.abc", 25_000), incoming(studio, "lod.abc")
        second = publish(hero(new_mesh, new_lod), addon=studio.publisher)
        assert errors(second) == []
        [again] = published(second)["modelMain"]
        assert again["id"] == rep["id"] and again["versionId"] == rep["versionId"]
        assert [f["hash"] for f in again["files"]] == [hash_file(new_mesh), hash_file(new_lod)]
        for file in again["files"]:
            assert hash_file(studio.studio_path(file)) == file["hash"]
        assert not studio.studio_path(rep["files"][1]).exists()  # the proxy is gone
        # every existing site reset: the active site OK, the artist's QUEUED, new file maps
        states = studio.publisher.site_states(PROJECT, [rep["id"]])[rep["id"]]
        assert {site: state["status"] for site, state in states.items()} == {
            "studio": OK, LOCAL_ID: QUEUED}
        new_ids = {f["id"] for f in again["files"]}
        assert set(states["studio"]["files"]) == set(states[LOCAL_ID]["files"]) == new_ids
        assert {f["status"] for f in states[LOCAL_ID]["files"].values()} == {QUEUED}

        assert sync.run_until_idle() is True  # the copy on the artist's site refreshes
    finally:
        sync.stop()
    assert sites_of(studio, rep) == {"studio": OK, LOCAL_ID: OK}
    for file in again["files"]:
        assert hash_file(studio.local_path(file)) == file["hash"]


def test_hero_and_numbered_versions_live_side_by_side(studio):
    numbered = {**hero(incoming(studio, "chair.abc")), "hero": False, "version": 3}
    context = publish(numbered, hero(incoming(studio, "chair.abc")), addon=studio.publisher)
    assert errors(context) == []
    reps = studio.publisher.client.http.get(f"/api/projects/{PROJECT}/representations")
    assert sorted((r["version"], r["files"][0]["path"].rsplit("/", 2)[1]) for r in reps) == [
        (0, "hero"), (3, "v003")]
