"""The house rules CI keeps: the client's layers (import-linter), ruff, and mypy (strict on
the layers L0-L4). The same commands run in `make lint`."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / command[0]), *command[1:]], cwd=REPO, text=True,
                          capture_output=True, timeout=600, check=False)


def test_the_layers_import_only_downwards_and_have_no_cycles() -> None:
    result = run("lint-imports", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", "--no-cache", "sitesync_addon", "server_addon", "tests",
                 "bench", "examples")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_finds_nothing_in_the_client() -> None:
    result = run("mypy", "--cache-dir=/dev/null", "sitesync_addon")
    assert result.returncode == 0, result.stdout + result.stderr
