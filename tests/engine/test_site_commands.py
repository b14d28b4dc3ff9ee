"""Site commands asked for through the server and carried out by the running service of the
site: validate, clear, remove files; a failure is reported and keeps the site's state."""
from __future__ import annotations

import shutil
import time

from sitesync_addon.status import SiteSyncStatus
from tests.studio import LOCAL_ID, PROJECT


def wait_for(condition, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return found


def carried_out(studio, command: dict) -> dict:  # type: ignore[no-untyped-def]
    def finished() -> dict | None:
        for found in studio.publisher.client.commands.of_project(PROJECT):
            if found["id"] == command["id"] and found["status"] in ("done", "failed"):
                return found
        return None

    return wait_for(finished)


def on_site(studio, rep: dict) -> bool:  # type: ignore[no-untyped-def]
    return studio.artist.is_representation_on_site(PROJECT, rep["id"], LOCAL_ID)


def local_states(studio, rep: dict) -> dict:  # type: ignore[no-untyped-def]
    return studio.publisher.site_states(PROJECT, [rep["id"]], [LOCAL_ID]).get(rep["id"], {})


def test_validate_records_present_files_and_requeues_missing_ones(studio, running_service):
    synced = studio.publish("sh010", [1000, 2000])
    studio.artist.add_site(PROJECT, synced["id"], LOCAL_ID)
    wait_for(lambda: on_site(studio, synced))
    copied = studio.publish("sh020", [3000, 4000, 5000])  # put there by hand, unrecorded
    for file in copied["files"]:
        studio.local_path(file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(studio.studio_path(file), studio.local_path(file))
    studio.local_path(synced["files"][0]).unlink()

    command = studio.publisher.client.commands.request(PROJECT, LOCAL_ID, "validate",
                                                       reset_missing=True)
    done = carried_out(studio, command)
    assert (done["status"], done["result"]) == ("done", {"added": 3, "reset": 1})
    assert done["serviceId"] == running_service.config.service_id
    assert on_site(studio, copied)
    # the missing file was queued again, and the service (woken) brings it back
    wait_for(lambda: studio.local_path(synced["files"][0]).exists() and on_site(studio, synced))


def test_clear_deletes_the_sites_copies_and_forgets_the_site(studio, running_service):
    reps = [studio.publish(f"sh{n:03d}", [1000, 2000]) for n in range(3)]
    for rep in reps:
        studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    wait_for(lambda: all(on_site(studio, rep) for rep in reps))

    command = studio.publisher.client.commands.request(PROJECT, LOCAL_ID, "clear")
    done = carried_out(studio, command)
    assert (done["status"], done["result"]) == ("done", {"files": 6, "representations": 3})
    assert [p for p in studio.local_root.rglob("*") if p.is_file()] == []
    assert all(local_states(studio, rep) == {} for rep in reps)
    assert all(studio.studio_path(f).exists() for rep in reps for f in rep["files"])


def test_remove_deletes_only_the_chosen_representations(studio, running_service):
    gone, kept = studio.publish("sh010", [1000, 2000]), studio.publish("sh020", [3000])
    for rep in (gone, kept):
        studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    wait_for(lambda: on_site(studio, gone) and on_site(studio, kept))

    command = studio.publisher.client.commands.request(PROJECT, LOCAL_ID, "remove",
                                                       representation_ids=[gone["id"]])
    done = carried_out(studio, command)
    assert (done["status"], done["result"]) == ("done", {"files": 2, "representations": 1})
    assert not any(studio.local_path(f).exists() for f in gone["files"])
    assert local_states(studio, gone) == {}
    assert studio.local_path(kept["files"][0]).exists() and on_site(studio, kept)


def test_a_file_that_cannot_be_deleted_fails_the_command_and_keeps_the_state(studio,
                                                                            running_service):
    rep = studio.publish("sh010", [1000])
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    wait_for(lambda: on_site(studio, rep))
    target = studio.local_path(rep["files"][0])
    target.unlink()  # a folder in its place cannot be deleted as a file (even by root)
    (target / "held").mkdir(parents=True)
    command = studio.publisher.client.commands.request(PROJECT, LOCAL_ID, "remove",
                                                       representation_ids=[rep["id"]])
    failed = carried_out(studio, command)
    assert failed["status"] == "failed"
    assert failed["message"] and "sh010" in failed["message"]
    files = local_states(studio, rep)[LOCAL_ID]["files"]
    assert [f["status"] for f in files.values()] == [SiteSyncStatus.OK]
    assert (target / "held").is_dir()
