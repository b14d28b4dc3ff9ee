"""A claim whose answer is lost (the server leased the files, the service never heard): the
service gives those files back at its next pass, instead of leaving them leased and unmoved
for the whole lease (5 minutes by default)."""
from __future__ import annotations

import threading

from sitesync_addon.errors import ServerUnreachable
from tests.studio import LOCAL_ID, PROJECT

LEASE_SECONDS = 300.0  # the default: far longer than the test waits


def test_the_files_of_a_claim_whose_answer_was_lost_move_at_once(studio, tmp_path,
                                                                   monkeypatch):
    rep = studio.publish("sh010", [10, 2000, 30_000])
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    service = studio.artist.create_service(state_dir=tmp_path / "state",
                                           lease_seconds=LEASE_SECONDS)
    work = service.client.work
    real_claim = work.claim
    lost = []

    def claim_and_lose_the_first_answer(*args, **kwargs):  # type: ignore[no-untyped-def]
        items = real_claim(*args, **kwargs)
        if not lost:
            lost.extend(items)
            raise ServerUnreachable("POST work/claim: the connection dropped before the answer")
        return items

    monkeypatch.setattr(work, "claim", claim_and_lose_the_first_answer)
    result: list[bool] = []
    runner = threading.Thread(target=lambda: result.append(service.run_until_idle()))
    runner.start()
    runner.join(60)
    if runner.is_alive():
        service.stop()
        runner.join(30)
    assert len(lost) == 3, "the first claim leased every file, and its answer was lost"
    assert result == [True], "the leased files were not given back: they waited out the lease"
    assert studio.artist.is_representation_on_site(PROJECT, rep["id"], LOCAL_ID)
    for file in rep["files"]:
        assert studio.local_path(file).stat().st_size == file["size"]
