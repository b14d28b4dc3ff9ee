"""Browser tests of the dashboard: Playwright driving Debian's chromium against a live server.

``playwright install`` cannot download browsers here, so the tests launch the system's
chromium (scripts/ensure-system-packages installs it). Every page a test opens is watched for
JavaScript errors; a test that expects the browser to log a refused request says so with
``page_errors.allow(...)``.
"""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ADMIN_KEY, API, Api
from tests.sqlite_only import sqlite_database_url  # noqa: F401

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("SITESYNC_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# Screenshots go to a temporary folder, or to SITESYNC_SCREENSHOTS when it is set.
SCREENSHOTS_ENV = "SITESYNC_SCREENSHOTS"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-system-packages (it installs "
                    "Debian's chromium) or set SITESYNC_TEST_CHROMIUM")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        yield browser
        browser.close()


class PageErrors:
    """JavaScript errors and console errors of a page; a test may allow expected ones."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(browser, page_errors: PageErrors, server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  base_url=server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("console", lambda message: message.type == "error" and page_errors.errors.append(
        f"console: {message.text}"))
    page.on("pageerror", lambda error: page_errors.errors.append(f"pageerror: {error}"))
    yield page
    context.close()
    assert page_errors.unexpected() == [], "the browser reported errors"


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get(SCREENSHOTS_ENV)
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        return Path(wanted)
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def screenshot(page, screenshot_dir: Path):  # type: ignore[no-untyped-def]
    def take(name: str, full_page: bool = False) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def sign_in(page, key: str = ADMIN_KEY, next_path: str = "/") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/signin?next={next_path}")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    playwright_api.expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # The button shows before the page's deferred scripts have run and hooked their controls.
    page.wait_for_load_state("load")


def make_key(api: Api, role: str, projects: list[str] | None = None, name: str = "key") -> dict:
    response = api.post("/api/keys", json={"role": role, "projects": projects, "name": name})
    assert response.status_code == 201, response.text
    return response.json()


__all__ = ["API", "CHROMIUM", "PageErrors", "make_key", "shutil", "sign_in"]
