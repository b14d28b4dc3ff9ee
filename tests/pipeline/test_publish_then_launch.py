"""The whole pipeline: machine A publishes a workfile and its references with pyblish into its
own local root; its sync service takes them to the studio; on machine B the launch hook has
B's sync service bring them down and opens the workfile as the next version."""
from __future__ import annotations

from sitesync_addon import SiteSyncAddon
from sitesync_addon.hashing import hash_file
from sitesync_addon.launch_hooks.runner import run_launch
from sitesync_addon.status import SiteSyncStatus
from sitesync_addon.workfiles import REFERENCE_LINK, WORKFILE_PRODUCT_TYPE, workfile_product_name
from tests.conftest import ADMIN_KEY
from tests.launch.conftest import FOLDER, TASK
from tests.publish.conftest import errors, incoming, publish, published
from tests.studio import PROJECT

MACHINE_A = "machine-a"


def test_publish_on_a_then_launch_on_b(studio, machine_b, sync_b, tmp_path):
    root_a = studio.tmp / MACHINE_A
    root_a.mkdir()
    settings = f"/api/{studio.publisher.endpoint_prefix}/settings/{PROJECT}"
    studio.publisher.client.http.put(f"{settings}/site/{MACHINE_A}", json={
        "active_site": "local", "remote_site": "studio",
        "local_roots": [{"name": "work", "path": str(root_a)}]})
    machine_a = SiteSyncAddon(studio.url, ADMIN_KEY, site_id=MACHINE_A)

    references = publish({"folder": "assets/chair", "product": "modelMain",
                          "productType": "model", "version": 1,
                          "representations": [{"name": "abc", "files": [
                              incoming(studio, "chair.abc", 50_000)]}]},
                         {"folder": "assets/chair", "product": "textureMain",
                          "productType": "texture", "version": 1,
                          "representations": [{"name": "png", "files": [
                              incoming(studio, "chair.png", 12_000)]}]},
                         addon=machine_a)
    assert not errors(references)
    refs = [rep for reps in published(references).values() for rep in reps]
    workfile = publish({"folder": FOLDER, "product": workfile_product_name(TASK),
                        "productType": WORKFILE_PRODUCT_TYPE, "version": 4, "task": TASK,
                        "links": [{"versionId": r["versionId"], "type": REFERENCE_LINK}
                                  for r in refs],
                        "representations": [{"name": "nk", "files": [
                            incoming(studio, "sh010_compositing_v004.nk", 33_000)]}]},
                       addon=machine_a)
    assert not errors(workfile)
    [published_workfile] = published(workfile)[workfile_product_name(TASK)]
    everything = [published_workfile, *refs]
    for rep in everything:  # on A's own root, on its way to the studio
        states = machine_a.site_states(PROJECT, [rep["id"]])[rep["id"]]
        assert states[MACHINE_A]["status"] == SiteSyncStatus.OK
        assert states["studio"]["status"] == SiteSyncStatus.QUEUED

    sync_a = machine_a.create_service(state_dir=tmp_path / "state-a")
    assert sync_a.run_until_idle()  # A's files reach the studio
    result = run_launch(machine_b.addon, project=PROJECT, folder=FOLDER, task=TASK,
                        app="nuke/15", log=machine_b.log, progress=machine_b.report,
                        wait_timeout=120)

    for rep in everything:
        assert machine_b.addon.is_representation_on_site(PROJECT, rep["id"], "machine-b")
        for file in rep["files"]:
            on_a = root_a / file["path"].partition("/")[2]
            assert hash_file(machine_b.path_of(file)) == file["hash"] == hash_file(on_a)
    target = machine_b.work_area() / "sh010_compositing_v005.nk"
    assert result.context.workfile_path == target
    assert target.read_bytes() == machine_b.path_of(published_workfile["files"][0]).read_bytes()
