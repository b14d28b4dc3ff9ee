"""CopyLastPublishedWorkfile end to end: machine A publishes, machine B launches, the real sync
service of machine B downloads, the workfile lands in B's work area as the next version."""
from __future__ import annotations

import pytest

from sitesync_addon.hashing import hash_file
from sitesync_addon.launch_hooks.base import LaunchError
from sitesync_addon.launch_hooks.copy_last_published_workfile import LAUNCH_PRIORITY, _copy_new
from sitesync_addon.launch_hooks.runner import LaunchResult, run_launch
from tests.conftest import both_databases
from tests.launch.conftest import (FOLDER, MACHINE_B, TASK, Machine, publish_reference,
                                   publish_workfile)
from tests.studio import PROJECT, Studio


def launch(machine: Machine, **options) -> LaunchResult:  # type: ignore[no-untyped-def]
    """What an artist's launcher does on machine B: the addon's own hooks, no command."""
    return run_launch(machine.addon, project=PROJECT, folder=FOLDER, task=TASK, app="nuke/15",
                      log=machine.log, progress=machine.report, **options)


def publish_history(studio: Studio) -> tuple[list[dict], dict]:
    """Workfile v001..v003 of the task; v003 references a model."""
    reference = publish_reference(studio)
    workfiles = [publish_workfile(studio, 1), publish_workfile(studio, 2),
                 publish_workfile(studio, 3, references=[reference])]
    publish_workfile(studio, 9, task="lighting")  # another task's workfile: not ours
    return workfiles, reference


def last_event_id(machine: Machine) -> int:
    return machine.addon.client.http.get(f"/api/{machine.addon.endpoint_prefix}/events",
                                 params={"timeout": 0})["lastId"]


def state_on_b(machine: Machine, rep: dict) -> dict | None:
    return machine.addon.get_repre_sync_state(PROJECT, rep["id"], MACHINE_B, "studio")


@both_databases
def test_last_published_workfile_and_its_references_reach_b_and_open_as_next_version(
        studio, machine_b, sync_b):
    workfiles, reference = publish_history(studio)
    before = last_event_id(machine_b)
    result = launch(machine_b, wait_timeout=120)

    v003 = workfiles[2]
    for rep in (v003, reference):  # downloaded to B, bytes identical to the studio's
        for file in rep["files"]:
            assert hash_file(machine_b.path_of(file)) == file["hash"]
            assert machine_b.path_of(file).read_bytes() == studio.studio_path(file).read_bytes()
        assert machine_b.addon.is_representation_on_site(PROJECT, rep["id"], MACHINE_B)
        assert state_on_b(machine_b, rep)["priority"] == LAUNCH_PRIORITY  # ahead of the rest
    for older in workfiles[:2]:
        assert state_on_b(machine_b, older) is None  # only the last one is fetched

    target = machine_b.work_area() / "sh010_compositing_v004.nk"
    assert result.context.workfile_path == target
    assert target.read_bytes() == studio.studio_path(v003["files"][0]).read_bytes()
    assert sorted(p.name for p in machine_b.work_area().iterdir()) == [target.name]
    assert result.hooks == ["CopyLastPublishedWorkfile"]

    events = machine_b.addon.client.http.get(f"/api/{machine_b.addon.endpoint_prefix}/events",
                                     params={"after": before, "timeout": 0})["events"]
    assert {"reset_timer"} <= {e["kind"] for e in events if e["project"] == PROJECT}
    finished = {label for label, fraction in machine_b.progress if fraction == 1.0}
    assert any(v003["id"] in label for label in finished)
    assert any(reference["id"] in label for label in finished)

    # The next launch finds the files on B already: nothing to wait for, even with no service.
    sync_b.stop()
    target.unlink()
    again = launch(machine_b, wait_timeout=0)
    assert again.context.workfile_path == target and target.is_file()


def test_sync_off_for_the_project_skips(studio, machine_b):
    publish_history(studio)
    settings = f"/api/{studio.publisher.endpoint_prefix}/settings/{PROJECT}"
    studio.publisher.client.http.put(settings, json={"enabled": False})
    result = launch(machine_b, wait_timeout=0)
    assert result.context.workfile_path is None
    assert any("site sync is off" in message for message in machine_b.messages)
    assert not machine_b.work_area().exists()


def test_an_explicit_workfile_skips(studio, machine_b, tmp_path):
    workfiles, _ = publish_history(studio)
    chosen = tmp_path / "mine.nk"
    result = launch(machine_b, workfile=chosen, wait_timeout=0)
    assert result.context.workfile_path == chosen
    assert any("a workfile was given" in message for message in machine_b.messages)
    assert state_on_b(machine_b, workfiles[2]) is None  # nothing requested


def test_an_existing_local_workfile_skips(studio, machine_b):
    workfiles, _ = publish_history(studio)
    mine = machine_b.work_area() / "sh010_compositing_v007.nk"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"the artist's own work")
    result = launch(machine_b, wait_timeout=0)
    assert result.context.workfile_path is None
    assert any(str(mine) in message for message in machine_b.messages)
    assert state_on_b(machine_b, workfiles[2]) is None
    assert mine.read_bytes() == b"the artist's own work"


def test_no_published_workfile_starts_without_one(studio, machine_b):
    publish_workfile(studio, 1, task="lighting")
    result = launch(machine_b, wait_timeout=0)
    assert result.context.workfile_path is None
    assert any("has no published workfile" in message for message in machine_b.messages)


def test_without_a_running_service_the_wait_times_out_naming_the_representation(
        studio, machine_b):
    workfiles, _ = publish_history(studio)
    with pytest.raises(LaunchError, match=rf"timed out after 0.3 s waiting for "
                                          rf".*{workfiles[2]['id']}.* to reach site "
                                          rf"'{MACHINE_B}'"):
        launch(machine_b, wait_timeout=0.3)
    assert state_on_b(machine_b, workfiles[2])["priority"] == LAUNCH_PRIORITY  # requested
    assert not machine_b.work_area().exists()


def test_a_source_that_keeps_failing_ends_in_a_clear_error(studio, machine_b, sync_b):
    workfiles, _ = publish_history(studio)
    published = studio.studio_path(workfiles[2]["files"][0])
    published.write_bytes(b"x" * published.stat().st_size)  # corrupted after publish
    with pytest.raises(LaunchError) as failed:
        launch(machine_b, wait_timeout=120)
    message = str(failed.value)
    assert f"cannot download shots/sh010/workfileCompositing v003 'nk' ({workfiles[2]['id']})" \
        in message
    assert "failed 2 times" in message and "hash" in message
    assert not machine_b.path_of(workfiles[2]["files"][0]).exists()
    assert not machine_b.work_area().exists()


def test_an_existing_file_is_never_overwritten(tmp_path):
    source, target = tmp_path / "published.nk", tmp_path / "work" / "sh010_comp_v004.nk"
    source.write_bytes(b"published")
    target.parent.mkdir()
    target.write_bytes(b"someone's work")
    with pytest.raises(LaunchError, match="exists already and is never overwritten"):
        _copy_new(source, target)
    assert target.read_bytes() == b"someone's work"


def test_work_area_follows_the_template(studio, machine_b):
    from sitesync_addon.workfiles import workfile_path

    assert workfile_path(machine_b.addon, PROJECT, FOLDER, TASK, 12, ".nk") == \
        machine_b.root / "proj/shots/sh010/work/compositing/sh010_compositing_v012.nk"
    with pytest.raises(ValueError, match="folder '../x' must be a relative path"):
        workfile_path(machine_b.addon, PROJECT, "../x", TASK, 1, "nk")
