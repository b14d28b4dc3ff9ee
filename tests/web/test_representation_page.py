"""The representation page updates in place: after each action, and on live events."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.server.helpers import ok
from tests.studio import LOCAL_ID, PROJECT, Throttle
from tests.web.conftest import sign_in
from tests.web.test_actions import sites_of

QUEUED, OK = 1, 4


def file_rows(page, site: str):  # type: ignore[no-untyped-def]
    return page.locator(f'#files tr[data-site="{site}"]')


def same_page(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("window.__marker") == 1


def test_add_and_remove_a_site_without_a_reload(page, api, server, studio, screenshot):
    rep = studio.publish("sh010", [1000, 2000, 3000])
    files = rep["files"]
    sign_in(page, next_path=f"/projects/{PROJECT}/representations/{rep['id']}")
    sites = page.locator("#sites")
    expect(sites.locator('tr[data-site="studio"]')).to_contain_text("ok")
    expect(sites.locator(f'tr[data-site="{LOCAL_ID}"]')).to_have_count(0)
    expect(file_rows(page, LOCAL_ID)).to_have_count(0)
    page.evaluate("window.__marker = 1")

    # add to the local site: a new row in both tables, every file queued there
    page.get_by_label("Add to site").select_option(LOCAL_ID)
    add = page.get_by_role("button", name="Add", exact=True)
    add.click()
    local = sites.locator(f'tr[data-site="{LOCAL_ID}"]')
    expect(local.locator("td.status")).to_have_text("queued")
    expect(file_rows(page, LOCAL_ID)).to_have_count(len(files))
    for file in files:
        row = page.locator(f'#files tr[data-file="{file["id"]}"][data-site="{LOCAL_ID}"]')
        expect(row.locator("td.status")).to_contain_text("queued")
        expect(page.locator(f'#files tr[data-file="{file["id"]}"]').first.locator(
            "td.path")).to_have_attribute("rowspan", "2")
    expect(page.get_by_label("Priority on").locator(f'option[value="{LOCAL_ID}"]')).to_have_count(1)
    expect(add).to_be_focused()  # the button that acted keeps the focus
    assert sites_of(api, [rep["id"]], LOCAL_ID)[rep["id"]]["status"] == QUEUED
    assert same_page(page)
    screenshot("representation-added")

    # the new row's buttons work: pause and unpause toggle in place
    local.get_by_role("button", name="Pause", exact=True).click()
    toggle = local.get_by_role("button", name="Unpause", exact=True)
    expect(toggle).to_be_focused()
    expect(file_rows(page, LOCAL_ID).first.locator("td.status")).to_contain_text("paused")
    assert sites_of(api, [rep["id"]], LOCAL_ID)[rep["id"]]["paused"] is True
    toggle.click()
    expect(local.get_by_role("button", name="Pause", exact=True)).to_be_focused()
    expect(file_rows(page, LOCAL_ID).first.locator("td.status")).to_contain_text("queued")
    assert sites_of(api, [rep["id"]], LOCAL_ID)[rep["id"]]["paused"] is False

    # adding a site it is on already is refused on the page, nothing is sent
    add.click()
    expect(page.locator("#toast")).to_contain_text(f"Already on {LOCAL_ID}")

    # remove from the local site: its rows go, focus goes on to "Add to site"
    local.get_by_role("button", name="Remove").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(local).to_have_count(0)
    expect(file_rows(page, LOCAL_ID)).to_have_count(0)
    expect(file_rows(page, "studio")).to_have_count(len(files))
    expect(page.get_by_label("Priority on").locator(f'option[value="{LOCAL_ID}"]')).to_have_count(0)
    expect(page.get_by_label("Add to site")).to_be_focused()
    assert sites_of(api, [rep["id"]], LOCAL_ID) == {}
    assert same_page(page)

    # removing the last site leaves the empty page, and adding one brings the tables back
    sites.locator('tr[data-site="studio"]').get_by_role("button", name="Remove").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(page.get_by_text("No site has this representation yet.")).to_be_visible()
    expect(sites).to_be_hidden()
    expect(page.get_by_label("Priority on")).to_be_hidden()
    expect(page.locator("#files tbody tr")).to_have_count(len(files))
    expect(page.locator("#files tbody tr").first).to_contain_text("on no site")
    assert sites_of(api, [rep["id"]], "studio") == {}
    page.get_by_label("Add to site").select_option(LOCAL_ID)
    add.click()
    expect(local.locator("td.status")).to_have_text("queued")
    expect(page.get_by_text("No site has this representation yet.")).to_be_hidden()
    expect(page.get_by_label("Priority on")).to_have_value(LOCAL_ID)
    expect(file_rows(page, LOCAL_ID)).to_have_count(len(files))
    expect(page.locator("#files")).not_to_contain_text("on no site")
    assert sites_of(api, [rep["id"]], LOCAL_ID)[rep["id"]]["status"] == QUEUED
    assert same_page(page)


def test_a_change_made_elsewhere_shows_live(page, api, server, studio):
    rep = studio.publish("sh010", [1000, 2000])
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    sign_in(page, next_path=f"/projects/{PROJECT}/representations/{rep['id']}")
    local = page.locator(f'#sites tr[data-site="{LOCAL_ID}"]')
    expect(local.locator("td.status")).to_have_text("queued")
    expect(page.locator("#live")).to_have_text("live")
    page.evaluate("window.__marker = 1")
    ok(api.post(f"{{api}}/{PROJECT}/state/{rep['id']}/{LOCAL_ID}", json={"status": OK}), 204)
    expect(local.locator("td.status")).to_have_text("ok")
    for row in file_rows(page, LOCAL_ID).all():
        expect(row.locator("td.status")).to_contain_text("ok")
    # and a site removed elsewhere leaves the page
    ok(api.delete(f"{{api}}/{PROJECT}/state/{rep['id']}/{LOCAL_ID}"), 204)
    expect(local).to_have_count(0)
    expect(file_rows(page, LOCAL_ID)).to_have_count(0)
    assert same_page(page)


@pytest.mark.slow
def test_progress_moves_the_file_and_the_site_summary(page, api, server, studio, tmp_path):
    studio.artist.LOG_PROGRESS_SEC = 0.25
    rep = studio.publish("big", [32 * 1024 * 1024], name="exr")
    sign_in(page, next_path=f"/projects/{PROJECT}/representations/{rep['id']}")
    expect(page.locator("#live")).to_have_text("live")
    page.evaluate("window.__marker = 1")
    service = studio.artist.create_service(state_dir=tmp_path / "state")
    throttle = service.observer = Throttle(0.25)
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    service.start()
    try:
        local = page.locator(f'#sites tr[data-site="{LOCAL_ID}"]')
        expect(local.locator("td.status")).to_contain_text("in progress", timeout=20_000)
        file_bar = f'#files tr[data-site="{LOCAL_ID}"] progress'
        site_bar = f'#sites tr[data-site="{LOCAL_ID}"] progress'
        page.wait_for_function(
            "([f, s]) => document.querySelector(f)?.value > 0.1 && "
            "document.querySelector(s)?.value > 0.1", arg=[file_bar, site_bar], timeout=30_000)
        throttle.seconds = 0
        expect(local.locator("td.status")).to_have_text("ok", timeout=60_000)
        expect(file_rows(page, LOCAL_ID).locator("td.status")).to_contain_text("ok")
    finally:
        service.stop()
    assert same_page(page)
