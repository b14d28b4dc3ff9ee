"""Finding hooks in folders, running them by order and filter, starting a real child process."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sitesync_addon import SiteSyncAddon
from sitesync_addon.launch_hooks.base import LaunchError, PreLaunchHook
from sitesync_addon.launch_hooks.copy_last_published_workfile import CopyLastPublishedWorkfile
from sitesync_addon.launch_hooks.runner import discover_hooks, prepare_launch, run_launch
from tests.launch.conftest import CHILD

HOOK = '''
from pathlib import Path
from sitesync_addon.launch_hooks.base import PreLaunchHook

with open(Path(__file__).with_suffix(".imported"), "a") as imported:
    imported.write("x")


class {name}(PreLaunchHook):
    order = {order}
    hosts = {hosts}
    app_groups = {app_groups}
    launch_types = {launch_types}

    def execute(self, context):
        if context.env.get("TOY_FAIL") == "{name}":
            raise RuntimeError("the toy was asked to fail")
        context.env["TOY_TRACE"] = context.env.get("TOY_TRACE", "") + "{name},"
'''



def write_hook(folder: Path, name: str, order: int, hosts: tuple = (), app_groups: tuple = (),
               launch_types: tuple = ()) -> None:
    (folder / f"{name.lower()}.py").write_text(HOOK.format(
        name=name, order=order, hosts=hosts, app_groups=app_groups, launch_types=launch_types))


@pytest.fixture
def toy_hooks(tmp_path: Path) -> Path:
    folder = tmp_path / "toy_hooks"
    folder.mkdir()
    write_hook(folder, "Late", 20)
    write_hook(folder, "Early", -5)
    write_hook(folder, "MayaOnly", 10, app_groups=("maya",))
    write_hook(folder, "NukeOnly", 10, hosts=("nuke",))
    write_hook(folder, "FarmOnly", 15, launch_types=("farm",))
    (folder / "broken.py").write_text("import toy_dependency_that_is_not_installed\n")
    (folder / "_helpers.py").write_text("raise RuntimeError('private modules are not hooks')\n")
    (folder / "notes.txt").write_text("not python")
    return folder


@pytest.fixture
def offline_addon() -> SiteSyncAddon:
    """An addon no toy hook calls: it never reaches a server."""
    return SiteSyncAddon("http://127.0.0.1:9", "unused", site_id="toy")


def names(classes: list[type]) -> list[str]:
    return sorted(cls.__name__ for cls in classes)


def test_discovery_finds_hooks_and_reports_a_broken_module_by_name(toy_hooks):
    found = discover_hooks(toy_hooks)
    assert names(found.hooks) == ["Early", "FarmOnly", "Late", "MayaOnly", "NukeOnly"]
    assert all(issubclass(cls, PreLaunchHook) for cls in found.hooks)
    assert [b.name for b in found.broken] == ["broken.py"]
    assert "toy_dependency_that_is_not_installed" in found.broken[0].error


def test_a_module_is_imported_once_however_often_it_is_discovered(toy_hooks):
    first = discover_hooks([toy_hooks, str(toy_hooks)])
    second = discover_hooks(toy_hooks)
    assert (toy_hooks / "early.imported").read_text() == "x"
    assert first.hooks == second.hooks and len(first.hooks) == 5


def test_the_builtin_folder_is_imported_as_its_package(offline_addon, toy_hooks):
    found = discover_hooks([offline_addon.get_launch_hook_paths(), toy_hooks])
    assert CopyLastPublishedWorkfile in found.hooks  # the very class, not a second copy
    assert CopyLastPublishedWorkfile.__module__ == \
        "sitesync_addon.launch_hooks.copy_last_published_workfile"
    assert [b.name for b in found.broken] == ["broken.py"]
    assert len(found.hooks) == 6


def test_a_missing_folder_is_reported(tmp_path):
    found = discover_hooks(tmp_path / "nowhere")
    assert found.hooks == [] and found.broken[0].error == "not a folder"


@pytest.mark.parametrize(("app", "launch_type", "expected"), [
    ("maya/2025", "local", ["Early", "MayaOnly", "Late"]),
    ("nuke/15.1", "local", ["Early", "NukeOnly", "Late"]),
    ("nuke/15.1", "farm", ["Early", "NukeOnly", "FarmOnly", "Late"]),
    ("houdini", "local", ["Early", "Late"]),
])
def test_hooks_run_by_order_for_their_apps_and_launch_types(offline_addon, toy_hooks, app,
                                                            launch_type, expected):
    messages: list[str] = []
    result = prepare_launch(offline_addon, project="proj", folder="shots/sh010",
                            task="comp", app=app, launch_type=launch_type,
                            hook_paths=[toy_hooks], env={}, log=messages.append)
    assert result.hooks == expected
    assert result.context.env["TOY_TRACE"] == "".join(f"{name}," for name in expected)
    assert any("broken.py" in message for message in messages)
    assert result.returncode is None and result.command == []


def test_the_application_gets_the_env_and_the_workfile_as_last_argument(offline_addon,
                                                                        toy_hooks, tmp_path):
    out, workfile = tmp_path / "received.json", tmp_path / "sh010_comp_v002.ma"
    result = run_launch(offline_addon, project="proj", folder="shots/sh010", task="comp",
                        app="maya/2025", hook_paths=toy_hooks, workfile=workfile,
                        env={"TOY_GIVEN": "1"}, command=[sys.executable, "-c", CHILD, str(out)])
    assert result.returncode == 7
    received = json.loads(out.read_text())
    assert received["argv"] == [str(out), str(workfile)]
    assert received["env"] == {"TOY_GIVEN": "1", "TOY_TRACE": "Early,MayaOnly,Late,",
                               "SITESYNC_PROJECT": "proj", "SITESYNC_FOLDER": "shots/sh010",
                               "SITESYNC_TASK": "comp", "SITESYNC_APP": "maya/2025"}
    assert result.command[-1] == str(workfile)


def test_without_a_workfile_no_argument_is_added(offline_addon, tmp_path):
    out = tmp_path / "received.json"
    run_launch(offline_addon, project="proj", folder="shots/sh010", task="comp", app="maya",
               hook_paths=[], command=[sys.executable, "-c", CHILD, str(out)])
    assert json.loads(out.read_text())["argv"] == [str(out)]


def test_a_failing_hook_stops_the_launch_and_is_named(offline_addon, toy_hooks, tmp_path):
    out = tmp_path / "received.json"
    with pytest.raises(LaunchError, match="launch hook MayaOnly failed: the toy was asked"):
        run_launch(offline_addon, project="proj", folder="shots/sh010", task="comp",
                   app="maya/2025", hook_paths=toy_hooks, env={"TOY_FAIL": "MayaOnly"},
                   command=[sys.executable, "-c", CHILD, str(out)])
    assert not out.exists()  # the application never started


def test_an_application_that_cannot_start_is_a_clear_error(offline_addon, tmp_path):
    missing = tmp_path / "no-such-app"
    with pytest.raises(LaunchError, match="cannot start .*no-such-app"):
        run_launch(offline_addon, project="proj", folder="shots/sh010", task="comp",
                   app="maya", hook_paths=[], command=[str(missing)])


def test_the_app_must_name_its_group(offline_addon):
    with pytest.raises(LaunchError, match="group/variant"):
        prepare_launch(offline_addon, project="proj", folder="f", task="t", app="/2025",
                       hook_paths=[])


def test_a_hook_folder_that_is_a_package_off_sys_path(offline_addon, tmp_path):
    package = tmp_path / "studio_hooks"
    package.mkdir()
    (package / "__init__.py").write_text("")
    write_hook(package, "PackagedHook", 0)
    found = discover_hooks(package)
    assert names(found.hooks) == ["PackagedHook"] and found.broken == []
    assert found.hooks[0].__module__.endswith(".packagedhook")
