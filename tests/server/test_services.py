"""Heartbeats of sync services: upserts, staleness, forgetting, who may send and see them."""
import time
import uuid

import pytest
from sqlalchemy import select

from server_addon.sitesync import services, tables
from tests.server.helpers import artist, make_project, ok


def beat(service_id="host:ws1:10:abcdef", **fields):  # type: ignore[no-untyped-def]
    return {"serviceId": service_id, "site": "ws1", "host": "host", "version": "0.1.0",
            "pid": 10, "projects": ["proj"], "filesInFlight": 0, "bytesPerSecond": 0.0,
            **fields}



@pytest.fixture
def project(api):  # type: ignore[no-untyped-def]
    return make_project(api)


def test_a_heartbeat_is_upserted_and_listed(api, project):
    before = time.time()
    ok(api.post("{api}/services/heartbeat", json=beat()), 204)
    (first,) = ok(api.get("{api}/services"))
    assert first == {"serviceId": "host:ws1:10:abcdef", "site": "ws1", "host": "host",
                     "version": "0.1.0", "pid": 10, "projects": ["proj"], "filesInFlight": 0,
                     "bytesPerSecond": 0.0, "startedAt": first["startedAt"],
                     "lastSeen": first["lastSeen"], "stale": False}
    assert before <= first["startedAt"] == first["lastSeen"]
    time.sleep(0.05)
    ok(api.post("{api}/services/heartbeat",
                json=beat(filesInFlight=3, bytesPerSecond=1.5e6)), 204)
    (second,) = ok(api.get("{api}/services"))
    assert (second["filesInFlight"], second["bytesPerSecond"]) == (3, 1.5e6)
    assert second["startedAt"] == first["startedAt"] < second["lastSeen"]


def test_services_go_stale_then_are_forgotten(api, server, project, monkeypatch):
    ok(api.post("{api}/services/heartbeat", json=beat()), 204)
    monkeypatch.setattr(services, "STALE_SECONDS", 0.05)
    time.sleep(0.1)
    assert [s["stale"] for s in ok(api.get("{api}/services"))] == [True]
    # an hour and more without a heartbeat: not listed, and pruned by the next heartbeat
    with server.app.state.db.write() as conn:
        services.record_heartbeat(
            conn, beat=services.Heartbeat("old:ws1:1:000000", "ws1", "old", "0.1.0", 1, [],
                                          0, 0.0),
            key_id=uuid.uuid4(), now=time.time() - services.GONE_SECONDS - 5)
    assert [s["serviceId"] for s in ok(api.get("{api}/services"))] == ["host:ws1:10:abcdef"]
    ok(api.post("{api}/services/heartbeat", json=beat()), 204)
    with server.app.state.db.read() as conn:
        stored = conn.execute(select(tables.services.c.service_id)).scalars().all()
    assert stored == ["host:ws1:10:abcdef"]


def test_site_filter_and_order(api, project):
    for service_id, site in (("b", "ws2"), ("a", "ws2"), ("c", "studio")):
        ok(api.post("{api}/services/heartbeat", json=beat(service_id, site=site)), 204)
    assert [s["serviceId"] for s in ok(api.get("{api}/services"))] == ["c", "a", "b"]
    assert [s["serviceId"] for s in ok(api.get("{api}/services", params={"site": "ws2"}))
            ] == ["a", "b"]


def test_artists_send_and_see_services_of_their_projects_only(api, project):
    make_project(api, "other")
    key = artist(api, [project])
    ok(key.post("{api}/services/heartbeat", json=beat("mine", projects=[project])), 204)
    response = key.post("{api}/services/heartbeat", json=beat("x", projects=[project, "other"]))
    assert response.status_code == 403 and "other" in response.json()["detail"]
    ok(api.post("{api}/services/heartbeat", json=beat("theirs", projects=["other"])), 204)
    ok(api.post("{api}/services/heartbeat", json=beat("both", projects=["other", project])),
       204)
    ok(api.post("{api}/services/heartbeat", json=beat("none", projects=[])), 204)
    assert [s["serviceId"] for s in ok(key.get("{api}/services"))] == ["both", "mine"]
    assert len(ok(api.get("{api}/services"))) == 4
    service_key = ok(api.post("/api/keys", json={"role": "service"}), 201)["key"]
    ok(api.with_key(service_key).post("{api}/services/heartbeat",
                                      json=beat("svc", projects=["other"])), 204)


def test_a_service_id_belongs_to_the_key_that_started_it(api, project):
    key = artist(api, [project])
    ok(key.post("{api}/services/heartbeat", json=beat("taken", filesInFlight=1)), 204)
    response = api.post("{api}/services/heartbeat", json=beat("taken", filesInFlight=9))
    assert response.status_code == 409 and "another key" in response.json()["detail"]
    assert [s["filesInFlight"] for s in ok(api.get("{api}/services"))] == [1]


@pytest.mark.parametrize("change", [
    {"bytesPerSecond": -1}, {"filesInFlight": -1}, {"filesInFlight": 2**31}, {"pid": "x"},
    {"site": "a b"}, {"projects": ["bad name"]}, {"projects": "proj"}, {"serviceId": ""},
    {"serviceId": "a\u0000b"}, {"host": ""}, {"version": "v" * 65}, {"extra": 1},
    {"bytesPerSecond": 1e300},
])
def test_bad_heartbeats_get_a_clear_4xx(api, project, change):
    response = api.post("{api}/services/heartbeat", json=beat(**change))
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_bad_heartbeat_bodies_get_a_clear_4xx(api, project):
    body = beat()
    del body["site"]
    assert api.post("{api}/services/heartbeat", json=body).status_code == 422
    response = api.post("{api}/services/heartbeat", data=b'{"bytesPerSecond": NaN}',
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert api.get("{api}/services", params={"site": "a b"}).status_code == 422
    assert api.with_key(None).get("{api}/services").status_code == 401
