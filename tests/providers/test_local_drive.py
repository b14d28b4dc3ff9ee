"""The local_drive provider on real folders: paths stay inside their root."""
from __future__ import annotations

import os

import pytest

from sitesync_addon.errors import (
    NotFound,
    PathEscapesRoot,
    ProviderError,
    SiteUnavailable,
)
from sitesync_addon.providers.local_drive import LocalDriveProvider


@pytest.fixture
def drive(tmp_path):  # type: ignore[no-untyped-def]
    root = tmp_path / "root"
    root.mkdir()
    return LocalDriveProvider("site", {}, {"work": str(root)})


def test_write_read_stat_list_rename_delete(drive, tmp_path):
    with drive.open_write("work/a/b/file one ü.bin") as stream:
        stream.write(b"hello")
    assert drive.stat("work/a/b/file one ü.bin").size == 5
    with drive.open_read("work/a/b/file one ü.bin") as stream:
        assert stream.read() == b"hello"
    drive.rename("work/a/b/file one ü.bin", "work/a/c.bin")
    assert list(drive.list("work/a")) == ["work/a/c.bin"]
    drive.delete("work/a/c.bin")
    drive.delete("work/a/c.bin")  # missing is fine
    assert drive.stat("work/a/c.bin") is None
    with pytest.raises(NotFound, match="not on site 'site'"):
        drive.open_read("work/a/c.bin")
    assert drive.is_active()
    assert not LocalDriveProvider("x", {}, {"work": str(tmp_path / "nope")}).is_active()


def test_a_folder_removed_behind_its_back_is_made_again(drive, tmp_path):
    with drive.open_write("work/shot/a.bin") as stream:
        stream.write(b"a")
    drive.delete("work/shot/a.bin")
    drive.delete_empty_folders("work/shot/a.bin")
    assert not (tmp_path / "root" / "shot").exists()
    with drive.open_write("work/shot/b.bin") as stream:
        stream.write(b"b")
    assert (tmp_path / "root" / "shot" / "b.bin").read_bytes() == b"b"


@pytest.mark.parametrize("path", ["work/../outside.bin", "work/a/../../x", "/etc/passwd",
                                  "C:/Windows", "", "work/a\\..\\..\\x"])
def test_paths_leaving_the_root_are_refused(drive, path):
    with pytest.raises(PathEscapesRoot):
        drive.real_path(path)


def test_symlinks_pointing_out_are_refused(drive, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("x")
    root = tmp_path / "root"
    os.symlink(outside, root / "linked")
    os.symlink(outside / "secret", root / "secret-link")
    with pytest.raises(PathEscapesRoot, match="symlink"):
        drive.open_read("work/linked/secret")
    with pytest.raises(PathEscapesRoot, match="symlink"):
        drive.open_write("work/linked/new/file")
    with pytest.raises(PathEscapesRoot, match="symlink"):
        drive.stat("work/secret-link")
    assert not (outside / "new").exists()
    inside = root / "inside"
    inside.mkdir()
    os.symlink(inside, root / "alias")  # a symlink that stays inside is fine
    with drive.open_write("work/alias/f") as stream:
        stream.write(b"ok")
    assert (inside / "f").read_bytes() == b"ok"


def test_unknown_root_names_the_site_and_roots(drive):
    with pytest.raises(ProviderError, match="no root 'render'.*roots: work"):
        drive.real_path("render/a.exr")


def test_an_unmounted_root_holds_the_site_and_is_never_filled(tmp_path):
    mount = tmp_path / "mnt" / "vol"  # the volume is not mounted: its mount point is gone
    drive = LocalDriveProvider("nas", {}, {"work": str(mount)})
    assert not drive.is_active()
    for call in (lambda: drive.stat("work/a.bin"), lambda: drive.open_write("work/a.bin"),
                 lambda: drive.open_read("work/a.bin")):
        with pytest.raises(SiteUnavailable, match="root 'work' of site 'nas' is missing"):
            call()
    assert not mount.exists()


def test_os_errors_become_sitesync_errors(drive, tmp_path):
    (tmp_path / "root" / "folder").mkdir()
    with pytest.raises(ProviderError, match="reading work/folder on site 'site'"):
        drive.open_read("work/folder")  # a folder, not a file: EISDIR
    with pytest.raises(ProviderError, match="renaming"):
        drive.rename("work/none.bin", "work/other.bin")
    with pytest.raises(NotFound):
        drive.rename("work/none.bin", "work/other.bin")


def test_streams_translate_their_errors(drive):
    with drive.open_write("work/s.bin") as stream:
        stream.write(b"abc")
    reader = drive.open_read("work/s.bin")
    reader.close()
    with pytest.raises(ProviderError, match="reading work/s.bin on site 'site'"):
        reader.read(1)  # a closed stream: ValueError inside, a SiteSync error outside
