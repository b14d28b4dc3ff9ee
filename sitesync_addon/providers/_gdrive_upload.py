"""The resumable upload gdrive feeds from the engine's reader: a ``MediaUpload`` subclass,
so it lives apart and is imported only when gdrive uploads (never with the gdrive module)."""
from __future__ import annotations

from typing import Any, BinaryIO

from googleapiclient.http import MediaUpload

from sitesync_addon.errors import ProviderError


class ReaderUpload(MediaUpload):
    """A resumable upload fed from a forward-only reader.

    It holds one chunk: the library may resend (or resume inside) the chunk it last asked
    for, which is all the resumable protocol needs, and memory stays flat in file size.
    """

    def __init__(self, reader: BinaryIO, first: bytes, size: int, chunk_size: int,
                 mime: str, md5: Any) -> None:
        self._reader = reader
        self._window = first  # the bytes from offset _start on
        self._start = 0
        self._size = size
        self._chunk_size = chunk_size
        self._mime = mime
        self._md5 = md5
        self.taken = len(first)  # bytes taken from the reader

    def chunksize(self) -> int:
        return self._chunk_size

    def mimetype(self) -> str:
        return self._mime

    def size(self) -> int:
        return self._size

    def resumable(self) -> bool:
        return True

    def has_stream(self) -> bool:
        return False

    def stream(self) -> None:
        return None

    def getbytes(self, begin: int, length: int) -> bytes:
        if begin < self._start:
            raise ProviderError(f"the upload needed byte {begin} again, but only bytes from "
                                f"{self._start} on are kept")
        self._window = self._window[begin - self._start:]  # the server has the bytes before
        self._start = begin
        if len(self._window) < length:  # bytes objects: no copy when a whole chunk is new
            more = read_up_to(self._reader, length - len(self._window))
            self._md5.update(more)
            self.taken += len(more)
            self._window += more
        return self._window[:length]


def read_up_to(reader: BinaryIO, count: int) -> bytes:
    """``count`` bytes, fewer only at the end (raw reads may return short)."""
    parts = []
    while count > 0 and (data := reader.read(count)):
        parts.append(data)
        count -= len(data)
    return b"".join(parts)
