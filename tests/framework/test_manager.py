"""The addon manager on a live server: SiteSync and a toy addon, found by entry point."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from sitesync_addon import SiteSyncAddon
from sitesync_addon.framework import AddonManager
from sitesync_addon.framework.cli import build
from sitesync_addon.client import ServerClient
from tests.conftest import ADMIN_KEY

TOY_ADDON = '''
from pathlib import Path
import click
from sitesync_addon.framework import (Addon, CliAddon, LaunchHookPathsAddon,
                                      PluginPathsAddon, TrayAddon)

HERE = Path(__file__).parent
EVENTS = []


class ToyAddon(Addon, TrayAddon, PluginPathsAddon, LaunchHookPathsAddon, CliAddon):
    name = "toy"
    version = "0.3.0"

    def initialize(self, addon_settings):
        EVENTS.append(("initialize", addon_settings))

    def tray_init(self):
        EVENTS.append(("tray_init",))

    def tray_start(self):
        EVENTS.append(("tray_start",))

    def tray_exit(self):
        EVENTS.append(("tray_exit",))

    def tray_menu(self, parent_menu):
        EVENTS.append(("tray_menu", parent_menu))

    def get_plugin_paths(self):
        return {"publish": [str(HERE / "toy_publish")], "load": [str(HERE / "toy_load")]}

    def get_launch_hook_paths(self):
        return [str(HERE / "toy_hooks")]

    def cli(self, click_group):
        @click_group.group("toy")
        def toy():
            """The toy addon."""

        @toy.command()
        @click.argument("who")
        def hello(who):
            click.echo(f"hello {who} from toy")
'''
BROKEN = {
    "raises_on_import": "raise RuntimeError('cannot start without its license server')\n",
    "not_an_addon": "class NotAnAddon:\n    pass\n",
    "fails_to_initialize": '''
from sitesync_addon.framework import Addon

class Grumpy(Addon):
    name = "grumpy"
    version = "1.0"

    def initialize(self, addon_settings):
        raise ValueError("settings are missing 'colour'")
''',
}
ENTRY_POINTS = {"toy": "toy_addon:ToyAddon", "raises_on_import": "raises_on_import:X",
                "not_an_addon": "not_an_addon:NotAnAddon",
                "fails_to_initialize": "fails_to_initialize:Grumpy"}


@pytest.fixture
def addons_on_path(tmp_path, monkeypatch, server):  # type: ignore[no-untyped-def]
    """A distribution declaring the toy and broken addons, next to SiteSync's own entry point;
    the addons reach the live server through the environment."""
    (tmp_path / "toy_addon.py").write_text(TOY_ADDON)
    for name, source in BROKEN.items():
        (tmp_path / f"{name}.py").write_text(source)
    dist = tmp_path / "studio_addons-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: studio-addons\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[sitesync.addons]\n" + "".join(f"{k} = {v}\n" for k, v in ENTRY_POINTS.items()))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("SITESYNC_SERVER_URL", server.url)
    monkeypatch.setenv("SITESYNC_API_KEY", ADMIN_KEY)
    monkeypatch.setenv("SITESYNC_SITE_ID", "ws-manager")
    import toy_addon

    toy_addon.EVENTS.clear()
    return toy_addon


def test_manager_loads_sitesync_first_and_reports_broken_addons(addons_on_path):
    manager = AddonManager()
    assert list(manager.addons) == ["sitesync", "toy", "grumpy"]  # grumpy fails later
    assert isinstance(manager.addons["sitesync"], SiteSyncAddon)
    broken = {b.name: (b.stage, b.error) for b in manager.broken}
    assert broken == {
        "raises_on_import": ("load", "RuntimeError: cannot start without its license server"),
        "not_an_addon": ("load", broken["not_an_addon"][1]),
    }
    assert "not a subclass" in broken["not_an_addon"][1]


def test_initialize_gives_each_addon_its_server_settings(addons_on_path, server):
    api = ServerClient(server.url, ADMIN_KEY).http
    api.put("/api/addons/sitesync/0.1.0/settings", json={"enabled": True,
                                                         "config": {"loop_delay": 7}})
    manager = AddonManager()
    manager.initialize()
    sitesync = manager.addons["sitesync"]
    assert sitesync.addon_settings["config"]["loop_delay"] == 7  # type: ignore[attr-defined]
    assert addons_on_path.EVENTS == [("initialize", {})]  # no server part: no settings
    assert "grumpy" not in manager.addons
    grumpy = next(b for b in manager.broken if b.name == "grumpy")
    assert grumpy.stage == "initialize" and "'colour'" in grumpy.error


def test_plugin_and_launch_hook_paths_are_collected(addons_on_path):
    manager = AddonManager()
    paths = manager.plugin_paths()
    sitesync = manager.addons["sitesync"]
    assert paths["publish"][0] == sitesync.get_plugin_paths()["publish"][0]  # type: ignore[attr-defined]
    assert paths["publish"][1].endswith("toy_publish") and len(paths["publish"]) == 2
    assert paths["load"][0].endswith("toy_load")
    hooks = manager.launch_hook_paths()
    assert hooks[0] == sitesync.get_launch_hook_paths()  # type: ignore[attr-defined]
    assert hooks[1].endswith("toy_hooks")


def test_cli_is_built_from_every_addon(addons_on_path, server):
    root = build(AddonManager())
    runner = CliRunner()
    result = runner.invoke(root, ["toy", "hello", "Ada"])
    assert result.exit_code == 0 and "hello Ada from toy" in result.output
    listing = runner.invoke(root, ["--help"])
    assert {"syncservice", "publish", "toy", "tray"} <= {
        line.split()[0] for line in listing.output.splitlines()[5:] if line.strip()}
    keys = runner.invoke(root, ["--server-url", server.url, "--api-key", ADMIN_KEY, "keys",
                                "list", "--json"])
    assert keys.exit_code == 0, keys.output


def test_tray_lifecycle_reaches_every_tray_addon(addons_on_path):
    manager = AddonManager()
    manager.tray_init()
    manager.tray_menu("menu")
    manager.tray_start()
    manager.tray_exit()
    assert [event[0] for event in addons_on_path.EVENTS] == [
        "tray_init", "tray_menu", "tray_start", "tray_exit"]
    assert manager.addons["sitesync"].sync_thread is not None  # type: ignore[attr-defined]
    assert not manager.addons["sitesync"].is_running  # type: ignore[attr-defined]
