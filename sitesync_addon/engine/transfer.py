"""Move one file between two providers: stream, hash while streaming, verify, then place.

What the target can do decides how (``target.features``, never its class): a target that
writes atomically gets the bytes under the final name directly; any other writes to a
temporary name beside it and renames only after size and hash match, so no reader ever sees
a partial file under its final name. Between two local paths the kernel copies.
"""
from __future__ import annotations

import errno
import io
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from sitesync_addon import hashing
from sitesync_addon.engine.temp_files import TempJournal, temp_name
from sitesync_addon.errors import ProviderError, TransferCancelled, VerificationFailed
from sitesync_addon.providers.base import AbstractProvider, FileStat, os_error

log = logging.getLogger(__name__)
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
    target = request.target
    direct = target.features.atomic_write
    if not direct and not target.features.rename:  # the registry refuses such providers
        raise ProviderError(f"site '{target.site_name}' can neither rename nor write "
                            "atomically, so no file can be placed on it safely")
    if direct:
        return _write_direct(request, progress, should_stop, chunk_size)
    write_path = temp_name(request.final_path)
    entry = journal.add(target.site_name, write_path)
    placed = False
    try:
        digest = _copy_verified(request, write_path, progress, should_stop, chunk_size)
        target.rename(write_path, request.final_path)
        placed = True
        return digest
    finally:
        if placed or _discard(target, write_path):
            journal.remove(entry)
        else:
            journal.keep(entry)


def _write_direct(request: TransferRequest, progress: ProgressCallback | None,
                  should_stop: Callable[[], bool], chunk_size: int) -> str:
    """Into a store that writes atomically: a write that fails leaves nothing, so nothing is
    deleted or journalled (the final name may hold a good copy: an older one, or another
    service's). Only bytes that landed but do not verify are removed."""
    try:
        return _copy_verified(request, request.final_path, progress, should_stop, chunk_size)
    except VerificationFailed:
        _discard(request.target, request.final_path)
        raise


def _copy_verified(request: TransferRequest, write_path: str,
                   progress: ProgressCallback | None, should_stop: Callable[[], bool],
                   chunk_size: int) -> str:
    """Copy to ``write_path``; the content hash once size and hash match the published."""
    algorithm, expected = _hasher_for(request.content_hash)
    copy = _copy_local if _kernel_copy_pays(request, chunk_size) else _stream
    digest, written = copy(request, write_path, algorithm, progress, should_stop, chunk_size)
    if written.size != request.size:
        raise VerificationFailed(
            f"{request.path}: wrote {written.size} bytes on site '{request.target.site_name}', "
            f"expected {request.size}")
    if expected is not None and digest != expected:
        raise VerificationFailed(f"{request.path}: {algorithm} hash {digest} does not "
                                 f"match the published {expected}")
    return f"{algorithm}:{digest}"


def _discard(target: AbstractProvider, write_path: str) -> bool:
    """Delete what a failed transfer wrote; whether it is gone. A failure here is logged and
    never replaces the transfer's own error; the journal keeps the name, so the next start
    deletes the leftover."""
    try:
        target.delete(write_path)
        return True
    except Exception as exc:  # noqa: BLE001 - a cleanup failure must never hide the original error
        # Likely the site that just failed the transfer: one line, no traceback.
        log.warning("site '%s': could not delete %s after a failed transfer (%s: %s); it is "
                    "deleted after the next transfer to the site, or at the next start",
                    target.site_name, write_path, type(exc).__name__, exc)
        return False


def _kernel_copy_pays(request: TransferRequest, chunk_size: int) -> bool:
    """Large files between two local paths; small ones cost less in one read-hash-write."""
    source, target = request.source.features, request.target.features
    return (request.size >= chunk_size and source.local_path and target.local_path
            and target.streaming_writes)


def _copy_local(request: TransferRequest, write_path: str, algorithm: str,
                progress: ProgressCallback | None, should_stop: Callable[[], bool],
                chunk_size: int) -> tuple[str, FileStat]:
    """Between two local paths the kernel copies (``copy_file_range``), and the hash is taken
    of the written file, so what is verified is what landed on the target."""
    source, target = request.source, request.target
    with source.open_read(request.path) as reader, target.open_write(write_path) as writer:
        done = 0
        while True:
            if should_stop():
                raise TransferCancelled(f"{request.path}: stopped")
            copied = _kernel_copy(reader, writer, chunk_size, request.path, target)
            if not copied:
                break
            done += copied
            if progress:
                progress(done)
    real = target.real_path(write_path)
    try:
        digest = hashing.hash_file(real, algorithm).partition(":")[2]
    except OSError as exc:
        raise os_error(exc, f"hashing {write_path} on site '{target.site_name}'") from None
    return digest, target.stat(write_path) or FileStat(0)


def _kernel_copy(reader: BinaryIO, writer: BinaryIO, count: int, path: str,
                 target: AbstractProvider) -> int:
    try:
        try:
            return os.copy_file_range(reader.fileno(), writer.fileno(), count)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                raise
        data = reader.read(count)  # file systems without copy_file_range
        writer.write(data)
        return len(data)
    except OSError as exc:  # a full or vanished disk, in the engine's own copy loop
        translate = getattr(writer, "translate", None)
        if translate is not None and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise translate(exc) from None  # the target's own rules: a full disk holds it
        raise os_error(exc, f"copying {path} to site '{target.site_name}'") from None


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
        view = memoryview(buffer).cast("B")
        into = getattr(self.source, "readinto", None)
        if into is not None:  # straight into the caller's buffer: no copy
            count = into(view) or 0
        else:
            data = self.source.read(len(view))
            count = len(data)
            view[:count] = data
        if count:
            self.meter.passed(view[:count])
        return count


def _stream(request: TransferRequest, write_path: str, algorithm: str,
            progress: ProgressCallback | None, should_stop: Callable[[], bool],
            chunk_size: int) -> tuple[str, FileStat]:
    """The source's stream into the target's ``write``, which returns what it stored."""
    meter = _Meter(algorithm, progress, should_stop, request.path)
    target = request.target
    # The published hash, for a target that keeps it: the bytes are checked against it.
    keep = ({"content_hash": request.content_hash}
            if request.content_hash and target.features.hash_on_write else {})
    with request.source.open_read(request.path) as reader:
        metered = cast(BinaryIO, MeteredReader(reader, meter))
        written = target.write(write_path, metered, request.size, **keep)
    return meter.hasher.hexdigest(), written
