"""Move one file between two providers: stream, hash while streaming, verify, then place.

The bytes go to a temporary name beside the target (unless the target writes atomically)
and are renamed to the final name only after size and hash match, so no reader ever sees a
partial file under its final name.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sitesync_addon import hashing
from sitesync_addon.engine.temp_files import TempJournal, temp_name
from sitesync_addon.errors import TransferCancelled, VerificationFailed
from sitesync_addon.providers.base import ATOMIC_WRITE, AbstractProvider

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
    marker = journal.add(target.site_name, write_path)
    placed = False
    try:
        digest = _stream(request, write_path, algorithm, progress, should_stop, chunk_size)
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
        journal.remove(marker)


def _stream(request: TransferRequest, write_path: str, algorithm: str,
            progress: ProgressCallback | None, should_stop: Callable[[], bool],
            chunk_size: int) -> str:
    hasher = hashing.new_hasher(algorithm)
    done = 0
    with request.source.open_read(request.path) as reader, \
            request.target.open_write(write_path) as writer:
        while chunk := reader.read(chunk_size):
            if should_stop():
                raise TransferCancelled(f"{request.path}: stopped")
            hasher.update(chunk)
            writer.write(chunk)
            done += len(chunk)
            if progress:
                progress(done)
    return hasher.hexdigest()
