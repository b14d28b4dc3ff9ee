"""Tables the host owns and every addon shares: API keys, the catalog and addon settings."""
from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Column, Float, ForeignKey, Index,
                        Integer, MetaData, String, Table, Text, UniqueConstraint, Uuid)

metadata = MetaData()

api_keys = Table(
    "api_keys", metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("projects", JSON, nullable=True),  # None: every project
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)

# Site ids (machines) registered to artist keys: of the artist keys, only a site's own may
# write its site-scope settings. A site id is held by one key at most; a key may hold several.
key_sites = Table(
    "key_sites", metadata,
    Column("site_id", String(255), primary_key=True),
    Column("key_id", Uuid, ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False),
    Column("bound_at", Float, nullable=False),
    Index("ix_key_sites_key", "key_id"),
)

projects = Table(
    "projects", metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("roots", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

folders = Table(
    "folders", metadata,
    Column("id", Uuid, primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("path", String(1024), nullable=False),
    UniqueConstraint("project_id", "path"),
)

products = Table(
    "products", metadata,
    Column("id", Uuid, primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("folder_id", Uuid, ForeignKey("folders.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("product_type", String(64), nullable=False),
    UniqueConstraint("folder_id", "name"),
)

versions = Table(
    "versions", metadata,
    Column("id", Uuid, primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("product_id", Uuid, ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),  # 0 or less: a hero version
    Column("task", String(255), nullable=True),
    Column("author", String(255), nullable=True),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("product_id", "version"),
)

version_links = Table(
    "version_links", metadata,
    Column("version_id", Uuid, ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
    Column("linked_version_id", Uuid, ForeignKey("versions.id", ondelete="CASCADE"),
           primary_key=True),
    Column("link_type", String(64), primary_key=True),
)

representations = Table(
    "representations", metadata,
    Column("id", Uuid, primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("version_id", Uuid, ForeignKey("versions.id", ondelete="CASCADE"), nullable=False),
    # The version's folder, kept here so a folder filter needs no walk up the catalog. Always
    # set; nullable only because SQLite cannot add a NOT NULL column to a filled table.
    Column("folder_id", Uuid, ForeignKey("folders.id", ondelete="CASCADE"), nullable=True),
    Column("name", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("version_id", "name"),
    Index("ix_representations_project", "project_id", "created_at"),
    Index("ix_representations_project_name", "project_id", "name"),
    Index("ix_representations_folder", "folder_id"),
)

files = Table(
    "files", metadata,
    Column("representation_id", Uuid, ForeignKey("representations.id", ondelete="CASCADE"),
           primary_key=True),
    Column("id", Uuid, primary_key=True),
    Column("position", Integer, nullable=False),
    Column("path", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("hash", String(255), nullable=True),
)

addon_settings = Table(
    "addon_settings", metadata,
    Column("addon", String(64), primary_key=True),
    Column("scope", String(16), primary_key=True),  # studio | project | site
    Column("project", String(255), primary_key=True),  # "" for studio scope
    Column("site_id", String(255), primary_key=True),  # "" unless site scope
    Column("data", JSON, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Secrets the server makes for itself (e.g. the key that signs dashboard sessions), stored so
# every server process sharing the database uses the same ones. Never served or logged.
host_secrets = Table(
    "host_secrets", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
)

__all__ = ["addon_settings", "api_keys", "files", "folders", "host_secrets", "key_sites",
           "metadata", "products", "projects", "representations", "version_links", "versions"]
