"""A request whose transaction PostgreSQL aborts to break a deadlock is run again, instead of
answering 503: another writer that locked the same rows in the other order goes first."""
import threading
import time

import pytest
from sqlalchemy import select, text, update

from server_addon.sitesync.tables import file_states, site_states
from tests.server.helpers import make_project, ok, publish, stamp

QUEUED, OK = 1, 4


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_deadlocked_state_change_is_run_again(api, server):
    project = make_project(api)
    rep = publish(api, project, files=2).ids[0]
    stamp(api, project, [rep], "ws1", QUEUED)
    engine = server.app.state.db.engine
    answers = []
    with engine.connect() as side, side.begin():
        # This side locks the files first and is never the one PostgreSQL aborts.
        side.execute(text("SET LOCAL deadlock_timeout = '20s'"))
        side.execute(select(file_states).where(file_states.c.representation_id == rep)
                     .with_for_update()).all()
        change = threading.Thread(target=lambda: answers.append(api.post(
            f"{{api}}/{project}/state/{rep}/ws1", json={"status": OK})))
        change.start()
        deadline = time.monotonic() + 20
        with engine.connect() as probe:  # until the request waits for the files' locks
            while not probe.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")).scalar_one():
                # pg_stat_activity is read once per transaction: end it to see new waits.
                probe.rollback()
                assert time.monotonic() < deadline, "the request never waited"
                time.sleep(0.02)
        # ... and now wants the site state the request holds: a deadlock.
        side.execute(update(site_states).where(site_states.c.representation_id == rep)
                     .values(updated_at=time.time()))
    change.join(30)
    assert [a.status_code for a in answers] == [204], [a.text for a in answers]
    (state,) = ok(api.get(f"{{api}}/{project}/state/representations",
                          params={"representationIds": [rep], "siteNames": ["ws1"]}))
    assert state["sites"][0]["status"] == OK
