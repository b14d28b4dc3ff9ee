import json

import pytest

from tests.server.helpers import make_project, ok

S3_SITE = {"name": "cloud", "provider": "s3", "alternative_sites": [],
           "s3": {"bucket": "b", "access_key_id": "AK", "secret_access_key": "topsecret"}}


def studio_settings(**overrides):  # type: ignore[no-untyped-def]
    return {"enabled": True, "config": {"retry_cnt": 4, "always_accessible_on": ["cloud"]},
            "sites": [S3_SITE], **overrides}


def test_defaults_match_the_contract(api):
    settings = ok(api.get("{api}/settings"))
    assert settings["enabled"] is False
    assert settings["config"] == {"retry_cnt": 3, "loop_delay": 60, "always_accessible_on": [],
                                  "active_site": "studio", "remote_site": "studio"}
    assert settings["sites"] == []


def test_studio_project_and_site_scopes_resolve(api):
    project = make_project(api)
    ok(api.put("{api}/settings", json=studio_settings()))
    ok(api.put(f"{{api}}/settings/{project}", json={
        "config": {"remote_site": "cloud"},
        "sites": [{"name": "sftp1", "provider": "sftp", "alternative_sites": ["studio"],
                   "sftp": {"host": "127.0.0.1", "user": "u", "password": "pw"}}]}))
    ok(api.put(f"{{api}}/settings/{project}/site/ws-42", json={
        "active_site": "local", "local_roots": [{"name": "work", "path": "/home/a/work"}]}))
    resolved = ok(api.get(f"{{api}}/settings/{project}/resolved", params={"siteId": "ws-42"}))
    assert resolved["config"]["retry_cnt"] == 4  # from studio
    assert resolved["config"]["remote_site"] == "cloud"  # from the project
    assert [s["name"] for s in resolved["sites"]] == ["cloud", "sftp1"]
    assert resolved["local_setting"]["active_site"] == "local"
    assert resolved["local_setting"]["local_roots"] == [{"name": "work", "path": "/home/a/work"}]
    assert ok(api.get(f"{{api}}/{project}/get_user_sites")) == ["ws-42"]
    other = ok(api.get(f"{{api}}/settings/{project}/resolved"))
    assert other["local_setting"] == {"active_site": None, "remote_site": None,
                                      "local_roots": []}


@pytest.mark.parametrize("body, words", [
    ({"sites": [{"name": "bad name!", "provider": "local_drive"}]}, "sites.0.name"),
    ({"sites": [{"name": "a"}, {"name": "a"}]}, "repeated: a"),
    ({"sites": [{"name": "c", "provider": "s3"}]}, "needs a 's3' block"),
    ({"sites": [{"name": "local"}]}, "reserved"),
    ({"config": {"retry_cnt": 0}}, "config.retry_cnt"),
    ({"config": {"unknown": 1}}, "config.unknown"),
    ({"enabled": "maybe"}, "enabled"),
])
def test_invalid_settings_are_refused_and_not_stored(api, body, words):
    response = api.put("{api}/settings", json=body)
    assert response.status_code == 422
    assert words in response.json()["detail"]
    assert ok(api.get("{api}/settings"))["sites"] == []


def test_invalid_project_override_is_refused(api):
    project = make_project(api)
    response = api.put(f"{{api}}/settings/{project}", json={"config": {"loop_delay": -1}})
    assert response.status_code == 422 and project in response.json()["detail"]
    assert ok(api.get(f"{{api}}/settings/{project}")) == {}


def test_third_party_provider_blocks_are_kept(api):
    site = {"name": "vault", "provider": "cas_store", "cas_store": {"path": "/srv/cas"}}
    ok(api.put("{api}/settings", json={"sites": [site]}))
    assert ok(api.get("{api}/settings"))["sites"][0]["cas_store"] == {"path": "/srv/cas"}


def test_secrets_are_masked_for_artists_and_kept_on_save(api):
    project = make_project(api)
    ok(api.put("{api}/settings", json=studio_settings()))
    artist_key = ok(api.post("/api/keys", json={"role": "artist"}), 201)["key"]
    artist = api.with_key(artist_key)
    seen = ok(artist.get("{api}/settings"))["sites"][0]["s3"]
    assert seen["secret_access_key"] == "********" and seen["access_key_id"] == "AK"
    resolved = ok(artist.get(f"{{api}}/settings/{project}/resolved"))
    assert resolved["sites"][0]["s3"]["secret_access_key"] == "********"
    assert ok(api.get("{api}/settings"))["sites"][0]["s3"]["secret_access_key"] == "topsecret"
    # an admin saving what a masked view showed keeps the stored secret
    masked = ok(artist.get("{api}/settings"))
    masked["config"]["loop_delay"] = 30
    ok(api.put("{api}/settings", json=masked))
    after = ok(api.get("{api}/settings"))
    assert after["sites"][0]["s3"]["secret_access_key"] == "topsecret"
    assert after["config"]["loop_delay"] == 30


def test_secrets_never_reach_the_log(api, caplog):
    caplog.set_level("DEBUG")
    ok(api.put("{api}/settings", json=studio_settings()))
    ok(api.get("{api}/settings"))
    assert "topsecret" not in caplog.text


def test_artists_set_their_own_site_settings_only_in_their_projects(api):
    project = make_project(api)
    make_project(api, "other")
    artist = api.with_key(ok(api.post("/api/keys", json={"role": "artist",
                                                         "projects": [project]}), 201)["key"])
    ok(artist.put(f"{{api}}/settings/{project}/site/ws-1", json={"remote_site": "studio"}))
    assert artist.put("{api}/settings/other/site/ws-1", json={}).status_code == 403
    assert artist.put(f"{{api}}/settings/{project}", json={}).status_code == 403
    bad = artist.put(f"{{api}}/settings/{project}/site/ws-1", json={"local_roots": [{}]})
    assert bad.status_code == 422


VAULT = {"name": "vault", "provider": "cas_store", "cas_store": {  # a provider not installed
    "path": "/srv/cas", "key_path": {"linux": "/etc/cas/id"}, "apiToken": "tok-1",
    "auth": {"user": "u", "password": "pw-1"}, "url": "https://u:pw-2@cas.example",
    "mirrors": [{"host": "m1", "client_secret": "cs-1"}]}}
VAULT_SECRETS = ("tok-1", "pw-1", "pw-2", "cs-1", "pk-1")


def test_secrets_of_providers_not_installed_are_masked_by_name_and_kept_on_save(api):
    project = make_project(api)
    ok(api.put("{api}/settings", json={"sites": [VAULT]}))
    ok(api.put(f"{{api}}/settings/{project}", json={"sites": [
        {"name": "vault", "provider": "cas_store", "cas_store": {"private_key": "pk-1"}}]}))
    artist = api.with_key(ok(api.post("/api/keys", json={"role": "artist"}), 201)["key"])
    views = [ok(artist.get("{api}/settings")), ok(artist.get(f"{{api}}/settings/{project}")),
             ok(artist.get(f"{{api}}/settings/{project}/resolved"))]
    for view in views:
        assert not [s for s in VAULT_SECRETS if s in json.dumps(view)], view
    block = views[2]["sites"][0]["cas_store"]
    assert block["path"] == "/srv/cas" and block["key_path"] == {"linux": "/etc/cas/id"}
    assert block["apiToken"] == block["auth"] == block["private_key"] == "********"
    assert block["mirrors"] == [{"host": "m1", "client_secret": "********"}]
    service = api.with_key(ok(api.post("/api/keys", json={"role": "service"}), 201)["key"])
    assert ok(service.get(f"{{api}}/settings/{project}/resolved"))["sites"][0][
        "cas_store"]["private_key"] == "pk-1"
    # an admin saving what the masked views showed keeps every stored secret
    views[0]["config"]["loop_delay"] = 30
    ok(api.put("{api}/settings", json=views[0]))
    ok(api.put(f"{{api}}/settings/{project}", json=views[1]))
    resolved = ok(api.get(f"{{api}}/settings/{project}/resolved"))
    assert resolved["sites"][0]["cas_store"] == {**VAULT["cas_store"], "private_key": "pk-1"}
    assert resolved["config"]["loop_delay"] == 30


def test_known_secrets_inherited_by_a_project_override_survive_its_masked_round_trip(api):
    project = make_project(api)
    ok(api.put("{api}/settings", json=studio_settings()))
    ok(api.put(f"{{api}}/settings/{project}", json={"sites": [
        {"name": "cloud", "provider": "s3", "s3": {"bucket": "project-bucket"}}]}))
    artist = api.with_key(ok(api.post("/api/keys", json={"role": "artist"}), 201)["key"])
    ok(api.put(f"{{api}}/settings/{project}", json=ok(artist.get(f"{{api}}/settings/{project}"))))
    s3 = ok(api.get(f"{{api}}/settings/{project}/resolved"))["sites"][0]["s3"]
    assert s3["bucket"] == "project-bucket" and s3["secret_access_key"] == "topsecret"
