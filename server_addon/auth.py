"""API keys: generated, stored as SHA-256 hashes, checked on every request but health and docs.

The dashboard signs in with a key and keeps a session cookie instead: signed with a secret the
server stores in its database (shared by every server process), carrying the key's id and the
time it was issued, never the key. A session lives as long as its key is not revoked and at
most ``SESSION_MAX_AGE``. Requests that change something with a session must carry
``CSRF_HEADER``, an HMAC of the session that only the server's pages know.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Connection, delete, insert, select

from server_addon.db.engine import upsert_insert
from server_addon.db.tables import api_keys, host_secrets, key_sites

KEY_PREFIX = "ssk_"
SESSION_COOKIE = "sitesync_session"
CSRF_HEADER = "X-CSRF-Token"
SESSION_MAX_AGE = 12 * 3600  # seconds; then the dashboard asks for the key again
_SESSION_SECRET = "session_signing_key"
_SESSION_SALT = "sitesync.session"


class Role(StrEnum):
    ADMIN = "admin"
    SERVICE = "service"
    ARTIST = "artist"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, role and (for artists) the projects it may use."""

    key_id: uuid.UUID
    name: str
    role: Role
    projects: tuple[str, ...] | None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def sees_secrets(self) -> bool:
        return self.role in (Role.ADMIN, Role.SERVICE)

    def may_use_project(self, project: str) -> bool:
        return self.projects is None or project in self.projects


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    # Keys are 256 random bits, so a plain digest is as strong as a slow KDF here.
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(conn: Connection, *, name: str, role: Role, projects: list[str] | None,
               key: str | None = None) -> tuple[str, dict]:
    """Store a new key and return (the plain key, its public record)."""
    key = key or generate_key()
    record = {"id": uuid.uuid4(), "name": name, "role": role.value, "key_hash": hash_key(key),
              "projects": projects, "created_at": time.time(), "revoked_at": None}
    conn.execute(insert(api_keys).values(record))
    return key, record


def find_principal(conn: Connection, key: str) -> Principal | None:
    row = conn.execute(
        select(api_keys).where(api_keys.c.key_hash == hash_key(key),
                               api_keys.c.revoked_at.is_(None))
    ).mappings().first()
    return _principal(row)


def find_principal_by_id(conn: Connection, key_id: uuid.UUID) -> Principal | None:
    """The key with this id, unless it was revoked (a revoked key ends its sessions)."""
    row = conn.execute(
        select(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
    ).mappings().first()
    return _principal(row)


def _principal(row: dict | None) -> Principal | None:
    if row is None:
        return None
    projects = tuple(row["projects"]) if row["projects"] is not None else None
    return Principal(row["id"], row["name"], Role(row["role"]), projects)


def has_admin_key(conn: Connection) -> bool:
    query = select(api_keys.c.id).where(api_keys.c.role == Role.ADMIN.value,
                                        api_keys.c.revoked_at.is_(None)).limit(1)
    return conn.execute(query).first() is not None


def key_is_stored(conn: Connection, key: str) -> bool:
    query = select(api_keys.c.id).where(api_keys.c.key_hash == hash_key(key))
    return conn.execute(query).first() is not None


# -- machines: the site ids an artist key holds ------------------------------------------------

def sites_of_keys(conn: Connection, key_id: uuid.UUID | None = None
                  ) -> dict[uuid.UUID, list[str]]:
    """Every key's (or one key's) site ids, sorted; keys without any are left out."""
    query = select(key_sites.c.key_id, key_sites.c.site_id).order_by(key_sites.c.site_id)
    if key_id is not None:
        query = query.where(key_sites.c.key_id == key_id)
    rows = conn.execute(query)
    sites: dict[uuid.UUID, list[str]] = {}
    for key_id, site_id in rows:
        sites.setdefault(key_id, []).append(site_id)
    return sites


def holds_site(conn: Connection, key_id: uuid.UUID, site_id: str) -> bool:
    """Whether the key holds ``site_id``; a site id no key holds goes to this key (first use
    registers a machine). Call it in a write transaction."""
    statement = upsert_insert(conn, key_sites).values(site_id=site_id, key_id=key_id,
                                                      bound_at=time.time())
    conn.execute(statement.on_conflict_do_nothing())
    holder = conn.execute(select(key_sites.c.key_id).where(
        key_sites.c.site_id == site_id)).scalar_one()
    return bool(holder == key_id)


def bind_site(conn: Connection, key_id: uuid.UUID, site_id: str) -> None:
    """Register ``site_id`` to the key, taking it from any key that held it."""
    statement = upsert_insert(conn, key_sites).values(site_id=site_id, key_id=key_id,
                                                      bound_at=time.time())
    conn.execute(statement.on_conflict_do_update(
        index_elements=["site_id"],
        set_={"key_id": statement.excluded.key_id, "bound_at": statement.excluded.bound_at}))


def unbind_site(conn: Connection, key_id: uuid.UUID, site_id: str) -> bool:
    """Free ``site_id`` if the key holds it; whether it did."""
    result = conn.execute(delete(key_sites).where(key_sites.c.site_id == site_id,
                                                  key_sites.c.key_id == key_id))
    return result.rowcount > 0


# -- dashboard sessions ------------------------------------------------------------------------

def session_secret(conn: Connection) -> bytes:
    """The secret that signs sessions: made once, by whichever server process comes first."""
    statement = upsert_insert(conn, host_secrets).values(
        name=_SESSION_SECRET, value=secrets.token_hex(32), created_at=time.time())
    conn.execute(statement.on_conflict_do_nothing())
    value = conn.execute(select(host_secrets.c.value).where(
        host_secrets.c.name == _SESSION_SECRET)).scalar_one()
    return bytes.fromhex(value)


@dataclass(frozen=True)
class Session:
    key_id: uuid.UUID
    issued_at: float


def _serializer(secret: bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SESSION_SALT)


def issue_session(secret: bytes, key_id: uuid.UUID) -> str:
    """A signed cookie value naming the key (by id) and when the session began."""
    return _serializer(secret).dumps({"key": key_id.hex, "issued": time.time()})


def read_session(secret: bytes, value: str, max_age: float = SESSION_MAX_AGE
                 ) -> Session | None:
    """The session in a cookie value; None when it is forged, altered or too old."""
    try:
        data = _serializer(secret).loads(value, max_age=max_age)
        return Session(uuid.UUID(hex=data["key"]), float(data["issued"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def csrf_token(secret: bytes, session_value: str) -> str:
    """The token a page sends back with every change it makes with this session."""
    return hmac.new(secret, b"csrf\0" + session_value.encode(), hashlib.sha256).hexdigest()


def csrf_matches(secret: bytes, session_value: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(csrf_token(secret, session_value), token or "")
