"""Site-scope settings belong to a machine: an artist key writes only the site ids it holds."""
from tests.server.helpers import artist_with_id, make_project, ok

ROOTS = {"local_roots": [{"name": "work", "path": "/home/a/work"}]}
HOSTILE = {"local_roots": [{"name": "work", "path": "/etc/cron.d"}]}


def sites_of(api, key_id):  # type: ignore[no-untyped-def]
    return next(key["sites"] for key in ok(api.get("/api/keys")) if key["id"] == key_id)


def test_an_artist_key_may_not_rewrite_another_machines_site_settings(api):
    make_project(api, "P")
    first, first_id = artist_with_id(api, ["P"])
    second, second_id = artist_with_id(api, ["P"])
    ok(first.put("{api}/settings/P/site/ws-1", json=ROOTS))  # first use registers ws-1
    ok(second.put("{api}/settings/P/site/ws-2", json=ROOTS))
    refused = second.put("{api}/settings/P/site/ws-1", json=HOSTILE)
    assert refused.status_code == 403
    detail = refused.json()["detail"]
    assert "'ws-1'" in detail and "admin" in detail and "\n" not in detail
    assert ok(api.get("{api}/settings/P/site/ws-1"))["local_roots"] == ROOTS["local_roots"]
    ok(first.put("{api}/settings/P/site/ws-1", json={"active_site": "local"}))  # still its own
    ok(first.put("{api}/settings/P/site/ws-3", json=ROOTS))  # a key may hold several sites
    assert sites_of(api, first_id) == ["ws-1", "ws-3"]
    assert sites_of(api, second_id) == ["ws-2"]
    assert ok(first.get("/api/keys/me"))["sites"] == ["ws-1", "ws-3"]
    # reading another machine's site settings stays allowed (they hold no secrets)
    assert ok(second.get("{api}/settings/P/site/ws-1"))["active_site"] == "local"


def test_a_site_is_registered_across_projects(api):
    make_project(api, "P")
    make_project(api, "Q")
    first, _ = artist_with_id(api)
    second, _ = artist_with_id(api, ["Q"])
    ok(first.put("{api}/settings/P/site/ws-1", json=ROOTS))
    assert second.put("{api}/settings/Q/site/ws-1", json=HOSTILE).status_code == 403


def test_admin_and_service_keys_write_any_site_and_are_never_bound(api):
    make_project(api, "P")
    service = api.with_key(ok(api.post("/api/keys", json={"role": "service"}), 201)["key"])
    ok(api.put("{api}/settings/P/site/ws-9", json=ROOTS))
    ok(service.put("{api}/settings/P/site/ws-9", json=ROOTS))
    assert all(key["sites"] == [] for key in ok(api.get("/api/keys")))
    owner, owner_id = artist_with_id(api, ["P"])
    ok(owner.put("{api}/settings/P/site/ws-9", json=ROOTS))  # still free for its machine
    ok(api.put("{api}/settings/P/site/ws-9", json=HOSTILE))  # admins may fix any machine
    ok(service.put("{api}/settings/P/site/ws-9", json=ROOTS))
    assert sites_of(api, owner_id) == ["ws-9"]


def test_admins_bind_and_unbind_sites(api):
    make_project(api, "P")
    old, old_id = artist_with_id(api, ["P"])
    new, new_id = artist_with_id(api, ["P"])
    ok(old.put("{api}/settings/P/site/ws-1", json=ROOTS))
    # a machine with a new key: the admin moves its site to that key
    moved = ok(api.put(f"/api/keys/{new_id}/sites/ws-1"))
    assert moved["id"] == new_id and moved["sites"] == ["ws-1"]
    assert sites_of(api, old_id) == []
    ok(new.put("{api}/settings/P/site/ws-1", json=ROOTS))
    assert old.put("{api}/settings/P/site/ws-1", json=HOSTILE).status_code == 403
    ok(api.put(f"/api/keys/{new_id}/sites/ws-1"))  # binding again changes nothing
    # a site registered ahead of the machine's first use
    ok(api.put(f"/api/keys/{old_id}/sites/ws-5"))
    assert new.put("{api}/settings/P/site/ws-5", json=ROOTS).status_code == 403
    # unbound, a site goes to the next artist key that writes it
    assert ok(api.delete(f"/api/keys/{new_id}/sites/ws-1"))["sites"] == []
    ok(old.put("{api}/settings/P/site/ws-1", json=ROOTS))
    assert sites_of(api, old_id) == ["ws-1", "ws-5"]


def test_binding_sites_is_for_admins_and_artist_keys(api):
    _, artist_id = artist_with_id(api)
    service_id = ok(api.post("/api/keys", json={"role": "service"}), 201)["id"]
    artist_api, _ = artist_with_id(api)
    assert artist_api.put(f"/api/keys/{artist_id}/sites/ws-1").status_code == 403
    refused = api.put(f"/api/keys/{service_id}/sites/ws-1")
    assert refused.status_code == 422 and "artist" in refused.json()["detail"]
    missing = "00000000-0000-0000-0000-000000000000"
    assert api.put(f"/api/keys/{missing}/sites/ws-1").status_code == 404
    assert api.delete(f"/api/keys/{artist_id}/sites/ws-1").status_code == 404
    assert api.put(f"/api/keys/{artist_id}/sites/bad%20name").status_code == 422
    ok(api.delete(f"/api/keys/{artist_id}"))
    assert api.put(f"/api/keys/{artist_id}/sites/ws-1").status_code == 422  # revoked
