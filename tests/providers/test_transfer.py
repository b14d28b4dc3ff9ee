"""The engine's transfer adapts to ``target.features`` alone, and keeps its safety: nothing
partial under a final name, size and hash verified first, a failed cleanup never hiding the
error that caused it."""
from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import BinaryIO

import pytest

from sitesync_addon import hashing
from sitesync_addon.engine import transfer as transfer_module
from sitesync_addon.engine.temp_files import TEMP_SUFFIX, TempJournal
from sitesync_addon.engine.transfer import TransferRequest, transfer
from sitesync_addon.errors import (
    PermissionDenied,
    ProviderError,
    TransferCancelled,
    VerificationFailed,
)
from sitesync_addon.providers import AbstractProvider, FileStat
from sitesync_addon.providers.local_drive import LocalDriveProvider
from sitesync_addon.testing.conformance import MIB, payload


class Memory(AbstractProvider, atomic_write=True):
    """An object store in a dict that records what the engine asks of it."""

    code = "memory"

    def __init__(self, files: dict[str, bytes] | None = None) -> None:
        super().__init__("memory-site", {}, {})
        self.files = dict(files or {})
        self.calls: list[tuple] = []
        self.short_by = 0  # a write that reports fewer bytes stored

    def is_active(self) -> bool:
        return True

    def stat(self, path: str) -> FileStat | None:
        self.calls.append(("stat", path))
        return FileStat(len(self.files[path])) if path in self.files else None

    def open_read(self, path: str) -> BinaryIO:
        return io.BytesIO(self.files[path])

    def write(self, path: str, reader: BinaryIO, size: int,
              content_hash: str | None = None) -> FileStat:
        self.calls.append(("write", path, content_hash))
        self.files[path] = reader.read()
        return FileStat(len(self.files[path]) - self.short_by, content_hash)

    def delete(self, path: str) -> None:
        self.calls.append(("delete", path))
        self.files.pop(path, None)


class KeepsHashes(Memory, hash_on_write=True):
    pass


class Renaming(Memory, atomic_write=False):
    def rename(self, source: str, target: str) -> None:
        self.calls.append(("rename", source, target))
        self.files[target] = self.files.pop(source)


class Undeletable(Renaming):
    def delete(self, path: str) -> None:
        raise PermissionDenied(f"deleting {path}: the share is read-only now")


def blake3(data: bytes) -> str:
    hasher = hashing.new_hasher("blake3")
    hasher.update(data)
    return f"blake3:{hasher.hexdigest()}"


DATA = payload(5000, 1)
SOURCE = {"work/a.bin": DATA}


def move(target: Memory, tmp_path: Path, content_hash: str | None = None,
         **kwargs: object) -> str:
    request = TransferRequest(Memory(SOURCE), target, "work/a.bin", len(DATA),
                              content_hash or blake3(DATA))
    return transfer(request, TempJournal(tmp_path / "journal"), **kwargs)  # type: ignore


def test_an_atomic_target_gets_the_bytes_under_the_final_name(tmp_path):
    target = Memory()
    assert move(target, tmp_path) == blake3(DATA)
    assert target.files == {"work/a.bin": DATA}
    # The write's own stat verifies the size: no second stat, no rename, no hash passed on.
    assert target.calls == [("write", "work/a.bin", None)]


def test_only_a_target_that_keeps_hashes_is_given_the_published_one(tmp_path):
    target = KeepsHashes()
    move(target, tmp_path)
    assert target.calls == [("write", "work/a.bin", blake3(DATA))]


def test_any_other_target_gets_a_temporary_name_renamed_once_verified(tmp_path):
    target = Renaming()
    move(target, tmp_path)
    (_, temp, _), rename = target.calls
    assert temp.startswith("work/.a.bin.") and temp.endswith(TEMP_SUFFIX)
    assert rename == ("rename", temp, "work/a.bin")
    assert target.files == {"work/a.bin": DATA}


@pytest.mark.parametrize("target_class", [Memory, Renaming])
def test_a_wrong_hash_or_size_places_nothing(tmp_path, target_class):
    target = target_class()
    with pytest.raises(VerificationFailed, match="does not match"):
        move(target, tmp_path, content_hash=blake3(b"other bytes"))
    assert target.files == {}
    target.short_by = 1  # the store says it kept one byte less than was sent
    with pytest.raises(VerificationFailed, match="wrote 4999 bytes"):
        move(target, tmp_path)
    assert target.files == {}
    assert not any(call[0] == "rename" for call in target.calls)


def test_a_target_that_neither_renames_nor_writes_atomically_is_refused(tmp_path):
    class Unsafe(Memory, atomic_write=False):
        pass

    with pytest.raises(ProviderError, match="neither rename nor write atomically"):
        move(Unsafe(), tmp_path)
    assert not TempJournal(tmp_path / "journal").open_entries()


def test_a_failed_cleanup_never_hides_the_original_error(tmp_path, caplog):
    target = Undeletable()
    journal = TempJournal(tmp_path / "journal")
    request = TransferRequest(Memory(SOURCE), target, "work/a.bin", len(DATA),
                              blake3(b"not these bytes"))
    with caplog.at_level(logging.WARNING, logger="sitesync_addon.engine.transfer"), \
            pytest.raises(VerificationFailed, match="does not match"):
        transfer(request, journal)
    assert "could not delete" in caplog.text and "read-only" in caplog.text
    # The leftover stays journalled, so the next start deletes it.
    (leftover,) = journal.open_entries()
    assert leftover["site"] == "memory-site" and leftover["path"] in target.files
    deleted: list[str] = []
    assert journal.clean(lambda site, path: deleted.append(path)) == 1
    assert deleted == [leftover["path"]]


def test_a_failed_cleanup_never_hides_a_cancel(tmp_path):
    with pytest.raises(TransferCancelled):
        move(Undeletable(), tmp_path, should_stop=lambda: True)


def test_kept_leftovers_survive_the_journal_starting_afresh(tmp_path, monkeypatch):
    monkeypatch.setattr("sitesync_addon.engine.temp_files._COMPACT_AT", 0)
    journal = TempJournal(tmp_path / "journal")
    kept = journal.add("s", "work/.kept.part")
    journal.keep(kept)
    journal.remove(journal.add("s", "work/.done.part"))  # compacts: nothing is open
    assert [entry["path"] for entry in journal.open_entries()] == ["work/.kept.part"]


def test_between_local_paths_the_kernel_copies(tmp_path, monkeypatch):
    copies: list[int] = []
    real_copy = os.copy_file_range

    def counting(*args: int) -> int:
        copies.append(args[2])
        return real_copy(*args)

    monkeypatch.setattr(transfer_module.os, "copy_file_range", counting)
    (tmp_path / "src").mkdir()
    (tmp_path / "dst").mkdir()
    data = payload(3 * MIB + 7, 2)
    (tmp_path / "src" / "big.bin").write_bytes(data)
    source = LocalDriveProvider("a", {}, {"work": str(tmp_path / "src")})
    target = LocalDriveProvider("b", {}, {"work": str(tmp_path / "dst")})
    request = TransferRequest(source, target, "work/big.bin", len(data), blake3(data))
    assert transfer(request, TempJournal(tmp_path / "journal"), chunk_size=MIB) == blake3(data)
    assert copies and (tmp_path / "dst" / "big.bin").read_bytes() == data
