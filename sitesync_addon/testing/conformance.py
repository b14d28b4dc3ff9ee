"""The provider conformance suite: what every provider must do, run against a live server.

A provider's tests subclass ``ProviderConformance`` and supply a ``provider_case`` fixture
returning a ``ProviderCase``; pytest then runs every test below against that provider::

    from sitesync_addon.testing.conformance import ProviderCase, ProviderConformance

    class TestMyStore(ProviderConformance):
        @pytest.fixture
        def provider_case(self, my_store_server):
            return ProviderCase(make=lambda: MyStoreProvider("remote", {...fresh area...}, {}),
                                make_with_bad_credentials=lambda: MyStoreProvider(...))

``make_with_bad_credentials`` gives a provider the store refuses (for a store without
credentials: one it cannot use, such as a missing folder): ``is_active()`` must be false and a
transfer must fail with ``AuthFailed`` or ``SiteUnavailable`` (its base) that says why.

Transfers go through the engine (``transfer``), as in production: the engine owns temporary
names, verification and progress, the provider only moves bytes. Optional methods are
tested by ``provider.features``: a feature a provider has must work, and a method it lacks
must raise ``NotImplementedError``, so nothing is skipped.
"""
from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sitesync_addon import hashing
from sitesync_addon.engine.temp_files import TEMP_SUFFIX, TempJournal
from sitesync_addon.engine.transfer import TransferRequest, transfer
from sitesync_addon.errors import (
    NotFound,
    PathEscapesRoot,
    SiteUnavailable,
    TransferCancelled,
)
from sitesync_addon.providers.base import AbstractProvider, Features, FileStat
from sitesync_addon.providers.local_drive import LocalDriveProvider

MIB = 1024 * 1024
LARGE_SIZE = 64 * MIB + 12_345  # past one 8 MiB chunk / multipart part, and not a multiple


@dataclass
class ProviderCase:
    make: Callable[[], AbstractProvider]  # each call: a provider over a fresh, empty area
    # A provider the store refuses: bad credentials, or for a store without credentials one
    # it cannot use (a missing folder, an unmounted volume).
    make_with_bad_credentials: Callable[[], AbstractProvider]


def payload(size: int, seed: int = 0) -> bytes:
    """Bytes that differ per size and seed, so a mixed-up file cannot pass."""
    block = hashlib.sha256(f"{seed}:{size}".encode()).digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


class Local:
    """A local folder as the other side of transfers."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.provider = LocalDriveProvider("conformance-local", {}, {"work": str(folder)})

    def put(self, path: str, data: bytes) -> None:
        target = self.folder / path.removeprefix("work/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def get(self, path: str) -> bytes:
        return (self.folder / path.removeprefix("work/")).read_bytes()


class HalfWay:
    """``should_stop`` that turns true once progress passed half of ``size``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.written = 0

    def progress(self, written: int) -> None:
        self.written = written

    def __call__(self) -> bool:
        return self.written >= self.size // 2


class ProviderConformance:
    """Every test takes a fresh area of the provider under test from ``provider_case``."""

    @pytest.fixture
    def provider(self, provider_case: ProviderCase) -> AbstractProvider:
        return provider_case.make()

    @pytest.fixture
    def local(self, tmp_path: Path) -> Local:
        return Local(tmp_path / "local")

    @pytest.fixture
    def journal(self, tmp_path: Path) -> TempJournal:
        return TempJournal(tmp_path / "journal")

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def upload(local: Local, provider: AbstractProvider, journal: TempJournal, path: str,
               data: bytes, **kwargs: Any) -> str:
        local.put(path, data)
        request = TransferRequest(local.provider, provider, path, len(data), _blake3(data))
        return transfer(request, journal, **kwargs)

    @staticmethod
    def download(provider: AbstractProvider, local: Local, journal: TempJournal, path: str,
                 size: int, **kwargs: Any) -> bytes:
        request = TransferRequest(provider, local.provider, path, size, None)
        transfer(request, journal, **kwargs)
        return local.get(path)

    def round_trip(self, provider: AbstractProvider, local: Local, journal: TempJournal,
                   tmp_path: Path, path: str, data: bytes) -> None:
        digest = self.upload(local, provider, journal, path, data)
        assert digest == _blake3(data)
        stat = provider.stat(path)
        assert stat is not None and stat.size == len(data)
        back = Local(tmp_path / f"back-{uuid.uuid4().hex[:6]}")
        assert self.download(provider, back, journal, path, len(data)) == data

    @staticmethod
    def assert_true_hash(stat: FileStat, data: bytes) -> None:
        """A stored hash, when there is one, is the hash of these bytes."""
        if stat.content_hash is not None:
            algorithm, digest = hashing.split(stat.content_hash)
            hasher = hashing.new_hasher(algorithm)
            hasher.update(data)
            assert hasher.hexdigest() == digest

    # -- the contract -------------------------------------------------------------------------

    def test_features_are_declared_once_per_class_and_safe(self, provider):
        features = provider.features
        assert isinstance(features, Features) and features is type(provider).features
        # Without rename the engine must write straight to the final name: only safe when
        # an object appears there only once complete.
        assert features.rename or features.atomic_write
        if features.local_path:
            assert provider.real_path("work/p/x.bin").is_absolute()

    def test_is_active(self, provider: AbstractProvider) -> None:
        assert provider.is_active()

    @pytest.mark.parametrize("size", [0, 1, 1000, 300_000])
    def test_round_trip_of_small_files(self, provider, local, journal, tmp_path, size):
        self.round_trip(provider, local, journal, tmp_path, f"work/p/small-{size}.bin",
                        payload(size, size))

    @pytest.mark.slow
    def test_round_trip_of_a_large_file(self, provider, local, journal, tmp_path):
        seen: list[int] = []
        data = payload(LARGE_SIZE, 7)
        digest = self.upload(local, provider, journal, "work/p/large.bin", data,
                             progress=seen.append)
        assert digest == _blake3(data)
        assert seen == sorted(seen) and seen[-1] == LARGE_SIZE
        back = Local(tmp_path / "back")
        assert self.download(provider, back, journal, "work/p/large.bin", LARGE_SIZE) == data

    @pytest.mark.parametrize("name", ["with space.exr", "ünïcødé 名前.txt", "a+b&c=d%20.bin"])
    def test_names_with_spaces_and_unicode(self, provider, local, journal, tmp_path, name):
        path = f"work/p/dir {name}/{name}"
        self.round_trip(provider, local, journal, tmp_path, path, payload(100, len(name)))
        if provider.features.listing:
            assert path in set(provider.list("work/p"))

    def test_nested_folders_are_created_on_demand(self, provider, local, journal, tmp_path):
        self.round_trip(provider, local, journal, tmp_path, "work/a/b/c/d/e/f.bin",
                        payload(10))

    def test_overwrite_replaces_the_content(self, provider, local, journal, tmp_path):
        self.round_trip(provider, local, journal, tmp_path, "work/p/f.bin", payload(5000, 1))
        self.round_trip(provider, local, journal, tmp_path, "work/p/f.bin", payload(300, 2))
        assert provider.stat("work/p/f.bin").size == 300

    def test_stat_gives_size_and_a_true_hash_when_known(self, provider, local, journal):
        data = payload(4321, 3)
        self.upload(local, provider, journal, "work/p/h.bin", data)
        stat = provider.stat("work/p/h.bin")
        assert stat is not None and stat.size == len(data)
        self.assert_true_hash(stat, data)
        assert provider.stat("work/p/missing.bin") is None

    def test_write_returns_the_stat_of_what_it_stored(self, provider):
        data = payload(2345, 8)
        written = provider.write("work/w/direct.bin", io.BytesIO(data), len(data))
        assert isinstance(written, FileStat) and written.size == len(data)
        self.assert_true_hash(written, data)
        assert provider.stat("work/w/direct.bin").size == len(data)
        with provider.open_read("work/w/direct.bin") as stream:
            assert stream.read() == data

    def test_hash_on_write_keeps_the_published_hash(self, provider):
        data = payload(777, 9)
        published = _blake3(data)
        if provider.features.hash_on_write:
            written = provider.write("work/w/kept.bin", io.BytesIO(data), len(data),
                                     content_hash=published)
            assert written.content_hash == published
            assert provider.stat("work/w/kept.bin").content_hash == published
        else:  # the engine never passes a hash: the stored one, if any, is the store's own
            written = provider.write("work/w/kept.bin", io.BytesIO(data), len(data))
            self.assert_true_hash(written, data)

    def test_streaming_writes(self, provider):
        if not provider.features.streaming_writes:
            with pytest.raises(NotImplementedError):
                provider.open_write("work/s/streamed.bin")
            return
        with provider.open_write("work/s/streamed.bin") as stream:
            stream.write(b"written ")
            stream.write(b"in pieces")
        assert provider.stat("work/s/streamed.bin").size == 17

    def test_list_is_recursive_and_relative(self, provider, local, journal):
        paths = {"work/l/a.bin", "work/l/sub/b.bin", "work/l/sub/deeper/c.bin"}
        for path in paths:
            self.upload(local, provider, journal, path, payload(10))
        self.upload(local, provider, journal, "work/other/x.bin", payload(10))
        if not provider.features.listing:
            with pytest.raises(NotImplementedError):
                list(provider.list("work/l"))
            return
        assert set(provider.list("work/l")) == paths
        assert list(provider.list("work/nothing-here")) == []

    def test_delete_removes_and_tolerates_missing(self, provider, local, journal):
        self.upload(local, provider, journal, "work/p/d.bin", payload(10))
        provider.delete("work/p/d.bin")
        assert provider.stat("work/p/d.bin") is None
        provider.delete("work/p/d.bin")

    def test_rename_replaces_the_target(self, provider, local, journal):
        self.upload(local, provider, journal, "work/p/one.bin", payload(11, 1))
        self.upload(local, provider, journal, "work/p/two.bin", payload(22, 2))
        if not provider.features.rename:  # an atomic store: the engine never renames
            with pytest.raises(NotImplementedError):
                provider.rename("work/p/one.bin", "work/p/two.bin")
            return
        provider.rename("work/p/one.bin", "work/p/two.bin")
        assert provider.stat("work/p/one.bin") is None
        assert provider.stat("work/p/two.bin").size == 11
        with pytest.raises(NotFound):
            provider.rename("work/p/one.bin", "work/p/three.bin")

    def test_server_side_copy(self, provider, local, journal):
        data = payload(33, 3)
        self.upload(local, provider, journal, "work/c/one.bin", data)
        if not provider.features.server_side_copy:
            with pytest.raises(NotImplementedError):
                provider.copy("work/c/one.bin", "work/c/two.bin")
            return
        provider.copy("work/c/one.bin", "work/c/two.bin")
        assert provider.stat("work/c/one.bin").size == 33
        with provider.open_read("work/c/two.bin") as stream:
            assert stream.read() == data

    def test_progress_is_monotonic_and_ends_at_the_size(self, provider, local, journal,
                                                        tmp_path):
        data = payload(3 * MIB + 5, 4)
        seen: list[int] = []
        self.upload(local, provider, journal, "work/p/progress.bin", data, progress=seen.append)
        assert seen and seen == sorted(seen) and seen[-1] == len(data)
        seen.clear()
        self.download(provider, Local(tmp_path / "back"), journal, "work/p/progress.bin",
                      len(data), progress=seen.append)
        assert seen and seen == sorted(seen) and seen[-1] == len(data)

    def test_a_missing_file_is_not_found(self, provider, local, journal):
        with pytest.raises(NotFound, match="missing.bin"):
            provider.open_read("work/p/missing.bin")
        with pytest.raises(NotFound, match="missing.bin"):
            self.download(provider, local, journal, "work/p/missing.bin", 10)
        assert not [p for p in local.folder.rglob("*") if p.is_file()]

    def test_bad_credentials_hold_the_site(self, provider_case: ProviderCase, local, journal):
        bad = provider_case.make_with_bad_credentials()
        assert not bad.is_active()
        # AuthFailed (refused credentials) is a SiteUnavailable: the engine holds the site.
        with pytest.raises(SiteUnavailable) as raised:
            self.upload(local, bad, journal, "work/p/x.bin", payload(10))
        assert str(raised.value)

    @pytest.mark.parametrize("direction", ["upload", "download"])
    def test_an_interrupted_transfer_leaves_nothing_under_the_final_name(
            self, provider, local, journal, tmp_path, direction):
        data = payload(20 * MIB, 5)
        stop = HalfWay(len(data))
        if direction == "upload":
            with pytest.raises(TransferCancelled):
                self.upload(local, provider, journal, "work/p/cut.bin", data,
                            progress=stop.progress, should_stop=stop, chunk_size=MIB)
            assert provider.stat("work/p/cut.bin") is None
            if provider.features.listing:
                assert [p for p in provider.list("work/p") if TEMP_SUFFIX in p] == []
        else:
            self.upload(local, provider, journal, "work/p/cut.bin", data)
            back = Local(tmp_path / "back")
            with pytest.raises(TransferCancelled):
                self.download(provider, back, journal, "work/p/cut.bin", len(data),
                              progress=stop.progress, should_stop=stop, chunk_size=MIB)
            assert not [p for p in back.folder.rglob("*") if p.is_file()]
        assert not journal.open_entries()

    def test_an_interrupted_overwrite_keeps_the_copy_already_there(self, provider, local,
                                                                   journal):
        """A cut write never harms a good copy under the final name (another service's, or
        an older one): temporary names keep it apart, an atomic store never shows half."""
        before, after = payload(3 * MIB, 8), payload(20 * MIB, 9)
        self.upload(local, provider, journal, "work/p/keep.bin", before)
        stop = HalfWay(len(after))
        with pytest.raises(TransferCancelled):
            self.upload(local, provider, journal, "work/p/keep.bin", after,
                        progress=stop.progress, should_stop=stop, chunk_size=MIB)
        kept = provider.stat("work/p/keep.bin")
        assert kept is not None and kept.size == len(before)
        with provider.open_read("work/p/keep.bin") as reader:
            assert reader.read() == before
        assert not journal.open_entries()

    @pytest.mark.parametrize("path", ["work/../outside.bin", "work/a/../../x", "/etc/passwd",
                                      "", "work/a\\..\\..\\x"])
    def test_paths_leaving_the_root_are_refused(self, provider, path):
        calls = [provider.stat, provider.open_read, provider.delete,
                 lambda p: provider.write(p, io.BytesIO(b"x"), 1)]
        if provider.features.streaming_writes:
            calls.append(provider.open_write)
        for call in calls:
            with pytest.raises(PathEscapesRoot):
                call(path)


def _blake3(data: bytes) -> str:
    hasher = hashing.new_hasher("blake3")
    hasher.update(data)
    return f"blake3:{hasher.hexdigest()}"


__all__ = [
    "LARGE_SIZE",
    "MIB",
    "HalfWay",
    "Local",
    "ProviderCase",
    "ProviderConformance",
    "payload",
]
