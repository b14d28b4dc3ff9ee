"""A Google Drive v3 test server on 127.0.0.1: the part of the API the gdrive provider uses.

Follows the public Drive v3 reference where the provider touches it:

- OAuth2 for service accounts: ``POST /token`` takes the JWT-bearer grant, checks the RS256
  signature with the account's registered public key (unknown keys: ``invalid_grant``), and
  API calls need ``Authorization: Bearer <token>`` (401 otherwise) with the drive scope;
- ``files.list`` with ``q`` (clauses joined by ``and``: ``name``/``mimeType`` with ``=``,
  ``!=`` or ``contains``, ``'<id>' in parents``, ``trashed = true|false``; strings in single
  quotes with ``\\'`` escapes), ``fields``, ``pageSize``/``pageToken``, ``corpora``,
  ``driveId``, ``includeItemsFromAllDrives`` and ``supportsAllDrives`` (shared-drive items are
  "not found" to requests without it);
- ``files.create``/``update``/``get``/``delete``, uploads with ``uploadType`` ``media``,
  ``multipart`` and ``resumable`` (a session URI in ``Location``; chunks ``PUT`` with
  ``Content-Range``; ``308`` with ``Range`` until the last byte; a file exists only once its
  upload completes, so an abandoned session leaves nothing), ``alt=media`` with ``Range``;
  ``drives.list``;
- errors as Drive sends them: ``{"error": {"code", "message", "errors": [{"reason", ...}]}}``.

Simplifications: one parent per item, no trash or revisions, and corpora ``user`` is the
account's own My Drive. Times are strictly increasing (a millisecond apart at least, the
resolution ``createdTime`` is written in), so the order of items made one after the other is
the same in every answer, as on Drive, however fast a test makes them. File contents live in
a temporary folder. Tests add accounts and shared drives, inject failures (``fail_next``, with
a Retry-After when asked), damage stored bytes and read what is stored.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from googleapiclient import discovery_cache

from tests.conftest import LiveServer
from tests.servers import session_server

FOLDER = "application/vnd.google-apps.folder"
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # the "aud" Google requires
GRANULARITY = 256 * 1024  # resumable chunks other than the last are kept in multiples of this
_DOC = json.loads(discovery_cache.get_static_doc("drive", "v3"))
FILE_FIELDS = set(_DOC["schemas"]["File"]["properties"])
LIST_FIELDS = {"kind", "nextPageToken", "incompleteSearch", "files"}
DRIVE_LIST_FIELDS = {"kind", "nextPageToken", "drives"}
DRIVE_FIELDS = set(_DOC["schemas"]["Drive"]["properties"])
DEFAULT_FILE = "kind,id,name,mimeType"


class DriveError(Exception):
    """An error answered the way Drive answers it."""

    def __init__(self, code: int, reason: str, message: str, *, domain: str = "global",
                 location: str | None = None, location_type: str = "parameter",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        detail: dict[str, str] = {"domain": domain, "reason": reason, "message": message}
        if location:
            detail |= {"location": location, "locationType": location_type}
        self.code, self.detail, self.headers = code, detail, headers or {}

    def response(self) -> JSONResponse:
        body = {"error": {"code": self.code, "message": self.detail["message"],
                          "errors": [self.detail]}}
        return JSONResponse(body, self.code, headers=self.headers)


def not_found(file_id: str) -> DriveError:
    return DriveError(404, "notFound", f"File not found: {file_id}.", location="fileId")


def invalid(location: str, message: str = "Invalid Value") -> DriveError:
    return DriveError(400, "invalid", message, location=location)


@dataclass
class Item:
    id: str
    name: str
    mime_type: str
    parent: str | None  # None for the root of a My Drive or shared drive
    drive_id: str | None  # the shared drive holding it; None in a My Drive
    owner: str  # the account whose My Drive holds it
    size: int = 0
    md5: str | None = None
    created: float = field(default_factory=time.time)
    modified: float = field(default_factory=time.time)

    @property
    def is_folder(self) -> bool:
        return self.mime_type == FOLDER

    def resource(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": "drive#file", "id": self.id, "name": self.name, "mimeType": self.mime_type,
            "trashed": False, "createdTime": _rfc3339(self.created),
            "modifiedTime": _rfc3339(self.modified)}
        if self.parent:
            data["parents"] = [self.parent]
        if self.drive_id:
            data["driveId"] = self.drive_id
        if not self.is_folder:
            data |= {"size": str(self.size), "md5Checksum": self.md5}
        return data


@dataclass
class Account:
    email: str
    key_id: str
    public_key: rsa.RSAPublicKey
    root: str  # id of its My Drive root folder


@dataclass
class SharedDrive:
    id: str
    name: str
    members: set[str]
    created: float = field(default_factory=time.time)


@dataclass
class Session:
    """A resumable upload: bytes land in ``path`` until the last one arrives."""

    id: str
    account: str
    params: dict[str, str]
    metadata: dict[str, Any]
    file_id: str | None  # set for an update
    mime_type: str
    total: int | None
    path: Path
    received: int = 0
    md5: Any = field(default_factory=hashlib.md5)
    result: dict[str, Any] | None = None  # the file resource once complete


@dataclass
class Fault:
    status: int
    reason: str
    count: int
    path: str  # only requests whose path starts with this
    method: str | None  # and only this method, when set
    after: bool = False  # carry the request out, then answer with the error (a lost answer)
    retry_after: int | None = None  # seconds, sent as Retry-After

    def error(self) -> DriveError:
        domain, message = FAULTS.get(self.reason, ("global", self.reason))
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        return DriveError(self.status, self.reason, message, domain=domain, headers=headers)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    params: dict[str, str]
    content_range: str | None


FAULTS = {  # reason: (domain, message) as Drive words them
    "userRateLimitExceeded": ("usageLimits", "User Rate Limit Exceeded"),
    "rateLimitExceeded": ("usageLimits", "Rate Limit Exceeded"),
    "backendError": ("global", "Backend Error"),
    "authError": ("global", "Invalid Credentials"),
    "insufficientFilePermissions": ("global", "Insufficient permissions for this file"),
    "storageQuotaExceeded": ("usageLimits", "The user's Drive storage quota has been exceeded."),
}


class DriveServer:
    """The server's state; ``app`` serves it. Public methods are for tests."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        (folder / "blobs").mkdir(parents=True, exist_ok=True)
        (folder / "sessions").mkdir(exist_ok=True)
        self.url = ""  # set once it listens
        self.items: dict[str, Item] = {}
        self.accounts: dict[str, Account] = {}  # by key id
        self.drives: dict[str, SharedDrive] = {}
        self.tokens: dict[str, tuple[str, set[str], float]] = {}  # token: account, scopes, end
        self.sessions: dict[str, Session] = {}
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self.page_limit = 1000  # most items one list page returns (Drive's cap)
        self.corrupt_uploads = 0  # flip a byte of this many next completed uploads
        self.lock = threading.RLock()
        self._last_ms = 0  # the last time given, in whole milliseconds
        self.app = self._build_app()

    # -- for tests ----------------------------------------------------------------------------

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def add_account(self, name: str = "sitesync-tests") -> dict[str, str]:
        """A service account Drive knows: its key file contents (``type: service_account``)."""
        info, key = self._key_file(f"{name}@sitesync-tests.iam.gserviceaccount.com")
        with self.lock:
            root = self._new_item("My Drive", FOLDER, None, None, info["client_email"]).id
            self.accounts[info["private_key_id"]] = Account(
                info["client_email"], info["private_key_id"], key.public_key(), root)
        return info

    def unknown_key(self, email: str) -> dict[str, str]:
        """A key file for ``email`` whose key Drive never registered."""
        return self._key_file(email)[0]

    def _key_file(self, email: str) -> tuple[dict[str, str], rsa.RSAPrivateKey]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        info = {"type": "service_account", "project_id": "sitesync-tests",
                "private_key_id": secrets.token_hex(20), "private_key": pem,
                "client_email": email, "client_id": str(secrets.randbelow(10 ** 20)),
                "auth_uri": f"{self.url}/auth", "token_uri": self.token_url}
        return info, key

    def add_shared_drive(self, name: str, members: list[str]) -> str:
        with self.lock:
            drive = SharedDrive(_new_id("0A"), name, set(members))
            self.drives[drive.id] = drive
            self.items[drive.id] = Item(drive.id, name, FOLDER, None, drive.id, "")
        return drive.id

    def my_drive(self, email: str) -> str:
        return next(a.root for a in self.accounts.values() if a.email == email)

    def fail_next(self, status: int, reason: str, count: int = 1, path: str = "/",
                  method: str | None = None, after: bool = False,
                  retry_after: int | None = None) -> None:
        """Answer the next ``count`` API requests under ``path`` (by ``method``) with this
        error; with ``after`` each request is carried out first and only its answer lost."""
        with self.lock:
            self.faults.append(Fault(status, reason, count, path, method, after, retry_after))

    def add_folder(self, parent_id: str, name: str, created: float | None = None) -> Item:
        """A folder made by someone else (e.g. a twin of one SiteSync uses)."""
        with self.lock:
            parent = self.items[parent_id]
            item = self._new_item(name, FOLDER, parent, parent.drive_id, parent.owner)
            if created is not None:
                item.created = item.modified = created
            return item

    def revoke_tokens(self) -> None:
        """Forget every access token issued (as when they expire)."""
        with self.lock:
            self.tokens.clear()

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def add_file(self, folder_id: str, name: str, data: bytes) -> Item:
        """A file put there by someone else (e.g. a second one of the same name)."""
        with self.lock:
            folder = self.items[folder_id]
            item = self._new_item(name, "application/octet-stream", folder, folder.drive_id,
                                  folder.owner)
            self._blob(item.id).write_bytes(data)
            item.size, item.md5 = len(data), hashlib.md5(data).hexdigest()
        return item

    def find(self, root_id: str, path: str) -> Item | None:
        """The item at ``path`` (names joined by ``/``) below the folder ``root_id``."""
        with self.lock:
            item: Item | None = self.items[root_id]
            for name in [p for p in path.split("/") if p]:
                item = next((i for i in self.children(item.id) if i.name == name), None)
                if item is None:
                    return None
            return item

    def children(self, folder_id: str) -> list[Item]:
        with self.lock:
            return [i for i in self.items.values() if i.parent == folder_id]

    def content(self, item: Item) -> bytes:
        return self._blob(item.id).read_bytes()

    def damage(self, item: Item) -> None:
        """Flip the first byte of a stored file, keeping its recorded md5 (bit rot)."""
        with open(self._blob(item.id), "r+b") as blob:
            first = blob.read(1)
            blob.seek(0)
            blob.write(bytes([first[0] ^ 0xFF]))

    def remove(self, item: Item) -> None:
        """Delete an item and what it holds, as someone using Drive's web UI would."""
        with self.lock:
            self._delete(item)

    def calls(self, method: str, path_prefix: str, since: int = 0) -> list[Seen]:
        """Requests seen (from index ``since`` of ``seen`` on) by method and path prefix."""
        return [s for s in self.seen[since:]
                if s.method == method and s.path.startswith(path_prefix)]

    # -- state --------------------------------------------------------------------------------

    def _blob(self, item_id: str) -> Path:
        return self.folder / "blobs" / item_id

    def _now(self) -> float:
        """The time, at least 1 ms after the last one given: items made within one
        millisecond must not share a ``createdTime`` (twins are told apart by it)."""
        with self.lock:
            self._last_ms = max(int(time.time() * 1000), self._last_ms + 1)
            return (self._last_ms + 0.5) / 1000  # mid-millisecond: no rounding crosses it

    def _new_item(self, name: str, mime_type: str, parent: Item | None, drive_id: str | None,
                  owner: str) -> Item:
        now = self._now()
        item = Item(_new_id("1"), name, mime_type, parent.id if parent else None, drive_id,
                    owner, created=now, modified=now)
        self.items[item.id] = item
        return item

    def _visible(self, item: Item, account: str, all_drives: bool) -> bool:
        if item.drive_id:
            return all_drives and account in self.drives[item.drive_id].members
        return item.owner == account

    def _get(self, file_id: str, account: str, params: dict[str, str]) -> Item:
        """An item the caller may see; ``root`` names its My Drive."""
        if file_id == "root":
            file_id = self._account(account).root
        item = self.items.get(file_id)
        if item is None or not self._visible(item, account, _true(params, "supportsAllDrives")):
            raise not_found(file_id)
        return item

    def _account(self, email: str) -> Account:
        return next(a for a in self.accounts.values() if a.email == email)

    def _parent(self, metadata: dict[str, Any], account: str, params: dict[str, str]) -> Item:
        parents = metadata.get("parents") or ["root"]
        if len(parents) != 1:
            raise DriveError(403, "cannotAddParent",
                             "Increasing the number of parents is not allowed.")
        parent = self._get(parents[0], account, params)
        if not parent.is_folder:
            raise DriveError(400, "invalidParent", "The parent item is not a folder.")
        return parent

    def _delete(self, item: Item) -> None:
        for child in self.children(item.id):
            self._delete(child)
        del self.items[item.id]
        self._blob(item.id).unlink(missing_ok=True)

    def _store(self, item: Item, source: Path, md5: str, size: int) -> None:
        """Put finished upload bytes in place (``source`` is moved)."""
        if self.corrupt_uploads:
            self.corrupt_uploads -= 1
            with open(source, "r+b") as blob:
                first = blob.read(1) or b"\0"
                blob.seek(0)
                blob.write(bytes([first[0] ^ 0xFF]))
            md5 = _md5_of(source)
        os.replace(source, self._blob(item.id))
        item.size, item.md5, item.modified = size, md5, self._now()

    # -- the app ------------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        app.exception_handler(DriveError)(lambda request, exc: exc.response())
        app.middleware("http")(self._gate)
        app.post("/token")(self._token)
        app.get("/drive/v3/files")(self._list)
        app.post("/drive/v3/files")(self._create)
        app.get("/drive/v3/files/{file_id}")(self._get_file)
        app.patch("/drive/v3/files/{file_id}")(self._update)
        app.delete("/drive/v3/files/{file_id}")(self._delete_file)
        app.get("/drive/v3/drives")(self._list_drives)
        app.post("/upload/drive/v3/files")(self._upload)
        app.patch("/upload/drive/v3/files/{file_id}")(self._upload)
        app.put("/upload/drive/v3/files")(self._upload_chunk)
        app.put("/upload/drive/v3/files/{file_id}")(self._upload_chunk)
        return app

    async def _gate(self, request: Request, call_next: Callable) -> Response:
        """Log, authenticate (session URIs carry their own authority) and inject faults."""
        path, params = request.url.path, dict(request.query_params)
        self.seen.append(Seen(request.method, path, params,
                              request.headers.get("content-range")))
        fault = None
        if path != "/token":
            is_session = "upload_id" in params
            try:
                if not is_session:
                    request.state.account = self._authenticate(request)
                fault = self._fault_for(request.method, path)
                if fault and not fault.after:
                    raise fault.error()
            except DriveError as exc:
                return exc.response()
        response = await call_next(request)
        return fault.error().response() if fault else response

    def _authenticate(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            raise DriveError(401, "required", "Login Required.", location="Authorization",
                             location_type="header", headers=CHALLENGE)
        with self.lock:
            account, scopes, end = self.tokens.get(header[7:], ("", set(), 0.0))
        if not account or end < time.time():
            raise DriveError(401, "authError", "Invalid Credentials", location="Authorization",
                             location_type="header")
        if DRIVE_SCOPE not in scopes:
            raise DriveError(403, "insufficientPermissions",
                             "Request had insufficient authentication scopes.")
        return account

    def _fault_for(self, method: str, path: str) -> Fault | None:
        """The injected fault this request meets, if any (counted as met)."""
        with self.lock:
            fault = next((f for f in self.faults if path.startswith(f.path)
                          and f.method in (None, method)), None)
            if fault is not None:
                fault.count -= 1
                if not fault.count:
                    self.faults.remove(fault)
            return fault

    # -- OAuth2 -------------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))  # x-www-form-urlencoded
        if form.get("grant_type") != JWT_GRANT:
            return _oauth_error("unsupported_grant_type", "Invalid grant_type: "
                                f"{form.get('grant_type')}")
        try:
            header_b64, claims_b64, signature_b64 = str(form.get("assertion", "")).split(".")
            header = json.loads(_unb64(header_b64))
            claims = json.loads(_unb64(claims_b64))
        except ValueError:
            return _oauth_error("invalid_grant", "Invalid JWT: malformed assertion")
        account = self.accounts.get(header.get("kid", ""))
        if account is None or header.get("alg") != "RS256":
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        try:
            account.public_key.verify(_unb64(signature_b64),
                                      f"{header_b64}.{claims_b64}".encode(),
                                      padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        now = time.time()
        if claims.get("iss") != account.email:
            return _oauth_error("invalid_grant", "Invalid grant: account not found")
        if claims.get("aud") not in (GOOGLE_TOKEN_AUDIENCE, self.token_url):
            return _oauth_error("invalid_grant", "Invalid JWT: the audience is not the token "
                                "endpoint")
        if not (claims.get("iat", now + 1000) <= now + 300 and now < claims.get("exp", 0)):
            return _oauth_error("invalid_grant", "Invalid JWT: Token must be a short-lived "
                                "token (60 minutes) and in a reasonable timeframe.")
        token = "ya29." + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = (account.email, set(claims.get("scope", "").split()),
                                  now + 3600)
        return JSONResponse({"access_token": token, "expires_in": 3599,
                             "token_type": "Bearer"})

    # -- files --------------------------------------------------------------------------------

    async def _list(self, request: Request) -> Response:
        params, account = dict(request.query_params), request.state.account
        all_drives = _true(params, "includeItemsFromAllDrives")
        if all_drives and not _true(params, "supportsAllDrives"):
            raise invalid("includeItemsFromAllDrives", "The includeItemsFromAllDrives "
                          "parameter can only be set to true when supportsAllDrives is true.")
        corpora, drive_id = params.get("corpora", "user"), params.get("driveId")
        if (corpora == "drive") != bool(drive_id):
            raise invalid("driveId", "driveId must be specified if and only if corpora is "
                                     "set to drive.")
        if corpora == "drive" and not all_drives:
            raise invalid("includeItemsFromAllDrives", "includeItemsFromAllDrives must be "
                          "true when corpora is set to drive.")
        if corpora not in ("user", "drive", "allDrives"):
            raise invalid("corpora")
        with self.lock:
            if drive_id and (drive_id not in self.drives
                             or account not in self.drives[drive_id].members):
                raise DriveError(404, "notFound", f"Shared drive not found: {drive_id}",
                                 location="driveId")
            match = parse_query(params.get("q", ""), self._account(account).root)
            found = sorted((i for i in self.items.values()
                            if i.parent and self._in_corpus(i, account, corpora, drive_id)
                            and match(i)), key=lambda i: (-i.modified, i.id))  # Drive's
            # default order without orderBy: the most recently modified first
        page_size = min(int(params.get("pageSize", 100)), self.page_limit)
        start = _page_start(params, f"{params.get('q')}|{corpora}|{drive_id}")
        body: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False,
                                "files": [i.resource() for i in found[start:start + page_size]]}
        if start + page_size < len(found):
            body["nextPageToken"] = _page_token(start + page_size,
                                                f"{params.get('q')}|{corpora}|{drive_id}")
        fields = params.get("fields", f"kind,incompleteSearch,nextPageToken,files({DEFAULT_FILE})")
        return JSONResponse(select(body, fields, LIST_FIELDS, {"files": FILE_FIELDS}))

    def _in_corpus(self, item: Item, account: str, corpora: str, drive_id: str | None) -> bool:
        if corpora == "drive":
            return item.drive_id == drive_id
        if corpora == "user":
            return not item.drive_id and item.owner == account
        return self._visible(item, account, True)

    async def _create(self, request: Request) -> Response:
        params, account = dict(request.query_params), request.state.account
        metadata = await _json_body(request)
        with self.lock:
            parent = self._parent(metadata, account, params)
            item = self._new_item(metadata.get("name") or "Untitled",
                                  metadata.get("mimeType") or "application/octet-stream",
                                  parent, parent.drive_id, account)
            if not item.is_folder:
                self._blob(item.id).write_bytes(b"")
                item.md5 = hashlib.md5().hexdigest()
        return _file_response(item, params)

    async def _get_file(self, request: Request, file_id: str) -> Response:
        params = dict(request.query_params)
        with self.lock:
            item = self._get(file_id, request.state.account, params)
        if params.get("alt") != "media":
            return _file_response(item, params)
        if item.is_folder:
            raise DriveError(403, "fileNotDownloadable", "Only files with binary content can "
                             "be downloaded. Use Export with Docs Editors files.",
                             location="alt")
        return self._media(item, request.headers.get("range"))

    def _media(self, item: Item, range_header: str | None) -> Response:
        size = item.size
        if range_header is None:
            return Response(self._blob(item.id).read_bytes(), 200,
                            media_type="application/octet-stream")
        found = re.fullmatch(r"bytes=(\d+)-(\d*)", range_header.strip())
        if found is None:
            raise invalid("Range", "Invalid Range header")
        start = int(found.group(1))
        end = min(int(found.group(2)) if found.group(2) else size - 1, size - 1)
        if start >= size:
            return Response(b"", 416, headers={"Content-Range": f"bytes */{size}"})
        with open(self._blob(item.id), "rb") as blob:
            blob.seek(start)
            data = blob.read(end - start + 1)
        return Response(data, 206, media_type="application/octet-stream",
                        headers={"Content-Range": f"bytes {start}-{end}/{size}"})

    async def _update(self, request: Request, file_id: str) -> Response:
        params, account = dict(request.query_params), request.state.account
        metadata = await _json_body(request)
        with self.lock:
            item = self._get(file_id, account, params)
            self._apply(item, metadata, params, account)
        return _file_response(item, params)

    def _apply(self, item: Item, metadata: dict[str, Any], params: dict[str, str],
               account: str) -> None:
        """Metadata changes of files.update: ``name``, and a move by add/removeParents."""
        if "addParents" in params:
            if params.get("removeParents") != item.parent:
                raise DriveError(403, "cannotAddParent",
                                 "Increasing the number of parents is not allowed.")
            target = self._parent({"parents": [params["addParents"]]}, account, params)
            if target.drive_id != item.drive_id:
                raise DriveError(403, "teamDrivesParentLimit",
                                 "Moving between drives is not supported here.")
            item.parent = target.id
        if metadata.get("name"):
            item.name = metadata["name"]
        item.modified = self._now()

    async def _delete_file(self, request: Request, file_id: str) -> Response:
        with self.lock:
            item = self._get(file_id, request.state.account, dict(request.query_params))
            if item.parent is None:
                raise DriveError(403, "cannotDeleteRoot", "The root folder cannot be deleted.")
            self._delete(item)
        return Response(status_code=204)

    async def _list_drives(self, request: Request) -> Response:
        params, account = dict(request.query_params), request.state.account
        with self.lock:
            drives = sorted((d for d in self.drives.values() if account in d.members),
                            key=lambda d: (d.created, d.id))
        page_size = min(int(params.get("pageSize", 10)), 100)
        start = _page_start(params, "drives")
        body: dict[str, Any] = {"kind": "drive#driveList", "drives": [
            {"kind": "drive#drive", "id": d.id, "name": d.name}
            for d in drives[start:start + page_size]]}
        if start + page_size < len(drives):
            body["nextPageToken"] = _page_token(start + page_size, "drives")
        fields = params.get("fields", "kind,nextPageToken,drives(kind,id,name)")
        return JSONResponse(select(body, fields, DRIVE_LIST_FIELDS, {"drives": DRIVE_FIELDS}))

    # -- uploads ------------------------------------------------------------------------------

    async def _upload(self, request: Request, file_id: str | None = None) -> Response:
        params, account = dict(request.query_params), request.state.account
        kind = params.get("uploadType")
        if kind == "resumable":
            return await self._start_session(request, params, account, file_id)
        if kind == "multipart":
            metadata, data = _multipart(request.headers.get("content-type", ""),
                                        await request.body())
        elif kind == "media":
            metadata, data = {}, await request.body()
        else:
            raise invalid("uploadType", f"Invalid upload type: {kind}")
        staged = self.folder / "sessions" / secrets.token_hex(8)
        staged.write_bytes(data)
        with self.lock:
            item = self._target(file_id, metadata, params, account,
                                request.headers.get("content-type", ""))
            self._store(item, staged, hashlib.md5(data).hexdigest(), len(data))
        return _file_response(item, params)

    def _target(self, file_id: str | None, metadata: dict[str, Any], params: dict[str, str],
                account: str, mime_type: str) -> Item:
        """The item an upload fills: the updated one, or a new one made now (on completion)."""
        if file_id:
            item = self._get(file_id, account, params)
            if item.is_folder:
                raise DriveError(400, "invalid", "A folder cannot have content.")
            self._apply(item, metadata, params, account)
            return item
        parent = self._parent(metadata, account, params)
        if mime_type.startswith("multipart/"):
            mime_type = ""
        return self._new_item(metadata.get("name") or "Untitled",
                              metadata.get("mimeType") or mime_type or "application/octet-stream",
                              parent, parent.drive_id, account)

    async def _start_session(self, request: Request, params: dict[str, str], account: str,
                             file_id: str | None) -> Response:
        metadata = await _json_body(request)
        with self.lock:  # refuse now what would fail at the end
            if file_id:
                self._get(file_id, account, params)
            else:
                self._parent(metadata, account, params)
        length = request.headers.get("x-upload-content-length")
        session = Session(secrets.token_urlsafe(24), account, params, metadata, file_id,
                          request.headers.get("x-upload-content-type", ""),
                          int(length) if length else None,
                          self.folder / "sessions" / secrets.token_hex(12))
        session.path.write_bytes(b"")
        with self.lock:
            self.sessions[session.id] = session
        location = request.url.replace(query=urlencode({**params, "upload_id": session.id}))
        return Response(status_code=200, headers={"Location": str(location)})

    async def _upload_chunk(self, request: Request, file_id: str | None = None) -> Response:
        with self.lock:
            session = self.sessions.get(request.query_params.get("upload_id", ""))
        if session is None:
            raise DriveError(404, "notFound", "Upload session not found or expired.")
        if session.result is not None:
            return JSONResponse(session.result)
        data = await request.body()
        header = request.headers.get("content-range")
        if header is None:  # the whole content in one request
            if session.received:
                raise invalid("Content-Range", "Missing Content-Range header")
            header = f"bytes 0-{len(data) - 1}/{len(data)}" if data else "bytes */0"
        found = re.fullmatch(r"bytes (?:\*|(\d+)-(\d+))/(\d+|\*)", header)
        if found is None:
            raise invalid("Content-Range", f"Failed to parse Content-Range header: {header}")
        first, last, total = found.groups()
        if total != "*":
            if session.total not in (None, int(total)):
                raise invalid("Content-Range", "The total size changed")
            session.total = int(total)
        if first is not None:  # else a query of what arrived so far
            self._receive(session, int(first), int(last), data)
        if session.total is not None and session.received == session.total:
            return self._finish(session)
        headers = {"Range": f"bytes=0-{session.received - 1}"} if session.received else {}
        return Response(status_code=308, headers=headers)

    def _receive(self, session: Session, first: int, last: int, data: bytes) -> None:
        total = session.total
        if len(data) != last - first + 1 or first > session.received:
            raise invalid("Content-Range", f"bytes {first}-{last} do not follow the "
                                           f"{session.received} bytes received")
        if total is not None and last >= total:
            raise invalid("Content-Range", f"byte {last} is past the total size {total}")
        keep = data[session.received - first:]
        if total is None or last + 1 < total:  # not the last chunk: whole 256 KiB blocks
            keep = keep[:max(0, (last + 1) // GRANULARITY * GRANULARITY - session.received)]
        with open(session.path, "ab") as part:
            part.write(keep)
        session.md5.update(keep)
        session.received += len(keep)

    def _finish(self, session: Session) -> Response:
        with self.lock:
            item = self._target(session.file_id, session.metadata, session.params,
                                session.account, session.mime_type)
            self._store(item, session.path, session.md5.hexdigest(), session.received)
            fields = session.params.get("fields", DEFAULT_FILE)
            session.result = select(item.resource(), fields, FILE_FIELDS)  # for later queries
            return JSONResponse(session.result)


# -- helpers ----------------------------------------------------------------------------------

QUERY_TOKEN = re.compile(r"\s*(?:'(?P<text>(?:[^'\\]|\\.)*)'|(?P<op>!=|=)|(?P<word>[A-Za-z]+))")


def parse_query(q: str, my_root: str) -> Callable[[Item], bool]:
    """A predicate for a ``q`` made of clauses joined by ``and`` (Drive's search syntax)."""
    tokens: list[tuple[str, str]] = []  # (kind, value): kind is text, op or word
    position = 0
    while q[position:].strip():
        found = QUERY_TOKEN.match(q, position)
        if found is None:
            raise invalid("q")
        kind = found.lastgroup or ""
        tokens.append((kind, found.group(kind)))
        position = found.end()
    clauses = []
    for index in range(0, len(tokens), 4):  # clause, "and", clause, ...
        if index and tokens[index - 1] != ("word", "and"):
            raise invalid("q")
        clauses.append(_clause(tokens[index:index + 3], my_root))
    return lambda item: all(clause(item) for clause in clauses)


def _clause(tokens: list[tuple[str, str]], my_root: str) -> Callable[[Item], bool]:
    match tokens:
        case [("text", parent), ("word", "in"), ("word", "parents")]:
            parent = _unescape(parent)
            parent = my_root if parent == "root" else parent
            return lambda item: item.parent == parent
        case [("word", "name" | "mimeType" as term), ("op", _) | ("word", "contains") as op,
              ("text", text)]:
            wanted, operator = _unescape(text), op[1]

            def compare(item: Item) -> bool:
                actual = item.name if term == "name" else item.mime_type
                if operator == "contains":
                    return wanted in actual
                return (actual == wanted) == (operator == "=")
            return compare
        case [("word", "trashed"), ("op", operator), ("word", "true" | "false" as flag)]:
            trashed = False  # nothing here is ever trashed
            return lambda item: (trashed == (flag == "true")) == (operator == "=")
    raise invalid("q")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def select(data: dict[str, Any], fields: str, known: set[str],
           nested: dict[str, set[str]] | None = None) -> dict[str, Any]:
    """``data`` cut down to a ``fields`` selection such as ``nextPageToken,files(id,name)``."""
    tree = _parse_fields(fields)
    for name, sub in tree.items():
        allowed = nested.get(name) if nested else None
        if name != "*" and name not in known:
            raise DriveError(400, "invalidParameter", f"Invalid field selection {name}",
                             location="fields")
        for child in (sub or {}):
            if child != "*" and allowed is not None and child not in allowed:
                raise DriveError(400, "invalidParameter",
                                 f"Invalid field selection {child}", location="fields")
    return _cut(data, tree)


def _cut(data: Any, tree: dict[str, Any] | None) -> Any:
    if tree is None or "*" in tree:
        return data
    if isinstance(data, list):
        return [_cut(entry, tree) for entry in data]
    return {k: _cut(data[k], sub) for k, sub in tree.items() if k in data}


def _parse_fields(spec: str) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    stack = [tree]
    name = ""
    for char in spec.replace(" ", "") + ",":
        if char in ",()":
            if name:
                stack[-1][name] = None
            if char == "(":
                if not name:
                    raise invalid("fields", "Invalid field selection")
                stack[-1][name] = {}
                stack.append(stack[-1][name])
            elif char == ")":
                if len(stack) == 1:
                    raise invalid("fields", "Invalid field selection")
                stack.pop()
            name = ""
        else:
            name += char
    if len(stack) != 1:
        raise invalid("fields", "Invalid field selection")
    return tree


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], bytes]:
    """Metadata and media of a ``multipart/related`` upload (RFC 2387)."""
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/related") or found is None:
        raise invalid("Content-Type", "Expected a multipart/related body with a boundary")
    parts = body.split(b"--" + found.group(1).encode())[1:-1]
    if len(parts) != 2:
        raise invalid("body", "A multipart upload has a metadata part and a media part")
    contents = []
    for part in parts:
        part = part[2:] if part.startswith(b"\r\n") else part[1:]
        _, sep, content = part.partition(b"\r\n\r\n")  # headers, then the content
        if not sep:
            _, sep, content = part.partition(b"\n\n")
        contents.append(content[:-2] if content.endswith(b"\r\n") else content[:-1])
    return json.loads(contents[0] or b"{}"), contents[1]


async def _json_body(request: Request) -> dict[str, Any]:
    body = await request.body()
    try:
        return json.loads(body) if body.strip() else {}
    except ValueError:
        raise DriveError(400, "parseError", "Parse Error") from None


def _file_response(item: Item, params: dict[str, str]) -> JSONResponse:
    return JSONResponse(select(item.resource(), params.get("fields", DEFAULT_FILE),
                               FILE_FIELDS))


def _oauth_error(error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, 400)


def _page_token(start: int, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([start, key]).encode()).decode()


def _page_start(params: dict[str, str], key: str) -> int:
    if not params.get("pageToken"):
        return 0
    try:
        start, token_key = json.loads(base64.urlsafe_b64decode(params["pageToken"]))
    except ValueError:
        raise invalid("pageToken") from None
    if token_key != key:
        raise invalid("pageToken", "The page token belongs to another query.")
    return int(start)


def _true(params: dict[str, str], name: str) -> bool:
    return params.get(name, "false").lower() == "true"


def _new_id(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(24)[:32].replace("-", "x")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _rfc3339(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


def _md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as stream:
        while block := stream.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


# -- fixtures ---------------------------------------------------------------------------------

@dataclass
class RunningDrive:
    """The server, its listener and a service account (with its key file) for tests."""

    server: DriveServer
    live: LiveServer
    account: dict[str, str]
    key_file: Path

    @property
    def url(self) -> str:
        return self.server.url

    def write_key(self, info: dict[str, str], name: str) -> Path:
        path = self.server.folder / f"{name}.json"
        path.write_text(json.dumps(info))
        return path

    def settings(self, root: str, key_file: Path | None = None,
                 shared_drive: str | None = None) -> dict[str, Any]:
        """A gdrive settings block pointing at this server."""
        key = str(key_file or self.key_file)
        return {"credentials_path": {"linux": key, "darwin": key, "windows": key},
                "root": root, "shared_drive": shared_drive, "root_url": f"{self.url}/"}


def start_drive(folder: Path) -> RunningDrive:
    server = DriveServer(folder)
    live = LiveServer(server.app)
    server.url = live.url
    live.start()
    account = server.add_account()
    running = RunningDrive(server, live, account, Path())
    running.key_file = running.write_key(account, "service-account")
    return running


SERVER = pytest.StashKey[RunningDrive]()


def shared_drive_server(request: pytest.FixtureRequest) -> RunningDrive:
    """The session's Drive server, started on first use and stopped when the session ends."""
    return session_server(request, SERVER, "drive-server", start_drive,
                          lambda running: running.live.stop())


@pytest.fixture(scope="session")
def drive_server(request: pytest.FixtureRequest) -> Iterator[RunningDrive]:
    yield shared_drive_server(request)
