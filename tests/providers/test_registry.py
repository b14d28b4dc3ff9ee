"""The provider registry: built-ins and entry points, and broken plugins skipped by name."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sitesync_addon.errors import ProviderNotInstalled
from sitesync_addon.providers.registry import BUILTIN_MODULES, ProviderRegistry

PLUGINS = {
    # module name: source
    "good_store": '''
from pathlib import Path
from sitesync_addon.providers import ProviderSettings, hookimpl
from sitesync_addon.providers.local_drive import LocalDriveProvider

class GoodSettings(ProviderSettings):
    bucket: str

class GoodStore(LocalDriveProvider):
    code = "good_store"
    settings_model = GoodSettings

@hookimpl
def sitesync_providers():
    return [GoodStore]
''',
    "fails_on_import": "raise ImportError('needs a library that is not installed')\n",
    "not_a_provider": '''
from sitesync_addon.providers import hookimpl

@hookimpl
def sitesync_providers():
    return [dict]
''',
    "unsafe_store": '''
import io
from sitesync_addon.providers import AbstractProvider, FileStat, hookimpl

class Unsafe(AbstractProvider):  # writes in place, cannot rename: partial files possible
    code = "unsafe_store"
    def is_active(self): return True
    def stat(self, path): return None
    def open_read(self, path): return io.BytesIO()
    def write(self, path, reader, size, content_hash=None): return FileStat(size)
    def delete(self, path): pass

@hookimpl
def sitesync_providers():
    return [Unsafe]
''',
    "steals_a_code": '''
from sitesync_addon.providers import hookimpl
from sitesync_addon.providers.local_drive import LocalDriveProvider

class Impostor(LocalDriveProvider):
    pass  # keeps code "local_drive"

@hookimpl
def sitesync_providers():
    return [Impostor]
''',
}


@pytest.fixture
def plugin_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path holding the plugins and a distribution that declares them."""
    for name, source in PLUGINS.items():
        (tmp_path / f"{name}.py").write_text(source)
    dist = tmp_path / "studio_plugins-2.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: studio-plugins\nVersion: 2.0\n")
    (dist / "entry_points.txt").write_text(
        "[sitesync]\n" + "".join(f"{name} = {name}\n" for name in PLUGINS))
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_builtins_register_through_the_hook():
    registry = ProviderRegistry(load_entry_points=False)
    assert set(registry.providers) == set(BUILTIN_MODULES)
    assert {info.origin for info in registry.providers.values()} == {"builtin"}
    assert not registry.broken
    for info in registry.providers.values():
        assert info.provider.icon is not None and info.provider.icon.is_file()


def test_broken_plugins_are_reported_by_name_and_skipped(plugin_path):
    registry = ProviderRegistry()
    good = registry.providers["good_store"]
    assert (good.origin, good.version) == ("studio-plugins", "2.0")
    # Its own field, and the one every provider's block has.
    assert registry.settings_models()["good_store"].model_fields.keys() == \
        {"bucket", "max_concurrency"}
    broken = {plugin.name: plugin.error for plugin in registry.broken}
    assert set(broken) == {"fails_on_import", "not_a_provider", "steals_a_code",
                           "unsafe_store"}
    assert "neither implements rename() nor declares atomic_write=True" in \
        broken["unsafe_store"]
    assert "needs a library that is not installed" in broken["fails_on_import"]
    assert "not an AbstractProvider" in broken["not_a_provider"]
    assert "already taken by builtin" in broken["steals_a_code"]
    assert registry.providers["local_drive"].origin == "builtin"
    with pytest.raises(ProviderNotInstalled, match="no provider 'nope' is installed"):
        registry.provider_class("nope")


def test_cli_lists_broken_plugins_without_failing(plugin_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), *sys.path])}
    run = subprocess.run([sys.executable, "-m", "sitesync_addon.cli", "providers", "--json"],
                         env=env, capture_output=True, text=True, check=True)
    listed = json.loads(run.stdout)
    assert {i["code"] for i in listed if not i["error"]} >= {"local_drive", "good_store"}
    assert {i["title"] for i in listed if i["error"]} == {"fails_on_import", "not_a_provider",
                                                          "steals_a_code", "unsafe_store"}


def test_a_builtin_is_imported_only_when_its_code_is_asked_for():
    """A service moving files between local drives never pays for the cloud SDKs."""
    probe = ("import sys\n"
             "from sitesync_addon.providers.registry import registry\n"
             "registry().provider_class('local_drive')\n"
             "print(sorted(m for m in ('boto3', 'paramiko', 'googleapiclient', "
             "'sitesync_addon.providers.rclone') if m in sys.modules))\n")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert run.stdout.strip() == "[]"
