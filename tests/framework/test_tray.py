"""The Qt tray (offscreen) on a live server: menu entries act, quitting stops the sync."""
from __future__ import annotations

import os
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtWidgets import QApplication  # noqa: E402

from sitesync_addon import SiteSyncAddon  # noqa: E402
from sitesync_addon.framework import AddonManager  # noqa: E402
from sitesync_addon.framework.tray import Tray  # noqa: E402
from tests.studio import LOCAL_ID  # noqa: E402


@pytest.fixture(scope="module")
def app() -> QApplication:
    return QApplication.instance() or QApplication([])  # type: ignore[return-value]


def actions_by_text(menu) -> dict:  # type: ignore[no-untyped-def]
    found = {}
    for action in menu.actions():
        found[action.text()] = action
        if action.menu():
            found.update({f"{action.text()}/{k}": v
                          for k, v in actions_by_text(action.menu()).items()})
    return found


def test_tray_builds_the_menu_starts_syncing_and_stops_on_quit(app, studio, monkeypatch):
    monkeypatch.setenv("SITESYNC_SERVER_URL", studio.url)
    monkeypatch.setenv("SITESYNC_API_KEY", studio.publisher.client.http.api_key)
    monkeypatch.setenv("SITESYNC_SITE_ID", LOCAL_ID)
    manager = AddonManager(addon_classes=[SiteSyncAddon])
    manager.initialize()
    tray = Tray(manager, app)
    actions = actions_by_text(tray.menu)
    assert {"SiteSync/Pause all transfers", "SiteSync/Resume all transfers",
            "SiteSync/Sync now", "Quit"} <= set(actions)
    tray.start()
    addon = manager.addons["sitesync"]
    assert addon.is_running  # type: ignore[attr-defined]

    actions["SiteSync/Pause all transfers"].trigger()
    assert studio.publisher.is_paused()
    actions["SiteSync/Resume all transfers"].trigger()
    assert not studio.publisher.is_paused()

    rep = studio.publish("sh010", [10_000])
    studio.artist.add_site("proj", rep["id"], LOCAL_ID)
    actions["SiteSync/Sync now"].trigger()
    assert wait_for(lambda: studio.artist.is_representation_on_site("proj", rep["id"],
                                                                    LOCAL_ID))

    tray.exit()  # what Quit leads to (the application's aboutToQuit)
    assert not addon.is_running  # type: ignore[attr-defined]


def wait_for(condition, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())
