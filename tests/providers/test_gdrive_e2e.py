"""End to end: the sync service moves a published representation from the studio root to a
gdrive site (My Drive or a shared drive on the Drive v3 test server on 127.0.0.1)."""
from __future__ import annotations

import hashlib
import uuid

import pytest

from sitesync_addon.hashing import new_hasher
from tests.servers.drive import drive_server  # noqa: F401
from tests.sqlite_only import sqlite_database_url  # noqa: F401  (the server on SQLite)

SITE = "gdrive-site"


@pytest.mark.parametrize("on_shared_drive", [False, True], ids=["my-drive", "shared-drive"])
def test_a_published_representation_reaches_the_gdrive_site(
        studio, drive_server, tmp_path, on_shared_drive):  # noqa: F811
    server = drive_server.server
    root = f"e2e/{uuid.uuid4().hex[:8]}"
    if on_shared_drive:
        top = server.add_shared_drive(f"Studio {uuid.uuid4().hex[:6]}",
                                      [drive_server.account["client_email"]])
        block = drive_server.settings(root, shared_drive=top)
    else:
        top = server.my_drive(drive_server.account["client_email"])
        block = drive_server.settings(root)
    rep = studio.upload_to_remote_site({"name": SITE, "provider": "gdrive", "gdrive": block},
                                       tmp_path / "state")
    for file in rep["files"]:
        item = server.find(top, f"{root}/work/{file['path'].partition('/')[2]}")
        assert item is not None, file["path"]
        data = server.content(item)
        assert data == studio.studio_path(file).read_bytes()
        assert item.md5 == hashlib.md5(data).hexdigest()
        algorithm, _, digest = file["hash"].partition(":")
        hasher = new_hasher(algorithm)
        hasher.update(data)
        assert hasher.hexdigest() == digest
    folder = server.find(top, f"{root}/work/{rep['files'][0]['path'].partition('/')[2]}"
                              .rpartition("/")[0])
    assert sorted(i.name for i in server.children(folder.id)) == \
        sorted(f["path"].rpartition("/")[2] for f in rep["files"])  # no temporary or twin
