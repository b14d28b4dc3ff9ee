"""The typed client's dashboard calls: summary, failures, retrying them, services."""
from __future__ import annotations

import pytest

from sitesync_addon.errors import ServerError
from tests.client.conftest import PROJECT, Env, both_databases
from tests.server.helpers import ok, stamp

OK, QUEUED, FAILED = 4, 1, 2


@both_databases
def test_summary_failures_and_retry(env: Env) -> None:
    ok(env.api.put(f"{{api}}/settings/{PROJECT}", json={"enabled": True,
                                                        "config": {"retry_cnt": 1}}))
    rep = env.publish(files=2).representations[0]
    stamp(env.api, PROJECT, [rep["id"]], "ws1", QUEUED)
    ok(env.api.post(f"{{api}}/{PROJECT}/state/{rep['id']}/ws1", json={
        "files": [{"id": f["id"], "error": "disk full"} for f in rep["files"]]}), 204)
    state = env.addon.client.state

    (everything,) = state.summary()
    assert everything == state.summary(PROJECT)
    assert everything["name"] == PROJECT and everything["enabled"] is True
    assert everything["sites"] == [{"site": "ws1", "ok": 0, "queued": 0, "inProgress": 0,
                                    "failed": 1, "paused": 0, "bytesQueued": 0}]
    (group,) = state.failures(PROJECT)
    assert (group["site"], group["message"], group["files"]) == ("ws1", "disk full", 2)
    assert state.failures(PROJECT, site="studio") == []
    assert state.retry_failures(PROJECT, "disk full", "ws1") == 2
    assert state.summary(PROJECT)["sites"][0]["queued"] == 1
    assert state.summary(PROJECT)["sites"][0]["bytesQueued"] == 300
    with pytest.raises(ServerError, match="422"):
        state.retry_failures(PROJECT, "x", "not a site")


def test_services_heartbeat_and_list(env: Env) -> None:
    services = env.addon.client.services
    services.heartbeat("h:ws1:1:abcdef", "ws1", "h", "0.1.0", 1, [PROJECT], 2, 10.0)
    (listed,) = services.list()
    assert (listed["serviceId"], listed["filesInFlight"], listed["bytesPerSecond"]) == (
        "h:ws1:1:abcdef", 2, 10.0)
    assert services.list(site="studio") == []
