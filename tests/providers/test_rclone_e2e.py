"""End to end: the sync service moves a published representation from the studio root to an
rclone site (a webdav remote served by ``rclone serve webdav`` on 127.0.0.1)."""
from __future__ import annotations

import uuid

from sitesync_addon.engine.temp_files import TEMP_SUFFIX
from sitesync_addon.hashing import hash_file
from tests.servers.rclone_webdav import rclone_webdav  # noqa: F401
from tests.sqlite_only import sqlite_database_url  # noqa: F401  (the server on SQLite)

SITE = "rclone-dav"


def test_a_published_representation_reaches_the_rclone_site(studio, rclone_webdav, tmp_path):  # noqa: F811
    folder = f"e2e-{uuid.uuid4().hex[:8]}"
    block = {"remote": f"dav:{folder}", "parameters": rclone_webdav.parameters()}
    rep = studio.upload_to_remote_site({"name": SITE, "provider": "rclone", "rclone": block},
                                       tmp_path / "state")
    served = rclone_webdav.folder / folder / "work"
    for file in rep["files"]:
        copy = served / file["path"].partition("/")[2]
        assert copy.read_bytes() == studio.studio_path(file).read_bytes()
        assert hash_file(copy) == file["hash"]
    assert not [p for p in served.rglob(f"*{TEMP_SUFFIX}*")]
