"""``s3``: AWS S3 and S3-compatible servers through boto3.

Objects appear only when complete (``ATOMIC_WRITE``), so the engine writes straight to the
final key. A small file is one PUT; a large one goes through boto3's transfer manager
(multipart, parts in parallel, the multipart upload aborted on failure). A download is one
streamed GET, in ranged parts only past 1 GiB. The published hash the engine verifies a write
against is kept as object metadata (``x-amz-meta-sitesync-hash``), so ``stat`` returns it.
One client and transfer manager serve all providers of the same store in a process.
"""
from __future__ import annotations

import functools
import io
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

import botocore.session
from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import (CredentialRetrievalError, HTTPClientError, NoCredentialsError,
                                 PartialCredentialsError, ProfileNotFound)
from pydantic import Field
from s3transfer.exceptions import RetriesExceededError
from s3transfer.subscribers import BaseSubscriber

from sitesync_addon.errors import (AuthenticationFailed, FileNotFoundOnSite, ProviderError,
                                   SiteSyncError, TransientProviderError)
from sitesync_addon.providers.base import (ATOMIC_WRITE, HASH_ON_WRITE, SECRET,
                                           AbstractProvider, FileStat, ProviderSettings,
                                           relative_path)
from sitesync_addon.providers.hookspecs import hookimpl

MIB = 1024 * 1024
HASH_METADATA = "sitesync-hash"  # sent as x-amz-meta-sitesync-hash
NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
REFUSED = {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
           "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "AuthorizationHeaderMalformed"}
PASSING = {"500", "502", "503", "504", "InternalError", "ServiceUnavailable", "SlowDown",
           "RequestTimeout", "Throttling", "ThrottlingException", "RequestTimeTooSkewed"}


class S3Settings(ProviderSettings):
    bucket: str = Field(min_length=1, description="Bucket that holds the site's files.")
    endpoint_url: str | None = Field(None, description="For S3-compatible servers; empty: AWS.")
    region: str | None = Field(None, description="e.g. eu-west-1.")
    prefix: str = Field("", description="Key prefix under which the site's tree starts.")
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    access_key_id: str | None = None
    secret_access_key: str | None = Field(None, json_schema_extra=SECRET)
    session_token: str | None = Field(None, json_schema_extra=SECRET)
    profile: str | None = Field(None, description="A named AWS profile instead of keys.")
    storage_class: str | None = Field(None, description="e.g. STANDARD_IA; empty: default.")


@dataclass(frozen=True)
class _Connection:
    client: Any
    transfers: Any  # s3transfer's TransferManager


_SHARED_LOCK = threading.RLock()
_CONNECTIONS: dict[tuple[Any, ...], _Connection] = {}
_SESSIONS: dict[str | None, Any] = {}


def _session(profile: str | None) -> Any:
    """One botocore session per profile (call with _SHARED_LOCK held): the S3 model is
    parsed once (~20 MiB of objects), not once per client."""
    if profile not in _SESSIONS:
        core = botocore.session.get_session()
        if profile:
            core.set_config_variable("profile", profile)
            core.get_scoped_config()  # an unknown profile fails here, clearly
        # Timestamps (LastModified...) stay text: nothing here reads them, and parsing them
        # with dateutil cost ~10% of every small GET.
        core.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=str)
        _SESSIONS[profile] = core
    return _SESSIONS[profile]


class _Known(BaseSubscriber):
    """Tells the transfer manager the size (and ETag) up front: no HEAD, no read-ahead."""

    def __init__(self, size: int, etag: str | None = None) -> None:
        self.size = size
        self.etag = etag

    def on_queued(self, future: Any, **kwargs: Any) -> None:
        future.meta.provide_transfer_size(self.size)
        if self.etag:
            future.meta.provide_object_etag(self.etag)


class S3Provider(AbstractProvider):
    """Paths map under the prefix: ``work/p/f.exr`` -> ``s3://bucket/<prefix>/work/p/f.exr``."""

    code = "s3"
    title = "Amazon S3"
    settings_model = S3Settings
    icon = Path(__file__).parent / "resources" / "s3.png"
    capabilities = frozenset({ATOMIC_WRITE, HASH_ON_WRITE})
    max_concurrency = 8  # files at once: small ones mostly wait on request latency
    # Below the threshold a file is one request, held in memory; above it, parts of PART_SIZE
    # go PART_CONCURRENCY at once, IN_MEMORY_PARTS at most held in the process (RSS bound).
    MULTIPART_THRESHOLD = 8 * MIB
    PART_SIZE = 5 * MIB
    PART_CONCURRENCY = 4
    IN_MEMORY_PARTS = 4
    LARGE_AT_ONCE = 2  # multipart files read at once; each holds a part while it waits
    READ_PIECE = 256 * 1024  # per read from a response or the engine's reader: larger fresh
    # buffers each cost page faults (measured: 1 MiB pieces took ~2x the system time)
    # One streamed GET per object below this: on loopback it beat ranged parts by ~40% at a
    # third of the memory, and the service moves several files at once anyway. Above it a
    # single stream over a long link is the limit, so ranged parts go in parallel.
    DOWNLOAD_PARTS_FROM = 1024 * MIB
    IO_CHUNK = MIB  # downloaded parts reach the writer in pieces of this size
    IO_QUEUE = 16  # pieces waiting for the writer, at most

    def __init__(self, site_name: str, settings: dict[str, Any], roots: dict[str, str]) -> None:
        super().__init__(site_name, settings, roots)
        self.config: S3Settings = self.validated_settings()
        prefix = self.config.prefix.strip("/")
        self._prefix = f"{prefix}/" if prefix else ""
        self._bucket = self.config.bucket
        self._written: dict[str, FileStat] = {}  # what a write just stored, for one stat

    # -- clients ------------------------------------------------------------------------------

    def _connection_key(self) -> tuple[Any, ...]:
        config = self.config
        return (config.endpoint_url, config.region, config.addressing_style, config.profile,
                config.access_key_id, config.secret_access_key, config.session_token)

    def _new_client(self, **tuning: Any) -> Any:
        # Payload signing off and request checksums only where an operation requires them:
        # neither hashes every byte again in Python (measured ~2x faster on large files).
        # Response checksums stay "when_supported": with "when_required" the transfer manager
        # finds sizes through a first-part callback that deadlocks once a file has more parts
        # than its in-memory window (s3transfer 0.19); the engine hashes every byte anyway.
        config = Config(s3={"addressing_style": self.config.addressing_style,
                            "payload_signing_enabled": False},
                        request_checksum_calculation="when_required",
                        response_checksum_validation="when_supported",
                        signature_version="s3v4", tcp_keepalive=True, **tuning)
        keys = {}
        if self.config.access_key_id or self.config.secret_access_key:
            keys = {"aws_access_key_id": self.config.access_key_id,
                    "aws_secret_access_key": self.config.secret_access_key,
                    "aws_session_token": self.config.session_token}
        with self._errors("create a client"), _SHARED_LOCK:  # sessions are not thread-safe
            return _session(self.config.profile).create_client(
                "s3", endpoint_url=self.config.endpoint_url or None,
                region_name=self.config.region or None, config=config, **keys)

    @property
    def _connection(self) -> _Connection:
        """The client and transfer manager of these settings, shared in the process: their
        limits (connections, parts in memory) then bound every transfer together, however
        many providers of the same store exist."""
        key = self._connection_key()
        if (connection := _CONNECTIONS.get(key)) is not None:
            return connection
        with _SHARED_LOCK:
            if (connection := _CONNECTIONS.get(key)) is not None:
                return connection
            client = self._new_client(max_pool_connections=2 * self.PART_CONCURRENCY
                                      + self.max_concurrency,
                                      connect_timeout=10, read_timeout=120,
                                      retries={"mode": "standard", "max_attempts": 5})
            config = TransferConfig(multipart_threshold=self.MULTIPART_THRESHOLD,
                                    multipart_chunksize=self.PART_SIZE,
                                    max_concurrency=self.PART_CONCURRENCY,
                                    io_chunksize=self.IO_CHUNK, max_io_queue=self.IO_QUEUE,
                                    preferred_transfer_client="classic")
            config.max_in_memory_upload_chunks = self.IN_MEMORY_PARTS
            config.max_in_memory_download_chunks = self.IN_MEMORY_PARTS
            config.max_submission_concurrency = self.LARGE_AT_ONCE
            connection = _CONNECTIONS[key] = _Connection(
                client, create_transfer_manager(client, config))
            return connection

    @property
    def _client(self) -> Any:
        return self._connection.client

    @property
    def _transfers(self) -> Any:
        return self._connection.transfers

    # -- paths and errors ---------------------------------------------------------------------

    def key(self, path: str) -> str:
        """The object key of a site path; refuses paths that leave the root."""
        return self._prefix + relative_path(path)

    @contextmanager
    def _errors(self, action: str, path: str | None = None) -> Iterator[None]:
        """SDK errors as SiteSync errors that name the site, the path and what to do."""
        where = f"{path} on site '{self.site_name}'" if path else f"site '{self.site_name}'"
        bucket = f"bucket '{self._bucket}'"
        try:
            yield
        except SiteSyncError:
            raise
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code") or exc.response.get("ResponseMetadata", {})
                       .get("HTTPStatusCode", ""))
            detail = f"{code}: {error.get('Message') or 'no message'}"
            if code in NOT_FOUND:
                raise FileNotFoundOnSite(f"{path or bucket} is not on site "
                                         f"'{self.site_name}'") from None
            if code == "NoSuchBucket":
                raise ProviderError(f"cannot {action} {where}: {bucket} does not exist; "
                                    "create it or correct the site's bucket") from None
            if code in REFUSED:
                raise AuthenticationFailed(
                    f"cannot {action} {where}: {bucket} refused the credentials ({detail}); "
                    "check the site's keys or profile and their permissions") from None
            if code in PASSING:
                raise TransientProviderError(f"cannot {action} {where} now ({detail}); "
                                             "it will be retried") from None
            raise ProviderError(f"cannot {action} {where}: {detail}") from None
        except (NoCredentialsError, PartialCredentialsError, ProfileNotFound,
                CredentialRetrievalError) as exc:
            raise AuthenticationFailed(f"cannot {action} {where}: {exc}; set the site's keys "
                                       "or profile") from None
        except (BotoConnectionError, HTTPClientError, RetriesExceededError) as exc:
            raise TransientProviderError(
                f"cannot {action} {where}: {exc}; check that "
                f"{self.config.endpoint_url or 'S3'} is reachable") from None
        except BotoCoreError as exc:
            raise ProviderError(f"cannot {action} {where}: {exc}") from None

    def _extra_args(self, content_hash: str | None) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if content_hash:
            extra["Metadata"] = {HASH_METADATA: content_hash}
        if self.config.storage_class:
            extra["StorageClass"] = self.config.storage_class
        return extra

    # -- the contract -------------------------------------------------------------------------

    def is_active(self) -> bool:
        """The bucket answers with these credentials; quick, one attempt, short timeouts."""
        try:
            client = self._probe_client
            client.head_bucket(Bucket=self._bucket)
            return True
        except Exception:  # unreachable, refused or missing: not usable now
            return False

    @functools.cached_property
    def _probe_client(self) -> Any:  # cheap: the shared session has the service model
        return self._new_client(connect_timeout=3, read_timeout=5,
                                retries={"mode": "standard", "max_attempts": 1})

    def stat(self, path: str) -> FileStat | None:
        key = self.key(path)
        if (written := self._written.pop(key, None)) is not None:
            return written
        try:
            with self._errors("look up", path):
                head = self._client.head_object(Bucket=self._bucket, Key=key)
        except FileNotFoundOnSite:
            return None
        stored = head.get("Metadata", {}).get(HASH_METADATA)
        return FileStat(size=head["ContentLength"],
                        content_hash=stored if stored and ":" in stored else None)

    def open_read(self, path: str) -> BinaryIO:
        key = self.key(path)
        with self._errors("read", path):
            return self._client.get_object(Bucket=self._bucket, Key=key)["Body"]

    def open_write(self, path: str) -> BinaryIO:
        return _UploadOnClose(self, path, self.key(path))  # type: ignore[return-value]

    def write(self, path: str, reader: BinaryIO, size: int,
              content_hash: str | None = None) -> None:
        key = self.key(path)
        if size < self.MULTIPART_THRESHOLD:  # read before any request: a cut stops early
            stored = self._upload(path, key, _fill(reader, size, self.READ_PIECE),
                                  content_hash)
        else:
            stored = self._upload(path, key, _PartReader(reader, self.READ_PIECE),
                                  content_hash, size)
        # S3 stored exactly the bytes these requests carried (it checks each Content-Length),
        # so the engine's stat right after a write needs no HEAD: one request a small file.
        if len(self._written) > 10_000:  # writes nobody asked about
            self._written.clear()
        self._written[key] = FileStat(stored, content_hash)

    def _upload(self, path: str, key: str, body: bytes | _PartReader | BinaryIO,
                content_hash: str | None, size: int = 0) -> int:
        """One PUT for bytes; the transfer manager for a stream (it aborts a multipart
        upload that fails, so nothing appears under the key). Returns the bytes stored."""
        extra = self._extra_args(content_hash)
        self._written.pop(key, None)
        with self._errors("upload", path):
            if isinstance(body, bytes):
                self._client.put_object(Bucket=self._bucket, Key=key, Body=body, **extra)
                return len(body)
            self._transfers.upload(body, self._bucket, key, extra_args=extra,
                                   subscribers=[_Known(size)]).result()
        return body.count if isinstance(body, _PartReader) else size

    def read_into(self, path: str, writer: BinaryIO) -> None:
        """One streamed GET; ranged parts in parallel only for a very large object."""
        key = self.key(path)
        with self._errors("download", path):
            response = self._client.get_object(Bucket=self._bucket, Key=key)
            body, size = response["Body"], response["ContentLength"]
            if size < self.DOWNLOAD_PARTS_FROM:
                with body:
                    shutil.copyfileobj(body, writer, self.READ_PIECE)
                return
            body.close()  # the first answer gave the size and the version to pin
            self._transfers.download(self._bucket, key, writer,
                                     subscribers=[_Known(size, response.get("ETag"))]).result()

    def rename(self, source: str, target: str) -> None:
        """Copy (server side, multipart when large), then delete the source."""
        source_key, target_key = self.key(source), self.key(target)
        self._written.pop(target_key, None)
        with self._errors("look up", source):
            head = self._client.head_object(Bucket=self._bucket, Key=source_key)
        extra = {"Metadata": head.get("Metadata", {}), "MetadataDirective": "REPLACE",
                 **({"StorageClass": self.config.storage_class}
                    if self.config.storage_class else {})}
        with self._errors("copy", f"{source} to {target}"):
            self._transfers.copy({"Bucket": self._bucket, "Key": source_key}, self._bucket,
                                 target_key, extra_args=extra,
                                 subscribers=[_Known(head["ContentLength"])]).result()
        self.delete(source)

    def delete(self, path: str) -> None:
        key = self.key(path)
        self._written.pop(key, None)
        with self._errors("delete", path):
            self._client.delete_object(Bucket=self._bucket, Key=key)  # missing: no error

    def list(self, folder: str) -> Iterator[str]:
        start = self.key(folder).rstrip("/") + "/"
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket,
                                                                       Prefix=start)
        with self._errors("list", folder):
            for page in pages:
                for item in page.get("Contents", []):
                    if not item["Key"].endswith("/"):  # folder markers are not files
                        yield item["Key"][len(self._prefix):]


def _fill(reader: BinaryIO, amount: int, piece: int) -> bytes:
    """Up to ``amount`` bytes of ``reader``, read in pieces straight into the one buffer that
    is returned (a full BytesIO hands its buffer out without a copy): one allocation a part."""
    if amount <= 0:
        return b""
    part = io.BytesIO()
    part.seek(amount - 1)
    part.write(b"\0")
    filled = 0
    with part.getbuffer() as view:
        while filled < amount:
            got = reader.readinto(view[filled:filled + piece])  # type: ignore[attr-defined]
            if not got:
                break
            filled += got
        if filled < amount:  # the end of the stream: the short rest is copied
            return bytes(view[:filled])
    return part.getvalue()


class _PartReader:
    """The engine's reader as the transfer manager reads it, part by part; counts the bytes."""

    def __init__(self, reader: BinaryIO, piece: int) -> None:
        self.reader = reader
        self.piece = piece
        self.count = 0

    def read(self, amount: int | None = -1) -> bytes:
        if amount is None or amount < 0:  # everything left
            return b"".join(iter(lambda: self.read(self.piece), b""))
        data = _fill(self.reader, amount, self.piece)
        self.count += len(data)
        return data


class _UploadOnClose(io.RawIOBase):
    """``open_write`` for S3: bytes gather in a spooled temporary file and are uploaded on a
    clean close; a ``with`` block left by an exception uploads nothing."""

    def __init__(self, provider: S3Provider, path: str, key: str) -> None:
        super().__init__()
        self.provider, self.path, self.key = provider, path, key
        self.spool = tempfile.SpooledTemporaryFile(max_size=provider.MULTIPART_THRESHOLD)
        self.failed = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self.spool.write(data)

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self.failed = kind is not None
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        try:
            if not self.failed:
                size = self.spool.tell()
                self.spool.seek(0)
                body: Any = (self.spool.read() if size < self.provider.MULTIPART_THRESHOLD
                             else self.spool)
                self.provider._upload(self.path, self.key, body, None, size)
        finally:
            self.spool.close()
            super().close()


@hookimpl
def sitesync_providers() -> list[type[AbstractProvider]]:
    return [S3Provider]
