"""Admin pages (settings editor, API keys) and the sites and services page."""
from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.server.helpers import make_project, ok
from tests.studio import PROJECT
from tests.web.conftest import sign_in

SECRET = "very-secret-value"


def test_settings_editor_saves_through_the_server_and_shows_errors_by_field(
        page, api, server, screenshot, page_errors):
    page_errors.allow(r"status of 422")
    make_project(api, "proj")
    ok(api.put("{api}/settings", json={"enabled": False, "sites": [
        {"name": "cloud", "provider": "s3",
         "s3": {"bucket": "vfx", "access_key_id": "AKIA", "secret_access_key": SECRET}}]}))
    sign_in(page, next_path="/settings")
    assert SECRET not in page.content()
    screenshot("settings")

    page.get_by_label("Tries before FAILED").fill("0")
    page.get_by_label("Sync enabled").check()
    page.get_by_role("button", name="Save").click()
    error = page.locator('.field-error[data-error-for="config.retry_cnt"]')
    expect(error).to_contain_text("greater than or equal to 1")
    expect(page.get_by_label("Tries before FAILED")).to_have_attribute("aria-invalid", "true")
    assert ok(api.get("{api}/settings"))["config"]["retry_cnt"] == 3  # nothing saved

    # an error inside a site's JSON is shown beside that site
    cloud = page.get_by_label("Site “cloud”")
    cloud.fill(cloud.input_value().replace('"provider": "s3"', '"provider": "Bad Name"'))
    page.get_by_label("Tries before FAILED").fill("5")
    page.get_by_role("button", name="Save").click()
    expect(page.locator('.field-error[data-error-for="sites.0"]')).to_contain_text("provider")
    expect(page.locator('.field-error[data-error-for="config.retry_cnt"]')).to_have_text("")

    cloud.fill(cloud.input_value().replace('"provider": "Bad Name"', '"provider": "s3"'))
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#saved")).to_have_text("Saved.")
    saved = ok(api.get("{api}/settings"))
    assert saved["enabled"] is True and saved["config"]["retry_cnt"] == 5
    assert saved["sites"][0]["s3"]["secret_access_key"] == SECRET  # masked, left unchanged

    # project overrides and a machine's site scope
    page.get_by_label("Project").select_option("proj")
    page.get_by_role("button", name="Open").click()
    page.get_by_label("Overrides (JSON)").fill('{"config": {"loop_delay": 0}}')
    page.get_by_role("button", name="Save").click()
    expect(page.locator('.field-error[data-error-for=""]')).to_contain_text(
        "config.loop_delay")
    page.get_by_label("Overrides (JSON)").fill('{"config": {"loop_delay": 30}}')
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#saved")).to_have_text("Saved.")
    assert ok(api.get("{api}/settings/proj")) == {"config": {"loop_delay": 30}}
    page.goto("/settings?project=proj&siteId=ws9")
    page.get_by_label("Active site").fill("local")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#saved")).to_have_text("Saved.")
    assert ok(api.get("{api}/settings/proj/site/ws9"))["active_site"] == "local"


def test_api_keys_create_shows_the_key_once_and_revoke_ends_it(page, api, server, screenshot):
    make_project(api, "proj")
    sign_in(page, next_path="/keys")
    page.get_by_label("Name").fill("artist on ws7")
    page.get_by_label("Role").select_option("artist")
    page.get_by_label("Projects").select_option(["proj"])
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#created-key")
    expect(key).to_have_text(re.compile(r"^ssk_\S+$"))
    plain = key.text_content()
    me = api.with_key(plain).get("/api/keys/me")
    assert me.status_code == 200 and me.json()["projects"] == ["proj"]
    screenshot("keys")
    page.reload()
    assert plain not in page.content()  # shown once only
    row = page.locator("#keys tr", has_text="artist on ws7")
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(row).to_contain_text("revoked")
    assert api.with_key(plain).get("/api/keys/me").status_code == 401


def test_sites_page_lists_sites_and_running_services(page, api, server, studio, tmp_path,
                                                     screenshot):
    ok(api.put(f"{{api}}/settings/{PROJECT}", json={"sites": [
        {"name": "nas", "provider": "local_drive", "alternative_sites": ["ws1"],
         "root": {"work": {"linux": "/mnt/nas"}}}]}))
    service = studio.artist.create_service(state_dir=tmp_path / "state")
    service.start()
    try:
        deadline = time.monotonic() + 20  # the service's first heartbeat comes at its start
        while not ok(api.get("{api}/services")):
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.1)
        sign_in(page, next_path="/sites")
        expect(page.locator("table.sites")).to_contain_text("nas")
        expect(page.locator("table.sites")).to_contain_text("/mnt/nas")
        expect(page.locator("table.sites")).to_contain_text(str(studio.root))
        expect(page.locator("#services")).to_contain_text("ws1")
        expect(page.locator("#services")).to_contain_text("running")
        screenshot("sites")
    finally:
        service.stop()
