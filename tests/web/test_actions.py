"""Every action of the dashboard, each checked through the REST API; no page reloads."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.server.helpers import ok
from tests.studio import LOCAL_ID, PROJECT
from tests.web.conftest import sign_in

QUEUED, OK, PAUSED = 1, 4, 3


def sites_of(api, rep_ids: list[str], site: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    found = ok(api.get(f"{{api}}/{PROJECT}/state/representations",
                       params={"representationIds": rep_ids, "siteNames": [site]}))
    return {item["representationId"]: item["sites"][0] for item in found if item["sites"]}


def row(page, rep_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'#queue tr[data-rep="{rep_id}"]')


def select_rows(page, rep_ids: list[str]) -> None:  # type: ignore[no-untyped-def]
    for box in page.locator("input.row-select").all():
        if box.get_attribute("value") in rep_ids:
            box.check()
        else:
            box.uncheck()
    expect(page.locator("#selected-count")).to_have_text(f"{len(rep_ids)} selected")


@pytest.fixture
def reps(studio) -> list[dict]:  # type: ignore[no-untyped-def]
    return [studio.publish(f"sh{n:03d}", [1000, 2000]) for n in (10, 20, 30)]


def test_row_actions_change_the_state_without_a_reload(page, api, server, studio, reps,
                                                      screenshot):
    ids = [r["id"] for r in reps]
    sign_in(page, next_path=f"/projects/{PROJECT}")
    expect(page.get_by_label("Local site")).to_have_value(LOCAL_ID)
    page.evaluate("window.__same_page = true")
    two = ids[:2]

    # add to the local site ("get it on my machine")
    select_rows(page, two)
    page.get_by_label("Site", exact=True).select_option(LOCAL_ID)
    page.get_by_role("button", name="Add to site").click()
    for rep_id in two:
        expect(row(page, rep_id).locator('td[data-side="local"]')).to_contain_text("queued")
    assert {k: v["status"] for k, v in sites_of(api, ids, LOCAL_ID).items()} == {
        ids[0]: QUEUED, ids[1]: QUEUED}

    # priority on several rows at once
    page.get_by_label("Priority", exact=True).fill("95")
    page.get_by_role("button", name="Set priority").click()
    for rep_id in two:
        expect(row(page, rep_id).locator("td.priority")).to_have_text("95")
    assert [s["priority"] for s in sites_of(api, two, LOCAL_ID).values()] == [95, 95]

    # pause and unpause on the sites they have
    page.get_by_role("button", name="Pause", exact=True).click()
    for rep_id in two:
        expect(row(page, rep_id).locator('td[data-side="local"]')).to_contain_text("paused")
    assert all(s["paused"] for s in sites_of(api, two, LOCAL_ID).values())
    assert all(s["paused"] for s in sites_of(api, two, "studio").values())
    page.get_by_role("button", name="Unpause").click()
    for rep_id in two:
        expect(row(page, rep_id).locator('td[data-side="local"]')).to_contain_text("queued")
    assert not any(s["paused"] for s in sites_of(api, two, LOCAL_ID).values())
    screenshot("queue-actions")

    # re-sync the remote side (studio) of one row, then its local side
    select_rows(page, [ids[2]])
    page.get_by_role("button", name="Re-sync remote").click()
    expect(row(page, ids[2]).locator('td[data-side="remote"]')).to_contain_text("queued")
    assert sites_of(api, [ids[2]], "studio")[ids[2]]["status"] == QUEUED
    page.get_by_role("button", name="Re-sync local").click()
    expect(row(page, ids[2]).locator('td[data-side="local"]')).to_contain_text("queued")
    assert sites_of(api, [ids[2]], LOCAL_ID)[ids[2]]["status"] == QUEUED

    # remove from a site asks first; cancelling changes nothing
    select_rows(page, two)
    page.get_by_role("button", name="Remove from site").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Remove 2 representation(s) from site ws1")
    dialog.get_by_role("button", name="Cancel").click()
    assert len(sites_of(api, two, LOCAL_ID)) == 2
    page.get_by_role("button", name="Remove from site").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    for rep_id in two:
        expect(row(page, rep_id).locator('td[data-side="local"]')).to_contain_text("not on site")
    assert sites_of(api, two, LOCAL_ID) == {}
    assert page.evaluate("window.__same_page") is True


def test_project_and_server_pause_switches(page, api, server, studio, reps, screenshot):
    studio.artist.add_site(PROJECT, reps[0]["id"], LOCAL_ID)
    sign_in(page)
    project = page.locator(f'section[data-project="{PROJECT}"]')
    expect(project.locator("tr", has_text=LOCAL_ID)).to_contain_text("1")  # one queued
    expect(project.locator("tr", has_text="studio")).to_contain_text("3")  # three OK
    screenshot("projects")
    page.goto(f"/projects/{PROJECT}")
    page.get_by_role("button", name="Pause the project").click()
    expect(page.get_by_role("button", name="Resume the project")).to_have_attribute(
        "aria-pressed", "true")
    assert ok(api.get(f"{{api}}/{PROJECT}/pause")) == {"paused": True}
    page.get_by_role("button", name="Resume the project").click()
    expect(page.get_by_role("button", name="Pause the project")).to_be_visible()
    assert ok(api.get(f"{{api}}/{PROJECT}/pause")) == {"paused": False}

    page.goto("/")
    page.get_by_role("button", name="Pause the server").click()
    page.get_by_role("dialog").get_by_role("button", name="Pause the server").click()
    expect(page.locator("#server-state")).to_contain_text("server paused")
    assert ok(api.get("{api}/pause")) == {"paused": True}
    page.get_by_role("button", name="Resume the server").click()
    expect(page.locator("#server-state")).to_contain_text("server running")
    assert ok(api.get("{api}/pause")) == {"paused": False}


def test_detail_page_actions(page, api, server, studio, reps, screenshot):
    rep = reps[0]
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    sign_in(page, next_path=f"/projects/{PROJECT}/representations/{rep['id']}")
    sites = page.locator("#sites")
    expect(sites.locator(f'tr[data-site="{LOCAL_ID}"]')).to_contain_text("queued")
    for file in rep["files"]:
        cells = page.locator(f'#files tr[data-file="{file["id"]}"]').first
        expect(cells).to_contain_text(file["path"])
        expect(cells).to_contain_text(file["hash"])
    screenshot("representation")
    page.evaluate("window.__same_page = true")

    local = sites.locator(f'tr[data-site="{LOCAL_ID}"]')
    local.get_by_role("button", name="Pause", exact=True).click()
    expect(local.get_by_role("button", name="Unpause", exact=True)).to_be_visible()
    assert sites_of(api, [rep["id"]], LOCAL_ID)[rep["id"]]["paused"] is True
    local.get_by_role("button", name="Unpause", exact=True).click()
    expect(local.get_by_role("button", name="Pause", exact=True)).to_be_visible()
    assert sites_of(api, [rep["id"]], LOCAL_ID)[rep["id"]]["paused"] is False

    page.get_by_label("Priority on").select_option(LOCAL_ID)
    page.get_by_label("Priority, 1 to 1000").fill("77")
    page.get_by_role("button", name="Set priority").click()
    expect(local.locator(".priority")).to_have_text("77")
    assert sites_of(api, [rep["id"]], LOCAL_ID)[rep["id"]]["priority"] == 77

    sites.locator('tr[data-site="studio"]').get_by_role("button", name="Re-sync").click()
    expect(sites.locator('tr[data-site="studio"]')).to_contain_text("queued")
    assert sites_of(api, [rep["id"]], "studio")[rep["id"]]["status"] == QUEUED

    local.get_by_role("button", name="Remove").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(sites.locator(f'tr[data-site="{LOCAL_ID}"]')).to_have_count(0)
    assert sites_of(api, [rep["id"]], LOCAL_ID) == {}
    page.get_by_label("Add to site").select_option(LOCAL_ID)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(sites.locator(f'tr[data-site="{LOCAL_ID}"]')).to_contain_text("queued")
    assert sites_of(api, [rep["id"]], LOCAL_ID)[rep["id"]]["status"] == QUEUED
    assert page.evaluate("window.__same_page") is True


def test_failures_are_grouped_and_a_group_retried(page, api, server, studio, reps, screenshot):
    rep = reps[0]
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    for _ in range(3):  # retry_cnt 3: FAILED on the third error
        ok(api.post(f"{{api}}/{PROJECT}/state/{rep['id']}/{LOCAL_ID}", json={"files": [
            {"id": f["id"], "error": "disk full on ws1"} for f in rep["files"]]}), 204)
    sign_in(page, next_path=f"/projects/{PROJECT}/failures")
    table = page.locator("#failures")
    expect(table).to_contain_text("disk full on ws1")
    expect(table.locator("tbody tr").first).to_contain_text(str(len(rep["files"])))
    screenshot("failures")
    page.get_by_role("button", name="Retry this group").click()
    expect(table).to_contain_text(f"{len(rep['files'])} queued again")
    assert sites_of(api, [rep["id"]], LOCAL_ID)[rep["id"]]["status"] == QUEUED
    # and the queue shows the failure's message on a failed row
    for _ in range(3):
        ok(api.post(f"{{api}}/{PROJECT}/state/{rep['id']}/{LOCAL_ID}", json={"files": [
            {"id": rep["files"][0]["id"], "error": "checksum mismatch"}]}), 204)
    page.goto(f"/projects/{PROJECT}?localStatusFilter=2")
    expect(row(page, rep["id"]).locator('td[data-side="local"]')).to_contain_text(
        re.compile(r"failed\s+checksum mismatch"))
