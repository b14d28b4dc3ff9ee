"""Signing in and out of the dashboard, and what the session cookie is."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import ADMIN_KEY
from tests.web.conftest import make_key, sign_in


def test_sign_in_shows_projects_and_sign_out_ends_the_session(page, api, server, screenshot,
                                                              page_errors):
    page_errors.allow(r"status of 401")  # the refused key's answer
    api.post("/api/projects", json={"name": "proj", "roots": {"work": {"linux": "/tmp/x"}}})
    page.goto("/")
    expect(page).to_have_url(f"{server.url}/signin?next=%2F")
    screenshot("signin")
    page.get_by_label("API key").fill("ssk_wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("unknown or revoked")
    sign_in(page, ADMIN_KEY)
    expect(page.get_by_role("heading", name="proj", exact=True)).to_be_visible()

    cookie = next(c for c in page.context.cookies() if c["name"] == "sitesync_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert ADMIN_KEY not in cookie["value"]
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script reads it

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{server.url}/signin")
    assert not [c for c in page.context.cookies() if c["name"] == "sitesync_session"]
    page.goto("/keys")
    expect(page).to_have_url(f"{server.url}/signin?next=%2Fkeys")


def test_a_revoked_key_ends_its_sessions(page, api, server, page_errors):
    key = make_key(api, "service", name="soon revoked")
    sign_in(page, key["key"])
    expect(page.get_by_text("soon revoked")).to_be_visible()
    assert api.delete(f"/api/keys/{key['id']}").status_code == 200
    page.goto("/")
    expect(page).to_have_url(f"{server.url}/signin?next=%2F")


def test_cookie_calls_need_the_csrf_token(page, api, server, page_errors):
    page_errors.allow(r"status of 403")
    sign_in(page)
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    call = """async ([token, paused]) => {
        const headers = {"Content-Type": "application/json"};
        if (token) headers["X-CSRF-Token"] = token;
        const r = await fetch("/api/addons/sitesync/0.1.0/pause", {method: "PUT", headers,
            body: JSON.stringify({paused})});
        return r.status;
    }"""
    assert page.evaluate(call, [None, True]) == 403
    assert page.evaluate(call, ["0" * 64, True]) == 403
    assert api.get("{api}/pause").json() == {"paused": False}
    assert page.evaluate(call, [token, True]) == 200
    assert api.get("{api}/pause").json() == {"paused": True}
    # reads need no token
    assert page.evaluate("""async () => (await fetch("/api/projects")).status""") == 200
