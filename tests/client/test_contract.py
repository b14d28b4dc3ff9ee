"""Every public member of SiteSyncAddon (SEED_API.md) against a live server."""
from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from sitesync_addon import SiteAlreadyPresentError, SiteSyncAddon, SiteSyncStatus, SyncStatus
from sitesync_addon.hashing import hash_file
from sitesync_addon.providers.registry import registry
from sitesync_addon.publish import publish_files
from sitesync_addon.version import __version__
from tests.client.conftest import PROJECT, SITE_ID, Env, both_databases
from tests.conftest import ADMIN_KEY
from tests.server.helpers import make_project, ok

OK, QUEUED, FAILED, IN_PROGRESS, NA = (SiteSyncStatus.OK, SiteSyncStatus.QUEUED,
                                       SiteSyncStatus.FAILED, SiteSyncStatus.IN_PROGRESS,
                                       SiteSyncStatus.NA)


def file_statuses(env: Env, rep_id: str, site: str) -> list[int]:
    """Statuses of the representation's files on a site, in publish order."""
    state = env.state(rep_id, site)
    assert state is not None, f"no state on {site}"
    rep = env.addon._representation(env.project, rep_id)
    return [state["files"][f["id"]]["status"] for f in rep["files"]]


def wait_for(condition: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


# -- class constants ---------------------------------------------------------------------------

def test_class_constants() -> None:
    assert SiteSyncAddon.DEFAULT_SITE == "studio"
    assert SiteSyncAddon.LOCAL_SITE == "local"
    assert SiteSyncAddon.LOG_PROGRESS_SEC == 5
    assert SiteSyncAddon.DEFAULT_PRIORITY == 50
    assert SiteSyncAddon.REPRESENTATION_LIMIT == 100
    assert SiteSyncAddon.name == "sitesync"
    assert SiteSyncAddon.version == __version__ and __version__
    assert [int(s) for s in (NA, IN_PROGRESS, QUEUED, FAILED, SiteSyncStatus.PAUSED, OK)] == [
        -1, 0, 1, 2, 3, 4]
    assert [int(s) for s in (SyncStatus.DO_NOTHING, SyncStatus.DO_UPLOAD,
                             SyncStatus.DO_DOWNLOAD)] == [0, 1, 2]
    assert issubclass(SiteAlreadyPresentError, ValueError)


# -- lifecycle ---------------------------------------------------------------------------------

def test_initialize_sets_state_only_and_can_disable(env: Env) -> None:
    addon = env.addon
    addon.initialize({"enabled": False})
    assert addon.sync_thread is None and not addon.is_running
    assert not addon.is_project_enabled(PROJECT)
    assert addon.get_enabled_projects() == []
    assert addon.get_active_site_type(PROJECT) == "studio"
    assert addon.compute_resource_sync_sites(PROJECT) == [{"name": "studio", "status": OK}]
    addon.initialize({})
    assert addon.is_project_enabled(PROJECT)
    assert addon.get_enabled_projects() == [PROJECT]


def test_server_init_start_exit(addon: SiteSyncAddon, monkeypatch: pytest.MonkeyPatch,
                                tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert not addon.is_running
    addon.server_init("studio")
    assert addon.sync_thread is not None and not addon.is_running  # built, not started
    assert addon.sync_thread.site == "studio"
    addon.server_start()
    assert addon.is_running
    addon.server_exit()
    assert not addon.is_running and not addon.sync_thread.is_alive()


def test_tray_init_start_exit_and_menu(addon: SiteSyncAddon, monkeypatch: pytest.MonkeyPatch,
                                       tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    addon.tray_init()
    assert addon.sync_thread.site == SITE_ID and not addon.is_running
    addon.tray_start()
    assert addon.is_running

    class Signal:
        def __init__(self) -> None:
            self.slots: list = []

        def connect(self, slot: Any) -> None:
            self.slots.append(slot)

    class Action:
        def __init__(self) -> None:
            self.triggered = Signal()

    class Menu:
        def __init__(self) -> None:
            self.menus: dict[str, Menu] = {}
            self.actions: dict[str, Action] = {}

        def addMenu(self, title: str) -> Menu:  # noqa: N802 - the Qt name
            self.menus[title] = Menu()
            return self.menus[title]

        def addAction(self, title: str) -> Action:  # noqa: N802
            self.actions[title] = Action()
            return self.actions[title]

    parent = Menu()
    addon.tray_menu(parent)
    actions = parent.menus["SiteSync"].actions
    actions["Pause all transfers"].triggered.slots[0]()
    assert addon.is_paused()
    actions["Resume all transfers"].triggered.slots[0]()
    assert not addon.is_paused()
    addon.tray_exit()
    assert not addon.is_running


def test_paths_icons_and_endpoint_prefix(addon: SiteSyncAddon) -> None:
    plugins = addon.get_plugin_paths()
    assert list(plugins) == ["publish"] and len(plugins["publish"]) == 1
    assert Path(plugins["publish"][0]).is_dir()
    assert Path(addon.get_launch_hook_paths()).is_dir()
    icons = addon.get_site_icons()
    assert set(registry().providers) == set(icons)
    for icon in icons.values():
        assert icon["type"] == "path" and icon["path"].endswith(".png")
        assert Path(icon["path"]).is_file()
    assert addon.endpoint_prefix == f"addons/sitesync/{__version__}"
    assert addon.client.http.get(f"/api/{addon.endpoint_prefix}/pause") == {"paused": False}


def test_cli_registers_the_sitesync_group(addon: SiteSyncAddon) -> None:
    @click.group()
    def host() -> None:
        pass

    addon.cli(host)
    assert "sitesync" in host.commands
    group = host.commands["sitesync"]
    assert isinstance(group, click.Group)
    assert {"keys", "project", "syncservice"} <= set(group.commands)
    options = {opt for param in group.commands["syncservice"].params for opt in param.opts}
    assert "--active_site" in options
    result = CliRunner().invoke(host, ["sitesync", "--help"])
    assert result.exit_code == 0, result.output
    assert "keys" in result.output


# -- settings ----------------------------------------------------------------------------------

def test_studio_settings_are_cached(env: Env) -> None:
    addon = env.addon
    first = addon.sync_studio_settings
    assert first["enabled"] is False and first["sites"] == []
    ok(env.api.put("{api}/settings", json={"enabled": True}))
    assert addon.sync_studio_settings is first and first["enabled"] is False
    addon.clear_caches()
    assert addon.sync_studio_settings["enabled"] is True


def test_project_settings_shape_and_implicit_sites(env: Env) -> None:
    env.project_settings({"enabled": True, "sites": [
        {"name": "studio", "root": {"extra": {"linux": "/mnt/extra"}}},
        {"name": "nas", "provider": "local_drive", "root": {"work": {"linux": "/mnt/nas"}}}]})
    settings = env.addon.sync_project_settings[PROJECT]
    assert settings["enabled"] is True
    assert set(settings["config"]) >= {"retry_cnt", "loop_delay", "always_accessible_on",
                                       "active_site", "remote_site"}
    assert settings["local_setting"]["active_site"] == "local"
    assert settings["local_setting"]["local_roots"] == [
        {"name": "work", "path": str(env.local_root)}]
    sites = settings["sites"]
    assert set(sites) == {"studio", "nas", SITE_ID, "local"}
    assert sites["studio"]["provider"] == "local_drive"
    assert sites["studio"]["root"] == {"work": str(env.studio_root), "extra": "/mnt/extra"}
    assert sites["nas"]["root"] == {"work": "/mnt/nas"}
    for name in (SITE_ID, "local"):
        assert sites[name]["provider"] == "local_drive" and sites[name]["enabled"]
        assert sites[name]["root"] == {"work": str(env.local_root)}
    for site in sites.values():
        assert {"enabled", "provider", "alternative_sites", "root"} <= set(site)


def test_studio_root_override_replaces_project_root(env: Env) -> None:
    env.project_settings({"enabled": True, "sites": [
        {"name": "studio", "root": {"work": {"linux": "/override"}}}]})
    assert env.addon.get_sync_project_setting(PROJECT)["sites"]["studio"]["root"] == {
        "work": "/override"}


def test_set_sync_project_settings_rebuilds_and_exclude_locals(env: Env) -> None:
    addon = env.addon
    assert addon.sync_project_settings[PROJECT]["config"]["loop_delay"] == 60
    ok(env.api.put(f"{{api}}/settings/{PROJECT}",
                   json={"enabled": True, "config": {"loop_delay": 7}}))
    assert addon.sync_project_settings[PROJECT]["config"]["loop_delay"] == 60  # cached
    addon.set_sync_project_settings(exclude_locals=True)
    settings = addon.sync_project_settings[PROJECT]
    assert settings["config"]["loop_delay"] == 7
    assert settings["local_setting"] == {"active_site": None, "remote_site": None,
                                         "local_roots": []}
    assert settings["sites"][SITE_ID]["root"] == {}
    addon.set_sync_project_settings()
    assert addon.sync_project_settings[PROJECT]["sites"]["local"]["root"] == {
        "work": str(env.local_root)}


def test_get_sync_project_setting_cached_and_fresh(env: Env) -> None:
    addon = env.addon
    first = addon.get_sync_project_setting(PROJECT)
    assert addon.get_sync_project_setting(PROJECT) is first
    ok(env.api.put(f"{{api}}/settings/{PROJECT}",
                   json={"enabled": True, "config": {"retry_cnt": 9}}))
    assert addon.get_sync_project_setting(PROJECT)["config"]["retry_cnt"] == 3
    fresh = addon.get_sync_project_setting(PROJECT, cached=False)
    assert fresh["config"]["retry_cnt"] == 9
    assert addon.get_sync_project_setting(PROJECT)["config"]["retry_cnt"] == 9
    no_locals = addon.get_sync_project_setting(PROJECT, exclude_locals=True)
    assert no_locals["local_setting"]["local_roots"] == []
    assert addon.get_sync_project_setting(PROJECT)["local_setting"]["local_roots"]  # untouched


def test_enabled_projects_and_unreadable_project(env: Env, server) -> None:  # type: ignore[no-untyped-def]
    make_project(env.api, "other", "/mnt/other")
    addon = env.addon
    assert addon.get_enabled_projects() == [PROJECT]
    assert addon.is_project_enabled(PROJECT) and addon.is_project_enabled(PROJECT, single=True)
    assert not addon.is_project_enabled("other")
    assert not addon.is_project_enabled("other", single=True)
    assert not addon.is_project_enabled("missing", single=True)
    env.project_settings({"enabled": True}, project="other")
    assert sorted(addon.get_enabled_projects()) == ["other", PROJECT]
    key = ok(env.api.post("/api/keys", json={"role": "artist", "projects": [PROJECT]}), 201)
    artist = SiteSyncAddon(server.url, key["key"], site_id=SITE_ID)
    assert artist.is_project_enabled(PROJECT, single=True)
    assert artist.is_project_enabled("other", single=True) is False
    assert artist.is_project_enabled("other") is False
    assert artist.get_enabled_projects() == [PROJECT]


def test_get_loop_delay(env: Env) -> None:
    assert env.addon.get_loop_delay(None) == 60
    assert env.addon.get_loop_delay(PROJECT) == 60
    env.project_settings({"enabled": True, "config": {"loop_delay": 5}})
    assert env.addon.get_loop_delay(PROJECT) == 5


# -- sites -------------------------------------------------------------------------------------

def test_alternative_sites_are_a_symmetric_transitive_closure(env: Env) -> None:
    drive = {"provider": "local_drive", "root": {"work": {"linux": "/mnt/x"}}}
    env.project_settings({"enabled": True, "sites": [
        {"name": "a", "alternative_sites": ["b"], **drive},
        {"name": "b", "alternative_sites": ["c"], **drive},
        {"name": "c", "alternative_sites": ["a"], **drive},  # a cycle
        {"name": "d", "alternative_sites": ["d"], **drive},  # itself
        {"name": "e", "alternative_sites": ["ghost"], **drive},  # an unknown site
        {"name": "sftp", "alternative_sites": ["studio"], **drive}]})
    sites = env.addon.get_sync_project_setting(PROJECT)["sites"]
    assert sites["a"]["alternative_sites"] == ["b", "c"]
    assert sites["b"]["alternative_sites"] == ["a", "c"]
    assert sites["c"]["alternative_sites"] == ["a", "b"]
    assert sites["d"]["alternative_sites"] == []
    assert sites["e"]["alternative_sites"] == []
    assert sites["studio"]["alternative_sites"] == ["sftp"]
    assert sites["sftp"]["alternative_sites"] == ["studio"]
    assert sites[SITE_ID]["alternative_sites"] == []


def test_active_and_remote_sites(env: Env) -> None:
    addon = env.addon
    assert addon.get_active_site_type(PROJECT) == "local"
    assert addon.get_active_site(PROJECT) == SITE_ID
    assert addon.get_remote_site(PROJECT) == "studio"
    assert addon.get_active_site_type(PROJECT, local_settings={"active_site": "nas"}) == "nas"
    env.project_settings({"enabled": True, "config": {"active_site": "cfg_active",
                                                      "remote_site": "local"}})
    assert addon.get_active_site_type(PROJECT, local_settings={}) == "cfg_active"
    env.site_settings({"local_roots": []})  # nothing set locally: the config decides
    assert addon.get_active_site_type(PROJECT) == "cfg_active"
    assert addon.get_active_site(PROJECT) == "cfg_active"
    assert addon.get_remote_site(PROJECT) == SITE_ID
    env.project_settings({"enabled": False})
    assert addon.get_active_site_type(PROJECT, local_settings={"active_site": "local"}) == \
        "studio"
    assert addon.get_active_site(PROJECT) == "studio"


def test_get_local_normalized_site(addon: SiteSyncAddon) -> None:
    assert addon.get_local_normalized_site(SITE_ID) == "local"
    assert addon.get_local_normalized_site("local") == "local"
    assert addon.get_local_normalized_site("studio") == "studio"
    assert addon.get_local_normalized_site("cloud") == "cloud"


def test_get_site_root_overrides(env: Env) -> None:
    addon = env.addon
    local = {"work": str(env.local_root)}
    assert addon.get_site_root_overrides(PROJECT, "local") == local
    assert addon.get_site_root_overrides(PROJECT, SITE_ID) == local
    assert addon.get_site_root_overrides(PROJECT, "local", local_settings={
        "local_roots": [{"name": "work", "path": "/elsewhere"}]}) == {"work": "/elsewhere"}
    assert addon.get_site_root_overrides(PROJECT, "studio") == {"work": str(env.studio_root)}
    with pytest.raises(ValueError, match="cloud"):
        addon.get_site_root_overrides(PROJECT, "cloud")
    env.project_settings({"enabled": False})
    assert addon.get_site_root_overrides(PROJECT, "local") == {}
    assert addon.get_site_root_overrides(PROJECT, "studio") == {}


def test_get_provider_for_site(env: Env) -> None:
    env.studio_settings({"sites": [{"name": "backup", "provider": "rclone",
                                    "rclone": {"remote": "backup:vfx"}}]})
    env.project_settings({"enabled": True, "sites": [
        {"name": "cloud", "provider": "s3", "s3": {"bucket": "vfx"}}]})
    addon = env.addon
    for site in ("studio", "local", SITE_ID):
        assert addon.get_provider_for_site(PROJECT, site) == "local_drive"
        assert addon.get_provider_for_site(site=site) == "local_drive"
    assert addon.get_provider_for_site(PROJECT, "cloud") == "s3"
    assert addon.get_provider_for_site(PROJECT, "backup") == "rclone"
    assert addon.get_provider_for_site(site="backup") == "rclone"
    assert addon.get_provider_for_site(site="cloud") == "N/A"  # project-only site
    assert addon.get_provider_for_site(PROJECT, "nowhere") == "N/A"
    assert addon.get_provider_for_site() == "N/A"


def test_compute_resource_sync_sites(env: Env) -> None:
    addon = env.addon
    make_project(env.api, "other", "/mnt/other")
    assert addon.compute_resource_sync_sites("other") == [{"name": "studio", "status": OK}]
    assert addon.compute_resource_sync_sites(PROJECT) == [
        {"name": SITE_ID, "status": OK}, {"name": "studio", "status": QUEUED}]
    drive = {"provider": "local_drive", "root": {"work": {"linux": "/mnt/x"}}}
    env.project_settings({"enabled": True,
                          "config": {"always_accessible_on": ["backup", "studio"]},
                          "sites": [{"name": "sftp", "alternative_sites": ["studio"], **drive},
                                    {"name": "mirror", "alternative_sites": [SITE_ID], **drive},
                                    {"name": "backup", **drive}]})
    result = addon.compute_resource_sync_sites(PROJECT)
    assert sorted(result, key=lambda s: s["name"]) == sorted([
        {"name": SITE_ID, "status": OK}, {"name": "studio", "status": QUEUED},
        {"name": "mirror", "status": OK}, {"name": "sftp", "status": QUEUED},
        {"name": "backup", "status": QUEUED}], key=lambda s: s["name"])
    env.site_settings({"active_site": "studio", "remote_site": "studio"})
    assert sorted(addon.compute_resource_sync_sites(PROJECT), key=lambda s: s["name"]) == [
        {"name": "backup", "status": QUEUED}, {"name": "sftp", "status": OK},
        {"name": "studio", "status": OK}]


# -- sync state: writing -----------------------------------------------------------------------

@both_databases
def test_add_site(env: Env) -> None:
    addon = env.addon
    rep = env.publish().representations[0]
    addon.add_site(PROJECT, rep["id"])  # the default site is studio, the default QUEUED
    assert file_statuses(env, rep["id"], "studio") == [QUEUED] * 3
    with pytest.raises(SiteAlreadyPresentError):
        addon.add_site(PROJECT, rep["id"], "studio")
    addon.add_site(PROJECT, rep["id"], "studio", force=True, status=OK)
    state = env.state(rep["id"], "studio")
    assert state is not None
    for item in rep["files"]:
        recorded = state["files"][item["id"]]
        assert recorded["status"] == OK and recorded["size"] == item["size"]
        assert recorded["timestamp"] > 0 and recorded["id"] == item["id"]
    # a file the site holds already needs force; one it doesn't hold yet is added
    first, second = rep["files"][0]["id"], rep["files"][1]["id"]
    with pytest.raises(SiteAlreadyPresentError):
        addon.add_site(PROJECT, rep["id"], "studio", file_id=first)
    addon.add_site(PROJECT, rep["id"], SITE_ID, file_id=second, status=OK)
    assert file_statuses(env, rep["id"], SITE_ID) == [NA, OK, NA]
    addon.add_site(PROJECT, rep["id"], SITE_ID, file_id=first)
    assert file_statuses(env, rep["id"], SITE_ID) == [QUEUED, OK, NA]
    addon.add_site(PROJECT, rep["id"], "studio", file_id=first, force=True, status=QUEUED)
    assert file_statuses(env, rep["id"], "studio") == [QUEUED, OK, OK]


def test_add_site_without_files_or_sync(env: Env) -> None:
    addon = env.addon
    empty = env.publish(files=0, product="empty").representations[0]
    addon.add_site(PROJECT, empty["id"], "studio")
    assert env.state(empty["id"], "studio") is None
    rep = env.publish().representations[0]
    addon.add_site(PROJECT, rep["id"], "local")  # the alias means this machine
    assert file_statuses(env, rep["id"], SITE_ID) == [QUEUED] * 3
    with pytest.raises(ValueError, match="representation"):
        addon.add_site(PROJECT, str(uuid.uuid4()), "studio")
    env.project_settings({"enabled": False})
    with pytest.raises(ValueError, match="not enabled"):
        addon.add_site(PROJECT, rep["id"], "cloud")
    assert env.state(rep["id"], "cloud") is None


def test_remove_site(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    addon = env.addon
    rep = env.publish().representations[0]
    addon.add_site(PROJECT, rep["id"], "studio", status=OK)
    addon.add_site(PROJECT, rep["id"], SITE_ID, status=OK)
    studio_files = env.write_files(rep, env.studio_root)
    local_files = env.write_files(rep, env.local_root)
    (env.local_root / PROJECT / "keep.txt").write_text("not ours")
    addon.remove_site(PROJECT, rep["id"], SITE_ID)
    assert env.state(rep["id"], SITE_ID) is None
    assert all(p.exists() for p in local_files)  # state only
    addon.remove_site(PROJECT, rep["id"], SITE_ID)  # a missing site only logs
    addon.add_site(PROJECT, rep["id"], SITE_ID, status=OK)
    addon.remove_site(PROJECT, rep["id"], "local", remove_local_files=True)
    assert env.state(rep["id"], SITE_ID) is None
    assert not any(p.exists() for p in local_files)
    assert not (env.local_root / PROJECT / "sh010").exists()  # folders left empty are gone
    assert (env.local_root / PROJECT / "keep.txt").exists() and env.local_root.is_dir()
    # files of other sites are never this machine's to delete
    addon.remove_site(PROJECT, rep["id"], "studio", remove_local_files=True)
    assert env.state(rep["id"], "studio") is None
    assert all(p.exists() for p in studio_files)
    env.project_settings({"enabled": False})
    with pytest.raises(ValueError):
        addon.remove_site(PROJECT, rep["id"], "studio")


def test_reset_site_on_representation(env: Env) -> None:
    addon = env.addon
    rep = env.publish().representations[0]
    for site in ("studio", SITE_ID, "nas"):
        addon.add_site(PROJECT, rep["id"], site, status=OK)
    addon.reset_site_on_representation(PROJECT, rep["id"], side="local")
    assert file_statuses(env, rep["id"], SITE_ID) == [QUEUED] * 3
    assert file_statuses(env, rep["id"], "studio") == [OK] * 3
    addon.reset_site_on_representation(PROJECT, rep["id"], side="remote")
    assert file_statuses(env, rep["id"], "studio") == [QUEUED] * 3
    addon.reset_site_on_representation(PROJECT, rep["id"], site_name="nas",
                                       file_id=rep["files"][2]["id"])
    assert file_statuses(env, rep["id"], "nas") == [OK, OK, QUEUED]
    with pytest.raises(ValueError):
        addon.reset_site_on_representation(PROJECT, rep["id"], side="local", site_name="nas")
    with pytest.raises(ValueError):
        addon.reset_site_on_representation(PROJECT, str(uuid.uuid4()), side="local")
    with pytest.raises(ValueError):
        addon.reset_site_on_representation(PROJECT, rep["id"])


@both_databases
def test_update_db(env: Env) -> None:
    env.project_settings({"enabled": True, "config": {"retry_cnt": 2}})
    addon = env.addon
    rep = env.publish().representations[0]
    f0, f1, f2 = rep["files"]
    addon.add_site(PROJECT, rep["id"], SITE_ID)
    addon.update_db(PROJECT, rep, SITE_ID, file=f1, progress=0.25)
    state = env.state(rep["id"], SITE_ID)
    assert state["files"][f1["id"]]["status"] == IN_PROGRESS
    assert state["files"][f1["id"]]["progress"] == pytest.approx(0.25)
    addon.update_db(PROJECT, rep["id"], SITE_ID, file=f0, error="disk full")
    state = env.state(rep["id"], SITE_ID)
    assert state["files"][f0["id"]]["retries"] == 1
    assert state["files"][f0["id"]]["message"] == "disk full"
    assert state["files"][f0["id"]]["status"] == QUEUED  # another try to come
    addon.update_db(PROJECT, rep["id"], None, file=f0, side="local", error="disk full")
    assert env.state(rep["id"], SITE_ID)["files"][f0["id"]]["status"] == FAILED
    addon.update_db(PROJECT, rep["id"], SITE_ID, new_file_id=f0["id"], file=f0)
    state = env.state(rep["id"], SITE_ID)
    assert state["files"][f0["id"]]["status"] == OK
    assert state["files"][f0["id"]]["retries"] == 0
    assert state["files"][f0["id"]]["message"] is None
    addon.update_db(PROJECT, rep["id"], SITE_ID, file=f2, pause=True)
    assert env.state(rep["id"], SITE_ID)["files"][f2["id"]]["paused"] is True
    addon.update_db(PROJECT, rep["id"], SITE_ID, file=f2, pause=False)
    addon.update_db(PROJECT, rep["id"], SITE_ID, priority=700)
    state = env.state(rep["id"], SITE_ID)
    assert state["priority"] == 700
    assert state["files"][f2["id"]]["paused"] is False
    assert [state["files"][f["id"]]["status"] for f in rep["files"]] == [OK, IN_PROGRESS,
                                                                          QUEUED]


def test_handle_alternate_site(env: Env) -> None:
    drive = {"provider": "local_drive", "root": {"work": {"linux": "/mnt/x"}}}
    env.project_settings({"enabled": True, "sites": [
        {"name": "sftp", "alternative_sites": ["studio"], **drive},
        {"name": "nas", "alternative_sites": ["sftp"], **drive}]})
    addon = env.addon
    rep = env.publish().representations[0]
    f0 = rep["files"][0]["id"]
    addon.handle_alternate_site(PROJECT, rep["id"], "studio", f0)  # no state yet: nothing
    assert env.state(rep["id"], "sftp") is None and env.state(rep["id"], "nas") is None
    addon.add_site(PROJECT, rep["id"], "studio", file_id=f0, status=OK)
    addon.handle_alternate_site(PROJECT, rep["id"], "studio", f0)
    assert file_statuses(env, rep["id"], "sftp") == [OK, NA, NA]
    assert file_statuses(env, rep["id"], "nas") == [OK, NA, NA]
    f1 = rep["files"][1]["id"]
    addon.add_site(PROJECT, rep["id"], "nas", file_id=f1, status=OK)
    addon.handle_alternate_site(PROJECT, rep["id"], "nas", f1)  # the other direction
    assert file_statuses(env, rep["id"], "studio") == [OK, OK, NA]
    assert env.state(rep["id"], SITE_ID) is None  # not an alternative of anything


# -- sync state: reading -----------------------------------------------------------------------

def test_get_repre_sync_state(env: Env) -> None:
    addon = env.addon
    rep = env.publish().representations[0]
    assert addon.get_repre_sync_state(PROJECT, rep["id"], SITE_ID, "studio") is None
    addon.add_site(PROJECT, rep["id"], SITE_ID, status=OK)
    addon.add_site(PROJECT, rep["id"], "studio")
    item = addon.get_repre_sync_state(PROJECT, rep["id"], SITE_ID, "studio")
    assert item["representationId"] == rep["id"]
    assert item["localStatus"]["status"] == OK and item["remoteStatus"]["status"] == QUEUED
    same = addon.get_repre_sync_state(PROJECT, rep["id"], SITE_ID)
    assert same["remoteStatus"]["status"] == OK  # remote defaults to local


def test_get_representations_sync_state(env: Env) -> None:
    addon = env.addon
    reps = env.publish(count=3).representations
    done, moving, queued = (r["id"] for r in reps)
    for rep in reps:
        addon.add_site(PROJECT, rep["id"], "studio", status=OK)
        addon.add_site(PROJECT, rep["id"], SITE_ID)
    addon.add_site(PROJECT, done, SITE_ID, force=True, status=OK)
    files = reps[1]["files"]
    addon.update_db(PROJECT, moving, SITE_ID, new_file_id=files[0]["id"])
    addon.update_db(PROJECT, moving, SITE_ID, file=files[1], progress=0.5)
    result = addon.get_representations_sync_state(PROJECT, [done, moving, queued], SITE_ID,
                                                  "studio")
    assert result[done] == (1, 1)
    assert result[moving][0] == pytest.approx(0.5) and result[moving][1] == 1
    assert result[queued] == (0, 1)


def test_version_availability_and_repre_info(env: Env) -> None:
    addon = env.addon
    published = env.publish(count=3)
    v1, v2, v3 = published.version_ids
    r1, r2, _ = published.ids
    second = env.publish(product="cache", name="abc", count=1).representations[0]
    for rep_id in (r1, r2):
        addon.add_site(PROJECT, rep_id, "studio", status=OK)
    addon.add_site(PROJECT, r1, SITE_ID, status=OK)
    addon.add_site(PROJECT, r2, SITE_ID)
    unknown = str(uuid.uuid4())
    result = addon.get_version_availability(PROJECT, [v1, v2, v3, unknown], SITE_ID, "studio")
    assert result == {v1: (1, 1), v2: (0, 1), v3: (0, 0), unknown: (0, 0)}
    info = addon.get_repre_info_for_versions(PROJECT, [v1, v2, v3], SITE_ID, "studio")
    assert info == [
        {"id": v1, "repre_count": 1, "avail_repre_local": 1, "avail_repre_remote": 1},
        {"id": v2, "repre_count": 1, "avail_repre_local": 0, "avail_repre_remote": 1},
        {"id": v3, "repre_count": 1, "avail_repre_local": 0, "avail_repre_remote": 0}]
    assert second["versionId"] not in result


def test_get_progress_for_repre(env: Env) -> None:
    addon = env.addon
    rep = env.publish(files=4).representations[0]
    addon.add_site(PROJECT, rep["id"], "studio", status=OK)
    assert addon.get_progress_for_repre(PROJECT, rep["id"], SITE_ID, "studio") == {
        SITE_ID: -1, "studio": 1}
    addon.add_site(PROJECT, rep["id"], SITE_ID)
    addon.update_db(PROJECT, rep["id"], SITE_ID, new_file_id=rep["files"][0]["id"])
    addon.update_db(PROJECT, rep["id"], SITE_ID, file=rep["files"][1], progress=0.5)
    progress = addon.get_progress_for_repre(PROJECT, rep["id"], SITE_ID, "studio")
    assert progress[SITE_ID] == pytest.approx(1.5 / 4) and progress["studio"] == 1
    old_form = {"id": rep["id"], "context": {"project": {"name": PROJECT}}}
    assert addon.get_progress_for_repre(old_form, SITE_ID, "studio") == progress
    assert addon.get_progress_for_repre(old_form, SITE_ID) == {SITE_ID: progress[SITE_ID]}


def test_is_representation_on_site(env: Env) -> None:
    addon = env.addon
    rep = env.publish().representations[0]
    assert not addon.is_representation_on_site(PROJECT, rep["id"], SITE_ID)
    addon.add_site(PROJECT, rep["id"], SITE_ID)
    assert not addon.is_representation_on_site(PROJECT, rep["id"], SITE_ID, max_retries=1)
    addon.update_db(PROJECT, rep["id"], SITE_ID, file=rep["files"][0], error="offline")
    addon.update_db(PROJECT, rep["id"], SITE_ID, file=rep["files"][0], error="offline")
    assert not addon.is_representation_on_site(PROJECT, rep["id"], SITE_ID, max_retries=3)
    with pytest.raises(ValueError, match="offline"):
        addon.is_representation_on_site(PROJECT, rep["id"], SITE_ID, max_retries=2)
    addon.add_site(PROJECT, rep["id"], SITE_ID, force=True, status=OK)
    assert addon.is_representation_on_site(PROJECT, rep["id"], SITE_ID, max_retries=1)


@both_databases
def test_get_sync_representations(env: Env) -> None:
    addon = env.addon
    upload, download, both, neither = env.publish(count=4).ids
    for rep_id, local, remote in ((upload, OK, QUEUED), (download, QUEUED, OK),
                                  (both, OK, OK), (neither, QUEUED, QUEUED)):
        addon.add_site(PROJECT, rep_id, SITE_ID, status=local)
        addon.add_site(PROJECT, rep_id, "studio", status=remote)
    found = addon.get_sync_representations(PROJECT, SITE_ID, "studio")
    assert [item["representationId"] for item in found] == [upload, download]
    assert [item["representationId"]
            for item in addon.get_sync_representations(PROJECT, SITE_ID, "studio", limit=1)] \
        == [upload]
    assert [item["representationId"]
            for item in addon.get_sync_representations(PROJECT, "studio", SITE_ID)] \
        == [download, upload]


def test_check_status(addon: SiteSyncAddon, monkeypatch: pytest.MonkeyPatch,
                      tmp_path: Path) -> None:
    preset = {"config": {"retry_cnt": 3}}

    def state(local: int, remote: int, local_tries: int = 0,
              remote_tries: int = 0) -> dict[str, dict]:
        return {SITE_ID: {"status": local, "retries": local_tries},
                "studio": {"status": remote, "retries": remote_tries}}

    check = addon.check_status
    assert check(state(QUEUED, OK), SITE_ID, "studio", preset) == SyncStatus.DO_DOWNLOAD
    assert check(state(FAILED, OK, 2), SITE_ID, "studio", preset) == SyncStatus.DO_DOWNLOAD
    assert check(state(FAILED, OK, 3), SITE_ID, "studio", preset) == SyncStatus.DO_NOTHING
    assert check(state(OK, QUEUED), SITE_ID, "studio", preset) == SyncStatus.DO_UPLOAD
    assert check(state(OK, QUEUED, 0, 3), SITE_ID, "studio", preset) == SyncStatus.DO_NOTHING
    assert check(state(OK, OK), SITE_ID, "studio", preset) == SyncStatus.DO_NOTHING
    assert check(state(QUEUED, QUEUED), SITE_ID, "studio", preset) == SyncStatus.DO_NOTHING
    assert check({"studio": {"status": OK, "retries": 0}}, SITE_ID, "studio",
                 preset) == SyncStatus.DO_DOWNLOAD  # no local state yet
    assert check(state(QUEUED, OK), "studio", SITE_ID, preset) == SyncStatus.DO_UPLOAD
    assert check(state(QUEUED, OK), SITE_ID, "studio", {"retry_cnt": 1}) == \
        SyncStatus.DO_DOWNLOAD
    assert check(state(QUEUED, OK, 1), SITE_ID, "studio", {"retry_cnt": 1}) == \
        SyncStatus.DO_NOTHING
    cloud = {"studio": {"status": OK, "retries": 0}, "cloud": {"status": QUEUED, "retries": 0}}
    assert check(cloud, "studio", "cloud", preset) == SyncStatus.DO_NOTHING  # not this machine
    assert check(cloud, "cloud", "studio", preset) == SyncStatus.DO_NOTHING
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    addon.server_init("studio")  # a service running as studio moves studio's files
    assert check(cloud, "studio", "cloud", preset) == SyncStatus.DO_UPLOAD
    assert check(cloud, "cloud", "studio", preset) == SyncStatus.DO_DOWNLOAD
    assert check(state(QUEUED, OK), SITE_ID, "studio", preset) == SyncStatus.DO_DOWNLOAD


def test_check_status_takes_a_file_of_the_state_listing(env: Env) -> None:
    """The contract's callers pass one file of ``get_repre_sync_state``: localStatus and
    remoteStatus, as the listing gives them."""
    addon = env.addon
    rep = env.publish().representations[0]
    addon.add_site(PROJECT, rep["id"], "studio", status=SiteSyncStatus.OK)
    addon.add_site(PROJECT, rep["id"], SITE_ID)
    preset = addon.get_sync_project_setting(PROJECT)
    item = addon.get_repre_sync_state(PROJECT, rep["id"], SITE_ID, "studio")
    assert item is not None
    decisions = {addon.check_status(file, SITE_ID, "studio", preset) for file in item["files"]}
    assert decisions == {SyncStatus.DO_DOWNLOAD}
    for file in item["files"]:
        file["localStatus"]["retries"] = 3  # retries used up: nothing to do
        assert addon.check_status(file, SITE_ID, "studio", preset) == SyncStatus.DO_NOTHING


def test_a_machine_whose_site_id_names_a_configured_site_acts_as_it(env: Env,
                                                                   tmp_path: Path) -> None:
    """A studio box that runs as ``studio`` publishes into the studio root."""
    studio_box = SiteSyncAddon(env.addon.client.url, ADMIN_KEY, site_id="studio")
    assert studio_box.get_active_site(PROJECT) == "studio"
    sites = studio_box.get_sync_project_setting(PROJECT)["sites"]
    assert sites["studio"]["root"] == {"work": str(env.studio_root)}
    assert sites["local"]["root"] == sites["studio"]["root"]
    source = tmp_path / "incoming" / "a.exr"
    source.parent.mkdir()
    source.write_bytes(b"x" * 1000)
    rep = publish_files(studio_box, PROJECT, folder="shots/sh010", product="plate",
                        version=1, representation="exr", files=[source])
    published = env.studio_root / rep["files"][0]["path"].partition("/")[2]
    assert published.read_bytes() == source.read_bytes()
    assert studio_box.is_representation_on_site(PROJECT, rep["id"], "studio")


# -- pause and priority ------------------------------------------------------------------------

@both_databases
def test_pause_members(env: Env) -> None:
    addon = env.addon
    rep = env.publish().representations[0]
    addon.add_site(PROJECT, rep["id"], SITE_ID)
    assert not addon.is_representation_paused(rep["id"], project_name=PROJECT)
    addon.pause_representation(PROJECT, rep["id"], SITE_ID)
    assert addon.is_representation_paused(rep["id"], project_name=PROJECT)
    assert addon.is_representation_paused(rep["id"])  # found in the enabled projects
    assert env.state(rep["id"], SITE_ID)["paused"] is True
    other = SiteSyncAddon(addon.client.url, ADMIN_KEY, site_id="ws9")  # persisted on the server
    assert other.is_representation_paused(rep["id"], project_name=PROJECT)
    addon.unpause_representation(PROJECT, rep["id"], SITE_ID)
    assert not addon.is_representation_paused(rep["id"], project_name=PROJECT)
    addon.unpause_representation(PROJECT, rep["id"], SITE_ID)  # silent
    addon.unpause_representation(PROJECT, rep["id"], "studio")  # no state there: silent

    addon.pause_project(PROJECT)
    assert addon.is_project_paused(PROJECT)
    assert not addon.is_representation_paused(rep["id"], project_name=PROJECT)
    assert addon.is_representation_paused(rep["id"], check_parents=True, project_name=PROJECT)
    assert addon.is_representation_paused(rep["id"], check_parents=True)
    addon.unpause_project(PROJECT)
    addon.unpause_project(PROJECT)  # silent
    assert not addon.is_project_paused(PROJECT)

    addon.pause_server()
    assert addon.is_paused()
    assert not addon.is_project_paused(PROJECT)
    assert addon.is_project_paused(PROJECT, check_parents=True)
    assert addon.is_representation_paused(rep["id"], check_parents=True, project_name=PROJECT)
    unknown = str(uuid.uuid4())
    assert not addon.is_representation_paused(unknown)
    assert addon.is_representation_paused(unknown, check_parents=True)
    addon.unpause_server()
    addon.unpause_server()  # silent
    assert not addon.is_paused()
    assert not addon.is_representation_paused(rep["id"], check_parents=True)


# -- files and projects ------------------------------------------------------------------------

def test_get_local_file_path_and_anatomy(env: Env) -> None:
    addon = env.addon
    template = "{root[work]}/proj/sh010/a.exr"
    assert addon.get_local_file_path(PROJECT, "local", template) == str(
        env.local_root / "proj/sh010/a.exr")
    assert addon.get_local_file_path(PROJECT, SITE_ID, template) == str(
        env.local_root / "proj/sh010/a.exr")
    assert addon.get_local_file_path(PROJECT, "studio", template) == str(
        env.studio_root / "proj/sh010/a.exr")
    with pytest.raises(ValueError):
        addon.get_local_file_path(PROJECT, "studio", "/abs/path.exr")
    with pytest.raises(ValueError):
        addon.get_local_file_path(PROJECT, "nowhere", template)
    anatomy = addon.get_anatomy(PROJECT)
    assert anatomy["roots"] == {"work": str(env.studio_root)}
    assert "publish" in anatomy["templates"]
    assert addon.get_anatomy(PROJECT) is anatomy


def test_validate_project(env: Env) -> None:
    addon = env.addon
    present, absent = env.publish(count=2).representations
    paths = env.write_files(present, env.local_root)
    assert addon.validate_project(PROJECT, "local") == {"added": 3, "reset": 0}
    assert file_statuses(env, present["id"], SITE_ID) == [OK] * 3
    assert env.state(absent["id"], SITE_ID) is None
    paths[1].unlink()
    assert addon.validate_project(PROJECT, SITE_ID) == {"added": 0, "reset": 0}
    assert file_statuses(env, present["id"], SITE_ID) == [OK] * 3
    assert addon.validate_project(PROJECT, SITE_ID, reset_missing=True) == {"added": 0,
                                                                            "reset": 1}
    assert file_statuses(env, present["id"], SITE_ID) == [OK, QUEUED, OK]


@both_databases
def test_clear_project(env: Env) -> None:
    addon = env.addon
    reps = env.publish(count=2).representations
    local_files = [p for rep in reps for p in env.write_files(rep, env.local_root)]
    studio_files = [p for rep in reps for p in env.write_files(rep, env.studio_root)]
    for rep in reps:
        addon.add_site(PROJECT, rep["id"], SITE_ID, status=OK)
        addon.add_site(PROJECT, rep["id"], "studio", status=OK)
    with pytest.raises(ValueError, match="studio"):
        addon.clear_project(PROJECT, "studio")
    with pytest.raises(ValueError, match="nas"):  # not this machine's site
        addon.clear_project(PROJECT, "nas")
    assert all(p.exists() for p in studio_files)
    addon.clear_project(PROJECT, "local")
    assert not any(p.exists() for p in local_files)
    assert list(env.local_root.iterdir()) == []
    for rep in reps:
        assert env.state(rep["id"], SITE_ID) is None
        assert file_statuses(env, rep["id"], "studio") == [OK] * 3
    assert all(p.exists() for p in studio_files)


def test_reset_timer_wakes_this_process_and_others(env: Env) -> None:
    addon = env.addon

    class Thread:
        woken = 0

        def wake(self) -> None:
            self.woken += 1

        def is_alive(self) -> bool:
            return True

    events_url = f"/api/{addon.endpoint_prefix}/events"
    after = addon.client.http.get(events_url, params={"timeout": 0})["lastId"]
    addon.sync_thread = Thread()
    addon.reset_timer()
    assert addon.sync_thread.woken == 1
    found = addon.client.http.get(events_url, params={"after": after, "timeout": 0})["events"]
    assert {"kind": "reset_timer", "project": PROJECT} in [
        {"kind": e["kind"], "project": e["project"]} for e in found]
    addon.sync_thread = None


def test_reset_timer_runs_the_sync_thread_now(env: Env, monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    env.project_settings({"enabled": True, "config": {"loop_delay": 3600}})
    addon = env.addon
    version_id = env.publish().version_ids[0]
    source = env.studio_root / PROJECT / "real.bin"
    source.parent.mkdir(parents=True)
    source.write_bytes(b"0123456789" * 1000)
    rep = ok(env.api.post(f"/api/projects/{PROJECT}/representations", json={
        "versionId": version_id, "name": "bin", "files": [{
            "path": f"{{root[work]}}/{PROJECT}/real.bin", "size": source.stat().st_size,
            "hash": hash_file(str(source))}]}), 201)
    addon.add_site(PROJECT, rep["id"], "studio", status=OK)
    addon.tray_init()
    addon.tray_start()
    try:
        assert wait_for(lambda: addon.sync_thread.is_alive())
        time.sleep(0.5)  # the thread is waiting out its loop delay now
        ok(env.api.post(f"{{api}}/{PROJECT}/state/bulk", json={"items": [
            {"representationId": rep["id"], "siteName": SITE_ID, "status": int(QUEUED)}]}),
           204)
        addon.reset_timer()
        assert wait_for(lambda: addon.is_representation_on_site(PROJECT, rep["id"], SITE_ID))
    finally:
        addon.tray_exit()
    assert not addon.is_running
    assert (env.local_root / PROJECT / "real.bin").read_bytes() == source.read_bytes()
