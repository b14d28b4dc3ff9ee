"""End to end: the sync service moves a published representation from the studio root to an
SFTP site served by OpenSSH sshd on 127.0.0.1."""
from __future__ import annotations

from sitesync_addon.engine.temp_files import TEMP_SUFFIX
from sitesync_addon.hashing import hash_file
from tests.servers.sshd import sshd  # noqa: F401
from tests.sqlite_only import sqlite_database_url  # noqa: F401  (the server on SQLite)

SITE = "sftp-site"


def test_a_published_representation_reaches_the_sftp_site(studio, sshd, tmp_path):  # noqa: F811
    area = sshd.area()
    rep = studio.upload_to_remote_site(
        {"name": SITE, "provider": "sftp", "sftp": sshd.settings(area)}, tmp_path / "state")
    served = area / "work"
    for file in rep["files"]:
        copy = served / file["path"].partition("/")[2]
        assert copy.read_bytes() == studio.studio_path(file).read_bytes()
        assert hash_file(copy) == file["hash"]
    assert not [p for p in served.rglob(f"*{TEMP_SUFFIX}*")]
