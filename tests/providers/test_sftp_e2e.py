"""End to end: the sync service moves a published representation from the studio root to an
SFTP site served by OpenSSH sshd on 127.0.0.1."""
from __future__ import annotations

from sitesync_addon.engine.service import SiteSyncThread
from sitesync_addon.engine.temp_files import TEMP_SUFFIX
from sitesync_addon.hashing import hash_file
from tests.servers.sshd import sshd  # noqa: F401
from tests.sqlite_only import sqlite_database_url  # noqa: F401  (the server on SQLite)
from tests.studio import PROJECT

SITE = "sftp-site"


def test_a_published_representation_reaches_the_sftp_site(studio, sshd, tmp_path):  # noqa: F811
    area = sshd.area()
    admin = studio.publisher
    admin.api.put(f"/api/{admin.endpoint_prefix}/settings", json={
        "enabled": True,
        "config": {"retry_cnt": 3, "active_site": "studio", "remote_site": SITE},
        "sites": [{"name": SITE, "provider": "sftp", "sftp": sshd.settings(area)}]})
    admin.clear_caches()
    rep = studio.publish("sh010", [0, 1000, 300_000, 9 * 1024 * 1024 + 7])

    # Run as the SFTP site: it moves files between the project's active site (studio) and
    # its remote site (this one), i.e. uploads from the studio root.
    thread = SiteSyncThread(admin, active_site=SITE, state_dir=tmp_path / "state")
    assert thread.site_pairs(PROJECT) == [("studio", SITE)]
    try:
        assert thread.run_until_idle() is True
    finally:
        thread.stop()

    assert admin.is_representation_on_site(PROJECT, rep["id"], SITE)
    served = area / "work"
    for file in rep["files"]:
        copy = served / file["path"].partition("/")[2]
        assert copy.read_bytes() == studio.studio_path(file).read_bytes()
        assert hash_file(copy) == file["hash"]
    assert thread.moved == len(rep["files"]) and thread.failed == 0
    assert not [p for p in served.rglob(f"*{TEMP_SUFFIX}*")]
