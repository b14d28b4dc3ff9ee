"""A third-party provider package, installed with pip alone, joins SiteSync.

The example package is installed into a folder of its own and put on PYTHONPATH of the child
processes, so the test environment itself stays as it was.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sitesync_addon.hashing import hash_file
from tests.conftest import ADMIN_KEY
from tests.studio import PROJECT

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sitesync-provider-example"
SITESYNC = [sys.executable, "-m", "sitesync_addon.cli"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment of a child process that has the example package installed."""
    target = tmp_path_factory.mktemp("site-packages")
    build = tmp_path_factory.mktemp("build")
    # pip builds in the source tree; a copy per process keeps parallel workers apart.
    source = shutil.copytree(EXAMPLE, build / "source",
                             ignore=shutil.ignore_patterns("build", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--target", str(target), str(source)],
                   check=True, env={**os.environ, "TMPDIR": str(build)})
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), *sys.path])}


def test_sitesync_providers_lists_the_plugin_with_its_origin(installed):
    listed = subprocess.run([*SITESYNC, "providers", "--json"], env=installed, check=True,
                            capture_output=True, text=True).stdout
    by_code = {item["code"]: item for item in json.loads(listed)}
    assert by_code["cas_folder"]["origin"] == "sitesync-provider-example"
    assert by_code["cas_folder"]["version"] == "1.0.0"
    assert Path(by_code["cas_folder"]["icon"]).is_file()
    assert by_code["local_drive"]["origin"] == "builtin"
    table = subprocess.run([*SITESYNC, "providers"], env={**installed, "COLUMNS": "200"},
                           check=True,
                           capture_output=True, text=True).stdout
    assert "cas_folder" in table and "sitesync-provider-example" in table


def test_the_plugin_passes_the_conformance_suite(installed):
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-p", "no:randomly", str(EXAMPLE / "tests")],
                         env=installed, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:]
    assert " passed" in run.stdout and "failed" not in run.stdout


def test_files_sync_through_the_plugin(installed, studio, tmp_path):
    store = tmp_path / "vault"
    store.mkdir()
    settings = f"/api/{studio.publisher.endpoint_prefix}/settings"
    studio.publisher.client.http.put(settings, json={
        "enabled": True, "config": {"retry_cnt": 3},
        "sites": [{"name": "vault", "provider": "cas_folder",
                   "cas_folder": {"folder": str(store)}}]})
    rep = studio.publish("sh010", [0, 70_000, 5 * 1024 * 1024])
    studio.publisher.add_site(PROJECT, rep["id"], "vault")
    env = {**installed, "SITESYNC_SERVER_URL": studio.url, "SITESYNC_API_KEY": ADMIN_KEY,
           "SITESYNC_SITE_ID": "vault-service", "XDG_STATE_HOME": str(tmp_path / "state")}
    run = subprocess.run([*SITESYNC, "syncservice", "--active_site", "vault", "--once",
                          "--quiet"], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert studio.publisher.is_representation_on_site(PROJECT, rep["id"], "vault")
    for file in rep["files"]:
        ref = json.loads((store / "refs" / "work" / file["path"].partition("/")[2]).read_text())
        stored = store / "objects" / ref["sha256"][:2] / ref["sha256"]
        assert hash_file(stored) == file["hash"] == hash_file(studio.studio_path(file))
