"""SiteSync's own tables: sync state per representation and site, per file, pauses, events,
and the heartbeats of running sync services."""
from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Float, ForeignKey,
                        ForeignKeyConstraint, Index, Integer, MetaData, PrimaryKeyConstraint,
                        String, Table, Text, Uuid, text)

from server_addon.db import tables as host

metadata = MetaData()

# One row per (representation, site): the representation-level view.
site_states = Table(
    "sitesync_site_states", metadata,
    Column("representation_id", Uuid,
           ForeignKey(host.representations.c.id, ondelete="CASCADE"), nullable=False),
    Column("site", String(255), nullable=False),
    Column("project_id", Uuid, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("status", Integer, nullable=False),  # aggregated from the files, pause applied
    Column("paused", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # The state listing sorted by priority, and filtered by status with an index-only count.
    Index("ix_sitesync_site_states_listing", "project_id", "site", text("priority DESC"),
          "representation_id"),
    Index("ix_sitesync_site_states_status", "project_id", "site", "status",
          text("priority DESC"), "representation_id"),
    # The other side of a two-sided listing is read from the primary key alone (PostgreSQL).
    PrimaryKeyConstraint("representation_id", "site",
                         postgresql_include=["status", "priority", "project_id"]),
)

# One row per (representation, site, file): what the work queue hands out.
file_states = Table(
    "sitesync_file_states", metadata,
    Column("representation_id", Uuid, primary_key=True),
    Column("site", String(255), primary_key=True),
    Column("file_id", Uuid, primary_key=True),
    Column("project_id", Uuid, nullable=False),
    Column("status", Integer, nullable=False),
    Column("size", BigInteger, nullable=False, server_default=text("0")),  # bytes present
    # The file's full size, a copy of the catalog's (a file's size never changes: new files
    # replace it), so the bytes still to move are summed without a join.
    Column("file_size", BigInteger, nullable=False, server_default=text("0")),
    Column("progress", Float, nullable=False, server_default=text("0")),
    Column("retries", Integer, nullable=False, server_default=text("0")),
    Column("message", Text, nullable=True),
    Column("paused", Boolean, nullable=False, server_default=text("false")),
    Column("priority", Integer, nullable=False),  # copy of the site state's, for the queue index
    Column("queued_at", Float, nullable=False),
    Column("available_at", Float, nullable=False, server_default=text("0")),  # retry backoff
    Column("updated_at", Float, nullable=False),
    Column("lease_owner", String(255), nullable=True),
    Column("lease_expires_at", Float, nullable=True),
    # The claim call that handed the lease out: a worker that never got that call's answer
    # releases its files by this id instead of leaving them leased until the lease ends.
    Column("lease_claim", String(64), nullable=True),
    ForeignKeyConstraint(["representation_id", "site"],
                         [site_states.c.representation_id, site_states.c.site],
                         ondelete="CASCADE"),
    ForeignKeyConstraint(["representation_id", "file_id"],
                         [host.files.c.representation_id, host.files.c.id], ondelete="CASCADE"),
    # Serves "next work for this site": only rows that can be handed out are indexed.
    Index("ix_sitesync_file_states_queue", "project_id", "site", text("priority DESC"),
          "queued_at", sqlite_where=text("status IN (0, 1) AND paused = 0"),
          postgresql_where=text("status IN (0, 1) AND NOT paused")),
    # Serves the failures overview: FAILED files are few, so the index stays small.
    Index("ix_sitesync_file_states_failed", "project_id", "site",
          sqlite_where=text("status = 2"), postgresql_where=text("status = 2")),
)

paused_projects = Table(
    "sitesync_paused_projects", metadata,
    Column("project_id", Uuid, ForeignKey(host.projects.c.id, ondelete="CASCADE"),
           primary_key=True),
    Column("paused_at", Float, nullable=False),
)

flags = Table(
    "sitesync_flags", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
)

events = Table(
    "sitesync_events", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("project", String(255), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    # Progress events are pruned by age far sooner than the rest.
    Index("ix_sitesync_events_kind_created", "kind", "created_at"),
)

# One row per running sync service (a process), upserted by its heartbeat.
services = Table(
    "sitesync_services", metadata,
    Column("service_id", String(255), primary_key=True),
    Column("site", String(255), nullable=False),
    Column("host", String(255), nullable=False),
    Column("version", String(64), nullable=False),
    Column("pid", BigInteger, nullable=False),
    Column("projects", JSON, nullable=False),
    Column("files_in_flight", Integer, nullable=False),
    Column("bytes_per_second", Float, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("key_id", Uuid, nullable=False),  # the API key that sent the heartbeats
)

# Work on a site's files that only a sync service of that site can do (the server cannot
# reach them): validate, clear, remove files. Asked for from the dashboard or the API.
site_commands = Table(
    "sitesync_site_commands", metadata,
    Column("id", Uuid, primary_key=True),
    Column("project_id", Uuid, ForeignKey(host.projects.c.id, ondelete="CASCADE"),
           nullable=False),
    Column("site", String(255), nullable=False),
    Column("action", String(16), nullable=False),  # validate | clear | remove
    Column("reset_missing", Boolean, nullable=False, server_default=text("false")),
    Column("representation_ids", JSON, nullable=False),  # remove: whose files go
    Column("status", String(16), nullable=False),  # queued | running | done | failed | cancelled
    Column("requested_by", Uuid, nullable=False),  # the API key that asked
    Column("requested_at", Float, nullable=False),
    Column("service_id", String(255), nullable=True),  # the service that took it
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    Column("result", JSON, nullable=True),
    Column("message", Text, nullable=True),
    Index("ix_sitesync_site_commands_site_status", "site", "status"),
    Index("ix_sitesync_site_commands_project", "project_id", "requested_at"),
)
