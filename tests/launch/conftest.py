"""Machine A publishes workfiles to the studio; machine B launches an application for the task.

SQLite by default; tests opt into PostgreSQL with ``both_databases``.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sitesync_addon import SiteSyncAddon
from sitesync_addon.engine.service import SyncService
from sitesync_addon.publish import publish_files
from sitesync_addon.workfiles import (REFERENCE_LINK, WORKFILE_PRODUCT_TYPE,
                                      workfile_product_name)
from tests.conftest import ADMIN_KEY
from tests.sqlite_only import sqlite_database_url  # noqa: F401
from tests.studio import PROJECT, Studio

MACHINE_B = "machine-b"
FOLDER, TASK = "shots/sh010", "compositing"
# An application that writes what it received (its arguments, the variables hooks set)
# to its first argument, and exits 7.
CHILD = ("import json, os, sys; json.dump({'argv': sys.argv[1:], 'env': {k: v for k, v in "
         "os.environ.items() if k.startswith(('TOY_', 'SITESYNC_'))}}, open(sys.argv[1], 'w'));"
         " sys.exit(7)")


@dataclass
class Machine:
    """Machine B: its own site id and local root; it records what hooks tell it."""

    addon: SiteSyncAddon
    root: Path
    messages: list[str] = field(default_factory=list)
    progress: list[tuple[str, float]] = field(default_factory=list)

    def log(self, message: str) -> None:
        self.messages.append(message)

    def report(self, label: str, fraction: float) -> None:
        self.progress.append((label, fraction))

    def path_of(self, file: dict) -> Path:
        return self.root / file["path"].partition("/")[2]

    def work_area(self) -> Path:
        return self.root / PROJECT / FOLDER / "work" / TASK


@pytest.fixture
def machine_b(studio: Studio) -> Machine:
    admin = studio.publisher
    settings = f"/api/{admin.endpoint_prefix}/settings/{PROJECT}"
    root = studio.tmp / MACHINE_B
    root.mkdir()
    admin.client.http.put(f"{settings}/site/{MACHINE_B}", json={
        "active_site": "local", "remote_site": "studio",
        "local_roots": [{"name": "work", "path": str(root)}]})
    # A short fallback loop: a failed file is tried again after its backoff, not after 60 s.
    admin.client.http.put(settings, json={"config": {"retry_cnt": 2, "loop_delay": 1}})
    addon = SiteSyncAddon(studio.url, ADMIN_KEY, site_id=MACHINE_B)
    addon.retry_backoff_base = 0.05
    return Machine(addon, root)


@pytest.fixture
def sync_b(machine_b: Machine, tmp_path: Path) -> Iterator[SyncService]:
    """Machine B's real sync service, running."""
    thread = machine_b.addon.create_service(state_dir=tmp_path / "state-b")
    thread.start()
    yield thread
    thread.stop()


def _incoming(studio: Studio, name: str, size: int) -> Path:
    path = studio.tmp / "incoming" / os.urandom(4).hex() / name
    path.parent.mkdir(parents=True)
    path.write_bytes(os.urandom(size))
    return path


def publish_reference(studio: Studio) -> dict:
    """A model with two files (mesh and texture) in another folder."""
    files = [_incoming(studio, "chair.abc", 40_000), _incoming(studio, "chair.png", 9_000)]
    return publish_files(studio.publisher, PROJECT, folder="assets/chair",
                         product="modelMain", version=1, representation="abc", files=files)


def publish_workfile(studio: Studio, version: int, references: Sequence[dict] = (),
                     task: str = TASK) -> dict:
    path = _incoming(studio, f"sh010_{task}_v{version:03d}.nk", 30_000 + version)
    return publish_files(
        studio.publisher, PROJECT, folder=FOLDER, product=workfile_product_name(task),
        product_type=WORKFILE_PRODUCT_TYPE, version=version, representation="nk",
        files=[path], task=task,
        links=[{"versionId": ref["versionId"], "type": REFERENCE_LINK} for ref in references])
