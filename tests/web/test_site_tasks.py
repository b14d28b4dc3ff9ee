"""Site tasks on the queue page: validate a site, delete some representations' files, clear a
site; a real sync service of the site carries them out. Who sees which task."""
from __future__ import annotations

import shutil
import time

from playwright.sync_api import expect

from sitesync_addon import SiteSyncAddon
from tests.server.helpers import ok
from tests.studio import LOCAL_ID, PROJECT
from tests.web.conftest import make_key, sign_in


def newest_task(page):  # type: ignore[no-untyped-def]
    return page.locator("#tasks tbody tr").first


def local_sites(api, rep_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    found = ok(api.get(f"{{api}}/{PROJECT}/state/representations",
                       params={"representationIds": [rep_id], "siteNames": [LOCAL_ID]}))
    return [site["name"] for item in found for site in item["sites"]]


def test_validate_remove_files_and_clear_from_the_queue_page(page, api, studio,
                                                            running_service,
                                                            screenshot):
    synced, other = studio.publish("sh010", [1000, 2000]), studio.publish("sh020", [3000])
    for rep in (synced, other):
        studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    assert running_service.is_alive()
    studio.artist.reset_timer()
    handmade = studio.publish("sh030", [4000])  # copied by hand: validate finds it
    for file in handmade["files"]:
        studio.local_path(file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(studio.studio_path(file), studio.local_path(file))

    sign_in(page, next_path=f"/projects/{PROJECT}")
    page.evaluate("window.__same_page = true")
    expect(page.locator(f'#queue tr[data-rep="{other["id"]}"] td[data-side="local"]')) \
        .to_contain_text("ok", timeout=20_000)
    page.locator("#site-tasks summary").click()
    page.get_by_label("Site of the task").select_option(LOCAL_ID)
    page.get_by_role("button", name="Validate the site").click()
    expect(newest_task(page)).to_contain_text("done", timeout=20_000)
    expect(newest_task(page)).to_contain_text("1 added")
    assert local_sites(api, handmade["id"]) == [LOCAL_ID]
    screenshot("site-tasks")

    # remove one representation from the machine, with its files
    page.locator(f'input.row-select[value="{synced["id"]}"]').check()
    page.get_by_label("Site", exact=True).select_option(LOCAL_ID)
    page.get_by_label("and delete its files there").check()
    page.get_by_role("button", name="Remove from site").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("deletes their files there")
    dialog.get_by_role("button", name="Remove").click()
    expect(newest_task(page)).to_contain_text("delete files of 1 representation(s)")
    expect(newest_task(page)).to_contain_text("done", timeout=20_000)
    expect(newest_task(page)).to_contain_text("2 files, 1 representations")
    assert not any(studio.local_path(f).exists() for f in synced["files"])
    assert local_sites(api, synced["id"]) == []
    assert studio.local_path(other["files"][0]).exists()

    # clear the machine's site from the project
    page.get_by_role("button", name="Clear the site from the project").click()
    page.get_by_role("dialog").get_by_role("button", name="Clear the site").click()
    expect(newest_task(page)).to_contain_text("clear the site")
    expect(newest_task(page)).to_contain_text("done", timeout=20_000)
    assert [p for p in studio.local_root.rglob("*") if p.is_file()] == []
    assert local_sites(api, other["id"]) == [] and local_sites(api, handmade["id"]) == []
    assert all(studio.studio_path(f).exists() for f in synced["files"] + other["files"])
    assert page.evaluate("window.__same_page") is True


def test_a_task_waits_for_its_sites_service_and_can_be_cancelled(page, studio):
    sign_in(page, next_path=f"/projects/{PROJECT}")
    page.locator("#site-tasks summary").click()
    page.get_by_label("Site of the task").select_option(LOCAL_ID)
    page.get_by_label("queue again files missing there").check()
    page.get_by_role("button", name="Validate the site").click()
    expect(newest_task(page)).to_contain_text("queue missing again")
    expect(newest_task(page)).to_contain_text(f"waiting: no sync service of site {LOCAL_ID}")
    newest_task(page).get_by_role("button", name="Cancel").click()
    expect(newest_task(page)).to_contain_text("cancelled")
    (command,) = studio.publisher.client.commands.of_project(PROJECT)
    assert command["status"] == "cancelled"


def test_an_artist_deletes_files_only_where_its_own_service_runs(page, api, server, studio,
                                                                tmp_path):
    key = make_key(api, "artist", [PROJECT])
    sign_in(page, key=key["key"], next_path=f"/projects/{PROJECT}")
    expect(page.locator("#task-validate")).to_be_attached()  # in the closed panel
    expect(page.locator("#task-clear")).to_have_count(0)
    expect(page.locator("#remove-files")).to_have_count(0)

    # its own machine's service runs with its key: now it may clear that site, not studio
    machine = SiteSyncAddon(server.url, key["key"], site_id=LOCAL_ID)
    running = machine.create_service(state_dir=tmp_path / "state")
    running.start()
    try:
        deadline = time.monotonic() + 20
        while not any(s["site"] == LOCAL_ID for s in ok(api.get("{api}/services"))):
            assert time.monotonic() < deadline, "the service sent no heartbeat"
            time.sleep(0.05)
        page.reload()
        page.locator("#site-tasks summary").click()
        clear = page.get_by_role("button", name="Clear the site from the project")
        page.get_by_label("Site of the task").select_option(LOCAL_ID)
        expect(clear).to_be_enabled()
        page.get_by_label("Site of the task").select_option("studio")
        expect(clear).to_be_disabled()
    finally:
        running.stop()
