"""Site commands: asked for, claimed by the site's service, finished; who may do what."""
import time

import pytest
from sqlalchemy import update

from server_addon.sitesync import tables
from tests.conftest import both_databases
from tests.server.helpers import artist, make_project, ok, publish


def beat(api, service_id, site):  # type: ignore[no-untyped-def]
    ok(api.post("{api}/services/heartbeat", json={
        "serviceId": service_id, "site": site, "host": "host", "version": "0.1.0", "pid": 1,
        "projects": ["proj"], "filesInFlight": 0, "bytesPerSecond": 0.0}), 204)



@pytest.fixture
def project(api):  # type: ignore[no-untyped-def]
    return make_project(api)


def ask(api, site, **body):  # type: ignore[no-untyped-def]
    return api.post(f"{{api}}/proj/sites/{site}/commands", json=body)


def command_events(api, after):  # type: ignore[no-untyped-def]
    batch = ok(api.get("{api}/events", params={"after": after, "kinds": "command",
                                               "timeout": 0}))
    return [(e["payload"]["action"], e["payload"]["status"]) for e in batch["events"]]


@both_databases
def test_a_command_is_claimed_once_and_finished_by_its_service(api, project):
    cursor = ok(api.get("{api}/events", params={"timeout": 0}))["lastId"]
    asked = ok(ask(api, "ws1", action="validate", resetMissing=True), 201)
    assert (asked["status"], asked["site"], asked["resetMissing"]) == ("queued", "ws1", True)
    assert [c["id"] for c in ok(api.get("{api}/commands", params={"site": ["ws1"]}))] \
        == [asked["id"]]
    assert ok(api.get("{api}/commands", params={"site": ["ws2"]})) == []

    claim = {"serviceId": "host:ws1:1:aaaaaa"}
    refused = api.post(f"{{api}}/commands/{asked['id']}/claim", json=claim)
    assert refused.status_code == 409 and "heartbeat" in refused.json()["detail"]
    beat(api, "host:ws1:1:aaaaaa", "ws1")
    beat(api, "host:ws1:2:bbbbbb", "ws1")
    taken = ok(api.post(f"{{api}}/commands/{asked['id']}/claim", json=claim))
    assert (taken["status"], taken["serviceId"]) == ("running", "host:ws1:1:aaaaaa")
    second = api.post(f"{{api}}/commands/{asked['id']}/claim",
                      json={"serviceId": "host:ws1:2:bbbbbb"})
    assert second.status_code == 409 and "running already" in second.json()["detail"]
    assert ok(api.get("{api}/commands", params={"site": ["ws1"]})) == []

    finish = {"ok": True, "result": {"added": 3, "reset": 1}}
    wrong = api.post(f"{{api}}/commands/{asked['id']}/finish",
                     json={"serviceId": "host:ws1:2:bbbbbb", **finish})
    assert wrong.status_code == 409
    done = ok(api.post(f"{{api}}/commands/{asked['id']}/finish",
                       json={"serviceId": "host:ws1:1:aaaaaa", **finish}))
    assert (done["status"], done["result"]) == ("done", {"added": 3, "reset": 1})
    assert ok(api.get("{api}/proj/commands"))[0] == done
    assert command_events(api, cursor) == [("validate", "queued"), ("validate", "running"),
                                           ("validate", "done")]


def test_a_command_of_a_service_that_went_quiet_is_taken_again(api, server, project):
    asked = ok(ask(api, "ws1", action="validate"), 201)
    beat(api, "host:ws1:1:aaaaaa", "ws1")
    ok(api.post(f"{{api}}/commands/{asked['id']}/claim", json={"serviceId": "host:ws1:1:aaaaaa"}))
    beat(api, "host:ws1:2:bbbbbb", "ws1")
    with server.app.state.db.write() as conn:  # the first service stopped a minute ago
        conn.execute(update(tables.services).where(
            tables.services.c.service_id == "host:ws1:1:aaaaaa").values(
            last_seen=time.time() - 61))
    assert [c["id"] for c in ok(api.get("{api}/commands", params={"site": ["ws1"]}))] \
        == [asked["id"]]
    again = ok(api.post(f"{{api}}/commands/{asked['id']}/claim",
                        json={"serviceId": "host:ws1:2:bbbbbb"}))
    assert again["serviceId"] == "host:ws1:2:bbbbbb"
    late = api.post(f"{{api}}/commands/{asked['id']}/finish",
                    json={"serviceId": "host:ws1:1:aaaaaa", "ok": True})
    assert late.status_code in (403, 409)  # the first one is no longer its service


def test_bad_commands_get_a_clear_4xx(api, project):
    published = publish(api, project)
    studio = ask(api, "studio", action="clear")
    assert studio.status_code == 400 and "never deleted" in studio.json()["detail"]
    no_ids = ask(api, "ws1", action="remove")
    assert no_ids.status_code == 400 and "representationIds" in no_ids.json()["detail"]
    stray = ask(api, "ws1", action="validate", representationIds=published.ids)
    assert stray.status_code == 400
    unknown = ask(api, "ws1", action="remove",
                  representationIds=["00000000-0000-0000-0000-000000000001"])
    assert unknown.status_code == 400 and "not in project" in unknown.json()["detail"]
    assert ask(api, "ws1", action="format").status_code == 422
    assert ask(api, "bad site", action="validate").status_code in (404, 422)
    assert api.post("{api}/nope/sites/ws1/commands",
                    json={"action": "validate"}).status_code == 404
    assert ok(ask(api, "ws1", action="remove", representationIds=published.ids),
              201)["representationIds"] == published.ids


def test_artists_delete_files_only_on_the_site_their_own_service_runs(api, project):
    make_project(api, "other")
    mine = artist(api, ["proj"])
    assert ok(ask(mine, "ws1", action="validate"), 201)["status"] == "queued"
    refused = ask(mine, "ws1", action="clear")
    assert refused.status_code == 403 and "may not delete files" in refused.json()["detail"]
    beat(mine, "host:ws1:1:aaaaaa", "ws1")
    cleared = ok(ask(mine, "ws1", action="clear"), 201)
    assert ask(mine, "ws2", action="clear").status_code == 403
    assert ok(ask(api, "ws2", action="clear"), 201)["status"] == "queued"  # admin: anywhere

    # its service takes commands on its own site only
    ws2 = ok(api.get("{api}/proj/commands", params={"site": "ws2"}))[0]
    claim = {"serviceId": "host:ws1:1:aaaaaa"}
    assert mine.post(f"{{api}}/commands/{ws2['id']}/claim", json=claim).status_code == 403
    ok(mine.post(f"{{api}}/commands/{cleared['id']}/claim", json=claim))

    # another project's commands are not there for it
    theirs = ok(api.post("{api}/other/sites/ws1/commands", json={"action": "validate"}), 201)
    listed = ok(mine.get("{api}/commands", params={"site": ["ws1"]}))
    assert theirs["id"] not in [c["id"] for c in listed]
    assert mine.post(f"{{api}}/commands/{theirs['id']}/claim", json=claim).status_code == 404
    assert mine.get("{api}/other/commands").status_code == 403


def test_only_a_queued_command_can_be_cancelled(api, project):
    first = ok(ask(api, "ws1", action="validate"), 201)
    second = ok(ask(api, "ws1", action="validate"), 201)
    ok(api.delete(f"{{api}}/proj/commands/{first['id']}"), 204)
    assert ok(api.get("{api}/proj/commands"))[1]["status"] == "cancelled"
    assert ok(api.get("{api}/commands", params={"site": ["ws1"]}))[0]["id"] == second["id"]
    beat(api, "host:ws1:1:aaaaaa", "ws1")
    ok(api.post(f"{{api}}/commands/{second['id']}/claim", json={"serviceId": "host:ws1:1:aaaaaa"}))
    running = api.delete(f"{{api}}/proj/commands/{second['id']}")
    assert running.status_code == 409 and "only a queued" in running.json()["detail"]
    assert api.delete(f"{{api}}/proj/commands/{first['id']}").status_code == 409
