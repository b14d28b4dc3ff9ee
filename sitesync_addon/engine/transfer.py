"""Move one file between two providers: stream, hash while streaming, verify, then place.

The bytes go to a temporary name beside the target (unless the target writes atomically)
and are renamed to the final name only after size and hash match, so no reader ever sees a
partial file under its final name.
"""
from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from sitesync_addon import hashing
from sitesync_addon.engine.temp_files import TempJournal, temp_name
from sitesync_addon.errors import TransferCancelled, VerificationFailed
from sitesync_addon.providers.base import (ATOMIC_WRITE, HASH_ON_WRITE, LOCAL_PATH,
                                           AbstractProvider)

ProgressCallback = Callable[[int], None]  # bytes written so far


@dataclass(frozen=True)
class TransferRequest:
    source: AbstractProvider
    target: AbstractProvider
    path: str  # relative to the source root (and to the target root, unless target_path)
    size: int
    content_hash: str | None
    target_path: str | None = None

    @property
    def final_path(self) -> str:
        return self.target_path or self.path


def _hasher_for(content_hash: str | None) -> tuple[str, str | None]:
    if not content_hash:
        return hashing.DEFAULT_ALGORITHM, None
    return hashing.split(content_hash)


def transfer(request: TransferRequest, journal: TempJournal, *,
             progress: ProgressCallback | None = None,
             should_stop: Callable[[], bool] = lambda: False,
             chunk_size: int = hashing.CHUNK_SIZE) -> str:
    """Copy ``request.path`` from source to target; return the verified content hash."""
    algorithm, expected = _hasher_for(request.content_hash)
    target = request.target
    direct = target.has(ATOMIC_WRITE)
    write_path = request.final_path if direct else temp_name(request.final_path)
    entry = journal.add(target.site_name, write_path)
    placed = False
    try:
        copy = _copy_local if _kernel_copy_pays(request, chunk_size) else _stream
        digest = copy(request, write_path, algorithm, progress, should_stop, chunk_size)
        written = target.stat(write_path)
        if written is None or written.size != request.size:
            raise VerificationFailed(
                f"{request.path}: wrote {written.size if written else 0} bytes on site "
                f"'{target.site_name}', expected {request.size}")
        if expected is not None and digest != expected:
            raise VerificationFailed(f"{request.path}: {algorithm} hash {digest} does not "
                                     f"match the published {expected}")
        if not direct:
            target.rename(write_path, request.final_path)
        placed = True
        return f"{algorithm}:{digest}"
    finally:
        if not placed:
            target.delete(write_path)
        journal.remove(entry)


def _kernel_copy_pays(request: TransferRequest, chunk_size: int) -> bool:
    """Large files between two local paths; small ones cost less in one read-hash-write."""
    return (request.size >= chunk_size and request.source.has(LOCAL_PATH)
            and request.target.has(LOCAL_PATH))


def _copy_local(request: TransferRequest, write_path: str, algorithm: str,
                progress: ProgressCallback | None, should_stop: Callable[[], bool],
                chunk_size: int) -> str:
    """Between two local paths the kernel copies (``copy_file_range``), and the hash is taken
    of the written file, so what is verified is what landed on the target."""
    with request.source.open_read(request.path) as reader, \
            request.target.open_write(write_path) as writer:
        done = 0
        while True:
            if should_stop():
                raise TransferCancelled(f"{request.path}: stopped")
            copied = _kernel_copy(reader, writer, chunk_size)
            if not copied:
                break
            done += copied
            if progress:
                progress(done)
    return hashing.hash_file(request.target.real_path(write_path),  # type: ignore[attr-defined]
                             algorithm).partition(":")[2]


def _kernel_copy(reader: BinaryIO, writer: BinaryIO, count: int) -> int:
    try:
        return os.copy_file_range(reader.fileno(), writer.fileno(), count)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
            raise
    data = reader.read(count)  # file systems without copy_file_range
    writer.write(data)
    return len(data)


class _Meter:
    """Hashes the bytes that pass, reports progress and stops the transfer when asked."""

    def __init__(self, algorithm: str, progress: ProgressCallback | None,
                 should_stop: Callable[[], bool], path: str) -> None:
        self.hasher = hashing.new_hasher(algorithm)
        self.progress = progress
        self.should_stop = should_stop
        self.path = path
        self.done = 0

    def passed(self, data: bytes | memoryview) -> None:
        if self.should_stop():
            raise TransferCancelled(f"{self.path}: stopped")
        self.hasher.update(data)
        self.done += len(data)
        if self.progress:
            self.progress(self.done)


class MeteredReader(io.RawIOBase):
    """A forward-only reader over a source stream that meters what a provider reads."""

    def __init__(self, source: BinaryIO, meter: _Meter) -> None:
        self.source = source
        self.meter = meter

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        count = len(data)
        buffer[:count] = data
        if count:
            self.meter.passed(data)
        return count


class MeteredWriter(io.RawIOBase):
    """A writer into a target stream that meters what a provider writes."""

    def __init__(self, target: BinaryIO, meter: _Meter) -> None:
        self.target = target
        self.meter = meter

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.meter.passed(data)
        self.target.write(data)
        return len(data)


def _stream(request: TransferRequest, write_path: str, algorithm: str,
            progress: ProgressCallback | None, should_stop: Callable[[], bool],
            chunk_size: int) -> str:
    """Into a local target through the source's downloader, else through the target's
    uploader, so each remote side uses its best way of moving bytes."""
    meter = _Meter(algorithm, progress, should_stop, request.path)
    source, target = request.source, request.target
    if target.has(LOCAL_PATH):
        with target.open_write(write_path) as writer:
            source.read_into(request.path, MeteredWriter(writer, meter))
    else:
        # The published hash, for a target that keeps it: the bytes are checked against it.
        keep = ({"content_hash": request.content_hash}
                if request.content_hash and target.has(HASH_ON_WRITE) else {})
        with source.open_read(request.path) as reader:
            target.write(write_path, MeteredReader(reader, meter), request.size, **keep)
    return meter.hasher.hexdigest()
