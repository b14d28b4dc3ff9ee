"""What each role sees, bad addresses, and text that must stay text."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.server.helpers import make_project, ok
from tests.web.conftest import make_key, sign_in

SECRET = "s3cr3t-access-key-value"
NASTY = "<script>window.__pwned=1</script> \"quoted\" 'single' ünïcødé 東京 <b>bold</b>"


def two_projects_with_a_secret(api) -> None:  # type: ignore[no-untyped-def]
    make_project(api, "mine")
    make_project(api, "theirs")
    ok(api.put("{api}/settings", json={"enabled": True, "sites": [
        {"name": "cloud", "provider": "s3",
         "s3": {"bucket": "vfx", "access_key_id": "AKIA", "secret_access_key": SECRET}}]}))


def test_an_artist_sees_its_projects_only_and_no_secret(page, api, server, page_errors):
    page_errors.allow(r"status of 403")
    two_projects_with_a_secret(api)
    artist = make_key(api, "artist", ["mine"], name="artist ws1")
    sign_in(page, artist["key"])
    expect(page.get_by_role("heading", name="mine", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="theirs", exact=True)).to_have_count(0)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
    expect(nav.get_by_role("link", name="API keys")).to_have_count(0)
    expect(page.get_by_role("button", name="Pause the server")).to_have_count(0)

    for path in ("/projects/theirs", "/settings", "/keys", "/projects/theirs/failures"):
        response = page.goto(path)
        assert response.status == 403, path
        expect(page.get_by_role("alert")).to_be_visible()
        assert SECRET not in page.content()
    for path in ("/", "/projects/mine", "/sites", "/projects/mine/failures",
                 "/?format=json", "/sites?format=json"):
        response = page.goto(path)
        assert response.status == 200, path
        assert SECRET not in page.content(), path
        assert "theirs" not in page.content(), path
    page.goto("/projects/mine")
    expect(page.get_by_role("button", name="Pause the project")).to_have_count(0)
    # and the server refuses what the page does not offer
    status = page.evaluate("""async () => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch("/api/addons/sitesync/0.1.0/pause", {method: "PUT",
            headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
            body: JSON.stringify({paused: true})});
        return r.status;
    }""")
    assert status == 403


def test_admin_settings_page_masks_secrets(page, api, server):
    two_projects_with_a_secret(api)
    sign_in(page, next_path="/settings")
    expect(page.get_by_label("Site “cloud”")).to_contain_text("********")
    assert SECRET not in page.content()
    page.goto("/settings?format=json")
    assert SECRET not in page.content()


def test_unknown_addresses_give_a_404_page(page, api, server, page_errors):
    page_errors.allow(r"status of 404")
    make_project(api, "proj")
    sign_in(page)
    for path in ("/projects/nope", "/projects/proj/representations/not-a-uuid",
                 "/projects/proj/representations/00000000-0000-0000-0000-000000000000",
                 "/no/such/page"):
        response = page.goto(path)
        assert response.status == 404, path
        expect(page.get_by_role("alert")).to_contain_text(re.compile("not found|no page"))
        assert "Traceback" not in page.content()


def test_names_and_messages_render_as_text(page, api, server):
    make_project(api, "proj")
    ok(api.put("{api}/settings/proj", json={"enabled": True}))
    folder = ok(api.post("/api/projects/proj/folders", json={"path": f"shots/{NASTY}"}), 201)
    product = ok(api.post("/api/projects/proj/products",
                          json={"folderId": folder["id"], "name": NASTY}), 201)
    version = ok(api.post("/api/projects/proj/versions",
                          json={"productId": product["id"], "version": 1}), 201)
    rep = ok(api.post("/api/projects/proj/representations", json={
        "versionId": version["id"], "name": NASTY,
        "files": [{"path": "{root[work]}/proj/<script>alert(1)</script>/f\"1'.exr",
                   "size": 10, "hash": "<i>h</i>"}]}), 201)
    ok(api.post(f"{{api}}/proj/state/{rep['id']}/studio", json={"status": 4}), 204)
    ok(api.post(f"{{api}}/proj/state/{rep['id']}/ws1", json={"status": 1}), 204)
    for _ in range(3):
        ok(api.post(f"{{api}}/proj/state/{rep['id']}/ws1", json={"files": [
            {"id": rep["files"][0]["id"], "error": NASTY}]}), 204)
    sign_in(page, next_path="/projects/proj?localSite=ws1")
    row = page.locator(f'#queue tr[data-rep="{rep["id"]}"]')
    expect(row).to_contain_text(NASTY)
    expect(row.locator('td[data-side="local"]')).to_contain_text(NASTY)  # the error message
    page.get_by_label("Filter by product").fill(NASTY)
    page.get_by_label("Filter by product").press("Enter")
    expect(page.get_by_label("Filter by product")).to_have_value(NASTY)
    expect(row).to_have_count(1)
    # a live refresh renders the same text through the script
    row.locator("input.row-select").check()
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(row.locator('td[data-side="local"]')).to_contain_text(NASTY)
    page.get_by_role("link", name=NASTY).click()
    expect(page.locator("#files")).to_contain_text("<script>alert(1)</script>/f\"1'.exr")
    expect(page.locator("#files")).to_contain_text(NASTY)
    page.goto("/projects/proj/failures")
    expect(page.locator("#failures")).to_contain_text(NASTY)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("b", has_text="bold").count() == 0
