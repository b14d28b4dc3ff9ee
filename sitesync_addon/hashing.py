"""Content hashes as ``algorithm:hexdigest`` strings, computed while bytes stream."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol

import blake3

DEFAULT_ALGORITHM = "blake3"
CHUNK_SIZE = 8 * 1024 * 1024


class Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> object: ...

    def hexdigest(self) -> str: ...


def new_hasher(algorithm: str = DEFAULT_ALGORITHM) -> Hasher:
    if algorithm == "blake3":
        return blake3.blake3(max_threads=1)
    try:
        return hashlib.new(algorithm)
    except ValueError:
        raise ValueError(f"unknown hash algorithm '{algorithm}'; use blake3, sha256 or md5") \
            from None


def split(content_hash: str) -> tuple[str, str]:
    """``("blake3", "ab12...")`` from ``"blake3:ab12..."``; a bare digest is taken as md5 or
    sha256 by its length (what other tools store)."""
    algorithm, sep, digest = content_hash.partition(":")
    if sep:
        return algorithm.lower(), digest.lower()
    by_length = {32: "md5", 40: "sha1", 64: "sha256"}
    if len(content_hash) not in by_length:
        raise ValueError(f"cannot tell the algorithm of hash '{content_hash}'; "
                         "store hashes as 'algorithm:hexdigest'")
    return by_length[len(content_hash)], content_hash.lower()


def hash_file(path: str | Path, algorithm: str = DEFAULT_ALGORITHM) -> str:
    hasher = new_hasher(algorithm)
    buffer = bytearray(min(CHUNK_SIZE, max(os.path.getsize(path), 1)))
    view = memoryview(buffer)
    with open(path, "rb") as stream:
        while count := stream.readinto(buffer):
            hasher.update(view[:count])
    return f"{algorithm}:{hasher.hexdigest()}"
