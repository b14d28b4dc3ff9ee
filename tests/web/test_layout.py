"""Every page fits 1280x800 and 1920x1080 without sideways scrolling, and works by keyboard."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.studio import LOCAL_ID, PROJECT
from tests.web.conftest import sign_in


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_every_page_fits_the_screen(page, api, server, studio, size):
    rep = studio.publish("sh010", [1000, 2000])
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    sign_in(page)
    for path in ("/", f"/projects/{PROJECT}", f"/projects/{PROJECT}/representations/{rep['id']}",
                 f"/projects/{PROJECT}/failures", "/sites", "/settings", "/keys"):
        page.goto(path)
        expect(page.locator("main h1").first).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)


def test_signing_in_and_selecting_rows_by_keyboard(page, api, server, studio):
    rep = studio.publish("sh010", [1000])
    page.goto(f"/projects/{PROJECT}")
    expect(page.get_by_label("API key")).to_be_focused()  # the sign-in form starts there
    page.keyboard.type("ssk_test_admin_key")
    page.keyboard.press("Enter")
    expect(page.locator("#queue")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    box = page.locator(f'input.row-select[value="{rep["id"]}"]')
    box.focus()
    page.keyboard.press("Space")
    expect(page.locator("#selected-count")).to_have_text("1 selected")
    # focus is visible: the focused control draws an outline
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.get_by_role("button", name="Add to site").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f'tr[data-rep="{rep["id"]}"] td[data-side="local"]')).to_contain_text(
        "queued")
    expect(page.get_by_role("button", name="Add to site")).to_be_focused()
