"""``gdrive``: Google Drive (My Drive or a shared drive) through the Drive v3 API.

The client is google-api-python-client built from the library's shipped discovery document
(no discovery request at run time; ``root_url`` points it at another endpoint, such as a test
server), authenticated by a service account's key file; the Google libraries are imported
when a provider is made, never with this module. Drive keys files by id and allows several
files of one name in a folder, so paths resolve name by name: folder ids are cached per path
(folders are made on demand, under a lock so threads never make twins; of twins other
machines made, every machine takes the oldest), a write updates the file already under its
name instead of adding a second one, and a rename replaces its target. A file smaller than
one chunk goes up in one multipart request, a larger one resumably, in chunks fed from the
engine's forward-only reader with one chunk in memory; Drive makes the file only when its
upload completes, hence ``atomic_write``. Drive's md5Checksum is checked against the bytes
sent and received. Nothing is retried here: rate limits (403 userRateLimitExceeded /
rateLimitExceeded, 429), 5xx and dropped connections raise ``Transient`` (with the
Retry-After Drive sent), and the engine backs the site off.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import http.client
import io
import json
import mimetypes
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from pydantic import Field, field_validator

from sitesync_addon.errors import (
    AuthFailed,
    NoSpace,
    NotFound,
    PermissionDenied,
    ProviderError,
    SiteSyncError,
    SiteUnavailable,
    Transient,
    VerificationFailed,
)
from sitesync_addon.providers.base import (
    SECRET,
    AbstractProvider,
    FileStat,
    PlatformPaths,
    ProviderSettings,
    SpooledWriter,
    relative_path,
)
from sitesync_addon.providers.hookspecs import hookimpl

if TYPE_CHECKING:
    from google.oauth2 import service_account
    from googleapiclient.errors import HttpError

T = TypeVar("T")

MIB = 1024 * 1024
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
FOLDER = "application/vnd.google-apps.folder"
FILE_FIELDS = "id,size,md5Checksum,createdTime"
RATE_LIMITED = {"userRateLimitExceeded", "rateLimitExceeded"}
DRIVE_FULL = {"storageQuotaExceeded", "teamDriveFileLimitExceeded",
              "numChildrenInNonRootLimitExceeded"}
REFUSED = {"authError", "insufficientPermissions"}  # 403s about the credentials themselves


def _network_errors() -> tuple[type[BaseException], ...]:
    """Failures of the connection itself; anything else from the reader (the source)
    propagates."""
    import httplib2
    from google.auth.exceptions import TransportError

    return (OSError, ssl.SSLError, http.client.HTTPException, httplib2.HttpLib2Error,
            TransportError)


class GDriveSettings(ProviderSettings):
    credentials_path: PlatformPaths = Field(
        default_factory=dict, description="Service-account JSON file per platform.",
        json_schema_extra=SECRET)
    shared_drive: str | None = Field(None, description="Shared drive name or id; empty: My Drive.")
    root: str = Field("/", description="Folder path on the drive where the site's tree starts.")
    root_url: str | None = Field(
        None, description="Drive API root URL; empty: Google's (https://www.googleapis.com/). "
                          "Only to reach another Drive v3 endpoint, such as a test server.")

    @field_validator("root")
    @classmethod
    def _no_parent_steps(cls, value: str) -> str:
        if ".." in value.replace("\\", "/").split("/"):
            raise ValueError("root must be a folder path on the drive without '..'")
        return value

    @field_validator("root_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("root_url must be an http(s) URL such as https://www.googleapis.com/")
        return value.rstrip("/") + "/"


@functools.cache
def _discovery_document(root_url: str | None) -> str:
    """The shipped drive v3 document, pointed at ``root_url`` when one is given."""
    from googleapiclient import discovery_cache

    document = json.loads(discovery_cache.get_static_doc("drive", "v3"))
    if root_url:
        document.update(rootUrl=root_url, mtlsRootUrl=root_url,
                        baseUrl=root_url + document["servicePath"])
    return json.dumps(document)


@dataclass(frozen=True)
class _File:
    id: str
    size: int
    md5: str | None

    @classmethod
    def of(cls, resource: dict[str, Any]) -> _File:
        return cls(resource["id"], int(resource.get("size") or 0), resource.get("md5Checksum"))


class GDriveProvider(AbstractProvider, atomic_write=True):
    """Paths map under the configured root folder: ``work/p/f.exr`` -> ``<root>/work/p/f.exr``."""

    code = "gdrive"
    title = "Google Drive"
    settings_model = GDriveSettings
    icon = Path(__file__).parent / "resources" / "gdrive.png"
    install = "sitesync[gdrive]"
    # Drive throttles writes per user (a few per second); more parallel uploads mostly meet
    # rate limits.
    max_concurrency = 4
    chunk_size = 8 * MIB  # resumable chunks must be multiples of 256 KiB

    def __init__(self, site_name: str, settings: dict[str, Any], roots: dict[str, str]) -> None:
        super().__init__(site_name, settings, roots)
        self.import_sdk("googleapiclient", "google.auth", "google.oauth2.service_account",
                        "google_auth_httplib2", "httplib2")
        self.config: GDriveSettings = self.validated_settings()
        self._root_parts = [p for p in self.config.root.replace("\\", "/").split("/") if p]
        self._lock = threading.Lock()  # guards the credentials
        self._folder_lock = threading.Lock()  # guards the folder cache and folder creation
        self._local = threading.local()  # httplib2 is not thread-safe: a client per thread
        self._credentials: service_account.Credentials | None = None
        self._drive_id: str | None = None  # the shared drive's id, once resolved
        self._folders: dict[str, str] = {}  # folder path from the drive root -> folder id

    # -- the client ---------------------------------------------------------------------------

    def _service_account(self) -> service_account.Credentials:
        with self._lock:
            if self._credentials is None:
                self._credentials = self._load_credentials()
            return self._credentials

    def _load_credentials(self) -> service_account.Credentials:
        from google.oauth2 import service_account

        path = self.platform_path(self.config.credentials_path, "credentials_path")
        if path is None:
            raise ProviderError(f"site '{self.site_name}' has no service-account key file; "
                                "set credentials_path for it")
        try:
            load = service_account.Credentials.from_service_account_file
            credentials: service_account.Credentials = load(  # type: ignore[no-untyped-call]  # google-auth is untyped
                path, scopes=[DRIVE_SCOPE])
            return credentials
        except FileNotFoundError:
            raise ProviderError(f"the service-account key file of site '{self.site_name}' is "
                                f"missing: {path}") from None
        except (OSError, ValueError, KeyError) as exc:  # the message names fields, not keys
            raise ProviderError(f"{path} (site '{self.site_name}') is not a usable "
                                f"service-account key file: {exc}") from None

    def _service(self) -> Any:
        service = getattr(self._local, "service", None)
        if service is None:
            from google_auth_httplib2 import AuthorizedHttp
            from googleapiclient.discovery import build_from_document
            from googleapiclient.http import build_http

            authorized = AuthorizedHttp(self._service_account(), http=build_http())
            service = build_from_document(_discovery_document(self.config.root_url),
                                          http=authorized)
            self._local.service = service
        return service

    def _files(self) -> Any:
        return self._service().files()

    # -- calls and errors ---------------------------------------------------------------------

    def _call(self, run: Callable[[], T], doing: str, path: str) -> T:
        """Run one API step, once: errors become SiteSync errors naming site and path. The
        engine owns retries, so a rate limit or a 5xx holds no thread here asleep."""
        try:
            return run()
        except SiteSyncError:
            raise
        except Exception as exc:  # noqa: BLE001  (every SDK error is translated)
            raise self._translate(exc, doing, path) from None

    def _translate(self, exc: Exception, doing: str, path: str) -> ProviderError:
        from google.auth.exceptions import RefreshError
        from googleapiclient.errors import HttpError

        where = f"{doing} {path} on site '{self.site_name}'"
        if isinstance(exc, HttpError):
            return self._error(exc, doing, path)
        if isinstance(exc, RefreshError):
            if exc.retryable:  # the token endpoint failed, not the key
                return Transient(f"{where} failed, may pass: Google did not issue a token "
                                 f"({exc})")
            return AuthFailed(
                f"{where}: Google refused the service account's key "
                f"({exc.args[0] if exc.args else exc}); check the key file in the site's "
                "credentials_path")
        if isinstance(exc, _network_errors()):
            if _unreachable(exc):
                return SiteUnavailable(f"{where}: Google Drive cannot be reached "
                                       f"({type(exc).__name__}: {exc}); check the network")
            return Transient(f"{where} failed, may pass: Google Drive did not answer "
                             f"({type(exc).__name__}: {exc})")
        return ProviderError(f"{where} failed: {type(exc).__name__}: {exc}")

    def _error(self, exc: HttpError, doing: str, path: str) -> ProviderError:
        status, reasons = exc.resp.status, _reasons(exc)
        detail = f"HTTP {status} {exc.reason}".strip()
        where = f"{doing} {path} on site '{self.site_name}'"
        if status == 401 or (status == 403 and reasons & REFUSED):
            return AuthFailed(f"{where}: Google Drive refused the service account "
                              f"({detail}); check the key file in credentials_path")
        if status == 404:
            return NotFound(f"{path} is not on site '{self.site_name}' ({detail})")
        if _retryable(exc):
            return Transient(f"{where} failed, may pass: {detail}",
                             retry_after=_retry_after(exc))
        if status == 403 and reasons & DRIVE_FULL:
            return NoSpace(f"{where}: the drive is full ({detail}); free space or raise its "
                           "quota")
        if status == 403:
            return PermissionDenied(f"{where}: the service account may not do this "
                                    f"({detail}); share the folder or shared drive with it "
                                    "as a content manager")
        return ProviderError(f"{where} failed: {detail}")

    # -- folders ------------------------------------------------------------------------------

    def _corpus(self) -> dict[str, Any]:
        """files.list parameters that search the site's drive."""
        if self.config.shared_drive:
            return {"corpora": "drive", "driveId": self._drive_root(),
                    "includeItemsFromAllDrives": True, "supportsAllDrives": True}
        return {"corpora": "user", "supportsAllDrives": True}

    def _search(self, query: str, fields: str, doing: str,
                path: str) -> Iterator[dict[str, Any]]:
        def page(token: str | None) -> dict[str, Any]:
            return self._call(lambda: self._files().list(
                q=query, fields=f"nextPageToken,files({fields})", pageSize=1000,
                pageToken=token, **self._corpus()).execute(), doing, path)

        found = page(None)
        yield from found.get("files", [])
        while found.get("nextPageToken"):
            found = page(found["nextPageToken"])
            yield from found.get("files", [])

    def _drive_root(self) -> str:
        """Id of the drive's top folder: ``root`` (My Drive) or the shared drive's id."""
        if not self.config.shared_drive:
            return "root"
        if self._drive_id is None:
            wanted = self.config.shared_drive

            def page(token: str | None) -> dict[str, Any]:
                return self._call(lambda: self._service().drives().list(
                    pageSize=100, pageToken=token, fields="nextPageToken,drives(id,name)"
                ).execute(), "looking up shared drive", wanted)

            listed = page(None)
            drives = listed.get("drives", [])
            while listed.get("nextPageToken"):
                listed = page(listed["nextPageToken"])
                drives += listed.get("drives", [])
            found = [d for d in drives if wanted in (d["id"], d["name"])]
            if len(found) != 1:
                problem = "sees no" if not found else f"sees {len(found)}"
                raise ProviderError(
                    f"the service account of site '{self.site_name}' {problem} shared drive "
                    f"'{wanted}'; add it as a member of the drive, or set shared_drive to the "
                    "drive's id")
            self._drive_id = found[0]["id"]
        return self._drive_id

    def _folder(self, folder: str, create: bool) -> str | None:
        """Id of a folder below the site root (``""``: the root), made on demand when
        ``create``; None when it is missing. One lock: two threads never make twins."""
        parts = [*self._root_parts, *[p for p in folder.split("/") if p]]
        with self._folder_lock:
            depth = len(parts)
            while depth and "/".join(parts[:depth]) not in self._folders:
                depth -= 1
            parent = self._folders["/".join(parts[:depth])] if depth else None
        if parent is None:
            parent = self._drive_root()
        with self._folder_lock:
            for index in range(depth, len(parts)):
                key = "/".join(parts[:index + 1])
                if key in self._folders:  # made by another thread meanwhile
                    parent = self._folders[key]
                    continue
                found = self._find_folder(parent, parts[index], key)
                if found is None and not create:
                    return None
                parent = found or self._make_folder(parent, parts[index], key)
                self._folders[key] = parent
        return parent

    def _find_folder(self, parent: str, name: str, key: str) -> str | None:
        """Id of the folder ``name`` in ``parent``. Drive allows twins (two machines making
        one folder at once): every machine takes the oldest, so all files meet in one."""
        twins = _oldest_first(self._search(
            f"name = {_quote(name)} and {_quote(parent)} in parents and "
            f"mimeType = '{FOLDER}' and trashed = false", "id,createdTime", "looking up folder",
            key))
        return twins[0]["id"] if twins else None

    def _make_folder(self, parent: str, name: str, key: str) -> str:
        """One create. A lost answer (the folder made, the reply an error) raises Transient;
        the next try looks the folder up before making one (``_folder``), so no twin."""
        made: str = self._call(lambda: self._files().create(
            body={"name": name, "mimeType": FOLDER, "parents": [parent]},
            supportsAllDrives=True, fields="id").execute()["id"], "creating folder", key)
        return made

    def _forget_folders(self) -> None:
        """Drop cached folder ids (one was deleted behind our back)."""
        with self._folder_lock:
            self._folders.clear()

    def _named(self, path: str, create: bool = False) -> tuple[str | None, str, list[_File]]:
        """Parent folder id, name, and the files of that name (Drive allows several)."""
        folder, _, name = relative_path(path).rpartition("/")
        parent = self._folder(folder, create)
        if parent is None:
            return None, name, []
        found = self._search(
            f"name = {_quote(name)} and {_quote(parent)} in parents and trashed = false and "
            f"mimeType != '{FOLDER}'", FILE_FIELDS, "looking up", path)
        return parent, name, [_File.of(f) for f in _oldest_first(found)]

    def _existing(self, path: str) -> tuple[str, _File]:
        """The parent folder id and the file under ``path``; NotFound if none."""
        parent, _, files = self._named(path)
        if parent is None or not files:
            raise NotFound(f"{path} is not on site '{self.site_name}'")
        return parent, files[0]

    def _delete_id(self, file_id: str, path: str) -> None:
        with contextlib.suppress(NotFound):  # gone already
            self._call(lambda: self._files().delete(fileId=file_id, supportsAllDrives=True)
                       .execute(), "deleting", path)

    # -- the contract -------------------------------------------------------------------------

    def is_active(self) -> bool:
        try:
            root = self._drive_root()
            self._call(lambda: self._files().get(fileId=root, fields="id",
                                                 supportsAllDrives=True).execute(),
                       "reaching", "the drive")
        except ProviderError:
            return False
        return True

    def stat(self, path: str) -> FileStat | None:
        files = self._named(path)[2]
        if not files:
            return None
        found = files[0]
        return FileStat(found.size, f"md5:{found.md5}" if found.md5 else None)

    def open_read(self, path: str) -> BinaryIO:
        found = self._existing(path)[1]
        return _ChunkReader(  # type: ignore[return-value]  # RawIOBase as BinaryIO
            self._download(path, found))

    def _download(self, path: str, found: _File) -> Iterator[bytes]:
        """The file's bytes in chunks (ranged ``alt=media`` GETs), md5-checked at the end."""
        from googleapiclient.http import MediaIoBaseDownload

        request = self._files().get_media(fileId=found.id, supportsAllDrives=True)
        sink = _Sink()
        downloader = MediaIoBaseDownload(sink, request, chunksize=self.chunk_size)
        md5 = hashlib.md5()
        done = False
        while not done:
            done = self._call(downloader.next_chunk, "downloading", path)[1]
            for chunk in sink.take():
                md5.update(chunk)
                yield chunk
        if found.md5 and md5.hexdigest() != found.md5:
            raise VerificationFailed(f"{path}: the bytes read from site '{self.site_name}' "
                                     f"have md5 {md5.hexdigest()}, Google Drive recorded "
                                     f"{found.md5}")

    def open_write(self, path: str) -> BinaryIO:
        """Spooled (to disk past one chunk), uploaded on a clean close."""
        relative_path(path)
        return SpooledWriter(  # type: ignore[return-value]  # RawIOBase as BinaryIO
            lambda reader, size: self.write(path, reader, size), self.chunk_size)

    def write(self, path: str, reader: BinaryIO, size: int,
              content_hash: str | None = None) -> FileStat:
        """Update the file under that name, or create it; small files in one multipart
        request, others by resumable chunks. Nothing appears until the upload completes."""
        try:
            stored = self._upload(path, reader, size)
        except NotFound:  # a cached folder or the file was deleted meanwhile
            self._forget_folders()
            raise Transient(f"{path}: its folder or its older copy vanished from site "
                            f"'{self.site_name}' while writing; the next try looks "
                            "again") from None
        return FileStat(stored.size, f"md5:{stored.md5}" if stored.md5 else None)

    def _upload(self, path: str, reader: BinaryIO, size: int) -> _File:
        from googleapiclient.http import MediaIoBaseUpload, MediaUpload

        from sitesync_addon.providers._gdrive_upload import ReaderUpload, read_up_to

        parent, name, existing = self._named(path, create=True)
        md5 = hashlib.md5()
        first = read_up_to(reader, self.chunk_size)
        md5.update(first)
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        media: MediaUpload
        if len(first) < self.chunk_size:  # that is all of it
            media = MediaIoBaseUpload(io.BytesIO(first), mime, resumable=False)
        else:
            media = ReaderUpload(reader, first, size, self.chunk_size, mime, md5)
        if existing:
            request = self._files().update(fileId=existing[0].id, media_body=media,
                                           supportsAllDrives=True, fields=FILE_FIELDS)
        else:
            request = self._files().create(body={"name": name, "parents": [parent]},
                                           media_body=media, supportsAllDrives=True,
                                           fields=FILE_FIELDS)
        if isinstance(media, ReaderUpload):
            result = None
            while result is None:
                result = self._call(request.next_chunk, "uploading", path)[1]
            sent = media.taken
        else:
            result = self._call(request.execute, "uploading", path)
            sent = len(first)
        stored = _File.of(result)
        if stored.size != sent or (stored.md5 and stored.md5 != md5.hexdigest()):
            self._delete_id(stored.id, path)  # never leave a damaged copy under the name
            raise VerificationFailed(
                f"{path}: site '{self.site_name}' stored {stored.size} bytes with md5 "
                f"{stored.md5}, but {sent} bytes with md5 {md5.hexdigest()} were sent; the "
                "upload was removed")
        for twin in existing[1:]:  # Drive allowed several of this name: keep one
            self._delete_id(twin.id, path)
        return stored

    def rename(self, source: str, target: str) -> None:
        old_parent, moving = self._existing(source)
        new_parent, name, replaced = self._named(target, create=True)
        extra = {"addParents": new_parent, "removeParents": old_parent} \
            if new_parent != old_parent else {}
        self._call(lambda: self._files().update(
            fileId=moving.id, body={"name": name}, supportsAllDrives=True, fields="id",
            **extra).execute(), f"renaming to {target}", source)
        for old in replaced:
            if old.id != moving.id:
                self._delete_id(old.id, target)

    def delete(self, path: str) -> None:
        for found in self._named(path)[2]:
            self._delete_id(found.id, path)

    def list(self, folder: str) -> Iterator[str]:
        return self._walk(relative_path(folder))

    def _walk(self, folder: str) -> Iterator[str]:
        start = self._folder(folder, create=False)
        pending = [(start, folder)] if start else []
        while pending:
            folder_id, prefix = pending.pop()
            for child in self._search(f"{_quote(folder_id)} in parents and trashed = false",
                                      "id,name,mimeType", "listing", prefix):
                path = f"{prefix}/{child['name']}"
                if child["mimeType"] == FOLDER:
                    pending.append((child["id"], path))
                else:
                    yield path


class _Sink:
    """What MediaIoBaseDownload writes into: chunks handed on as they come."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(data)
        return len(data)

    def take(self) -> list[bytes]:
        chunks, self._chunks = self._chunks, []
        return chunks


class _ChunkReader(io.RawIOBase):
    """A readable stream over downloaded chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._chunk = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._chunk:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._chunk = memoryview(chunk)
        count = min(len(buffer), len(self._chunk))
        buffer[:count] = self._chunk[:count]
        self._chunk = self._chunk[count:]
        return count


def _oldest_first(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Twins in the order every machine sees alike, whatever order Drive lists them in."""
    return sorted(items, key=lambda item: (item.get("createdTime", ""), item["id"]))


def _quote(value: str) -> str:
    """A string literal of Drive's query language."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _reasons(exc: HttpError) -> set[str]:
    try:
        errors = json.loads(exc.content)["error"].get("errors") or []
    except (ValueError, KeyError, TypeError, AttributeError):
        return set()
    return {e.get("reason", "") for e in errors if isinstance(e, dict)}


def _retry_after(exc: HttpError) -> float | None:
    """Seconds from the Retry-After header Drive sends with some rate limits."""
    try:
        value = exc.resp.get("retry-after")
        return max(0.0, float(value)) if value is not None else None
    except (ValueError, AttributeError):  # an HTTP date: the engine's backoff serves
        return None


def _unreachable(exc: BaseException) -> bool:
    """No connection could be made (DNS, a closed port, no route), here or in a cause."""
    import httplib2

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (socket.gaierror, ConnectionRefusedError,
                             httplib2.ServerNotFoundError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _retryable(exc: HttpError) -> bool:
    status = exc.resp.status
    return (status in (408, 429) or status >= 500
            or (status == 403 and bool(_reasons(exc) & RATE_LIMITED)))


@hookimpl
def sitesync_providers() -> list[type[AbstractProvider]]:
    return [GDriveProvider]
