"""API keys: generated, stored as SHA-256 hashes, checked on every request but health and docs."""
from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, insert, select

from server_addon.db.tables import api_keys

KEY_PREFIX = "ssk_"


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
