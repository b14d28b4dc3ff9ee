"""The provider contract itself: features detected once per class, what registration
refuses, per-site concurrency, and the base helpers (errors by errno, translated streams,
the spooled writer)."""
from __future__ import annotations

import errno
import io
from collections.abc import Iterator
from typing import BinaryIO

import pytest

from sitesync_addon.errors import (
    NoSpace,
    NotFound,
    PermissionDenied,
    ProviderError,
    TransferCancelled,
    Transient,
)
from sitesync_addon.providers import (
    AbstractProvider,
    Features,
    FileStat,
    SpooledWriter,
    TranslatedStream,
    os_error,
)
from sitesync_addon.providers.local_drive import LocalDriveProvider
from sitesync_addon.providers.registry import ProviderRegistry


class Minimal(AbstractProvider, atomic_write=True):
    """The five required methods only."""

    code = "minimal"

    def __init__(self, *args: object) -> None:
        super().__init__("m", {}, {})
        self.files: dict[str, bytes] = {}

    def is_active(self) -> bool:
        return True

    def stat(self, path: str) -> FileStat | None:
        return FileStat(len(self.files[path])) if path in self.files else None

    def open_read(self, path: str) -> BinaryIO:
        return io.BytesIO(self.files[path])

    def write(self, path: str, reader: BinaryIO, size: int,
              content_hash: str | None = None) -> FileStat:
        self.files[path] = reader.read()
        return FileStat(len(self.files[path]))

    def delete(self, path: str) -> None:
        self.files.pop(path, None)


class Listing(Minimal, hash_on_write=True):
    code = "listing"

    def list(self, folder: str) -> Iterator[str]:
        return iter(sorted(self.files))


def test_features_come_from_overridden_methods_and_declarations():
    assert Minimal.features == Features(atomic_write=True)
    assert Minimal().features is Minimal.features  # once per class, not per instance
    # A subclass keeps what its parent declared and adds what it overrides.
    assert Listing.features == Features(atomic_write=True, hash_on_write=True, listing=True)
    local = LocalDriveProvider.features
    assert (local.rename, local.local_path, local.streaming_writes, local.listing) == \
        (True, True, True, True)
    assert not (local.atomic_write or local.hash_on_write or local.server_side_copy)
    with pytest.raises(AttributeError):
        local.rename = False  # type: ignore[misc]  frozen: nobody flips a feature


def test_an_unknown_declaration_is_refused_where_it_is_made():
    with pytest.raises(TypeError):
        class Typo(Minimal, atomic_writes=True):  # type: ignore[call-arg]
            pass


def test_a_missing_optional_method_says_to_check_the_features():
    with pytest.raises(NotImplementedError, match="no rename.*features"):
        Minimal().rename("a", "b")
    with pytest.raises(NotImplementedError, match="no open_write"):
        Minimal().open_write("a")


def checked(cls: type[AbstractProvider]) -> None:
    ProviderRegistry(load_entry_points=False)._checked(cls, "test", "1")


def test_registration_refuses_a_provider_that_could_leave_partial_files():
    class Unsafe(Minimal, atomic_write=False):  # no rename, not atomic
        code = "unsafe"

    with pytest.raises(TypeError, match="neither implements rename.*atomic_write=True.*"
                                        "partial file under its final name"):
        checked(Unsafe)

    class Safe(Unsafe):
        def rename(self, source: str, target: str) -> None:
            self.files[target] = self.files.pop(source)

    checked(Safe)
    checked(Minimal)


def test_registration_refuses_a_provider_that_cannot_write():
    class ReadOnly(AbstractProvider, atomic_write=True):
        code = "read_only"
        is_active = Minimal.is_active
        stat = Minimal.stat
        open_read = Minimal.open_read
        delete = Minimal.delete

    with pytest.raises(TypeError, match="neither write.. nor open_write"):
        checked(ReadOnly)


def test_the_default_write_streams_into_open_write_and_returns_the_stat(tmp_path):
    drive = LocalDriveProvider("d", {}, {"work": str(tmp_path)})
    assert type(drive).write is AbstractProvider.write
    assert drive.write("work/a/b.bin", io.BytesIO(b"x" * 1000), 1000) == FileStat(1000)
    assert (tmp_path / "a" / "b.bin").read_bytes() == b"x" * 1000


def test_a_site_may_change_its_concurrency(tmp_path):
    assert LocalDriveProvider("d", {}, {}).max_concurrency == 4  # the class default
    assert LocalDriveProvider("d", {"max_concurrency": 1}, {}).max_concurrency == 1
    assert LocalDriveProvider.max_concurrency == 4  # per instance, the class keeps it
    with pytest.raises(ProviderError, match="max_concurrency"):
        LocalDriveProvider("d", {"max_concurrency": 0}, {})
    settings = LocalDriveProvider.settings_model.model_validate({"max_concurrency": 16})
    assert settings.max_concurrency == 16  # the server's schema takes it for any provider


@pytest.mark.parametrize(("number", "expected"), [
    (errno.ENOENT, NotFound), (errno.EACCES, PermissionDenied), (errno.EPERM, PermissionDenied),
    (errno.ENOSPC, NoSpace), (errno.EDQUOT, NoSpace), (errno.EIO, ProviderError)])
def test_os_errors_map_by_errno(number, expected):
    error = os_error(OSError(number, "it failed"), "writing a.bin on site 's'")
    assert type(error) is expected and str(error) == "writing a.bin on site 's': it failed"


def test_a_translated_stream_translates_what_its_stream_raises_later():
    class Failing(io.RawIOBase):
        def readinto(self, buffer: object) -> int:
            raise OSError(errno.EIO, "Input/output error")

        def write(self, data: object) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    stream = TranslatedStream(Failing(), lambda exc: os_error(exc, "on 'site'"))  # type: ignore
    with pytest.raises(ProviderError, match="Input/output error"):
        stream.read(10)
    with pytest.raises(NoSpace, match="No space left"):
        stream.write(b"x")
    passing = TranslatedStream(Failing(), lambda exc: Transient("never"))  # type: ignore
    passing.raw.readinto = lambda buffer: (_ for _ in ()).throw(TransferCancelled("stop"))
    with pytest.raises(TransferCancelled):  # SiteSync's own errors pass as they are
        passing.read(1)


def test_a_real_full_disk_is_no_space():
    with (TranslatedStream(open("/dev/full", "wb", buffering=0),
                           lambda exc: os_error(exc, "writing")) as stream,  # type: ignore
          pytest.raises(NoSpace)):
        stream.write(b"x" * 10)


def test_the_spooled_writer_uploads_on_a_clean_close_only():
    uploads: list[tuple[bytes, int]] = []

    def upload(reader: BinaryIO, size: int) -> None:
        uploads.append((reader.read(), size))

    with SpooledWriter(upload, max_memory=4) as stream:
        stream.write(b"spilled ")
        stream.write(b"to disk")
    assert uploads == [(b"spilled to disk", 15)]
    with pytest.raises(RuntimeError), SpooledWriter(upload, max_memory=4) as stream:
        stream.write(b"half")
        raise RuntimeError("the writer failed")
    assert len(uploads) == 1
