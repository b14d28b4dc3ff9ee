"""``s3``: AWS S3 and S3-compatible servers through boto3.

Objects appear only when complete (``atomic_write``), so the engine writes straight to the
final key, and no rename is needed. A small file is one PUT; a large one goes through boto3's
transfer manager (multipart, parts in parallel, the multipart upload aborted on failure). A
read is one streamed GET. The published hash the engine verifies a write against is kept as
object metadata (``x-amz-meta-sitesync-hash``, ``hash_on_write``), so ``stat`` returns it. One
client and transfer manager serve all providers of the same store in a process. boto3 is
imported when a provider is made, never with this module.
"""
from __future__ import annotations

import functools
import io
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Literal

from pydantic import Field

from sitesync_addon.errors import (
    AuthFailed,
    NoSpace,
    NotFound,
    PermissionDenied,
    ProviderError,
    SiteSyncError,
    SiteUnavailable,
    Transient,
)
from sitesync_addon.providers.base import (
    SECRET,
    AbstractProvider,
    FileStat,
    ProviderSettings,
    SpooledWriter,
    TranslatedStream,
    relative_path,
)
from sitesync_addon.providers.hookspecs import hookimpl

MIB = 1024 * 1024
HASH_METADATA = "sitesync-hash"  # sent as x-amz-meta-sitesync-hash
NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
REFUSED = {"401", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
           "InvalidToken", "TokenRefreshRequired", "AuthorizationHeaderMalformed"}
DENIED = {"AccessDenied", "AllAccessDisabled"}  # valid credentials, not allowed this
SITE_GONE = {"NoSuchBucket", "RequestTimeTooSkewed"}  # nothing on the site works until fixed
FULL = {"507", "InsufficientStorage", "QuotaExceeded"}
PASSING = {"429", "InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout",
           "Throttling", "ThrottlingException", "TooManyRequests", "RequestLimitExceeded"}

log = logging.getLogger(__name__)


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
        import botocore.session

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


class _Known:
    """Tells the transfer manager the size up front: no HEAD, no read-ahead. (s3transfer
    calls ``on_*`` methods it finds; subclassing its BaseSubscriber would import it here.)"""

    def __init__(self, size: int) -> None:
        self.size = size

    def on_queued(self, future: Any, **kwargs: Any) -> None:
        future.meta.provide_transfer_size(self.size)


class S3Provider(AbstractProvider, atomic_write=True, hash_on_write=True):
    """Paths map under the prefix: ``work/p/f.exr`` -> ``s3://bucket/<prefix>/work/p/f.exr``."""

    code = "s3"
    title = "Amazon S3"
    settings_model = S3Settings
    icon = Path(__file__).parent / "resources" / "s3.png"
    install = "sitesync[s3]"
    max_concurrency = 8  # files at once: small ones mostly wait on request latency
    # Below the threshold a file is one request, held in memory; above it, parts of PART_SIZE
    # go PART_CONCURRENCY at once, IN_MEMORY_PARTS at most held in the process (RSS bound).
    MULTIPART_THRESHOLD = 8 * MIB
    PART_SIZE = 5 * MIB
    PART_CONCURRENCY = 4
    IN_MEMORY_PARTS = 4
    LARGE_AT_ONCE = 2  # multipart files read at once; each holds a part while it waits
    READ_PIECE = 256 * 1024  # per read from the engine's reader: larger fresh buffers each
    # cost page faults (measured: 1 MiB pieces took ~2x the system time)
    # Two tries in all: botocore's second try smooths over one dropped connection; longer
    # waits are the engine's (it backs the site off on Transient, without holding a thread).
    RETRIES: ClassVar[dict[str, Any]] = {"mode": "standard", "total_max_attempts": 2}
    # Seconds to connect, and that a socket may stay silent before a call fails (Transient).
    CONNECT_TIMEOUT = 10.0
    READ_TIMEOUT = 120.0

    def __init__(self, site_name: str, settings: dict[str, Any], roots: dict[str, str]) -> None:
        super().__init__(site_name, settings, roots)
        self.import_sdk("boto3", "botocore", "s3transfer")
        self.config: S3Settings = self.validated_settings()
        prefix = self.config.prefix.strip("/")
        self._prefix = f"{prefix}/" if prefix else ""
        self._bucket = self.config.bucket

    # -- clients ------------------------------------------------------------------------------

    def _connection_key(self) -> tuple[Any, ...]:
        config = self.config
        return (config.endpoint_url, config.region, config.addressing_style, config.profile,
                config.access_key_id, config.secret_access_key, config.session_token)

    def _new_client(self, **tuning: Any) -> Any:
        from botocore.config import Config

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
            from boto3.s3.transfer import TransferConfig, create_transfer_manager

            client = self._new_client(max_pool_connections=2 * self.PART_CONCURRENCY
                                      + self.max_concurrency,
                                      connect_timeout=self.CONNECT_TIMEOUT,
                                      read_timeout=self.READ_TIMEOUT,
                                      retries=self.RETRIES)
            config = TransferConfig(multipart_threshold=self.MULTIPART_THRESHOLD,
                                    multipart_chunksize=self.PART_SIZE,
                                    max_concurrency=self.PART_CONCURRENCY,
                                    num_download_attempts=2,
                                    preferred_transfer_client="classic")
            config.max_in_memory_upload_chunks = self.IN_MEMORY_PARTS
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
        try:
            yield
        except SiteSyncError:
            raise
        except Exception as exc:  # noqa: BLE001  (every SDK error is translated)
            raise self._translate(exc, action, path) from None

    def _translate(self, exc: Exception, action: str, path: str | None) -> SiteSyncError:
        """An SDK error as a SiteSync error that names the site, the path and what to do."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectTimeoutError,
            CredentialRetrievalError,
            EndpointConnectionError,
            NoCredentialsError,
            PartialCredentialsError,
            ProfileNotFound,
            ProxyConnectionError,
        )

        where = f"{path} on site '{self.site_name}'" if path else f"site '{self.site_name}'"
        bucket = f"bucket '{self._bucket}'"
        endpoint = self.config.endpoint_url or "S3"
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            meta = exc.response.get("ResponseMetadata", {})
            status = int(meta.get("HTTPStatusCode") or 0)
            code = str(error.get("Code") or status)
            detail = f"{code}: {error.get('Message') or 'no message'}"
            if code in NOT_FOUND:
                return NotFound(f"{path or bucket} is not on site '{self.site_name}'")
            if code == "NoSuchBucket":
                return SiteUnavailable(f"cannot {action} {where}: {bucket} does not exist; "
                                       "create it or correct the site's bucket")
            if code in SITE_GONE:
                return SiteUnavailable(f"cannot {action} {where}: {detail}; check this "
                                       "machine's clock and the site's settings")
            if code in REFUSED:
                return AuthFailed(
                    f"cannot {action} {where}: {bucket} refused the credentials ({detail}); "
                    "check the site's keys or profile and their permissions")
            if code in DENIED:
                return PermissionDenied(f"cannot {action} {where}: {bucket} does not allow "
                                        f"it ({detail}); check the key's permissions")
            if code in FULL:
                return NoSpace(f"cannot {action} {where}: {bucket} is full ({detail})")
            if code in PASSING or status >= 500:
                return Transient(f"cannot {action} {where} now ({detail}); it will be "
                                 "retried", retry_after=_retry_after(meta))
            return ProviderError(f"cannot {action} {where}: {detail}")
        if isinstance(exc, (NoCredentialsError, PartialCredentialsError, ProfileNotFound,
                            CredentialRetrievalError)):
            return AuthFailed(f"cannot {action} {where}: {exc}; set the site's keys or "
                              "profile")
        if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError,
                            ProxyConnectionError)):  # no connection could be made
            return SiteUnavailable(f"cannot {action} {where}: {exc}; check that {endpoint} "
                                   "is reachable")
        if _network(exc):  # dropped or reset connections, read timeouts, a body cut short
            return Transient(f"cannot {action} {where} now: {exc or type(exc).__name__}; "
                             "it will be retried")
        if isinstance(exc, BotoCoreError):
            return ProviderError(f"cannot {action} {where}: {exc}")
        return ProviderError(f"cannot {action} {where}: {type(exc).__name__}: {exc}")

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
        except Exception:  # noqa: BLE001 - unreachable, refused or missing: not usable now
            return False

    @functools.cached_property
    def _probe_client(self) -> Any:  # cheap: the shared session has the service model
        return self._new_client(connect_timeout=3, read_timeout=5,
                                retries={"mode": "standard", "total_max_attempts": 1})

    def stat(self, path: str) -> FileStat | None:
        key = self.key(path)
        try:
            with self._errors("look up", path):
                head = self._client.head_object(Bucket=self._bucket, Key=key)
        except NotFound:
            return None
        stored = head.get("Metadata", {}).get(HASH_METADATA)
        return FileStat(size=head["ContentLength"],
                        content_hash=stored if stored and ":" in stored else None)

    def open_read(self, path: str) -> BinaryIO:
        """One streamed GET; errors while reading the body are translated too."""
        key = self.key(path)
        with self._errors("read", path):
            body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
        return TranslatedStream(  # type: ignore[return-value]  # RawIOBase as BinaryIO
            body, lambda exc: self._translate(exc, "read", path))

    def open_write(self, path: str) -> BinaryIO:
        """Spooled (to disk past one part), uploaded on a clean close."""
        self.key(path)  # refuse a bad path now, not at close
        return SpooledWriter(  # type: ignore[return-value]  # RawIOBase as BinaryIO
            lambda reader, size: self.write(path, reader, size), self.MULTIPART_THRESHOLD)

    def write(self, path: str, reader: BinaryIO, size: int,
              content_hash: str | None = None) -> FileStat:
        key = self.key(path)
        if size < self.MULTIPART_THRESHOLD:  # read before any request: a cut stops early
            stored = self._upload(path, key, _fill(reader, size, self.READ_PIECE),
                                  content_hash)
        else:
            stored = self._upload(path, key, _PartReader(reader, self.READ_PIECE),
                                  content_hash, size)
        # S3 stored exactly the bytes these requests carried (it checks each Content-Length),
        # so what was sent is the stat: no HEAD after a write.
        return FileStat(stored, content_hash)

    def _upload(self, path: str, key: str, body: bytes | _PartReader,
                content_hash: str | None, size: int = 0) -> int:
        """One PUT for bytes; the transfer manager for a stream (it aborts a multipart
        upload that fails, so nothing appears under the key). Returns the bytes stored."""
        extra = self._extra_args(content_hash)
        with self._errors("upload", path):
            if isinstance(body, bytes):
                self._client.put_object(Bucket=self._bucket, Key=key, Body=body, **extra)
                return len(body)
            self._transfers.upload(body, self._bucket, key, extra_args=extra,
                                   subscribers=[_Known(size)]).result()
        if size >= self.MULTIPART_THRESHOLD:
            self._abort_stale_uploads(path, key)
        return body.count

    def _abort_stale_uploads(self, path: str, key: str) -> None:
        """Abort multipart uploads still open under ``key`` once it is stored: the abort of
        a failed upload cannot reach a store that is down, and a create request held up on a
        broken link can arrive after its caller gave up; their parts would be stored (and
        billed) for good. The file's lease means no other service writes this key now."""
        try:
            with self._errors("abort the stale uploads of", path):
                listed = self._client.list_multipart_uploads(Bucket=self._bucket, Prefix=key)
                for upload in listed.get("Uploads", []):
                    if upload["Key"] == key:
                        self._client.abort_multipart_upload(Bucket=self._bucket, Key=key,
                                                            UploadId=upload["UploadId"])
        except ProviderError as exc:  # the file is stored: the next upload of it sweeps again
            log.warning("%s", exc)

    def copy(self, source: str, target: str) -> None:
        """A server-side copy (multipart when large) that keeps the stored hash."""
        source_key, target_key = self.key(source), self.key(target)
        with self._errors("look up", source):
            head = self._client.head_object(Bucket=self._bucket, Key=source_key)
        extra = {"Metadata": head.get("Metadata", {}), "MetadataDirective": "REPLACE",
                 **({"StorageClass": self.config.storage_class}
                    if self.config.storage_class else {})}
        with self._errors("copy", f"{source} to {target}"):
            self._transfers.copy({"Bucket": self._bucket, "Key": source_key}, self._bucket,
                                 target_key, extra_args=extra,
                                 subscribers=[_Known(head["ContentLength"])]).result()

    def delete(self, path: str) -> None:
        key = self.key(path)
        with self._errors("delete", path):
            self._client.delete_object(Bucket=self._bucket, Key=key)  # missing: no error

    def list(self, folder: str) -> Iterator[str]:
        start = self.key(folder).rstrip("/") + "/"
        with self._errors("list", folder):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=start)
            for page in pages:
                for item in page.get("Contents", []):
                    if not item["Key"].endswith("/"):  # folder markers are not files
                        yield item["Key"][len(self._prefix):]


def _retry_after(meta: dict[str, Any]) -> float | None:
    """Seconds from a Retry-After header, when the store sent one (in seconds)."""
    value = (meta.get("HTTPHeaders") or {}).get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:  # an HTTP date: rare from S3, and the engine's backoff serves
        return None


def _network(exc: BaseException) -> bool:
    """A dropped connection, read timeout or cut body (botocore's or urllib3's)."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError, IncompleteReadError
    from s3transfer.exceptions import RetriesExceededError

    return isinstance(exc, (BotoConnectionError, HTTPClientError, IncompleteReadError,
                            RetriesExceededError, OSError)) \
        or type(exc).__module__.startswith("urllib3")


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
            got = reader.readinto(view[filled:filled + piece])  # type: ignore[attr-defined]  # BinaryIO lacks readinto
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


@hookimpl
def sitesync_providers() -> list[type[AbstractProvider]]:
    return [S3Provider]
